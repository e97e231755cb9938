"""Optional means optional: a network folder with only the required columns goes through every
command with the results store on (hypothesis draws the networks)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corridor.cli import app
from corridor.schema import TABLES

UNITS = {"gas": ["mcm/d", "bcm/yr"], "oil": ["kt/d", "Mt/yr"]}


@st.composite
def minimal_networks(draw) -> dict[str, pd.DataFrame]:
    """Required columns only: nodes (id, carrier), links, supplies and demands of one or two
    carriers, every link between two nodes of its carrier."""
    tables = {name: [] for name in ("nodes", "links", "supplies", "demands")}
    carriers = draw(st.sampled_from([["gas"], ["oil"], ["gas", "oil"]]))
    for carrier in carriers:
        n = draw(st.integers(2, 5))
        ids = [f"{carrier[0].upper()}{i}" for i in range(n)]
        tables["nodes"] += [{"id": i, "carrier": carrier} for i in ids]
        unit = draw(st.sampled_from(UNITS[carrier]))
        amount = st.floats(0.5, 50, allow_nan=False).map(lambda x: round(x, 3))
        pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)).filter(
            lambda p: p[0] != p[1]), min_size=1, max_size=2 * n))
        for k, (a, b) in enumerate(pairs):
            tables["links"].append({"id": f"L{carrier[0]}{k}", "from": a, "to": b,
                                    "capacity": draw(amount), "unit": unit})
        for k, node in enumerate(draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2))):
            tables["supplies"].append({"id": f"S{carrier[0]}{k}", "node": node,
                                       "capacity": draw(amount), "unit": unit})
        for k, node in enumerate(draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3))):
            tables["demands"].append({"id": f"D{carrier[0]}{k}", "node": node,
                                      "amount": draw(amount), "unit": unit})
    return {name: pd.DataFrame(rows, columns=[c.name for c in TABLES[name].required])
            for name, rows in tables.items()}


def write_folder(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """The network folder, plus one scenario and one sweep over its first link."""
    folder.mkdir()
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    first = tables["links"]["id"].iloc[0]
    (folder / "scenarios").mkdir()
    (folder / "scenarios" / "half.yaml").write_text(
        f"description: {first} at half capacity.\nperiods: 12\n"
        f"scale:\n  - {{table: links, ids: [{first}], column: capacity, factor: 0.5}}\n")
    (folder / "outages.yaml").write_text(
        f"name: outages\nnetwork: {folder}\nperiods: 12\ndraws: 4\nseed: 3\noutages:\n"
        f"  - {{name: trip, links: [{first}], rate: 3, duration_days: 40, availability: 0}}\n")
    return folder


def invoke(runner: CliRunner, *args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    text = result.stdout + result.stderr
    assert "internal error" not in text and "Traceback" not in text, (args, text)
    return result


def test_the_generated_networks_have_only_required_columns() -> None:
    """The strategy itself: no optional column, so the test below tests what it claims."""
    @given(minimal_networks())
    @settings(max_examples=20, deadline=None)
    def check(tables):
        for name, df in tables.items():
            assert list(df.columns) == [c.name for c in TABLES[name].required]
    check()


@given(minimal_networks())
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # an example takes seconds:
# report the failing network as drawn rather than spend minutes shrinking it
def test_a_required_columns_network_goes_through_every_command(tables) -> None:
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        net = str(write_folder(tmp / "net", tables))
        store = str(tmp / "runs.duckdb")
        assert invoke(runner, "validate", net).exit_code == 0
        assert invoke(runner, "info", net).exit_code == 0
        assert invoke(runner, "scenarios", net).exit_code == 0
        ran = invoke(runner, "run", net, "--periods", "12", "--store", store,
                     "--out", str(tmp / "out"))
        assert ran.exit_code == 0 and "Stored as run 1" in ran.stdout
        shown = invoke(runner, "show", "1", "--store", store, "--json")
        assert shown.exit_code == 0 and json.loads(shown.stdout)["run"]["run_id"] == 1
        compared = invoke(runner, "compare", "base", "half", "--network", net, "--periods", "12",
                          "--store", store, "--json")
        assert compared.exit_code == 0
        labels = [r["label"] for r in json.loads(compared.stdout)["runs"]]
        assert labels[0] == "#1 base" and labels[1].endswith("half")  # base reuses run 1
        assert invoke(runner, "report", "1", "-o", str(tmp / "r.html"),
                      "--store", store).exit_code == 0
        assert (tmp / "r.html").stat().st_size > 0
        security = invoke(runner, "security", net)
        if (tables["nodes"]["carrier"] == "gas").any():  # no country: one area, `(network)`
            assert security.exit_code == 0 and "(network)" in security.stdout, security.stderr
        else:
            assert security.exit_code == 2 and "gas" in security.stderr
        # players are countries: a network that names none gets a clear error, not a crash
        coalition = invoke(runner, "coalition", net)
        assert coalition.exit_code == 2 and "country" in coalition.stderr
        swept = invoke(runner, "sweep", str(tmp / "net" / "outages.yaml"), "--workers", "0",
                       "--store", store)
        assert swept.exit_code == 0 and "Stored as sweep #1" in swept.stdout
        assert invoke(runner, "sweep-report", "1", "-o", str(tmp / "s.html"),
                      "--store", store).exit_code == 0
        # no pipe geometry in a required-columns network: a clear message, exit 2
        checked = invoke(runner, "hydraulics", "check", str(tmp / "out"))
        assert checked.exit_code in (0, 2)
        if checked.exit_code == 2:
            assert "nothing to check" in checked.stderr


@given(minimal_networks().filter(lambda t: (t["links"]["id"].str.startswith("Lg")).any()))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_services_plan_check_takes_a_required_columns_network(tables) -> None:
    """The coordination service's day-plan check: a planned flow on the first gas link at half
    its capacity is checked on the whole network, with the pressures skipped (no geometry)."""
    from corridor.io import read_network
    from corridor.service.feasibility import check_day_plan, interconnection_points

    with tempfile.TemporaryDirectory() as tmp:
        net = read_network(write_folder(Path(tmp) / "net", tables))
    link = net.links[net.links["carrier"] == "gas"].iloc[0]
    assert interconnection_points(net, ["RU", "KZ"]) == []  # no countries, no border points
    plan = [{"point": link.name, "link": link.name, "direction": "forward",
             "allocated": link["capacity"] / 2}]
    result = check_day_plan(net, plan)
    assert result["status"] in ("feasible", "infeasible")
    if result["status"] == "feasible":
        assert result["hydraulics"]["checked"] is False
    else:  # nothing upstream can push the planned flow: the point is named with its shortfall
        assert result["infeasible_points"] == [link.name]

"""Network games: values from the one warm-started model equal cold `optimize` runs on each
coalition's own sub-network; bad players and failing LPs give clear errors; the CLI reports."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.cli import app
from corridor.coalitions.assets import UnknownPlayerError, coalition_network
from corridor.coalitions.game import GameError
from corridor.coalitions.network_game import (
    CoalitionSolveError,
    CoalitionValues,
    NetworkGame,
    welfare_from_scratch,
)
from corridor.coalitions.summary import summarise
from corridor.data import bundled_path
from corridor.io import read_network

from builders import gas_network, monthly_profile

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scratch_values(net, players, periods: int = 1, outside: bool = True) -> np.ndarray:
    """v(S) by bitmask, every coalition solved from scratch on its own sub-network."""
    welfare = np.empty(1 << len(players))
    for mask in range(1 << len(players)):
        members = [p for i, p in enumerate(players) if mask >> i & 1]
        sub = coalition_network(net, players, members, outside=outside)
        welfare[mask] = welfare_from_scratch(sub, periods)
    return welfare - welfare[0]


@st.composite
def country_networks(draw):
    """Random gas networks of 3-6 nodes spread over up to three countries C0-C2 (the builder
    puts node 'B2' in country C2), with losses, reverse flow, profiles and maybe a storage."""
    n = draw(st.integers(3, 6))
    nodes = [f"{'ABCDEF'[k]}{draw(st.integers(0, 2))}" for k in range(n)]
    pair = st.tuples(st.sampled_from(nodes), st.sampled_from(nodes)).filter(lambda p: p[0] != p[1])
    links = [(f"L{k}", a, b, draw(st.integers(0, 20)), float(draw(st.integers(0, 9))),
              draw(st.sampled_from([0.0, 0.05])), draw(st.integers(0, 8)))
             for k, (a, b) in enumerate(draw(st.lists(pair, min_size=1, max_size=8)))]
    supplies = [(f"S{k}", draw(st.sampled_from(nodes)), draw(st.integers(0, 30)),
                 float(draw(st.integers(0, 50)))) for k in range(draw(st.integers(1, 3)))]
    demands = [(f"D{k}", draw(st.sampled_from(nodes)), draw(st.integers(0, 25)),
                float(draw(st.integers(60, 200)))) for k in range(draw(st.integers(1, 3)))]
    storages = []
    if draw(st.booleans()):
        storages = [("K0", draw(st.sampled_from(nodes)), 500, draw(st.integers(1, 10)), 0.5,
                     None, 1.0)]  # cyclic: always feasible (fixed end levels: test below)
    net = gas_network(nodes, links, supplies, demands, storages,
                      profiles=monthly_profile("winter", [2, 2, 1.5, 1, 0.5, 0.5, 0.5, 0.5, 1,
                                                          1, 1.5, 2]))
    countries = sorted(set(net.nodes["country"]))
    players = draw(st.lists(st.sampled_from(countries), min_size=1, max_size=3, unique=True))
    return net, players


@SETTINGS
@given(country_networks(), st.booleans())
def test_warm_started_values_equal_cold_runs(case, outside):
    net, players = case
    warm = NetworkGame(net, players, outside=outside).solve_all()
    cold = scratch_values(net, players, outside=outside)
    scale = max(1.0, np.abs(warm.welfare).max())
    assert np.allclose(warm.values, cold, rtol=0, atol=1e-7 * scale)


def storage_and_target_network():
    """A storage that must end fuller than it starts, and a route target, over 12 months; every
    coalition can meet the constraints of the assets it holds."""
    return gas_network(
        ["A1", "B2", "C3"],
        [("L1", "A1", "B2", 30, 1.0), ("L2", "B2", "C3", 30, 2.0), ("L3", "A1", "C3", 5, 9.0)],
        supplies=[("S1", "A1", 40, 10.0), ("S2", "B2", 6, 50.0), ("S3", "C3", 5, 80.0)],
        demands=[("D2", "B2", 10, 500.0, "winter"), ("D3", "C3", 12, 400.0)],
        storages=[("K1", "A1", 600, 10, 0.3, 0.6, 2.0)],
        targets=[("T", "L2", 4)],
        profiles=monthly_profile("winter", [2, 2, 1.5, 1, 0.5, 0.5, 0.5, 0.5, 1, 1, 1.5, 2]))


@pytest.mark.parametrize("periods", [1, 12])
def test_storage_end_levels_and_targets_are_switched_off_with_their_assets(periods):
    net = storage_and_target_network()
    net.links.loc["L3", "build_cost"] = 5000.0  # a built project: paid by who may use it
    players = ["C1", "C2", "C3"]
    warm = NetworkGame(net, players, periods=periods).solve_all()
    assert np.allclose(warm.values, scratch_values(net, players, periods), atol=1e-6)


def test_bundled_network_coalitions_match_cold_runs():
    net = read_network(bundled_path())
    players = ["RU", "KZ", "UZ"]
    warm = NetworkGame(net, players).solve_all()
    empty = welfare_from_scratch(coalition_network(net, players, []))
    for members in (["KZ"], ["RU", "KZ"], ["KZ", "UZ"], players):
        mask = sum(1 << players.index(p) for p in members)
        cold = welfare_from_scratch(coalition_network(net, players, members)) - empty
        assert warm.values[mask] == pytest.approx(cold, rel=1e-9, abs=1e3)
    assert warm.game().shapley().sum() == pytest.approx(warm.values[-1], rel=1e-12)


def test_gas_union_needs_kazakhstan_for_russian_gas_to_uzbekistan():
    """G08 (Russia -> Uzbekistan) crosses Kazakhstan: without KZ, Russia adds nothing to UZ."""
    net = read_network(bundled_path())
    values = NetworkGame(net, ["RU", "KZ", "UZ"], carrier="gas").solve_all().values
    ru, kz, uz = 1, 2, 4
    assert values[ru | uz] == pytest.approx(values[uz] + values[ru], abs=1.0)
    assert values[ru | kz | uz] > values[kz | uz] + 1e6


def test_players_may_be_companies():
    net = gas_network(["A1", "B2"], [("L1", "A1", "B2", 10, 1.0)],
                      supplies=[("S1", "A1", 10, 5.0)], demands=[("D2", "B2", 8, 100.0)])
    net.links["owner"] = "PipeCo"
    net.supplies["owner"] = "GasCo"
    values = NetworkGame(net, ["PipeCo", "GasCo"], by="owner").solve_all().values
    # demand has no owner: an open market; gas reaches it only with both companies
    assert values[1] == 0 and values[2] == 0
    assert values[3] == pytest.approx(8 * 365 * (100 - 5 - 1))


def test_savings_basis_counts_imports_avoided():
    net = gas_network(["A1"], supplies=[("S1", "A1", 10, 30.0)], demands=[("D1", "A1", 4, 500.0)])
    welfare = NetworkGame(net, ["C1"]).solve_all().values[1]
    savings = NetworkGame(net, ["C1"], basis="savings",
                          outside_price={"gas": 200.0}).solve_all().values[1]
    assert welfare == pytest.approx(4 * 365 * (500 - 30))
    assert savings == pytest.approx(4 * 365 * (200 - 30))
    with pytest.raises(GameError, match="outside .* price for gas"):
        NetworkGame(net, ["C1"], basis="savings")


def test_unknown_player_is_a_clear_error():
    net = read_network(bundled_path())
    with pytest.raises(UnknownPlayerError, match=r"XX is not a country .* KZ"):
        NetworkGame(net, ["KZ", "XX"])
    with pytest.raises(GameError, match="named twice"):
        NetworkGame(net, ["KZ", "KZ"])


def test_failing_coalition_lp_is_an_error_not_a_number():
    net = gas_network(["A1", "B2"], [("L1", "A1", "B2", 5, 1.0)],
                      supplies=[("S1", "A1", 10, 5.0)], demands=[("D2", "B2", 8, 100.0)],
                      targets=[("T", "L1", 7)])  # more than L1 can carry
    with pytest.raises(CoalitionSolveError, match=r"coalition C1\+C2 .*Infeasible"):
        NetworkGame(net, ["C1", "C2"]).solve_all()


def test_summary_of_a_game_without_imputations_reports_the_prenucleolus():
    """Two players who compete for the same outside market: v(a) + v(b) > v(a+b)."""
    values = np.array([0.0, 3.0, 2.0, 4.0])
    cv = CoalitionValues(("a", "b"), values, values + 10.0, 0.0, 0,
                         {"by": "country", "periods": 1, "basis": "welfare", "outside": True})
    s = summarise(cv, "test")
    assert np.allclose(s.table["nucleolus"], [2.5, 1.5])  # the prenucleolus: equal excesses
    assert s.core["core_empty"] and not s.properties["superadditive"]
    assert any("prenucleolus" in n for n in s.notes) and any("superadditive" in n for n in s.notes)


# -- CLI ----------------------------------------------------------------------------------------

def test_cli_coalition_json(runner):
    result = runner.invoke(app, ["coalition", "--players", "RU,KZ,UZ", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc["values"]) == {"RU", "KZ", "UZ", "RU+KZ", "RU+UZ", "KZ+UZ", "RU+KZ+UZ"}
    shapley = pd.Series(doc["allocation"]["shapley"])
    assert shapley.sum() == pytest.approx(doc["values"]["RU+KZ+UZ"], rel=1e-9)
    assert doc["core"]["shapley_in_core"] in (True, False)
    assert doc["timing"]["coalitions"] == 8


def test_cli_coalition_table_and_html(runner, tmp_path):
    page = tmp_path / "coalition.html"
    result = runner.invoke(app, ["coalition", "--players", "RU,KZ,UZ,TM,CN", "--html",
                                 str(page)])
    assert result.exit_code == 0, result.output
    for text in ("Coalition values", "Shapley", "nucleolus", "RU+KZ", "core"):
        assert text in result.stdout
    html = page.read_text()
    assert "Plotly" in html and len(html) > 1_000_000  # plotly.js embedded ...
    assert "<script src=" not in html and "<link" not in html  # ... and nothing fetched


@pytest.mark.parametrize("args, message", [
    (["--players", "RU,XX"], "XX is not a country"),
    (["--basis", "savings"], "outside (import) price"),
    (["--outside-price", "gas:3"], "carrier=USD"),
])
def test_cli_coalition_bad_input(runner, args, message):
    result = runner.invoke(app, ["coalition", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_cli_coalition_with_a_scenario(runner, tmp_path):
    plain = runner.invoke(app, ["coalition", "--carrier", "gas", "--json"])
    closed = tmp_path / "half-g08.yaml"  # Russian gas to Uzbekistan (G08) at half capacity
    closed.write_text("outages:\n  - {links: [G08], availability: 0.5}\n")
    forced = runner.invoke(app, ["coalition", "--carrier", "gas", "--json",
                                 "--scenario", str(closed)])
    assert plain.exit_code == forced.exit_code == 0, forced.output
    grand = "RU+KZ+UZ"
    assert json.loads(forced.stdout)["values"][grand] < json.loads(plain.stdout)["values"][grand]
    missing = runner.invoke(app, ["coalition", "--scenario", "no-such-scenario"])
    assert missing.exit_code == 2 and "no-such-scenario" in missing.stderr


def test_every_pair_is_listed_once(runner):
    result = runner.invoke(app, ["coalition", "--players", "KZ,UZ,TM", "--carrier", "gas",
                                 "--all"])
    assert result.exit_code == 0, result.output
    for a, b in itertools.combinations(["KZ", "UZ", "TM"], 2):
        assert result.stdout.count(f"│ {a}+{b} ") == 1  # one table row each

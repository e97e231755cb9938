"""`corridor plan` and `corridor coalition --options` from the command line, on the bundled and
the tiny network: what the user sees, what is stored, and options that cannot change anything."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.coalitions.options import option_values
from corridor.io import read_network
from corridor.store import Store

runner = CliRunner()


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    store = tmp_path_factory.mktemp("plan") / "runs.duckdb"
    result = runner.invoke(app, ["plan", "--years", "2025:2030:5", "--periods", "1", "--json",
                                 "--allocate", "--store", str(store)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), store


def test_plan_json_has_the_documented_keys(planned):
    doc, _ = planned
    assert doc["status"] == "optimal"
    for key in ("objective", "mip_gap", "builds", "capacity", "welfare"):
        assert key in doc
    assert set(doc["welfare"]) >= {"total", "by_year", "by_country"}
    assert doc["stats"]["identity_gap"] <= 1e-6
    # every built project has a capacity in its build year and none before
    for pid, year in doc["builds"].items():
        assert doc["capacity"][pid][str(year)] > 0
        assert all(v == 0 for y, v in doc["capacity"][pid].items() if int(y) < year)
    # under construction (committed): built as soon as it may be
    assert doc["builds"]["G41"] == 2030 and doc["builds"]["G48"] == 2030


def test_allocations_cover_the_cost_and_lie_in_the_core(planned):
    doc, _ = planned
    assert doc["allocation"]
    for pid, split in doc["allocation"].items():
        for method in ("shapley", "nucleolus", "scrb"):
            total = sum(share[method] for share in split["shares"].values())
            assert total == pytest.approx(split["cost"] - split["uncovered"], rel=1e-9), pid
            assert split["in_core"][method], (pid, method)


def test_plan_is_stored(planned):
    doc, store = planned
    with Store(store) as db:
        plans = db.plans()
        assert len(plans) == 1 and plans["status"].iloc[0] == "optimal"
        builds = db.con.execute("SELECT project, year FROM plan_builds").df()
    assert dict(zip(builds["project"], builds["year"], strict=True)) == doc["builds"]


def test_report_draws_a_stored_plan(planned, tmp_path):
    doc, store = planned
    page = tmp_path / "plan.html"
    result = runner.invoke(app, ["report", str(doc["plan_id"]), "--plan", "-o", str(page),
                                 "--store", str(store)])
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert "Builds: operating from" in text and "Flow on built project links" in text
    assert "G32" in text


def test_plan_prints_the_schedule_and_writes_an_offline_page(tmp_path):
    page = tmp_path / "plan.html"
    result = runner.invoke(app, ["plan", "--years", "2025:2030:5", "--periods", "1",
                                 "--no-store", "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert "Build schedule" in result.stdout and "Discounted welfare" in result.stdout
    text = page.read_text()
    assert "Builds: operating from" in text and "G32" in text
    assert "<script src=" not in text  # plotly.js is inside the page


def test_plan_without_a_horizon_is_a_clear_error(tiny_dir):
    result = runner.invoke(app, ["plan", str(tiny_dir), "--no-store"])
    assert result.exit_code == 2
    assert "planning" in result.stderr and "--years" in result.stderr


def test_a_project_without_capex_is_named(tiny_dir):
    result = runner.invoke(app, ["plan", str(tiny_dir), "--years", "2025:2030:5",
                                 "--no-store"])
    assert result.exit_code == 2
    assert "links.csv (id atyrau_aktau)" in result.stderr and "capex" in result.stderr


def test_an_option_no_coalition_can_use_is_worth_nothing(tiny_dir):
    """The Atyrau-Aktau line lies in Kazakhstan; with players RU and UZ and the outside closed,
    no coalition may build it, so no one's Shapley value or nucleolus moves."""
    net = read_network(tiny_dir)
    table = option_values(net, ["RU", "UZ"], ["atyrau_aktau"], outside=False) \
        .strategic_values()
    assert np.allclose(table[["shapley_change", "nucleolus_change"]], 0.0, atol=1e-6)


def test_pipeline_power_on_the_bundled_network():
    """Power of Siberia 2 through Mongolia as an option beside the Kazakh route lowers what
    Kazakhstan can claim (it is no longer the only way west-Siberian gas reaches China)."""
    result = runner.invoke(app, ["coalition", "--players", "RU,KZ,CN,MN", "--no-outside",
                                 "--options", "G30+G31,G32", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["options"]
    change = {(r["option"], r["player"]): r["shapley_change"] for r in rows}
    assert change[("G32", "KZ")] > change[("G30+G31+G32", "KZ")] > 0
    assert change[("G30+G31", "KZ")] == pytest.approx(0.0, abs=1e-3)


def test_who_gains_from_a_project_does_not_depend_on_earlier_re_solves():
    """The plan LP has alternative optima that split one total differently between countries;
    each project's benefit by country must come from the same starting point (the plan's own
    basis), not from wherever the previous re-solve (the project values) left HiGHS. On the
    bundled network this once showed Russia gaining 0.9-1.8 bn from purely Kazakh lines."""
    from corridor.data import bundled_path
    from corridor.plan import plan
    from corridor.plan.allocate import country_benefits

    net = read_network(bundled_path())
    plain, valued = plan(net, gap=0.01, values=False), plan(net, gap=0.01, values=True)
    assert plain.builds() == valued.builds()
    for pid in plain.builds():
        a, b = country_benefits(plain, pid), country_benefits(valued, pid)
        assert list(a.index) == list(b.index), pid
        np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-6, atol=1e3)
    # the Astana-Kokshetau extension benefits Kazakhstan alone
    assert list(country_benefits(valued, "G25").index) == ["KZ"]

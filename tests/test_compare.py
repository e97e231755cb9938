"""Comparing runs: the differences that matter, from the command line and as JSON.

Each comparison is of two different runs, and the differences are checked against values worked
out here: by hand on the tiny network, and from the two runs' own results (not through the store
or `corridor.compare`) on the bundled network.
"""

import json

import pytest

from corridor.cli import app
from corridor.cli.common import load_scenario_network
from corridor.optimize import optimize

REFERENCE = "description: The tiny network as it is.\nperiods: 1\n"
# CPC's tariff 38000 -> 48000 USD/kt; the Bukhara-Tashkent trunk 30 -> 35 mcm/d
CHANGED = """description: Dearer CPC, wider Bukhara-Tashkent trunk.
periods: 1
set:
  - {table: links, ids: [cpc], column: tariff, value: 48000}
  - {table: links, ids: [uz_trunk], column: capacity, value: 35, unit: mcm/d}
"""


def test_compare_tiny_runs_by_hand(tiny_dir, tmp_path, runner):
    """The dispatch of the tiny network by hand (see test_cli): Bukhara gas (45000 + tariff 5000
    USD/mcm) fills uz_trunk; Russian gas (60000 + 15000 on cac_north, 1 % lost, + 12000 on
    cac_south) serves the rest of Tashkent and sets every gas price; Tengiz oil (250000 USD/kt,
    not at capacity) carries 60 Mt/yr over CPC. Five more mcm/d from Bukhara displace 5 / 0.99
    mcm/d of Russian gas; a dearer CPC moves no oil (there is no other way to Novorossiysk)."""
    (tmp_path / "reference.yaml").write_text(REFERENCE)
    (tmp_path / "changed.yaml").write_text(CHANGED)
    result = runner.invoke(app, ["compare", str(tmp_path / "reference.yaml"),
                                 str(tmp_path / "changed.yaml"), "--network", str(tiny_dir),
                                 "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    ref, new = "#1 reference", "#2 changed"
    assert [r["label"] for r in doc["runs"]] == [ref, new]

    cpc_oil = 60000 / 365  # kt/d
    russian = 5 / 0.99  # mcm/d of Russian gas no longer needed
    daily = 10000 * cpc_oil + 5 * (45000 + 5000) - russian * (60000 + 15000) - 5 * 12000
    head = doc["headline"][new]
    assert head["objective_change_bn"] == pytest.approx(365 * daily / 1e9, rel=1e-9)
    # tariffs are the transit countries' income: only the production saved is welfare
    saved = russian * 60000 - 5 * 45000
    assert head["welfare_change_bn"] == pytest.approx(365 * saved / 1e9, rel=1e-9)

    flows = doc["flow_changes"]  # bcm/yr: mcm/d x 365 / 1000
    assert set(flows) == {"uz_trunk", "cac_south", "cac_north"}  # CPC's flow did not change
    assert flows["uz_trunk"][ref] == pytest.approx(30 * 0.365, rel=1e-9)
    assert flows["uz_trunk"][new] == pytest.approx(35 * 0.365, rel=1e-9)
    assert flows["cac_south"][new] - flows["cac_south"][ref] == pytest.approx(-5 * 0.365)
    assert flows["cac_north"][new] - flows["cac_north"][ref] == pytest.approx(-russian * 0.365)

    prices = doc["price_changes"]  # USD/t and USD/1000 m3
    assert prices["RU_NOVOROSSIYSK"][ref] == pytest.approx((250000 + 38000) / 1000, rel=1e-9)
    assert prices["RU_NOVOROSSIYSK"][new] == pytest.approx((250000 + 48000) / 1000, rel=1e-9)
    tashkent = (75000 / 0.99 + 12000) / 1000
    assert prices["UZ_TASHKENT"][ref] == pytest.approx(tashkent, rel=1e-9)
    assert prices["UZ_TASHKENT"][new] == pytest.approx(tashkent, rel=1e-9)

    revenue = doc["transport_revenue_musd"]  # a link earns for its `from` node's country
    change = {c: revenue[c][new] - revenue[c][ref] for c in revenue}
    assert change["KZ"] == pytest.approx(365 * (10000 * cpc_oil - 5 * 12000) / 1e6)
    assert change["UZ"] == pytest.approx(365 * 5 * 5000 / 1e6)
    assert change["RU"] == pytest.approx(-365 * russian * 15000 / 1e6)
    assert doc["unmet_domestic_by_country"] == {}
    assert doc["new_bottlenecks"] == {new: []}  # uz_trunk was full before and after


def test_compare_base_with_cpc_outage(runner):
    result = runner.invoke(app, ["compare", "base", "cpc-outage-month", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    base, outage = "#1 base", "#2 cpc-outage-month"
    assert [r["label"] for r in doc["runs"]] == [base, outage]
    solved = []  # the same two runs solved here, outside the store and the comparison
    for name in ("base", "cpc-outage-month"):
        net, spec = load_scenario_network(None, name)
        solved.append(optimize(net, spec.periods))
    first, second = solved
    head = doc["headline"][outage]
    assert head["objective_change_bn"] == pytest.approx(
        (second.objective - first.objective) / 1e9, rel=1e-6)
    assert head["welfare_change_bn"] == pytest.approx(
        (second.welfare() - first.welfare()) / 1e9, rel=1e-6)
    assert -5 < head["welfare_change_bn"] < -0.5  # a month without CPC costs billions
    for lid, row in doc["flow_changes"].items():
        for label, run in ((base, first), (outage, second)):
            mean = run.volume(run.flows)[lid] / run.days.sum() * 0.365
            assert row[label] == pytest.approx(mean, rel=1e-6, abs=1e-9), (lid, label)
    cpc = doc["flow_changes"]["O03"]
    march = first.flows["O03"].loc[3] * 31 / 365 * 0.365  # the month CPC carries nothing
    assert second.flows["O03"].loc[3] == pytest.approx(0.0, abs=1e-9)
    assert cpc[outage] == pytest.approx(cpc[base] - march, rel=0.02)  # others: about as before
    prices = doc["price_changes"]["KZ_ATYRAU"]
    assert prices[outage] < prices[base]  # the Kazakh netback falls
    revenue = doc["transport_revenue_musd"]["RU"]
    assert revenue[outage] < revenue[base]  # Russia loses CPC transit revenue
    assert doc["unmet_domestic_by_country"] == {}


def test_compare_reuses_identical_runs_and_reads_ids(runner):
    runner.invoke(app, ["compare", "base", "druzhba-closed"])
    again = runner.invoke(app, ["compare", "base", "druzhba-closed", "--json"])
    assert [r["run_id"] for r in json.loads(again.stdout)["runs"]] == [1, 2]
    by_id = runner.invoke(app, ["compare", "1", "#2"])
    assert by_id.exit_code == 0 and "Objective and welfare" in by_id.stdout


def test_compare_names_an_unmet_target_and_unknown_items(runner):
    result = runner.invoke(app, ["compare", "base", "trans-caspian-20mt"])
    assert result.exit_code == 0
    assert "target TRANS_CASPIAN_20MT" in result.stdout
    bad = runner.invoke(app, ["compare", "base", "no-such-scenario"])
    assert bad.exit_code == 2 and "no-such-scenario" in bad.stderr
    lonely = runner.invoke(app, ["compare", "base"])
    assert lonely.exit_code == 2 and "at least two" in lonely.stderr

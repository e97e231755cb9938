"""Comparing runs: the differences that matter, from the command line and as JSON."""

import json

import pytest

from corridor.cli import app


def test_compare_base_with_cpc_outage(runner):
    result = runner.invoke(app, ["compare", "base", "cpc-outage-month", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    labels = [r["label"] for r in doc["runs"]]
    assert labels == ["#1 base", "#2 cpc-outage-month"]
    head = doc["headline"]
    assert head["#1 base"]["welfare_change_bn"] == 0
    loss = head["#2 cpc-outage-month"]["welfare_change_bn"]
    assert -5 < loss < -0.5  # a month without CPC costs the region billions, not nothing
    cpc = doc["flow_changes"]["O03"]
    assert cpc["#2 cpc-outage-month"] == pytest.approx(cpc["#1 base"] * 11 / 12, rel=0.02)
    assert doc["price_changes"]["KZ_ATYRAU"]["#2 cpc-outage-month"] < \
        doc["price_changes"]["KZ_ATYRAU"]["#1 base"]  # Kazakh netback falls
    assert doc["transport_revenue_musd"]["RU"]["#2 cpc-outage-month"] < \
        doc["transport_revenue_musd"]["RU"]["#1 base"]  # Russia loses CPC transit revenue
    assert doc["unmet_domestic_by_country"] == {}


def test_compare_reuses_identical_runs_and_reads_ids(runner):
    runner.invoke(app, ["compare", "base", "druzhba-closed"])
    again = runner.invoke(app, ["compare", "base", "druzhba-closed", "--json"])
    assert [r["run_id"] for r in json.loads(again.stdout)["runs"]] == [1, 2]
    by_id = runner.invoke(app, ["compare", "1", "#2"])
    assert by_id.exit_code == 0 and "Cost and welfare" in by_id.stdout


def test_compare_names_an_unmet_target_and_unknown_items(runner):
    result = runner.invoke(app, ["compare", "base", "trans-caspian-20mt"])
    assert result.exit_code == 0
    assert "target TRANS_CASPIAN_20MT" in result.stdout
    bad = runner.invoke(app, ["compare", "base", "no-such-scenario"])
    assert bad.exit_code == 2 and "no-such-scenario" in bad.stderr
    lonely = runner.invoke(app, ["compare", "base"])
    assert lonely.exit_code == 2 and "at least two" in lonely.stderr

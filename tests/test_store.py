"""The results store: runs round-trip, the README SQL works, a killed write leaves no trace."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from corridor.cli import app
from corridor.io import read_network
from corridor.optimize import optimize
from corridor.store import Store, StoreError

README_QUERIES = [
    # The two example queries shown in README.md ("Querying the results store").
    "SELECT link, avg(utilisation) AS mean_use FROM flows WHERE run_id = 1 "
    "GROUP BY link ORDER BY mean_use DESC LIMIT 5",
    "SELECT r.scenario, p.period, p.price / 1000 AS usd_per_1000m3 FROM prices p "
    "JOIN runs r USING (run_id) WHERE p.node = 'KZ_ASTANA' ORDER BY r.scenario, p.period",
]


@pytest.fixture(scope="module")
def tiny_results():
    net = read_network(Path(__file__).parent / "data" / "tiny")
    return optimize(net, 12)


def test_a_run_round_trips(tiny_results, tmp_path):
    with Store(tmp_path / "s.duckdb") as db:
        first = db.save(tiny_results, "base", "abc")
        second = db.save(tiny_results, "other", "abc")
        stored = db.load(first)
        assert (first, second) == (1, 2)
        assert list(db.runs()["run_id"]) == [2, 1]
    flows = stored.wide("flows", "link", "flow")
    np.testing.assert_allclose(flows[tiny_results.flows.columns], tiny_results.flows)
    assert stored.meta["objective"] == pytest.approx(tiny_results.objective)
    assert stored.meta["welfare"] == pytest.approx(tiny_results.welfare())
    assert stored.meta["input_hash"] == "abc"
    np.testing.assert_allclose(stored.days(), tiny_results.days)
    with Store(tmp_path / "s.duckdb") as db, pytest.raises(StoreError, match="run 7 is not"):
        db.load(7)


def test_readme_queries_run(tiny_results, tmp_path):
    with Store(tmp_path / "s.duckdb") as db:
        db.save(tiny_results, "base")
        top = db.con.execute(README_QUERIES[0]).df()
        astana = db.con.execute(README_QUERIES[1]).df()
    assert len(top) == 5 and top["mean_use"].is_monotonic_decreasing
    assert len(astana) == 12 and (astana["usd_per_1000m3"] > 0).all()


CHILD = """
import sys, time
from corridor.io import read_network
from corridor.optimize import optimize
from corridor.store import Store

original = Store._insert
def slow_insert(self, table, df):
    original(self, table, df)
    if table == "flows":  # half of the run's tables are written, the transaction is open
        print("inside the transaction", flush=True)
        time.sleep(120)
Store._insert = slow_insert
results = optimize(read_network(sys.argv[1]), 12)
with Store(sys.argv[2]) as db:
    db.save(results, "killed")
"""


def test_a_run_killed_mid_write_leaves_the_store_intact(tiny_results, tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as db:
        db.save(tiny_results, "kept")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(Path(__file__).parent / "data" / "tiny"), str(path)],
        stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        assert child.stdout.readline().strip() == "inside the transaction"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    with Store(path) as db:
        runs = db.runs()
        assert list(runs["scenario"]) == ["kept"]
        orphans = db.con.execute("SELECT count(*) FROM flows WHERE run_id <> 1").fetchone()[0]
        assert orphans == 0
        assert db.save(tiny_results, "after") == 2  # and the store still takes new runs


def test_runs_show_report_on_the_command_line(runner, tiny_dir, tmp_path):
    assert runner.invoke(app, ["run", str(tiny_dir), "--periods", "12"]).exit_code == 0
    listing = runner.invoke(app, ["runs"])
    assert listing.exit_code == 0 and "Stored runs" in listing.stdout
    shown = runner.invoke(app, ["show", "1", "--json"])
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["run"]["status"] == "optimal"
    missing = runner.invoke(app, ["show", "99"])
    assert missing.exit_code == 2 and "run 99 is not in the store" in missing.stderr
    page = tmp_path / "r.html"
    made = runner.invoke(app, ["report", "1", "-o", str(page)])
    assert made.exit_code == 0, made.output
    assert "PlotlyGeoAssets" in page.read_text()

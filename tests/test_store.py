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


# The layout Corridor 0.1.0 wrote (schema version 1, no `store_meta`), kept here as history.
STORE_V1 = """
CREATE TABLE runs (run_id INTEGER PRIMARY KEY, created TIMESTAMP, network VARCHAR,
    scenario VARCHAR, scenario_files VARCHAR, input_hash VARCHAR, corridor_version VARCHAR,
    periods INTEGER, status VARCHAR, objective DOUBLE, welfare DOUBLE, build_seconds DOUBLE,
    solve_seconds DOUBLE, iterations BIGINT, variables BIGINT, constraints BIGINT,
    key_nodes VARCHAR, violations VARCHAR);
CREATE TABLE periods (run_id INTEGER, period INTEGER, days DOUBLE);
CREATE TABLE nodes (run_id INTEGER, node VARCHAR, name VARCHAR, carrier VARCHAR,
    country VARCHAR, kind VARCHAR, lat DOUBLE, lon DOUBLE);
CREATE TABLE links (run_id INTEGER, link VARCHAR, name VARCHAR, carrier VARCHAR,
    "from" VARCHAR, "to" VARCHAR, country VARCHAR, status VARCHAR, capacity DOUBLE,
    reverse_capacity DOUBLE, tariff DOUBLE);
CREATE TABLE flows (run_id INTEGER, period INTEGER, link VARCHAR, flow DOUBLE,
    utilisation DOUBLE);
CREATE TABLE prices (run_id INTEGER, period INTEGER, node VARCHAR, price DOUBLE);
CREATE TABLE unmet (run_id INTEGER, period INTEGER, demand VARCHAR, node VARCHAR,
    country VARCHAR, market VARCHAR, carrier VARCHAR, amount DOUBLE, unmet DOUBLE);
CREATE TABLE supply (run_id INTEGER, period INTEGER, supply VARCHAR, node VARCHAR,
    country VARCHAR, carrier VARCHAR, produced DOUBLE);
CREATE TABLE money (run_id INTEGER, country VARCHAR, production_cost DOUBLE,
    producer_revenue DOUBLE, consumer_payment DOUBLE, transport_revenue DOUBLE,
    congestion_rent DOUBLE, build_cost DOUBLE, unmet_cost DOUBLE);
INSERT INTO runs (run_id, network, scenario, periods, status, objective)
    VALUES (1, 'old', '', 1, 'optimal', 42.0);
INSERT INTO links VALUES (1, 'X1', 'Old line', 'gas', 'A', 'B', 'KZ', 'operating', 5, 0, 1);
"""


def test_a_store_written_by_corridor_0_1_opens_and_takes_new_runs(tiny_results, tmp_path):
    import duckdb

    from corridor.store import SCHEMA, SCHEMA_VERSION

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(STORE_V1)
    con.close()
    with Store(path) as db:
        version = db.con.execute("SELECT value FROM store_meta").fetchone()[0]
        old = db.load(1)
        new = db.save(tiny_results, "after-upgrade")
        columns = [r[0] for r in db.con.execute("DESCRIBE links").fetchall()]
    assert int(version) == SCHEMA_VERSION >= 2
    assert old.meta["objective"] == 42.0 and old.tables["links"].at[0, "name"] == "Old line"
    assert sorted(columns) == sorted(["run_id", *(c for c, _ in SCHEMA["links"])])
    assert old.tables["links"]["length_km"].isna().all()  # a column the old run never had
    with Store(path) as db:
        assert db.load(new).tables["links"]["length_km"].notna().any()


def test_a_store_from_a_newer_corridor_is_refused_clearly(tmp_path):
    path = tmp_path / "new.duckdb"
    with Store(path) as db:
        db.con.execute("UPDATE store_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer Corridor .*schema version 99"):
        Store(path)


def test_the_snapshot_tables_follow_the_data_contract():
    """A column the contract gains is stored without touching the store."""
    from corridor.schema import TABLES as CONTRACT
    from corridor.store import SCHEMA

    for table, key in (("nodes", "node"), ("links", "link")):
        stored = [c for c, _ in SCHEMA[table]]
        assert stored == [key] + [c.name for c in CONTRACT[table].columns if c.name != "id"]

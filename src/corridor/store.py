"""The results store: every run saved in an embedded DuckDB database, queryable with SQL.

One row per run in `runs` (what produced it: network, scenario, input hash, version, time, solver
statistics) and long tables keyed by `run_id` for flows, prices, unmet demand, supply, money by
country, and the network snapshot the run used (nodes, links) so reports need nothing else.
A run is written in one transaction: a process killed mid-write leaves no half-written run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

import corridor
from corridor.optimize import Results

STORE_ENV = "CORRIDOR_STORE"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY, created TIMESTAMP, network VARCHAR, scenario VARCHAR,
    scenario_files VARCHAR, input_hash VARCHAR, corridor_version VARCHAR, periods INTEGER,
    status VARCHAR, objective DOUBLE, welfare DOUBLE, build_seconds DOUBLE,
    solve_seconds DOUBLE, iterations BIGINT, variables BIGINT, constraints BIGINT,
    key_nodes VARCHAR, violations VARCHAR);
CREATE TABLE IF NOT EXISTS periods (run_id INTEGER, period INTEGER, days DOUBLE);
CREATE TABLE IF NOT EXISTS nodes (run_id INTEGER, node VARCHAR, name VARCHAR, carrier VARCHAR,
    country VARCHAR, kind VARCHAR, lat DOUBLE, lon DOUBLE);
CREATE TABLE IF NOT EXISTS links (run_id INTEGER, link VARCHAR, name VARCHAR, carrier VARCHAR,
    "from" VARCHAR, "to" VARCHAR, country VARCHAR, status VARCHAR, capacity DOUBLE,
    reverse_capacity DOUBLE, tariff DOUBLE);
CREATE TABLE IF NOT EXISTS flows (run_id INTEGER, period INTEGER, link VARCHAR, flow DOUBLE,
    utilisation DOUBLE);
CREATE TABLE IF NOT EXISTS prices (run_id INTEGER, period INTEGER, node VARCHAR, price DOUBLE);
CREATE TABLE IF NOT EXISTS unmet (run_id INTEGER, period INTEGER, demand VARCHAR, node VARCHAR,
    country VARCHAR, market VARCHAR, carrier VARCHAR, amount DOUBLE, unmet DOUBLE);
CREATE TABLE IF NOT EXISTS supply (run_id INTEGER, period INTEGER, supply VARCHAR, node VARCHAR,
    country VARCHAR, carrier VARCHAR, produced DOUBLE);
CREATE TABLE IF NOT EXISTS money (run_id INTEGER, country VARCHAR, production_cost DOUBLE,
    producer_revenue DOUBLE, consumer_payment DOUBLE, transport_revenue DOUBLE,
    congestion_rent DOUBLE, build_cost DOUBLE, unmet_cost DOUBLE);
"""
TABLES = ("periods", "nodes", "links", "flows", "prices", "unmet", "supply", "money")


class StoreError(ValueError):
    """A store that cannot be opened, or a run that is not in it."""


def default_store_path() -> Path:
    """`$CORRIDOR_STORE`, else `runs.duckdb` in the user's data directory."""
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV])
    from platformdirs import user_data_dir

    return Path(user_data_dir("corridor")) / "runs.duckdb"


def _long(df: pd.DataFrame, id_name: str, value: str) -> pd.DataFrame:
    """A (periods x ids) table as rows (period, id, value), period-major."""
    n_periods, n_ids = df.shape
    return pd.DataFrame({
        "period": np.repeat(np.asarray(df.index), n_ids),
        id_name: np.tile(np.asarray(df.columns, dtype=object), n_periods),
        value: df.to_numpy(dtype=float).ravel(),
    })


@dataclass
class StoredRun:
    """A run read back from the store: its metadata row and its long tables."""

    meta: dict
    tables: dict[str, pd.DataFrame]

    @property
    def run_id(self) -> int:
        return int(self.meta["run_id"])

    @property
    def label(self) -> str:
        return f"#{self.run_id} {self.meta['scenario'] or 'base'}"

    def wide(self, table: str, column: str, value: str) -> pd.DataFrame:
        """A long table back as (periods x ids)."""
        df = self.tables[table]
        return df.pivot(index="period", columns=column, values=value)

    def days(self) -> np.ndarray:
        return self.tables["periods"].sort_values("period")["days"].to_numpy()


class Store:
    """A DuckDB file of runs. Use as a context manager or call `close()`."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise StoreError(f"cannot open the results store {self.path}: {exc}") from None
        self.con.execute(_SCHEMA)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def save(self, results: Results, scenario: str = "", input_hash: str | None = None) -> int:
        """Write one run atomically; returns its run id."""
        rows = _run_tables(results)
        self.con.execute("BEGIN TRANSACTION")
        try:
            run_id = self.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()[0]
            self.con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _run_row(run_id, results, scenario, input_hash))
            for name in TABLES:
                self._insert(name, rows[name].assign(run_id=run_id))
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return int(run_id)

    def _insert(self, table: str, df: pd.DataFrame) -> None:
        columns = [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall()]
        self.con.register("_incoming", df[columns])
        self.con.execute(f"INSERT INTO {table} SELECT * FROM _incoming")
        self.con.unregister("_incoming")

    def runs(self) -> pd.DataFrame:
        """All stored runs, newest first."""
        return self.con.execute(
            "SELECT run_id, created, network, scenario, periods, status, objective, welfare, "
            "solve_seconds, input_hash FROM runs ORDER BY run_id DESC").df()

    def load(self, run_id: int) -> StoredRun:
        meta = self.con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).df()
        if meta.empty:
            raise StoreError(f"run {run_id} is not in the store {self.path} "
                             f"(see `corridor runs`)")
        tables = {name: self.con.execute(f"SELECT * EXCLUDE (run_id) FROM {name} "
                                         f"WHERE run_id = ?", [run_id]).df() for name in TABLES}
        return StoredRun(meta.iloc[0].to_dict(), tables)

    def find(self, network: str, scenario: str, periods: int, input_hash: str) -> int | None:
        """The newest optimal run of exactly these inputs (same files, scenario and periods)."""
        row = self.con.execute(
            "SELECT max(run_id) FROM runs WHERE network = ? AND scenario = ? AND periods = ? "
            "AND input_hash = ? AND corridor_version = ? AND status = 'optimal'",
            [network, scenario, periods, input_hash, corridor.__version__]).fetchone()
        return None if row[0] is None else int(row[0])


def _run_row(run_id: int, r: Results, scenario: str, input_hash: str | None) -> list:
    s = r.stats
    return [run_id, datetime.now(UTC).replace(tzinfo=None), r.network.name, scenario,
            json.dumps(list(r.network.scenarios)), input_hash, corridor.__version__,
            r.n_periods, r.status, r.objective if r.optimal else None,
            r.welfare() if r.optimal else None, s.get("build_seconds"), s.get("solve_seconds"),
            s.get("iterations"), s.get("variables"), s.get("constraints"),
            json.dumps(r.network.meta.key_nodes), json.dumps([v.__dict__ for v in r.violations])]


def _run_tables(r: Results) -> dict[str, pd.DataFrame]:
    """The long tables of one run (without run_id)."""
    net = r.network
    nodes = net.nodes.reset_index(names="node")
    links = net.links.reset_index(names="link")
    flows = _long(r.flows, "link", "flow").assign(
        utilisation=r.utilisation()[r.flows.columns].to_numpy(dtype=float).ravel())
    demands = net.demands.reset_index(names="demand")
    unmet = _long(r.unmet, "demand", "unmet").assign(
        amount=r.demand_amount()[r.unmet.columns].to_numpy(dtype=float).ravel()).merge(
        demands[["demand", "node", "country", "market", "carrier"]], on="demand")
    supplies = net.supplies.reset_index(names="supply")
    supply = _long(r.supply, "supply", "produced").merge(
        supplies[["supply", "node", "country", "carrier"]], on="supply")
    money = (r.money_by_country() if r.optimal else pd.DataFrame(
        columns=["production_cost", "producer_revenue", "consumer_payment", "transport_revenue",
                 "congestion_rent", "build_cost", "unmet_cost"])).reset_index(names="country")
    return {
        "periods": pd.DataFrame({"period": np.arange(1, r.n_periods + 1), "days": r.days}),
        "nodes": nodes, "links": links, "flows": flows,
        "prices": _long(r.prices, "node", "price"), "unmet": unmet, "supply": supply,
        "money": money,
    }


def as_stored(results: Results, scenario: str = "", input_hash: str | None = None) -> StoredRun:
    """A run in the store's shape without writing it (for reports of unsaved runs)."""
    names = ["run_id", "created", "network", "scenario", "scenario_files", "input_hash",
             "corridor_version", "periods", "status", "objective", "welfare", "build_seconds",
             "solve_seconds", "iterations", "variables", "constraints", "key_nodes",
             "violations"]
    meta = dict(zip(names, _run_row(0, results, scenario, input_hash), strict=True))
    return StoredRun(meta, _run_tables(results))

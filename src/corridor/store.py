"""The results store: every run saved in an embedded DuckDB database, queryable with SQL.

One row per run in `runs` (what produced it: network, scenario, input hash, version, time, solver
statistics) and long tables keyed by `run_id` for flows, prices, unmet demand, supply, money by
country, and the network snapshot the run used (nodes, links) so reports need nothing else.
A run is written in one transaction: a process killed mid-write leaves no half-written run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

import corridor
from corridor.optimize import Results
from corridor.optimize.accounts import DETAIL_COLUMNS, WELFARE_COMPONENTS
from corridor.schema import NUMBER
from corridor.schema import TABLES as CONTRACT

STORE_ENV = "CORRIDOR_STORE"

# The store's layout, declared once. Each table is (column, DuckDB type) pairs; the network
# snapshot tables (`nodes`, `links`) take their columns from the data contract, so a column the
# contract gains is stored without a second list to keep in step. Opening a store creates what is
# missing and adds any declared column an older store lacks (`_reconcile`); changes that adding a
# column cannot express go into `MIGRATIONS`, numbered, and `store_meta.schema_version` says which
# have run.
SCHEMA_VERSION = 2
_VARCHAR, _DOUBLE, _INTEGER, _BIGINT, _TIMESTAMP = "VARCHAR", "DOUBLE", "INTEGER", "BIGINT", \
    "TIMESTAMP"


def _snapshot(table: str, key: str) -> tuple[tuple[str, str], ...]:
    """A network table's stored columns: its id as `key`, then every contract column."""
    spec = CONTRACT[table]
    return ((key, _VARCHAR),) + tuple(
        (c.name, _DOUBLE if c.kind == NUMBER else _VARCHAR) for c in spec.columns if c.name != "id")


RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", _INTEGER), ("created", _TIMESTAMP), ("network", _VARCHAR),
    ("scenario", _VARCHAR), ("scenario_files", _VARCHAR), ("input_hash", _VARCHAR),
    ("corridor_version", _VARCHAR), ("periods", _INTEGER), ("status", _VARCHAR),
    ("objective", _DOUBLE), ("welfare", _DOUBLE), ("build_seconds", _DOUBLE),
    ("solve_seconds", _DOUBLE), ("iterations", _BIGINT), ("variables", _BIGINT),
    ("constraints", _BIGINT), ("key_nodes", _VARCHAR), ("violations", _VARCHAR))
MONEY_COLUMNS = (*WELFARE_COMPONENTS, "welfare", *DETAIL_COLUMNS)
SCHEMA: dict[str, tuple[tuple[str, str], ...]] = {
    "periods": (("period", _INTEGER), ("days", _DOUBLE)),
    "nodes": _snapshot("nodes", "node"),
    "links": _snapshot("links", "link"),
    "flows": (("period", _INTEGER), ("link", _VARCHAR), ("flow", _DOUBLE),
              ("utilisation", _DOUBLE)),
    "prices": (("period", _INTEGER), ("node", _VARCHAR), ("price", _DOUBLE)),
    "unmet": (("period", _INTEGER), ("demand", _VARCHAR), ("node", _VARCHAR),
              ("country", _VARCHAR), ("market", _VARCHAR), ("carrier", _VARCHAR),
              ("amount", _DOUBLE), ("unmet", _DOUBLE), ("served", _DOUBLE)),
    "supply": (("period", _INTEGER), ("supply", _VARCHAR), ("node", _VARCHAR),
               ("country", _VARCHAR), ("carrier", _VARCHAR), ("produced", _DOUBLE)),
    "money": (("country", _VARCHAR),) + tuple((c, _DOUBLE) for c in MONEY_COLUMNS),
    "money_owner": (("owner", _VARCHAR),) + tuple((c, _DOUBLE) for c in MONEY_COLUMNS),
}
TABLES = tuple(SCHEMA)
# Plans (`corridor plan`), keyed by plan_id: the plan, its builds, capacity and money by year.
PLAN_SCHEMA: dict[str, tuple[tuple[str, str], ...]] = {
    "plans": (("created", _TIMESTAMP), ("network", _VARCHAR), ("scenario", _VARCHAR),
              ("years", _VARCHAR), ("periods", _INTEGER), ("discount_rate", _DOUBLE),
              ("corridor_version", _VARCHAR), ("status", _VARCHAR), ("objective", _DOUBLE),
              ("welfare", _DOUBLE), ("mip_gap", _DOUBLE), ("seconds", _DOUBLE)),
    "plan_builds": (("project", _VARCHAR), ("year", _INTEGER), ("share", _DOUBLE),
                    ("capex", _DOUBLE), ("discounted_cost", _DOUBLE),
                    ("gross_value", _DOUBLE), ("net_value", _DOUBLE)),
    "plan_capacity": (("project", _VARCHAR), ("year", _INTEGER), ("capacity", _DOUBLE)),
    "plan_flows": (("link", _VARCHAR), ("year", _INTEGER), ("flow", _DOUBLE)),
    "plan_money": (("country", _VARCHAR), ("year", _INTEGER), ("welfare", _DOUBLE)),
}


def _create(con: duckdb.DuckDBPyConnection) -> None:
    """Every declared table that does not exist yet (run tables keyed by `run_id`)."""
    columns = ", ".join(f'"{c}" {t}' for c, t in RUN_COLUMNS[1:])
    con.execute(f"CREATE TABLE IF NOT EXISTS runs (run_id INTEGER PRIMARY KEY, {columns})")
    for table, cols in SCHEMA.items():
        body = ", ".join(f'"{c}" {t}' for c, t in (("run_id", _INTEGER), *cols))
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
    for table, cols in PLAN_SCHEMA.items():
        body = ", ".join(f'"{c}" {t}' for c, t in (("plan_id", _INTEGER), *cols))
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")


def _reconcile(con: duckdb.DuckDBPyConnection) -> None:
    """Add every declared column an existing table lacks (NULL in the runs stored before)."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
              .fetchall()}
    for table, cols in (("runs", RUN_COLUMNS), *SCHEMA.items()):
        if table not in tables:  # a table the store lacks is created whole by `_create`
            continue
        have = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
        for column, kind in cols:
            if column not in have:
                con.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {kind}')


# Version 1: the layout of Corridor 0.1.0 (no `store_meta`; `nodes` and `links` held a fixed
# subset of the contract). Version 2: `store_meta` and the full contract in the snapshot tables,
# which `_reconcile` adds. A future change that is not an added column (a rename, a new key) is
# appended here as `version: function(con)`.
MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {2: _reconcile}


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The store's version: 0 for an empty file, 1 for a store older than `store_meta`."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = 'main'").fetchall()}
    if "store_meta" in tables:
        row = con.execute("SELECT value FROM store_meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0
    return 1 if "runs" in tables else 0


def migrate(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Bring the store at `con` to `SCHEMA_VERSION` in one transaction; returns the old version."""
    found = _schema_version(con)
    if found > SCHEMA_VERSION:
        raise StoreError(f"the results store {path} was written by a newer Corridor (schema "
                         f"version {found}; this one reads up to {SCHEMA_VERSION}): upgrade "
                         f"Corridor or use another store (--store)")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, "
                    "value VARCHAR)")
        if found:  # an empty file is created at the current layout below
            for version in range(found + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[version](con)
        _create(con)
        _reconcile(con)
        con.execute("INSERT OR REPLACE INTO store_meta VALUES ('schema_version', ?)",
                    [str(SCHEMA_VERSION)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return found


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
        try:
            migrate(self.con, self.path)
        except duckdb.Error as exc:
            self.con.close()
            raise StoreError(f"cannot open the results store {self.path}: {exc}") from None

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
            names = ", ".join(f'"{c}"' for c, _ in RUN_COLUMNS)
            marks = ", ".join("?" * len(RUN_COLUMNS))
            self.con.execute(f"INSERT INTO runs ({names}) VALUES ({marks})",
                             _run_row(run_id, results, scenario, input_hash))
            for name in TABLES:
                self._insert(name, rows[name].assign(run_id=run_id))
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return int(run_id)

    def save_plan(self, result, scenario: str = "") -> int:
        """Write one solved plan atomically; returns its plan id."""
        h = result.horizon
        builds = result.values.rename_axis("project").reset_index()
        capacity = result.capacity().stack().rename("capacity").rename_axis(
            ["project", "year"]).reset_index()
        money = result.money_by_country().stack().rename("welfare").rename_axis(
            ["country", "year"]).reset_index()
        flows = pd.DataFrame([(link, year, volume) for year, r in result.years.items()
                              for link, volume in r.volume(r.flows).items()],
                             columns=["link", "year", "flow"])
        self.con.execute("BEGIN TRANSACTION")
        try:
            plan_id = int(self.con.execute(
                "SELECT coalesce(max(plan_id), 0) + 1 FROM plans").fetchall()[0][0])
            head = pd.DataFrame([{
                "created": pd.Timestamp.now(), "network": result.model.network.name,
                "scenario": scenario, "years": ",".join(map(str, h.years)),
                "periods": h.periods, "discount_rate": h.discount_rate,
                "corridor_version": corridor.__version__, "status": result.status,
                "objective": result.objective, "welfare": result.welfare(),
                "mip_gap": result.mip_gap, "seconds": result.seconds}])
            for table, df in (("plans", head), ("plan_builds", builds),
                              ("plan_capacity", capacity), ("plan_flows", flows),
                              ("plan_money", money)):
                columns = ["plan_id", *(c for c, _ in PLAN_SCHEMA[table])]
                self.con.register("_incoming", df.assign(plan_id=plan_id).reindex(
                    columns=columns))
                names = ", ".join(f'"{c}"' for c in columns)
                self.con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _incoming")
                self.con.unregister("_incoming")
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return plan_id

    def plans(self) -> pd.DataFrame:
        """All stored plans, newest first."""
        return self.con.execute("SELECT * FROM plans ORDER BY plan_id DESC").df()

    def load_plan(self, plan_id: int):
        """A stored plan's tables (`plan.report.StoredPlan`)."""
        from corridor.plan.report import StoredPlan

        head = self.con.execute("SELECT * FROM plans WHERE plan_id = ?", [plan_id]).df()
        if head.empty:
            raise StoreError(f"plan {plan_id} is not in the store {self.path} (see the plan "
                             "id `corridor plan` printed)")
        tables = {name: self.con.execute(f"SELECT * EXCLUDE (plan_id) FROM plan_{name} "
                                         "WHERE plan_id = ?", [plan_id]).df()
                  for name in ("builds", "capacity", "flows", "money")}
        return StoredPlan(head.iloc[0].to_dict(), **tables)

    def _insert(self, table: str, df: pd.DataFrame) -> None:
        """Insert by the declared column names: a column the frame lacks is NULL, an undeclared
        one (an unknown network column) is not stored."""
        columns = ["run_id", *(c for c, _ in SCHEMA[table])]
        self.con.register("_incoming", df.reindex(columns=columns))
        names = ", ".join(f'"{c}"' for c in columns)
        self.con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _incoming")
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
        amount=r.demand_amount()[r.unmet.columns].to_numpy(dtype=float).ravel(),
        served=r.served()[r.unmet.columns].to_numpy(dtype=float).ravel()).merge(
        demands[["demand", "node", "country", "market", "carrier"]], on="demand")
    supplies = net.supplies.reset_index(names="supply")
    supply = _long(r.supply, "supply", "produced").merge(
        supplies[["supply", "node", "country", "carrier"]], on="supply")
    money = (r.money_by_country() if r.optimal else pd.DataFrame(
        columns=list(MONEY_COLUMNS))).reset_index(names="country")
    money_owner = (r.money_by_owner() if r.optimal else pd.DataFrame(
        columns=list(MONEY_COLUMNS))).reset_index(names="owner")
    return {
        "periods": pd.DataFrame({"period": np.arange(1, r.n_periods + 1), "days": r.days}),
        "nodes": nodes, "links": links, "flows": flows,
        "prices": _long(r.prices, "node", "price"), "unmet": unmet, "supply": supply,
        "money": money, "money_owner": money_owner,
    }


def as_stored(results: Results, scenario: str = "", input_hash: str | None = None) -> StoredRun:
    """A run in the store's shape without writing it (for reports of unsaved runs)."""
    names = [c for c, _ in RUN_COLUMNS]
    meta = dict(zip(names, _run_row(0, results, scenario, input_hash), strict=True))
    tables = {name: df.reindex(columns=[c for c, _ in SCHEMA[name]])
              for name, df in _run_tables(results).items()}
    return StoredRun(meta, tables)

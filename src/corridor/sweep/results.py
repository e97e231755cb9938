"""Sweep results in the DuckDB results store, written in chunks as draws finish.

Tables (beside the runs of `corridor.store`):

- `sweeps`: one row per sweep: what produced it (file, network, scenario, periods, draws, seed,
  the sweep file itself, input hash, version), where it ran, its state (`running`, `complete`,
  `interrupted`), how long it took, the days of each period and the names of the links;
- `sweep_outcomes`: one row per draw: status, objective (USD), simplex iterations, solve
  seconds, attempts, the draw's changes (JSON) and the solver's message;
- `sweep_draws`: one row per draw and quantity of interest: (quantity, item, carrier, value),
  see `corridor.sweep.quantities` (volumes in base units over the horizon, money in USD);
- `sweep_flows` (with `--flows`): net flow per draw, period and link (base units per day).

Draw -1 is the unchanged base case of the sweep, the reference of its report.
Each chunk is one transaction, so a sweep killed midway keeps every chunk written before.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

import corridor
from corridor.store import Store, StoreError
from corridor.sweep.quantities import LABEL_COLUMNS
from corridor.sweep.resolve import DrawResult, Job

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id INTEGER PRIMARY KEY, created TIMESTAMP, name VARCHAR, file VARCHAR,
    network VARCHAR, scenario VARCHAR, periods INTEGER, draws INTEGER, seed BIGINT,
    spec VARCHAR, input_hash VARCHAR, corridor_version VARCHAR, executor VARCHAR,
    flows BOOLEAN, state VARCHAR, completed INTEGER, seconds DOUBLE, days VARCHAR,
    link_names VARCHAR);
CREATE TABLE IF NOT EXISTS sweep_outcomes (sweep_id INTEGER, draw INTEGER, status VARCHAR,
    objective DOUBLE, iterations INTEGER, seconds DOUBLE, attempts INTEGER, changes VARCHAR,
    message VARCHAR);
CREATE TABLE IF NOT EXISTS sweep_draws (sweep_id INTEGER, draw INTEGER, quantity VARCHAR,
    item VARCHAR, carrier VARCHAR, value DOUBLE);
CREATE TABLE IF NOT EXISTS sweep_flows (sweep_id INTEGER, draw INTEGER, period INTEGER,
    link VARCHAR, flow DOUBLE);
"""
CHUNK = 250  # draws per transaction


class SweepStore:
    """The sweep tables of a results store. Use as a context manager or call `close()`."""

    def __init__(self, path: str | Path | None = None):
        self.store = Store(path)
        self.path = self.store.path
        self.con = self.store.con
        self.con.execute(_SCHEMA)

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    def create(self, job: Job, executor: str) -> int:
        """A new sweep row in state `running`; returns its id."""
        from corridor.outputs import input_hash

        spec, net = job.spec, job.network
        row = [datetime.now(UTC).replace(tzinfo=None), spec.name, spec.path, net.name,
               ", ".join(Path(s).stem for s in net.scenarios), job.periods, spec.n_draws,
               spec.seed, spec.model_dump_json(), input_hash(net), corridor.__version__,
               executor, job.flows, "running", 0, None,
               json.dumps([float(d) for d in _days(job)]),
               json.dumps(net.links["name"].to_dict() if "name" in net.links else {})]
        self.con.execute("BEGIN TRANSACTION")
        try:
            sweep_id = self.con.execute(
                "SELECT coalesce(max(sweep_id), 0) + 1 FROM sweeps").fetchone()[0]
            self.con.execute("INSERT INTO sweeps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                             "?, ?, ?, ?, ?, ?)", [sweep_id, *row])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return int(sweep_id)

    def writer(self, sweep_id: int, labels: pd.DataFrame, link_ids: pd.Index) -> SweepWriter:
        return SweepWriter(self, sweep_id, labels, link_ids)

    def finish(self, sweep_id: int, completed: int, seconds: float, complete: bool) -> None:
        self.con.execute("UPDATE sweeps SET state = ?, completed = ?, seconds = ? "
                         "WHERE sweep_id = ?",
                         ["complete" if complete else "interrupted", completed, seconds,
                          sweep_id])

    def sweeps(self) -> pd.DataFrame:
        """All sweeps, newest first."""
        return self.con.execute(
            "SELECT sweep_id, created, name, network, scenario, periods, draws, seed, state, "
            "completed, seconds, executor FROM sweeps ORDER BY sweep_id DESC").df()

    def meta(self, sweep_id: int) -> dict:
        df = self.con.execute("SELECT * FROM sweeps WHERE sweep_id = ?", [sweep_id]).df()
        if df.empty:
            raise StoreError(f"sweep {sweep_id} is not in the store {self.path} "
                             "(see `corridor sweep-report` without an id)")
        return df.iloc[0].to_dict()

    def latest(self) -> int | None:
        value = self.con.execute("SELECT max(sweep_id) FROM sweeps").fetchone()[0]
        return None if value is None else int(value)

    def outcomes(self, sweep_id: int) -> pd.DataFrame:
        return self.con.execute("SELECT * EXCLUDE (sweep_id) FROM sweep_outcomes "
                                "WHERE sweep_id = ? ORDER BY draw", [sweep_id]).df()

    def draws(self, sweep_id: int) -> pd.DataFrame:
        """The long quantity table of a sweep, in draw and label order."""
        return self.con.execute("SELECT * EXCLUDE (sweep_id) FROM sweep_draws WHERE sweep_id = ? "
                                "ORDER BY draw, quantity, item, carrier", [sweep_id]).df()

    def insert(self, table: str, df: pd.DataFrame) -> None:
        self.con.register("_incoming", df)
        self.con.execute(f"INSERT INTO {table} SELECT * FROM _incoming")
        self.con.unregister("_incoming")


def _days(job: Job) -> np.ndarray:
    from corridor.periods import period_days

    return period_days(job.periods)


class SweepWriter:
    """Buffers finished draws and writes them CHUNK at a time, each chunk in one transaction."""

    def __init__(self, db: SweepStore, sweep_id: int, labels: pd.DataFrame, link_ids: pd.Index):
        self.db, self.sweep_id = db, sweep_id
        self.labels = labels[LABEL_COLUMNS].reset_index(drop=True)
        self.link_ids = np.asarray(link_ids, dtype=object)
        self.buffer: list[DrawResult] = []
        self.written = 0

    def add(self, result: DrawResult) -> None:
        self.buffer.append(result)
        if len(self.buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        chunk, self.buffer = self.buffer, []
        frames = {"sweep_outcomes": self._outcomes(chunk), "sweep_draws": self._values(chunk),
                  "sweep_flows": self._flows(chunk)}
        con = self.db.con
        con.execute("BEGIN TRANSACTION")
        try:
            for table, df in frames.items():
                if df is not None and len(df):
                    self.db.insert(table, df)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self.written += len(chunk)

    def _outcomes(self, chunk: list[DrawResult]) -> pd.DataFrame:
        return pd.DataFrame({
            "sweep_id": self.sweep_id,
            "draw": [r.draw for r in chunk],
            "status": [r.status for r in chunk],
            "objective": [None if np.isnan(r.objective) else r.objective for r in chunk],
            "iterations": [r.iterations for r in chunk],
            "seconds": [r.seconds for r in chunk],
            "attempts": [r.attempts for r in chunk],
            "changes": [json.dumps(r.changes) for r in chunk],
            "message": [r.message for r in chunk],
        })

    def _values(self, chunk: list[DrawResult]) -> pd.DataFrame | None:
        """One row per draw and quantity; quantities a draw has no value for are left out."""
        solved = [r for r in chunk if r.values is not None]
        if not solved:
            return None
        values = np.stack([r.values for r in solved])
        keep = ~np.isnan(values).ravel()
        n = len(self.labels)
        tiled = self.labels.iloc[np.tile(np.arange(n), len(solved))[keep]].reset_index(drop=True)
        return pd.DataFrame({"sweep_id": self.sweep_id,
                             "draw": np.repeat([r.draw for r in solved], n)[keep],
                             **{c: tiled[c].to_numpy() for c in LABEL_COLUMNS},
                             "value": values.ravel()[keep]})

    def _flows(self, chunk: list[DrawResult]) -> pd.DataFrame | None:
        with_flows = [r for r in chunk if r.flows is not None]
        if not with_flows:
            return None
        flows = np.stack([r.flows for r in with_flows])  # (draws, periods, links)
        d, t, n = flows.shape
        return pd.DataFrame({"sweep_id": self.sweep_id,
                             "draw": np.repeat([r.draw for r in with_flows], t * n),
                             "period": np.tile(np.repeat(np.arange(1, t + 1), n), d),
                             "link": np.tile(self.link_ids, d * t),
                             "flow": flows.ravel()})

"""Solve a LinearProgram with HiGHS, export it as MPS, and explain infeasibility.

Every variable of Corridor's flow LP has finite bounds, so the LP cannot be unbounded; when HiGHS
reports infeasible, an elastic re-solve (a slack on every row, minimise total slack) names the
rows that could not be satisfied and by how much.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
import scipy.sparse as sp

from corridor.optimize.lp import LinearProgram

_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kIterationLimit: "iteration_limit",
    highspy.HighsModelStatus.kModelEmpty: "optimal",
}
SLACK_TOLERANCE = 1e-6


class SolverError(RuntimeError):
    """HiGHS rejected the model or failed in a way the user cannot fix by changing data."""


@dataclass
class Violation:
    """A row that cannot be satisfied: its block, element id, period and by how much."""

    block: str
    element: str
    period: int
    amount: float  # positive: the row's activity must rise to be satisfied; negative: fall


@dataclass
class Solution:
    status: str
    objective: float
    x: np.ndarray
    row_dual: np.ndarray
    solve_seconds: float
    iterations: int
    violations: list[Violation] = field(default_factory=list)
    message: str = ""
    col_dual: np.ndarray | None = None  # reduced costs (USD per unit of each column)


def new_highs(options: dict | None = None) -> highspy.Highs:
    """A HiGHS instance that prints nothing, with the given options (e.g. {'threads': 1}).

    highspy's Python wrapper (`highspy.Highs`) registers its callback in `__init__`, and from
    HiGHS 1.16 that first call prints the banner on stdout before any option can be set, which
    would corrupt `--json` output. The core class underneath (`_Highs`, the same solver without
    the Python callback layer, which Corridor does not use) is silenced before its first call.
    """
    options = options or {}
    if "threads" in options:
        # HiGHS keeps one thread scheduler per process, sized by the first solve; a later solve
        # asking for another thread count fails with status "Not Set" (HiGHS 1.16). Sweeps ask
        # for one thread per worker after an ordinary run may have started the scheduler.
        # (older highspy releases have no reset; 1.7 carries on with the first thread count.)
        reset = getattr(highspy._Highs, "resetGlobalScheduler", None)
        if reset is not None:
            reset(True)
    h = highspy._Highs()
    h.setOptionValue("output_flag", False)
    for key, value in options.items():
        h.setOptionValue(key, value)
    return h


def pass_model(h: highspy.Highs, lp: LinearProgram, matrix: sp.csc_matrix | None = None,
               cost: np.ndarray | None = None, relax: bool = False) -> None:
    """Hand the LP to HiGHS as arrays (column-wise matrix), without per-variable Python calls;
    integer columns stay integer (a MILP) unless `relax`."""
    a = lp.matrix() if matrix is None else matrix
    c = lp.vector("cost") if cost is None else cost
    status = h.passModel(
        a.shape[1], a.shape[0], a.nnz, 1, 1, lp.offset,  # column-wise, minimise
        c, lp.vector("col_lower"), lp.vector("col_upper"),
        lp.vector("row_lower"), lp.vector("row_upper"),
        a.indptr.astype(np.int32), a.indices.astype(np.int32), a.data,
        (np.zeros(a.shape[1]) if relax else lp.vector("integer")).astype(np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the model (inconsistent bounds or matrix)")


def diagnose(lp: LinearProgram, options: dict | None = None, data=None) -> list[Violation]:
    """Minimise the weighted violation of all rows; the rows that stay violated are the culprits.

    `data` (an `LPData`) replaces the LP's own bounds, for a model that was changed since it was
    built (a sweep draw, a coalition)."""
    a = lp.matrix()
    lower, upper = lp.vector("row_lower"), lp.vector("row_upper")
    col_lower, col_upper = lp.vector("col_lower"), lp.vector("col_upper")
    if data is not None:
        lower, upper = data.row_lower, data.row_upper
        col_lower, col_upper = data.col_lower, data.col_upper
    up_rows = np.flatnonzero(np.isfinite(lower))  # slack that raises a row's activity
    down_rows = np.flatnonzero(np.isfinite(upper))  # slack that lowers it
    slacks = sp.hstack([
        sp.csc_matrix((np.ones(len(up_rows)), (up_rows, np.arange(len(up_rows)))),
                      shape=(lp.n_rows, len(up_rows))),
        sp.csc_matrix((-np.ones(len(down_rows)), (down_rows, np.arange(len(down_rows)))),
                      shape=(lp.n_rows, len(down_rows))),
    ])
    n_slack = slacks.shape[1]
    weight = lp.vector("row_weight")
    elastic = LinearProgram(lp.n_periods)  # no offset: only the violation counts
    elastic.add_variables("original", np.arange(lp.n_cols), col_lower, col_upper, 0.0,
                          n_periods=1)
    elastic.add_variables("slack", np.arange(n_slack), 0.0, np.inf,
                          np.concatenate([weight[up_rows], weight[down_rows]]), n_periods=1)
    elastic.add_constraints("rows", np.arange(lp.n_rows), lower, upper, n_periods=1)
    h = new_highs(options)
    pass_model(h, elastic, sp.hstack([a, slacks]).tocsc())
    h.run()
    if _STATUS.get(h.getModelStatus()) != "optimal":
        return []  # bounds themselves contradict each other; the caller reports the status
    values = np.asarray(h.getSolution().col_value)[lp.n_cols:]
    signed = np.concatenate([values[:len(up_rows)], -values[len(up_rows):]])
    rows = np.concatenate([up_rows, down_rows])
    found: dict[int, float] = {}
    for row, amount in zip(rows, signed, strict=True):
        if abs(amount) > SLACK_TOLERANCE:
            found[int(row)] = found.get(int(row), 0.0) + float(amount)
    return [_violation(lp, row, amount) for row, amount in sorted(found.items())]


def _violation(lp: LinearProgram, row: int, amount: float) -> Violation:
    for block in lp.rows.values():
        if block.start <= row < block.start + block.size:
            t, e = divmod(row - block.start, block.n)
            return Violation(block.name, str(block.ids[e]), t + 1, amount)
    raise IndexError(row)


def write_mps(lp: LinearProgram, path: str | Path) -> Path:
    """Write the LP in (free) MPS format with readable names, for any other solver."""
    h = new_highs()
    pass_model(h, lp)
    model = h.getLp()
    model.col_names_ = [_readable(lp.column_name(j)) for j in range(lp.n_cols)]
    model.row_names_ = [_readable(lp.row_name(i)) for i in range(lp.n_rows)]
    h.passModel(model)
    path = Path(path)
    h.writeModel(str(path))
    return path


def _readable(name: str) -> str:
    """MPS names may not contain spaces: 'flow[G01, period 3]' -> 'flow(G01,t3)'."""
    return name.replace(", period ", ",t").replace("[", "(").replace("]", ")").replace(" ", "_")

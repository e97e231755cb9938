"""The flow model held in one HiGHS instance, re-solved after changing its inputs.

Every kind of solve goes through `FlowSolver`: a single `corridor run`, every draw of a sweep,
every coalition of a game and the service's day-plan check. Changed inputs are written once here,
as changes to the LP's vectors (`LPData`): column bounds and costs, row bounds and the constant
of the objective. Only entries that differ from what HiGHS holds are pushed, and a solve may
restart from a saved basis, so a family of related models costs a few dual simplex iterations
each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields

import highspy
import numpy as np

from corridor.optimize.constraints import buyer_capacity, node_demand
from corridor.optimize.lp import LinearProgram
from corridor.optimize.model import FlowModel, objective_constant
from corridor.optimize.solve import _STATUS, Solution, diagnose, new_highs, pass_model


@dataclass
class LPData:
    """The parts of the LP a re-solve may change."""

    col_lower: np.ndarray
    col_upper: np.ndarray
    cost: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float

    def copy(self) -> LPData:
        return LPData(*(getattr(self, f.name) if f.name == "offset" else
                        getattr(self, f.name).copy() for f in fields(self)))


class LPSolver:
    """A LinearProgram in a HiGHS instance: change its data, solve (warm if asked)."""

    def __init__(self, lp: LinearProgram, options: dict | None = None, relax: bool = False):
        self.lp = lp
        self.options = options
        self.base = LPData(lp.vector("col_lower"), lp.vector("col_upper"), lp.vector("cost"),
                           lp.vector("row_lower"), lp.vector("row_upper"), lp.offset)
        self.current = self.base.copy()
        self.h = new_highs(options)
        pass_model(self.h, lp, relax=relax)
        self.iterations = 0
        self.seconds = 0.0
        self.last_iterations = 0

    def columns(self, family: str) -> np.ndarray:
        """(periods, elements) column positions of a variable family."""
        return self.lp.columns[family].index()

    def rows(self, family: str) -> np.ndarray:
        return self.lp.rows[family].index()

    def push(self, data: LPData) -> None:
        """Send HiGHS only the entries of `data` that differ from what it holds."""
        cur, h = self.current, self.h
        cols = np.flatnonzero((data.col_lower != cur.col_lower)
                              | (data.col_upper != cur.col_upper))
        if len(cols):
            h.changeColsBounds(len(cols), cols.astype(np.int32), data.col_lower[cols],
                               data.col_upper[cols])
        cols = np.flatnonzero(data.cost != cur.cost)
        if len(cols):
            h.changeColsCost(len(cols), cols.astype(np.int32), data.cost[cols])
        rows = np.flatnonzero((data.row_lower != cur.row_lower)
                              | (data.row_upper != cur.row_upper))
        if len(rows):
            h.changeRowsBounds(len(rows), rows.astype(np.int32), data.row_lower[rows],
                               data.row_upper[rows])
        if data.offset != cur.offset:
            h.changeObjectiveOffset(data.offset)
        self.current = data

    def basis(self) -> highspy.HighsBasis:
        return self.h.getBasis()

    def run(self, data: LPData | None = None, basis: highspy.HighsBasis | None = None) -> str:
        """Solve with `data` (default: what HiGHS holds), from `basis` if given (else from
        wherever the last solve ended); returns the status."""
        if data is not None:
            self.push(data)
        if basis is not None:
            self.h.clearSolver()
            self.h.setBasis(basis)
        start = time.perf_counter()
        self.h.run()
        self.seconds = time.perf_counter() - start
        info = self.h.getInfo()
        self.last_iterations = max(int(info.simplex_iteration_count), 0) + max(
            int(info.ipm_iteration_count), 0)
        self.iterations += self.last_iterations
        return self.status()

    def status(self) -> str:
        return _STATUS.get(self.h.getModelStatus(), "error")

    def message(self) -> str:
        return self.h.modelStatusToString(self.h.getModelStatus())

    def objective(self) -> float:
        return float(self.h.getInfo().objective_function_value) if \
            self.status() == "optimal" else float("nan")

    def x(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value)

    def solution(self, explain: bool = True) -> Solution:
        """The last solve as a Solution; an infeasible one names its violated rows (an elastic
        re-solve of the data HiGHS holds) when `explain`."""
        status, n_cols, n_rows = self.status(), len(self.current.cost), len(self.current.row_lower)
        if status != "optimal":
            violations = []
            if explain and status == "infeasible":
                violations = diagnose(self.lp, self.options, self.current)
            return Solution(status, float("nan"), np.zeros(n_cols), np.zeros(n_rows),
                            self.seconds, self.last_iterations, violations, self.message())
        sol = self.h.getSolution()
        return Solution(status, self.objective(), np.asarray(sol.col_value),
                        np.asarray(sol.row_dual), self.seconds, self.last_iterations,
                        col_dual=np.asarray(sol.col_dual))


class FlowSolver(LPSolver):
    """The flow model in HiGHS, with the model's input changes written once."""

    def __init__(self, model: FlowModel, options: dict | None = None):
        super().__init__(model.lp, options)
        self.model = model

    def set_demand(self, data: LPData, unit_amount: np.ndarray) -> None:
        """Demand units take up to `unit_amount` (periods x units): the bound of what they may
        leave unserved, the balance right-hand side, contract buyers' room and the value of the
        bands (the objective's constant; call `update_constant` again after changing values)."""
        inputs = self.model.inputs
        data.col_upper[self.columns("unmet")] = unit_amount
        demand = node_demand(inputs, unit_amount)
        data.row_lower[self.rows("balance")] = demand
        data.row_upper[self.rows("balance")] = demand
        if "contract_buyer" in self.lp.rows:
            buyers = inputs.network.demands.index.get_indexer(
                self.lp.rows["contract_buyer"].ids)
            data.row_upper[self.rows("contract_buyer")] = buyer_capacity(inputs, unit_amount,
                                                                         buyers)
        self.update_constant(data)

    def update_constant(self, data: LPData) -> None:
        """The objective's constant from `data`: build cost less the value of every
        price-responsive demand unit at its (possibly changed) quantity and value, so that the
        objective stays minus the surplus after demand amounts or values change."""
        data.offset = objective_constant(self.lp, self.model.inputs, data.cost, data.col_upper)

    def scale_demand(self, data: LPData, factor: np.ndarray) -> None:
        """Multiply each demand's units by `factor` (periods x demands, or demands)."""
        inputs = self.model.inputs
        factor = np.broadcast_to(factor, (inputs.n_periods, len(inputs.network.demands)))
        self.set_demand(data, inputs.unit_amount * factor[:, inputs.demand_parent])

    def credit_contracts(self, x: np.ndarray) -> np.ndarray:
        """Contract volumes (periods x contracts) for the solution `x`: the most the contracts
        can be credited with, given its production, consumption and route flows and their
        bands. Every other column is fixed at `x` and the total contracted volume maximised on
        the same rows, so crediting never changes the optimum; the data HiGHS held before is
        restored afterwards."""
        contract = self.columns("contract")
        if contract.size == 0:
            return np.zeros(contract.shape)
        held = self.current
        data = held.copy()
        others = np.ones(len(x), dtype=bool)
        others[contract.ravel()] = False
        fixed = np.clip(x, data.col_lower, data.col_upper)
        data.col_lower[others] = data.col_upper[others] = fixed[others]
        data.cost[:] = 0.0
        data.cost[contract] = -self.model.inputs.days[:, None]
        data.offset = 0.0
        volumes = np.clip(x[contract], 0.0, None)
        if self.run(data) == "optimal":
            volumes = self.x()[contract]
        self.push(held)
        return volumes


def solve(lp: LinearProgram, options: dict | None = None) -> Solution:
    """Solve an LP once; on infeasibility, attach the violated rows an elastic re-solve finds."""
    solver = LPSolver(lp, options)
    solver.run()
    return solver.solution()

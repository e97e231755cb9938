"""The worker: build the LP once, then apply each draw by changing bounds and costs and re-solve.

One `Resolver` per worker process holds one HiGHS instance. A draw is applied as absolute
values (base model + this draw's changes), and only the entries that differ from what HiGHS
holds are pushed: link capacities per period with outages (capacity x the day-weighted mean of
profile x availability over each period, exactly as scenario windows are resampled), demand
amounts as `unmet` upper bounds *and* balance-row right-hand sides, supply capacities as upper
bounds, and demand values, supply costs and tariffs as column costs.

Every solve restarts dual simplex from the base case's optimal basis (`clearSolver` +
`setBasis`): the draws are perturbations of the base, so that basis is a close start, and the
answer of a draw depends only on the draw, never on the draws the worker solved before it.
Results are therefore identical whatever the number of workers or the order of the draws.

A draw whose LP is infeasible (route targets or storage end levels that its outages make
impossible) is recorded as `infeasible` with the unmet demand of the same draw once those policy
rows are relaxed: what the network could still serve.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from corridor.network import Network
from corridor.optimize import FlowSolver, LPData
from corridor.optimize.model import build_flow_model
from corridor.periods import DAYS_PER_YEAR, period_days, to_daily
from corridor.sweep.draws import Draw, Sampler
from corridor.sweep.quantities import Quantities
from corridor.sweep.spec import SweepFile

HIGHS_OPTIONS = {"threads": 1, "random_seed": 0}  # one core per worker; deterministic


@dataclass
class Job:
    """Everything a worker needs, shipped once: the network (scenario applied), the sweep and
    what to return. `hook(draw_id)` runs in the worker before each draw (tests use it)."""

    network: Network
    spec: SweepFile
    periods: int
    flows: bool = False
    options: dict = field(default_factory=lambda: dict(HIGHS_OPTIONS))
    hook: Callable[[int], None] | None = None
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class DrawResult:
    """What one draw produced. `values` follow `Quantities.labels`; `flows` is (periods, links)
    net flow per day when the job asks for flows."""

    draw: int
    status: str
    objective: float
    iterations: int
    seconds: float
    values: np.ndarray | None  # None: the draw produced nothing (error, failed)
    changes: dict
    flows: np.ndarray | None = None
    attempts: int = 1
    message: str = ""


def _daily_profiles(net: Network, table: pd.DataFrame) -> np.ndarray:
    """(365, rows) profile of each row per day (1 where it names none)."""
    names = table["profile"] if "profile" in table else pd.Series("", index=table.index)
    daily = np.ones((DAYS_PER_YEAR, len(table)))
    for name in set(names) - {""}:
        daily[:, (names == name).to_numpy()] = to_daily(net.profiles[name].to_numpy(float))[:, None]
    return daily


class Resolver:
    """One warm-started HiGHS model of a job's network; `solve(i)` gives draw i's result."""

    def __init__(self, job: Job):
        self.job = job
        self.model = build_flow_model(job.network, job.periods)
        inputs = self.model.inputs
        self.sampler = Sampler(job.spec, job.network, inputs.links.index)
        self.quantities = Quantities.of(self.model)
        self.solver = FlowSolver(self.model, job.options)
        self.base = self.solver.base
        self._prepare_changes()
        self.base_status = self.solver.run()
        self.basis = self.solver.basis()

    def _prepare_changes(self) -> None:
        """Arrays that map draw factors onto LP columns and rows."""
        inputs = self.model.inputs
        days = period_days(inputs.n_periods).astype(int)
        self._period_starts = np.concatenate([[0], np.cumsum(days)[:-1]])
        self._days = days
        links = inputs.links
        self._link_daily = _daily_profiles(inputs.network, links)
        self._capacity = links["capacity"].to_numpy(float)
        self._reverse_capacity = links["reverse_capacity"].to_numpy(float)
        self._fwd = self.solver.columns("flow_forward")
        self._rev = self.solver.columns("flow_reverse")
        self._supply = self.solver.columns("supply")
        self._unmet = self.solver.columns("unmet")
        self._relaxed = self._relaxation()

    def _relaxation(self) -> LPData:
        """The base data with route targets, contract volume bands and fixed storage end levels
        dropped: what the network could still do when a draw makes those impossible."""
        lp, relaxed = self.model.lp, self.base.copy()
        for name in ("target", "contract_volume"):
            if name in lp.rows:
                relaxed.row_lower[self.solver.rows(name)] = -np.inf
        level = lp.columns["storage_level"]
        volume = self.model.inputs.storage_volume
        relaxed.col_lower[level.index()] = 0.0
        relaxed.col_upper[level.index()] = volume[None, :]
        relaxed.col_lower[self.solver.columns("contract")] = 0.0
        return relaxed

    def apply(self, draw: Draw, base: LPData | None = None) -> LPData:
        """The LP data of `base` (default: the base model) changed by the draw."""
        v = (base or self.base).copy()
        inputs = self.model.inputs
        link_factor = self._link_factor(draw)
        if link_factor is not None:
            rev = inputs.reversible
            v.col_upper[self._fwd] = self._capacity * link_factor
            v.col_upper[self._rev] = self._reverse_capacity[rev] * link_factor[:, rev]
        factors = draw.factors
        if ("links", "tariff") in factors:
            tariff = factors[("links", "tariff")]
            v.cost[self._fwd] *= tariff
            v.cost[self._rev] *= tariff[inputs.reversible]
        supply, demand = inputs.supply_parent, inputs.demand_parent  # unit -> element
        if ("supplies", "capacity") in factors:
            v.col_upper[self._supply] *= factors[("supplies", "capacity")][..., supply]
        if ("supplies", "cost") in factors:
            v.cost[self._supply] *= factors[("supplies", "cost")][..., supply]
        if ("demands", "value") in factors:
            v.cost[self._unmet] *= factors[("demands", "value")][..., demand]
        if ("demands", "amount") in factors:
            self.solver.scale_demand(v, factors[("demands", "amount")])
        self.solver.update_constant(v)  # the bands' value follows their quantities and values
        return v

    def _link_factor(self, draw: Draw) -> np.ndarray | None:
        """(periods, links) share of nominal capacity: profile x outages x capacity factor, as
        the day-weighted mean over each period; None when the draw leaves links alone."""
        scale = draw.factors.get(("links", "capacity"))
        if not draw.events and scale is None:
            return None
        daily = self._link_daily.copy()
        for event in draw.events:
            daily[np.ix_(event.day_index(), event.positions)] *= event.availability
        means = np.add.reduceat(daily, self._period_starts, axis=0) / self._days[:, None]
        return means if scale is None else means * scale

    def _run(self, v: LPData) -> tuple[str, float, int, float]:
        """Solve with data `v` from the base basis: status, objective, iterations, seconds."""
        status = self.solver.run(v, self.basis)
        return status, self.solver.objective(), self.solver.last_iterations, self.solver.seconds

    def solve(self, draw_id: int) -> DrawResult:
        """Draw `draw_id` applied to the base model and solved warm."""
        if self.job.hook is not None:
            self.job.hook(draw_id)
        draw = self.sampler.draw(draw_id)
        return self.solve_draw(draw)

    def solve_draw(self, draw: Draw) -> DrawResult:
        v = self.apply(draw)
        status, objective, iterations, seconds = self._run(v)
        message = "" if status == "optimal" else self.solver.message()
        solved = v
        if status == "infeasible":
            solved = self.apply(draw, self._relaxed)
            relaxed_status, _, more, extra = self._run(solved)
            iterations, seconds = iterations + more, seconds + extra
            if relaxed_status != "optimal":
                solved = None
        elif status != "optimal":
            solved = None
        result = self._result(draw, status, objective, iterations, seconds, v, solved)
        result.message = message
        return result

    def solve_base(self) -> DrawResult:
        """The unchanged base case, recorded as draw -1 (the reference of the report)."""
        return self.solve_draw(Draw(-1))

    def _result(self, draw: Draw, status: str, objective: float, iterations: int,
                seconds: float, v: LPData, solved: LPData | None) -> DrawResult:
        q = self.quantities
        if solved is None:
            values, flows = q.missing(v.col_upper), None
        else:
            x = self.solver.x()
            values = q.values(x, solved.cost, v.col_upper)
            flows = q.flows(x) if self.job.flows else None
        return DrawResult(draw.draw, status, objective, iterations, seconds, values,
                          draw.describe(), flows)


_RESOLVERS: dict[str, Resolver] = {}


def cached_resolver(job: Job) -> Resolver:
    """This process's Resolver for the job, built on first use; only one job is kept, so a
    long-lived (Dask) worker's memory stays bounded across sweeps."""
    if job.token not in _RESOLVERS:
        _RESOLVERS.clear()
        _RESOLVERS[job.token] = Resolver(job)
    return _RESOLVERS[job.token]


def error_result(draw_id: int, status: str, message: str) -> DrawResult:
    """A draw that produced nothing (`error`: an exception; `failed`: its workers died)."""
    return DrawResult(draw_id, status, float("nan"), 0, 0.0, None, {}, message=message)


def solve_safely(resolver: Resolver, draw_id: int) -> DrawResult:
    """Solve a draw; an exception becomes an `error` result (it would fail again if retried)."""
    try:
        return resolver.solve(draw_id)
    except Exception as exc:  # a bug or bad data in this one draw: keep going, record it
        return error_result(draw_id, "error", f"{type(exc).__name__}: {exc}")


def solve_draws(job: Job, draw_ids: list[int]) -> list[DrawResult]:
    """Solve draws in this process with its cached Resolver (the task a Dask worker runs)."""
    resolver = cached_resolver(job)
    return [solve_safely(resolver, int(i)) for i in draw_ids]


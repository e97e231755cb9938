"""Solving a plan: the MILP, then the LP with the chosen builds fixed (for prices and each
year's accounts), and what each built project is worth."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from corridor.network import Network
from corridor.optimize import Results, check_identity, read_results
from corridor.optimize.resolvable import FlowSolver, LPSolver
from corridor.optimize.solve import Solution
from corridor.plan.horizon import Horizon
from corridor.plan.model import PlanModel, build_plan_model
from corridor.plan.projects import cost_by_country

BUILT = 1e-6  # a build share below this is not built


@dataclass
class PlanResults:
    """A solved plan: builds, capacities, each modelled year's flow results and money."""

    model: PlanModel
    status: str
    objective: float  # USD of the first year: discounted cost + build cost - value served
    mip_gap: float
    build: np.ndarray  # (K, P) share of each project built to operate from each year
    years: dict[int, Results] = field(default_factory=dict)
    values: pd.DataFrame = field(default_factory=pd.DataFrame)
    seconds: float = 0.0
    message: str = ""
    violations: list = field(default_factory=list)
    solver: LPSolver | None = None  # the plan's LP with its builds fixed (for re-solves)
    fixed: object = None  # that LP's data (LPData)
    # the optimal basis of that LP: every re-solve without a project starts from it, so what a
    # project is worth to each country does not depend on which re-solves ran before (the LP
    # has alternative optima that split the same total differently between countries)
    basis: object = None

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    @property
    def horizon(self) -> Horizon:
        return self.model.horizon

    @property
    def projects(self) -> pd.DataFrame:
        return self.model.projects

    def available(self) -> pd.DataFrame:
        """(modelled years x projects) share of each project operating."""
        share = np.einsum("pkq,kp->qp", self.model.active, self.build)
        return pd.DataFrame(share, index=list(self.horizon.years), columns=self.projects.index)

    def builds(self) -> dict[str, int]:
        """Project id -> the modelled year from which it operates (absent if never built)."""
        out = {}
        for p, pid in enumerate(self.projects.index):
            built = np.flatnonzero(self.build[:, p] > BUILT)
            if len(built):
                out[pid] = int(self.horizon.years[built[0]])
        return out

    def capacity(self) -> pd.DataFrame:
        """(projects x years) capacity in operation, base units (per day for rates)."""
        return (self.available() * self.projects["capacity"]).T

    def project_cost(self) -> pd.DataFrame:
        """(years x projects) USD per year each project costs while it operates."""
        return self.available() * self.projects["annual_cost"]

    def welfare_by_year(self) -> pd.Series:
        """USD per modelled year (undiscounted): the year's welfare less its projects' cost."""
        flows = pd.Series({y: r.welfare() for y, r in self.years.items()})
        return flows - self.project_cost().sum(axis=1)

    def welfare(self) -> float:
        """Discounted welfare over the horizon, USD of the first year."""
        return float((self.welfare_by_year() * self.model.factors).sum())

    def money_by_country(self) -> pd.DataFrame:
        """(countries x years) welfare per year, USD, after each country's share of the
        projects' cost (by km for links)."""
        money = pd.DataFrame({y: r.money_by_country()["welfare"]
                              for y, r in self.years.items()}).fillna(0.0)
        shares = cost_by_country(self.model.network, self.projects)
        cost = self.project_cost()
        for _, row in shares.iterrows():
            charge = cost[row["project"]] * row["share"]
            money.loc[row["country"]] = money.reindex([row["country"]]).fillna(0.0).iloc[0] \
                - charge.to_numpy()
        return money.sort_values(money.columns[-1], ascending=False)

    def shortages(self) -> pd.DataFrame:
        """(years) fixed demand left unserved (base units over the year) and its cost (USD)."""
        rows = {}
        for y, r in self.years.items():
            rows[y] = {"unmet": float(r.volume(r.unmet).sum()),
                       "shortage_cost": float(r.money_by_country()["shortage_cost"].sum())}
        return pd.DataFrame(rows).T

    def identity_gap(self) -> float:
        """|discounted welfare - (discounted tariff revenue - objective)|, relative."""
        tariffs = sum((float(r.tariff_revenue().sum()) + r.cap_wedge()) * f  # wedge: caps
                      for r, f in zip(self.years.values(), self.model.factors, strict=True))
        gap = abs(self.welfare() - (tariffs - self.objective))
        return gap / max(abs(self.objective), 1.0)

    def to_dict(self) -> dict:
        """`corridor plan --json`: status, objective, mip_gap, builds, capacity, welfare."""
        def num(v) -> float | None:
            v = float(v)
            return None if math.isnan(v) or math.isinf(v) else v

        if not self.optimal:
            return {"status": self.status, "objective": None, "mip_gap": None, "builds": {},
                    "capacity": {}, "welfare": {}, "message": self.message,
                    "violations": [v.__dict__ for v in self.violations]}
        money = self.money_by_country()
        return {
            "status": self.status,
            "objective": num(self.objective),
            "mip_gap": num(self.mip_gap),
            "years": list(self.horizon.years),
            "discount_rate": self.horizon.discount_rate,
            "units": {"capacity": "base unit per day (gas mcm/d, oil kt/d), storage mcm/kt",
                      "money": "USD; objective and welfare.total discounted to the first year"},
            "builds": self.builds(),
            "capacity": {pid: {str(y): num(v) for y, v in row.items()}
                         for pid, row in self.capacity().iterrows()},
            "welfare": {
                "total": num(self.welfare()),
                "by_year": {str(y): num(v) for y, v in self.welfare_by_year().items()},
                "by_country": {c: {str(y): num(v) for y, v in row.items()}
                               for c, row in money.iterrows()},
            },
            "projects": {pid: {k: num(v) for k, v in row.items()}
                         for pid, row in self.values.iterrows()},
            "shortages": {str(y): {k: num(v) for k, v in row.items()}
                          for y, row in self.shortages().iterrows()},
            "stats": {"seconds": self.seconds, "variables": self.model.lp.n_cols,
                      "constraints": self.model.lp.n_rows,
                      "integers": int(self.model.lp.vector("integer").sum()),
                      "identity_gap": self.identity_gap()},
        }


def plan(net: Network, years: str | None = None, periods: int | None = None,
         gap: float = 0.01, options: dict | None = None, values: bool = True) -> PlanResults:
    """Optimise builds and flows over the planning horizon (network.yaml `planning`, or
    `years` such as '2025:2040:5'), to a relative MIP gap `gap`."""
    start = time.perf_counter()
    model = build_plan_model(net, Horizon.of(net, years, periods))
    options = {"threads": 1, "random_seed": 0, **(options or {})}
    milp = LPSolver(model.lp, {**options, "mip_rel_gap": gap})
    status = milp.run()
    if status != "optimal":
        sol = milp.solution(explain=True)
        return PlanResults(model, status, math.nan, math.nan, np.zeros(model.build.index().shape),
                           seconds=time.perf_counter() - start, message=sol.message,
                           violations=sol.violations)
    mip_gap = float(milp.h.getInfo().mip_gap)
    shares = milp.x()[model.build.index()]
    binary = model.lp.vector("integer")[model.build.index()] > 0
    shares = np.clip(np.where(binary, np.round(shares), shares), 0.0, 1.0)
    lp = LPSolver(model.lp, options, relax=True)
    fixed = _with_builds(lp, model, shares)
    lp.run(fixed)
    sol = lp.solution()
    result = PlanResults(model, sol.status, sol.objective, mip_gap, shares,
                         message=sol.message, violations=sol.violations, solver=lp, fixed=fixed,
                         basis=lp.basis())
    if result.optimal:
        result.years = year_results(model, sol, options)
        if values:
            result.values = _project_values(lp, model, fixed, shares, sol.objective,
                                            result.basis)
    result.seconds = time.perf_counter() - start
    return result


def _with_builds(lp: LPSolver, model: PlanModel, shares: np.ndarray):
    data = lp.base.copy()
    cols = model.build.index()
    data.col_lower[cols] = data.col_upper[cols] = shares
    return data


def year_results(model: PlanModel, sol: Solution, options: dict) -> dict[int, Results]:
    """Each modelled year's flows, prices (duals undone of the year's discount weight) and
    accounts, read exactly as a `corridor run` of that year's network is."""
    out = {}
    for year, flow, (c0, r0), factor in zip(model.horizon.years, model.years, model.offsets,
                                            model.factors, strict=True):
        n, m = flow.lp.n_cols, flow.lp.n_rows
        x = sol.x[c0:c0 + n].copy()
        objective = float(flow.lp.vector("cost") @ x + flow.lp.offset)
        year_sol = Solution("optimal", objective, x, sol.row_dual[r0:r0 + m] / factor,
                            sol.solve_seconds, sol.iterations,
                            col_dual=None if sol.col_dual is None else
                            sol.col_dual[c0:c0 + n] / factor)
        if "contract" in flow.lp.columns and flow.lp.columns["contract"].size:
            solver = FlowSolver(flow, options)
            x[solver.columns("contract")] = solver.credit_contracts(x)
        results = read_results(flow, year_sol)
        check_identity(results)
        out[year] = results
    return out


def _project_values(lp: LPSolver, model: PlanModel, fixed, shares: np.ndarray,
                    objective: float, basis) -> pd.DataFrame:
    """Per built project: its discounted cost, and what the plan loses without it (the other
    builds kept), gross of and net of that cost; USD of the first year. Each re-solve starts
    from the plan's optimal `basis`."""
    cols = model.build.index()
    rows = {}
    cost = model.lp.vector("cost")[cols]
    ids = model.projects.index
    for p, pid in enumerate(ids):
        if not (shares[:, p] > BUILT).any():
            continue
        data = fixed.copy()
        gone = ids.get_indexer(dependents(model.network, pid))
        data.col_lower[cols[:, gone]] = data.col_upper[cols[:, gone]] = 0.0
        own_cost = float(cost[:, p] @ shares[:, p])
        if model.projects.loc[pid, "committed"]:
            net_value = math.nan  # committed: never a choice
        else:
            net_value = lp.objective() if lp.run(data, basis) == "optimal" else math.inf
            net_value = net_value - objective if math.isfinite(net_value) else math.inf
        rows[pid] = {"year": int(model.horizon.years[np.flatnonzero(shares[:, p] > BUILT)[0]]),
                     "share": float(shares[:, p].max()),
                     "capex": float(model.projects.loc[pid, "capex"] * shares[:, p].max()),
                     "discounted_cost": own_cost,
                     "gross_value": net_value + own_cost, "net_value": net_value}
    lp.run(fixed, basis)  # leave HiGHS at the plan
    return pd.DataFrame(rows).T


def dependents(net: Network, pid: str) -> list[str]:
    """`pid` and every project that requires it, directly or through others (`groups.csv`):
    what goes when `pid` goes."""
    needs = [(row["projects"].split()[0], row["projects"].split()[1:])
             for _, row in net.groups.iterrows() if row["kind"] == "requires"]
    out, grew = [pid], True
    while grew:
        grew = False
        for first, others in needs:
            if first not in out and any(o in out for o in others):
                out.append(first)
                grew = True
    return out

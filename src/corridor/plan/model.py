"""The plan as one MILP: the flow LP of every modelled year, stacked, plus build decisions.

For project p and modelled year k, b[k, p] in [0, 1] is the share of p built to operate from
year k on (binary unless p is `continuous`). It operates in year k' while
y_k <= y_k' < y_k + lifetime, so its available share there is a[k', p] = sum of those b. Each
year's flow LP is the one `corridor run` solves (`build_flow_model`, with the project present
at full capacity and no cost of its own), its objective weighted by the discounted years the
year stands for; a project's flows are capped by capacity x a. Building costs the project's
annual cost (capex annuity + fixed O&M) in every modelled year it operates, weighted the same
way. docs/planning.md writes the objective as one formula.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from corridor.network import Network
from corridor.optimize.lp import LinearProgram
from corridor.optimize.model import FlowModel, build_flow_model
from corridor.plan.horizon import Horizon, network_for_year
from corridor.plan.projects import PlanError, projects_of

# the flow families a project's availability caps, per table
CAPPED = {"links": ("flow_forward", "flow_reverse"), "supplies": ("supply",),
          "storages": ("storage_inject", "storage_withdraw", "storage_level")}


@dataclass
class PlanModel:
    lp: LinearProgram
    horizon: Horizon
    network: Network
    projects: pd.DataFrame
    years: list[FlowModel]  # one flow model per modelled year
    offsets: list[tuple[int, int]]  # where each year's columns and rows start
    factors: np.ndarray  # discounted years each modelled year stands for
    active: np.ndarray  # (projects, K built, K operating) 1 where built in k operates in k'

    @property
    def build(self):
        return self.lp.columns["build"]


def operating(horizon: Horizon, projects: pd.DataFrame) -> np.ndarray:
    """(P, K, K) 1 where a project built to operate from year k still operates in year k'."""
    years = np.array(horizon.years, dtype=float)
    life = projects["lifetime"].to_numpy(float)[:, None, None]
    start, then = years[None, :, None], years[None, None, :]
    return ((then >= start) & (then < start + life)).astype(float)


def build_plan_model(net: Network, horizon: Horizon) -> PlanModel:
    projects = projects_of(net, horizon.first)
    factors = horizon.factors()
    lp = LinearProgram(1)
    years, offsets = [], []
    for k, year in enumerate(horizon.years):
        model = build_flow_model(network_for_year(net, year, projects.index), horizon.periods)
        offsets.append(lp.append(model.lp, f"{year}/", factors[k]))
        years.append(model)
    active = operating(horizon, projects)
    K, P = len(horizon.years), len(projects)
    # what building in year k costs: the annual cost in every modelled year it then operates
    cost = (active * factors[None, None, :]).sum(axis=2).T * projects["annual_cost"].to_numpy()
    may = np.array(horizon.years)[:, None] >= projects["first_year"].to_numpy()[None, :]
    lower = np.zeros((K, P))
    committed = np.flatnonzero(projects["committed"].to_numpy(bool) & may.any(axis=0))
    lower[may[:, committed].argmax(axis=0), committed] = 1.0  # built as soon as it may be
    build = lp.add_variables("build", projects.index, lower, may.astype(float), cost,
                             n_periods=K,
                             integer=(projects["expansion"] != "continuous").to_numpy())
    if P:
        _build_once(lp, projects, build, may, horizon)
        _cap_flows(lp, projects, years, build, active, horizon)
        _groups(lp, net, projects, build, active)
    return PlanModel(lp, horizon, net, projects, years, offsets, factors, active)


def _build_once(lp, projects, build, may, horizon) -> None:
    """Each project is built at most once; one under construction is built in the first year
    it may operate (committed)."""
    committed = projects["committed"].to_numpy(bool)
    rows = lp.add_constraints("build_once", projects.index, np.where(committed, 1.0, 0.0), 1.0,
                              n_periods=1)
    lp.add_terms(np.broadcast_to(rows.index(), build.index().shape), build.index(), 1.0)
    never = committed & ~may.any(axis=0)
    if never.any():
        raise PlanError("under construction but cannot operate within the horizon "
                        f"{horizon.years[0]}-{horizon.years[-1]}: "
                        f"{', '.join(projects.index[never])}")


def _cap_flows(lp, projects, years, build, active, horizon) -> None:
    """flow[t, k'] - capacity[t, k'] x sum_k active[p, k, k'] b[k, p] <= 0 for each project
    column of each year (a link's flows, a supply's bands, a storage's rates and level)."""
    for kk, (year, model) in enumerate(zip(horizon.years, years, strict=True)):
        upper = model.lp.vector("col_upper")
        start = lp.columns[f"{year}/flow_forward"].start - model.lp.columns["flow_forward"].start
        for p, (pid, row) in enumerate(projects.iterrows()):
            cols = _project_columns(model, row["table"], pid)
            if not len(cols):
                continue
            rows = lp.add_constraints(f"{year}/capacity_{pid}", np.arange(len(cols)), -np.inf,
                                      0.0, n_periods=1)
            lp.add_terms(rows.index()[0], cols + start, 1.0)
            built_in = np.flatnonzero(active[p, :, kk])
            r = np.repeat(rows.index()[0], len(built_in))
            c = np.tile(build.index([p])[built_in, 0], len(cols))
            lp.add_terms(r, c, -np.repeat(upper[cols], len(built_in)))


def _project_columns(model: FlowModel, table: str, pid: str) -> np.ndarray:
    """Positions (in the year's own LP) of the columns a project's availability caps."""
    out = []
    inputs = model.inputs
    for family in CAPPED[table]:
        block = model.lp.columns[family]
        if table == "supplies":
            members = np.flatnonzero(inputs.supply_units["supply"].to_numpy() == pid)
        else:
            members = np.flatnonzero(block.ids == pid)
        if len(members):
            out.append(block.index(members).ravel())
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _groups(lp, net, projects, build, active) -> None:
    """`exclusive`: at most one member is ever built; `requires`: the first member's
    available share is at most each other member's, every year."""
    pos = pd.Series(np.arange(len(projects)), index=projects.index)
    K = build.n_periods
    for gid, row in net.groups.iterrows():
        members = row["projects"].split()
        if members[0] not in pos.index:
            continue  # the constrained member already operates (a scenario built it)
        members = [m for m in members if m in pos.index]  # built members always operate
        if len(members) < 2:
            continue
        if row["kind"] == "exclusive":
            r = lp.add_constraints(f"group_{gid}", [gid], -np.inf, 1.0, n_periods=1)
            cols = build.index(pos[members].to_numpy()).ravel()
            lp.add_terms(np.full(len(cols), r.start), cols, 1.0)
        else:
            first = pos[members[0]]
            for other in members[1:]:
                r = lp.add_constraints(f"group_{gid}_{other}", np.arange(K), -np.inf, 0.0,
                                       n_periods=1)
                for sign, p in ((1.0, first), (-1.0, pos[other])):
                    kk, k = np.nonzero(active[p].T)  # operating year, build year
                    lp.add_terms(r.start + kk, build.index([p])[k, 0], sign)

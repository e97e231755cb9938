"""Who pays for a built project: a cost game among the countries it benefits.

For project p with discounted cost C (USD of the first year) and b_i the discounted welfare
country i gains from it (the plan with it against the plan without it and the projects that
require it, other builds kept, before any capex), a coalition S that shares the project pays
C, and one that does without it forgoes its members' benefits; so S's cost is the cheaper:

    c(S) = min(C, sum of b_i over i in S).

This is the separable-costs setting of multipurpose water projects (alternative cost = benefit
forgone): c is concave, so the core is non-empty; `CostGame` gives the Shapley value, the
nucleolus and SCRB and checks each against the core.
"""

from __future__ import annotations

import itertools

import pandas as pd

from corridor.coalitions.cost_game import CostGame
from corridor.plan.results import BUILT, PlanResults, dependents, year_results

MAX_ALLOCATION_PLAYERS = 12


def country_benefits(result: PlanResults, pid: str) -> pd.Series:
    """Per country, discounted USD it gains from `pid` (positive part), before capex."""
    model, lp, cols = result.model, result.solver, result.model.build.index()
    data = result.fixed.copy()
    gone = model.projects.index.get_indexer(dependents(model.network, pid))
    data.col_lower[cols[:, gone]] = data.col_upper[cols[:, gone]] = 0.0
    if lp.run(data, result.basis) != "optimal":  # from the plan's basis: see PlanResults
        lp.run(result.fixed, result.basis)
        return pd.Series(dtype=float)  # the plan cannot do without it: no benefit to split
    without = year_results(model, lp.solution(), {"threads": 1})
    lp.run(result.fixed, result.basis)

    def discounted(years) -> pd.Series:
        frame = pd.DataFrame({y: r.money_by_country()["welfare"] for y, r in years.items()})
        return frame.fillna(0.0) @ model.factors

    gain = discounted(result.years).sub(discounted(without), fill_value=0.0)
    return gain[gain > 1.0].sort_values(ascending=False)


def allocate(result: PlanResults) -> dict[str, pd.DataFrame]:
    """Per built project: each benefiting country's share of its discounted cost by Shapley,
    nucleolus and SCRB, its benefit, and whether each split lies in the core."""
    out = {}
    for p, pid in enumerate(result.projects.index):
        if not (result.build[:, p] > BUILT).any():
            continue
        benefit = country_benefits(result, pid).head(MAX_ALLOCATION_PLAYERS)
        if benefit.empty:
            continue
        cost_cols = result.model.lp.vector("cost")[result.model.build.index()[:, p]]
        total = float(cost_cols @ result.build[:, p])
        players = list(benefit.index)
        b = benefit.to_numpy()
        costs = {frozenset(s): min(total, float(b[list(idx)].sum()))
                 for k in range(len(players) + 1)
                 for idx in itertools.combinations(range(len(players)), k)
                 for s in [[players[i] for i in idx]]}
        game = CostGame(players, costs)
        shares = game.allocations()
        table = shares.shares.copy()
        table.insert(0, "benefit", b)
        # if the benefits fall short of the cost, the rest is carried by the projects that
        # require this one (or is a loss the plan accepts): reported, not hidden
        table.attrs = {"cost": total, "uncovered": total - min(total, float(b.sum())),
                       "in_core": shares.in_core.to_dict()}
        out[pid] = table
    return out


def in_core_label(table: pd.DataFrame) -> str:
    inside = [m for m, ok in table.attrs.get("in_core", {}).items() if ok]
    return ", ".join(inside) if inside else "none"


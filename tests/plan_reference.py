"""An independent reference for `corridor plan`, written from docs/model.md and issue 12.

A plan's objective is, over the modelled years y_k (each standing for the calendar years up to
the next one, the last for as many as the step before it), the sum of the discounted weight of
the year times that year's flow objective, plus each built project's annual cost (capex annuity
+ fixed O&M) times the discounted weight of every modelled year it operates (build year <= y <
build year + lifetime). Each year's flow objective is a dense `scipy.optimize.linprog` model of
the single-period flow LP (docs/model.md), with a project's capacity times its available share.
`best_schedules` enumerates every combination of build years and keeps the feasible ones.

A case is described here by plain rows with the CSV column names, so the network `plan` reads
and the reference are built from the same description but computed apart.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from corridor.network import NetworkMeta, Planning
from corridor.schema import TABLES
from corridor.validation import build_network

DAYS = 365.0
LIFETIME = 30.0  # years, when a project states none (issue 12's default)


@dataclass
class Case:
    """A small gas network with a planning horizon; rows are dicts of CSV columns (rates in
    mcm/d). Projects are the links (and supplies) whose `status` is not `operating`."""

    nodes: list[str]
    links: list[dict] = field(default_factory=list)
    supplies: list[dict] = field(default_factory=list)
    demands: list[dict] = field(default_factory=list)
    paths: list[dict] = field(default_factory=list)
    groups: list[dict] = field(default_factory=list)
    years: list[int] = field(default_factory=lambda: [2025])
    rate: float = 0.05
    periods: int = 1
    voll: float = 1000.0

    def raw(self) -> dict[str, pd.DataFrame | None]:
        """The tables as a network folder gives them."""
        rate = {"unit": "mcm/d"}
        return {
            "nodes": table("nodes", [{"id": n, "carrier": "gas", "country": f"C{n}"}
                                     for n in self.nodes]),
            "links": table("links", [{**rate, **row} for row in self.links]),
            "supplies": table("supplies", [{**rate, **row} for row in self.supplies]),
            "demands": table("demands", [{**rate, **row} for row in self.demands]),
            "paths": table("paths", [({**rate, **row} if "amount" in row else row)
                                     for row in self.paths]),
            "groups": table("groups", self.groups),
        }

    def meta(self, planning: bool = True) -> NetworkMeta:
        spec = Planning(years=list(self.years), discount_rate=self.rate, periods=self.periods)
        voll = {"gas": self.voll, "oil": self.voll}
        return NetworkMeta(name="plan-test", value_of_lost_load=voll,
                           planning=spec if planning else None)

    def network(self, planning: bool = True):
        with warnings.catch_warnings():  # unreachable demands are legal here
            warnings.simplefilter("ignore")
            return build_network(self.raw(), None, self.meta(planning))

    # --- projects -----------------------------------------------------------------------------

    def projects(self) -> dict[str, dict]:
        """Project id -> its row (links first, then supplies, in table order)."""
        rows = [*self.links, *self.supplies]
        return {r["id"]: r for r in rows if r.get("status", "operating") != "operating"}

    def annual_cost(self, pid: str) -> float:
        """USD per year a project costs while it operates: capex annuity + fixed O&M."""
        row = self.projects()[pid]
        return (row.get("capex", 0.0) * capital_recovery(self.rate, lifetime(row))
                + row.get("fixed_om", 0.0))

    def first_year(self, pid: str) -> int:
        """First calendar year a project may operate: after its lead time from the first
        modelled year, and not before its earliest year."""
        row = self.projects()[pid]
        first = self.years[0] + math.ceil(row.get("lead_time", 0.0))
        earliest = row.get("earliest_year")
        return max(first, int(earliest)) if earliest is not None else first

    def build_options(self, pid: str) -> list[int | None]:
        """None (never) and every modelled year from which it may operate; a committed
        (under-construction) project only the first of them."""
        years = [y for y in self.years if y >= self.first_year(pid)]
        if self.projects()[pid]["status"] == "under_construction":
            return years[:1]
        return [None, *years]

    def operates(self, pid: str, built: int | None, year: int) -> bool:
        return built is not None and built <= year < built + lifetime(self.projects()[pid])


def table(name: str, rows: list[dict]) -> pd.DataFrame | None:
    """A raw table with the required columns first; None for an optional table left out."""
    if not rows:
        if not TABLES[name].mandatory_file:
            return None
        return pd.DataFrame(columns=[c.name for c in TABLES[name].required])
    columns = [c.name for c in TABLES[name].required]
    for row in rows:
        columns += [k for k in row if k not in columns]
    return pd.DataFrame(rows, columns=columns)


def lifetime(row: dict) -> float:
    value = row.get("lifetime")
    return LIFETIME if value is None else float(value)


def capital_recovery(rate: float, years: float) -> float:
    """Equal yearly payment that repays 1 USD over `years` at `rate`: r (1+r)^n / ((1+r)^n - 1)."""
    if rate == 0.0:
        return 1.0 / years
    growth = (1.0 + rate) ** years
    return rate * growth / (growth - 1.0)


def step_weights(years: list[int]) -> list[int]:
    """Calendar years each modelled year stands for: up to the next, the last as the step
    before it (1 for a single year)."""
    gaps = [b - a for a, b in zip(years, years[1:], strict=False)]
    return [*gaps, gaps[-1] if gaps else 1]


def step_factors(years: list[int], rate: float) -> np.ndarray:
    """Per modelled year: sum over the calendar years it stands for of (1+rate)^-(y - first)."""
    out = []
    for year, weight in zip(years, step_weights(years), strict=True):
        out.append(sum((1.0 + rate) ** -(y - years[0]) for y in range(year, year + weight)))
    return np.array(out)


def quantity_in(case: Case, rid: str, base: float, year: int) -> float:
    """A demand's amount or a supply's capacity in `year` after its path: a factor on the base
    or an amount, linear between the listed years and flat outside them."""
    rows = sorted((r for r in case.paths if r["id"] == rid), key=lambda r: r["year"])
    if not rows:
        return base
    xs = [r["year"] for r in rows]
    if "amount" in rows[0]:
        return float(np.interp(year, xs, [r["amount"] for r in rows]))
    return base * float(np.interp(year, xs, [r["factor"] for r in rows]))


def year_objective(case: Case, year: int, available: tuple[tuple[str, float], ...]) -> float:
    """The flow LP of one modelled year (one period of 365 days), written densely: minimise
    days x (tariffs x flows + supply cost x production + value x unmet) - value x amount x days
    of every export market, each node balanced after losses. `available` gives each project's
    operating share (its capacity is multiplied by it)."""
    share = dict(available)
    node_row = {n: i for i, n in enumerate(case.nodes)}
    cost, upper, columns = [], [], []  # per column: cost, upper bound, {row: coefficient}

    def column(c: float, ub: float, entries: dict[int, float]) -> None:
        cost.append(c * DAYS)
        upper.append(ub)
        columns.append(entries)

    for lk in case.links:
        a, b = node_row[lk["from"]], node_row[lk["to"]]
        keep = 1.0 - lk.get("loss", 0.0)
        s = share.get(lk["id"], 1.0)
        tariff = lk.get("tariff", 0.0)
        column(tariff, lk["capacity"] * s, {a: -1.0, b: keep})
        column(tariff, lk.get("reverse_capacity", 0.0) * s, {b: -1.0, a: keep})
    for sp in case.supplies:
        capacity = quantity_in(case, sp["id"], sp["capacity"], year)
        column(sp.get("cost", 0.0), capacity * share.get(sp["id"], 1.0),
               {node_row[sp["node"]]: 1.0})
    rhs = np.zeros(len(case.nodes))
    constant = 0.0
    for d in case.demands:
        amount = quantity_in(case, d["id"], d["amount"], year)
        value = d.get("value", case.voll)
        column(value, amount, {node_row[d["node"]]: 1.0})
        rhs[node_row[d["node"]]] += amount
        if d.get("market") == "export":  # price-responsive: only what it takes is valued
            constant -= value * amount * DAYS
    a_eq = np.zeros((len(case.nodes), len(columns)))
    for j, entries in enumerate(columns):
        for i, coefficient in entries.items():
            a_eq[i, j] += coefficient
    res = linprog(cost, A_eq=a_eq, b_eq=rhs, bounds=[(0.0, ub) for ub in upper],
                  method="highs")
    assert res.status == 0, res.message
    return float(res.fun) + constant


def schedules(case: Case):
    """Every combination of build years (project id -> year; absent if never built) that the
    groups allow: `exclusive`, at most one member ever built; `requires`, the first member
    operates in a modelled year only if every other member does."""
    ids = list(case.projects())
    for combo in itertools.product(*(case.build_options(p) for p in ids)):
        schedule = {p: y for p, y in zip(ids, combo, strict=True) if y is not None}
        if all(group_allows(case, g, schedule) for g in case.groups):
            yield schedule


def group_allows(case: Case, group: dict, schedule: dict[str, int]) -> bool:
    members = group["projects"].split()
    if group["kind"] == "exclusive":
        return sum(m in schedule for m in members) <= 1
    first, others = members[0], members[1:]
    return all(not case.operates(first, schedule.get(first), y)
               or all(case.operates(o, schedule.get(o), y) for o in others)
               for y in case.years)


def availability(case: Case, schedule: dict[str, int], year: int) -> tuple[tuple[str, float], ...]:
    return tuple((p, float(case.operates(p, schedule.get(p), year))) for p in case.projects())


def schedule_total(case: Case, schedule: dict[str, int], solve=None) -> float:
    """The plan objective of a schedule: discounted flow objectives plus discounted annual
    costs of the projects in every modelled year they operate."""
    solve = solve or (lambda y, avail: year_objective(case, y, avail))
    factors = step_factors(case.years, case.rate)
    total = 0.0
    for factor, year in zip(factors, case.years, strict=True):
        avail = availability(case, schedule, year)
        total += factor * solve(year, avail)
        total += factor * sum(case.annual_cost(p) * s for p, s in avail)
    return total


def best_schedules(case: Case) -> list[tuple[float, dict[str, int]]]:
    """Every allowed schedule with its total, best first (each year's LP solved once per set
    of available projects)."""
    solve = cache(lambda y, avail: year_objective(case, y, avail))
    ranked = [(schedule_total(case, s, solve), s) for s in schedules(case)]
    return sorted(ranked, key=lambda pair: pair[0])

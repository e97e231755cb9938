"""The planning horizon: modelled years, what each stands for, discounting, and each year's
network (demand and supply paths applied, projects available)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from corridor.finance import discount_factors
from corridor.network import Network, Planning, modelled_years
from corridor.plan.projects import PlanError


@dataclass(frozen=True)
class Horizon:
    """Modelled years, the calendar years each stands for, the discount rate and periods."""

    years: tuple[int, ...]
    weights: tuple[int, ...]  # calendar years each modelled year stands for
    discount_rate: float
    periods: int
    money_year: int | None = None

    @classmethod
    def of(cls, net: Network, years: str | None = None, periods: int | None = None) -> Horizon:
        """The network's `planning` block, with `years` / `periods` overriding it."""
        spec = net.meta.planning
        if spec is None and years is None:
            raise PlanError(f"{net.origin}: network.yaml has no `planning` block; give the "
                            "years to plan, e.g. --years 2025:2040:5")
        spec = spec or Planning(years=years)
        try:
            modelled = modelled_years(years if years is not None else spec.years)
        except ValueError as exc:
            raise PlanError(str(exc)) from None
        gaps = np.diff(modelled)
        last = int(gaps[-1]) if len(gaps) else 1
        weights = (*(int(g) for g in gaps), last)
        return cls(tuple(modelled), weights, spec.discount_rate, periods or spec.periods,
                   spec.money_year)

    @property
    def first(self) -> int:
        return self.years[0]

    def factors(self) -> np.ndarray:
        """Per modelled year: the discounted number of years it stands for (USD of one year
        in that step, worth this much in the first year's money)."""
        return discount_factors(np.array(self.years), np.array(self.weights),
                                self.discount_rate, self.first)


def path_factors(net: Network, year: int) -> pd.DataFrame:
    """Per demand or supply with a path: (factor, amount) in `year`, interpolated linearly
    between its listed years and held flat outside them."""
    rows = []
    for pid, group in net.paths.groupby(level=0):
        group = group.sort_values("year")
        years = group["year"].to_numpy(float)
        factor = group["factor"].to_numpy(float)
        amount = group["amount"].to_numpy(float)
        use_amount = bool(np.isnan(factor).all())
        values = amount if use_amount else np.where(np.isnan(factor), 1.0, factor)
        value = float(np.interp(year, years, values))
        rows.append((pid, np.nan if use_amount else value, value if use_amount else np.nan))
    return pd.DataFrame(rows, columns=["id", "factor", "amount"]).set_index("id")


def network_for_year(net: Network, year: int, projects: pd.Index | None = None) -> Network:
    """The network in `year`: paths applied to demands, markets and supplies (their bands
    too), targets dated by `from_year` in force, and the given projects present with their
    full capacity and no cost of their own (the plan charges their capex through its build
    decisions)."""
    paths = path_factors(net, year)
    demands, supplies, curves = net.demands.copy(), net.supplies.copy(), net.curves.copy()
    for table, column in ((demands, "amount"), (supplies, "capacity")):
        hit = paths.index.intersection(table.index)
        factor = paths.loc[hit, "factor"]
        absolute = paths.loc[hit, "amount"]
        base = table.loc[hit, column]
        if len(curves):  # a row given by bands: its quantity is all its bands, not `column`
            bands = curves.groupby(level=0)["quantity"].sum().reindex(hit)
            base = bands.where(bands.notna(), base)
        new = np.where(factor.notna(), base * factor.fillna(1.0), absolute)
        scale = np.where(base > 0, new / base.where(base > 0, 1.0), 1.0)
        table.loc[hit, column] = new
        in_curves = curves.index.isin(hit)
        if in_curves.any():
            ratio = pd.Series(np.where(factor.notna(), factor.fillna(1.0), scale), index=hit)
            curves.loc[in_curves, "quantity"] = (curves.loc[in_curves, "quantity"]
                                                 * ratio.reindex(curves.index[in_curves])
                                                 .to_numpy())
    tables = {"demands": demands, "supplies": supplies, "curves": curves}
    if projects is not None:
        for name in ("links", "supplies", "storages"):
            df = tables.get(name, getattr(net, name)).copy()
            mine = df.index.isin(projects)
            df.loc[mine, "status"] = "operating"
            for column, free in (("build_cost", 0.0), ("capex", np.nan), ("fixed_om", 0.0)):
                if column in df:
                    df.loc[mine, column] = free
            if name == "storages":  # a storage that may not be built cannot hold a final level
                df.loc[mine, "final"] = np.nan
            tables[name] = df
    meta = net.meta.model_copy(update={"base_year": year})
    return net.replace(meta=meta, **tables)

"""Money over time: annualising a capital cost and discounting years.

A project's overnight capex becomes an equal yearly payment over its lifetime at the discount
rate (the capital recovery factor), so a one-year run and a multi-year plan charge the same
project the same amount per year it operates (docs/planning.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_DISCOUNT_RATE = 0.08  # real, per year; a common rate for regulated midstream assets
DEFAULT_LIFETIME = 30.0  # years, for a project that states none


def capital_recovery_factor(rate: float, years) -> np.ndarray:
    """Yearly payment per USD of capex repaid over `years` at `rate` (1/years at rate 0)."""
    years = np.asarray(years, dtype=float)
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** -years)


def annual_cost(table: pd.DataFrame, rate: float) -> pd.Series:
    """USD per year each row costs while it exists: the legacy annualised `build_cost`, plus
    its `capex` annualised over its `lifetime`, plus its `fixed_om`."""
    def column(name: str, default: float) -> np.ndarray:
        if name not in table:
            return np.full(len(table), default)
        return table[name].to_numpy(float)

    capex = np.nan_to_num(column("capex", 0.0))
    lifetime = column("lifetime", DEFAULT_LIFETIME)
    lifetime = np.where(np.isnan(lifetime), DEFAULT_LIFETIME, lifetime)
    cost = (np.nan_to_num(column("build_cost", 0.0))
            + capex * capital_recovery_factor(rate, lifetime)
            + np.nan_to_num(column("fixed_om", 0.0)))
    return pd.Series(cost, index=table.index)


def discount_factors(years: np.ndarray, weights: np.ndarray, rate: float,
                     first: int) -> np.ndarray:
    """For each modelled year, the sum of (1+rate)^-(y-first) over the calendar years it stands
    for (itself and the next weight-1 years): what one USD a year in that step is worth in
    `first`'s money."""
    out = np.zeros(len(years))
    for k, (year, weight) in enumerate(zip(years, weights, strict=True)):
        span = np.arange(int(year), int(year) + int(weight)) - first
        out[k] = float(np.sum((1.0 + rate) ** -span.astype(float)))
    return out

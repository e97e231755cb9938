"""Modelled periods of a year and how time profiles are resampled onto them.

A year has 365 days. One period is the whole year, 12 are calendar months, 365 are days; any
other count splits the year into nearly equal whole-day periods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365
MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def period_days(n: int) -> np.ndarray:
    """Days in each of `n` periods of the modelled year."""
    if not 1 <= n <= DAYS_PER_YEAR:
        raise ValueError(f"periods must be between 1 and {DAYS_PER_YEAR}, got {n}")
    if n == 12:
        return MONTH_DAYS.astype(float)
    edges = np.round(np.linspace(0, DAYS_PER_YEAR, n + 1)).astype(int)
    return np.diff(edges).astype(float)


def over_horizon(annual, days):
    """An annual amount (e.g. an annualised build cost, USD/yr) for the modelled days: the
    amount x days / 365. `annual` may be a number, an array or a Series."""
    return annual * days.sum() / DAYS_PER_YEAR


def to_daily(profile: np.ndarray) -> np.ndarray:
    """Expand a 12-month, 365-day or 1-value profile to one value per day."""
    if len(profile) == DAYS_PER_YEAR:
        return profile
    if len(profile) == 12:
        return np.repeat(profile, MONTH_DAYS)
    if len(profile) == 1:
        return np.repeat(profile, DAYS_PER_YEAR)
    raise ValueError(f"a profile has 1, 12 or 365 values, not {len(profile)}")


def resample(profiles: pd.DataFrame, n: int) -> pd.DataFrame:
    """Day-weighted mean of each profile column over each of `n` periods (rows 0..n-1)."""
    days = period_days(n).astype(int)
    if profiles.empty or profiles.shape[1] == 0:
        return pd.DataFrame(index=range(n))
    daily = np.column_stack([to_daily(profiles[c].to_numpy(float)) for c in profiles.columns])
    starts = np.concatenate([[0], np.cumsum(days)[:-1]])
    means = np.add.reduceat(daily, starts, axis=0) / days[:, None]
    return pd.DataFrame(means, columns=profiles.columns)

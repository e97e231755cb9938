"""Compare stored runs: the differences that matter, the first run being the reference.

Objective and welfare, unmet domestic demand by country, the flows that changed most, price
changes at key nodes, transport revenue by country, and links that became bottlenecks.
Volumes are annual (bcm/yr for gas, Mt/yr for oil); prices USD per 1000 m3 and per tonne.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from corridor.store import StoredRun
from corridor.units import (
    AMOUNT_DIVISOR,
    DISPLAY_PRICE,
    DISPLAY_RATE,
    PRICE_DIVISOR,
    RATE_TO_DISPLAY,
)

BOTTLENECK = 0.99  # mean utilisation from which a link counts as a bottleneck


def _mean(run: StoredRun, table: str, column: str, value: str) -> pd.Series:
    """Day-weighted mean over periods of a long table's value, per id."""
    wide = run.wide(table, column, value)
    days = run.days()
    return (wide.mul(days, axis=0).sum(min_count=1) / days.sum()).rename(run.label)


@dataclass
class Comparison:
    runs: list[StoredRun]

    @property
    def reference(self) -> StoredRun:
        return self.runs[0]

    @property
    def labels(self) -> list[str]:
        return [r.label for r in self.runs]

    def _all(self, table: str, key: str) -> pd.DataFrame:
        """A network table over all runs (a scenario may add links or nodes), first one wins."""
        frames = pd.concat([r.tables[table] for r in self.runs])
        return frames.drop_duplicates(key).set_index(key)

    def headline(self) -> pd.DataFrame:
        """Status, objective and welfare (bn USD) of each run and their change from the first."""
        rows = []
        for run in self.runs:
            m = run.meta
            rows.append({"run": run.label, "status": m["status"], "periods": m["periods"],
                         "objective_bn": _bn(m["objective"]), "welfare_bn": _bn(m["welfare"])})
        df = pd.DataFrame(rows).set_index("run")
        df["objective_change_bn"] = df["objective_bn"] - df["objective_bn"].iloc[0]
        df["welfare_change_bn"] = df["welfare_bn"] - df["welfare_bn"].iloc[0]
        return df

    def unmet_by_country(self) -> pd.DataFrame:
        """Unmet domestic demand per country and carrier (annual volume) in each run."""
        frames = []
        for run in self.runs:
            u = run.tables["unmet"]
            u = u[u["market"] == "domestic"]
            days = run.tables["periods"].set_index("period")["days"]
            volume = (u["unmet"] * u["period"].map(days)).groupby([u["country"], u["carrier"]])
            frames.append((volume.sum() / AMOUNT_DIVISOR).rename(run.label))  # bcm, Mt
        df = pd.concat(frames, axis=1).fillna(0.0)
        return df[(df.abs() > 1e-6).any(axis=1)]

    def flow_changes(self, n: int = 10) -> pd.DataFrame:
        """The `n` links whose mean flow changed most (in any run) from the reference."""
        means = pd.concat([_mean(r, "flows", "link", "flow") for r in self.runs], axis=1)
        means = means.fillna(0.0) * RATE_TO_DISPLAY
        change = means.sub(means.iloc[:, 0], axis=0).iloc[:, 1:].abs().max(axis=1)
        top = change[change > 1e-6].sort_values(ascending=False).head(n).index
        links = self._all("links", "link")
        table = means.loc[top]
        table.insert(0, "unit", links.loc[top, "carrier"].map(DISPLAY_RATE))
        table.insert(0, "name", links.loc[top, "name"].str.slice(0, 40))
        return table

    def price_changes(self) -> pd.DataFrame:
        """Mean price at the key nodes in each run (USD per 1000 m3 or per tonne)."""
        keys = json.loads(self.reference.meta.get("key_nodes") or "[]")
        prices = pd.concat([_mean(r, "prices", "node", "price") for r in self.runs], axis=1)
        nodes = self._all("nodes", "node")
        keys = [k for k in keys if k in prices.index] or list(prices.index[:8])
        table = prices.loc[keys] / PRICE_DIVISOR
        table.insert(0, "unit", nodes.loc[keys, "carrier"].map(DISPLAY_PRICE))
        return table

    def transport_revenue(self) -> pd.DataFrame:
        """Tariff revenue per country (million USD) in each run."""
        frames = [run.tables["money"].set_index("country")["transport_revenue"].rename(run.label)
                  / 1e6 for run in self.runs]
        df = pd.concat(frames, axis=1).fillna(0.0)
        df = df[(df.abs() > 0.05).any(axis=1)]
        return df.sort_values(df.columns[0], ascending=False)

    def new_bottlenecks(self) -> dict[str, list[str]]:
        """Links at or above 99 % mean utilisation in a run but not in the reference."""
        def full(run):
            util = _mean(run, "flows", "link", "utilisation")
            return set(util[util >= BOTTLENECK].index)

        base = full(self.reference)
        return {run.label: sorted(full(run) - base) for run in self.runs[1:]}

    def violations(self) -> dict[str, list[dict]]:
        return {run.label: json.loads(run.meta.get("violations") or "[]") for run in self.runs}

    def to_dict(self) -> dict:
        """Everything above as plain JSON-ready data."""
        def frame(df: pd.DataFrame) -> dict:
            clean = df.replace({np.nan: None})
            return {str(k): v for k, v in clean.to_dict(orient="index").items()}

        unmet = self.unmet_by_country()
        unmet.index = [f"{c}/{k}" for c, k in unmet.index]
        return {
            "runs": [{"run_id": r.run_id, "label": r.label, "scenario": r.meta["scenario"]}
                     for r in self.runs],
            "headline": frame(self.headline()),
            "unmet_domestic_by_country": frame(unmet),
            "flow_changes": frame(self.flow_changes()),
            "price_changes": frame(self.price_changes()),
            "transport_revenue_musd": frame(self.transport_revenue()),
            "new_bottlenecks": self.new_bottlenecks(),
            "violations": self.violations(),
        }


def _bn(value) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value) / 1e9

"""Results of a least-cost flow run and the money and bottleneck figures derived from them.

Flows, supply, unmet demand and storage are in base units per day (levels in base units);
prices in USD per base unit; money in USD over the modelled horizon.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from corridor.network import Network
from corridor.optimize.solve import Violation
from corridor.periods import over_horizon


def _memo(method):
    """Compute a derived table once per Results (they are immutable once solved)."""
    name = f"_memo_{method.__name__}"

    @functools.wraps(method)
    def wrapper(self):
        if name not in self.__dict__:
            self.__dict__[name] = method(self)
        return self.__dict__[name]

    return wrapper


def _periods(n: int) -> pd.Index:
    return pd.RangeIndex(1, n + 1, name="period")


@dataclass
class Results:
    """What one optimisation found; tables are (periods x ids) DataFrames."""

    network: Network
    days: np.ndarray
    status: str
    objective: float
    flows_forward: pd.DataFrame
    flows_reverse: pd.DataFrame
    supply: pd.DataFrame
    unmet: pd.DataFrame
    storage_level: pd.DataFrame
    storage_inject: pd.DataFrame
    storage_withdraw: pd.DataFrame
    prices: pd.DataFrame
    target_prices: pd.Series  # USD per base unit of the horizon's total flow through the group
    violations: list[Violation] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    message: str = ""
    demand: np.ndarray | None = None  # (periods x demands) amounts the model was built with

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    @property
    def n_periods(self) -> int:
        return len(self.days)

    @property
    def flows(self) -> pd.DataFrame:
        """Net flow per link, positive from its `from` to its `to` node (base units per day)."""
        return self.flows_forward - self.flows_reverse

    def served(self) -> pd.DataFrame:
        """Demand served per period (base units per day)."""
        return self.demand_amount() - self.unmet

    def demand_amount(self) -> pd.DataFrame:
        """Demand per period after profiles (base units per day)."""
        if self.demand is None:
            from corridor.optimize.inputs import ModelInputs  # local: avoids a cycle at import

            self.demand = ModelInputs.from_network(self.network, self.n_periods).demand_amount
        return pd.DataFrame(self.demand, index=self.unmet.index, columns=self.unmet.columns)

    def welfare(self) -> float:
        """USD over the horizon: value of served demand minus supply, transport and storage cost.

        The objective charges every unit of unmet demand at its value, so welfare is the value of
        all demand minus the objective; unlike the objective it is comparable when a scenario
        adds demand.
        """
        value = self.network.demand_value()
        return float((self.volume(self.demand_amount()) * value).sum() - self.objective)

    @_memo
    def utilisation(self) -> pd.DataFrame:
        """Share of capacity used in the direction of flow, per period (NaN: no capacity)."""
        links = self.network.links
        with np.errstate(divide="ignore", invalid="ignore"):
            fwd = self.flows_forward / links["capacity"].where(links["capacity"] > 0)
            rev = self.flows_reverse / links["reverse_capacity"].where(
                links["reverse_capacity"] > 0)
        return np.fmax(fwd, rev.fillna(0.0).where(fwd.notna() | (rev > 0)))

    def volume(self, table: pd.DataFrame) -> pd.Series:
        """Total over the horizon of a per-day table (base units): sum of rate x days."""
        return table.mul(self.days, axis=0).sum()

    def _spread(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Unit margin (USD per base unit) beyond the tariff, forward and reverse, per link."""
        links = self.network.links
        p_from = self.prices.reindex(columns=links["from"]).to_numpy()
        p_to = self.prices.reindex(columns=links["to"]).to_numpy()
        keep = 1.0 - links["loss"].to_numpy()
        tariff = links["tariff"].to_numpy()
        fwd = keep * p_to - p_from - tariff
        rev = keep * p_from - p_to - tariff
        index, cols = self.prices.index, links.index
        return pd.DataFrame(fwd, index, cols), pd.DataFrame(rev, index, cols)

    @_memo
    def congestion_rent(self) -> pd.Series:
        """Per link, USD over the horizon: flow x (price difference beyond the tariff)."""
        fwd, rev = self._spread()
        rent = (self.flows_forward * fwd.clip(lower=0) + self.flows_reverse * rev.clip(lower=0))
        return rent.mul(self.days, axis=0).sum()

    @_memo
    def tariff_revenue(self) -> pd.Series:
        """Per link, USD over the horizon: tariff x flow entering it (either direction)."""
        entering = self.flows_forward + self.flows_reverse
        return self.volume(entering) * self.network.links["tariff"]

    def build_cost(self) -> pd.Series:
        """Per link, USD over the horizon: annualised build cost of built projects."""
        links = self.network.links
        built = links["status"].eq("operating")
        return over_horizon(links["build_cost"].where(built, 0.0), self.days)

    def link_country(self) -> pd.Series:
        """The country that earns a link's revenue: its `country`, else its `from` node's."""
        links = self.network.links
        own = links["country"].where(links["country"] != "")
        return own.fillna(self.network.nodes["country"].reindex(links["from"]).set_axis(
            links.index)).fillna("")

    @_memo
    def money_by_country(self) -> pd.DataFrame:
        """USD over the horizon per country: production cost and revenue, consumers' bill,
        transport (transit) revenue, congestion rent, build cost of built projects, and the value
        of unmet demand."""
        net = self.network
        supplies, demands = net.supplies, net.demands
        price_at = self.prices.reindex(columns=supplies["node"]).to_numpy()
        produced = self.supply
        rows = {
            "production_cost": self.volume(produced) * supplies["cost"],
            "producer_revenue": (produced * price_at).mul(self.days, axis=0).sum(),
        }
        served = self.served()
        demand_price = self.prices.reindex(columns=demands["node"]).to_numpy()
        value = net.demand_value()
        frames = [
            pd.DataFrame({"country": supplies["country"], **rows}),
            pd.DataFrame({
                "country": demands["country"],
                "consumer_payment": (served * demand_price).mul(self.days, axis=0).sum(),
                "unmet_cost": self.volume(self.unmet) * value,
            }),
            pd.DataFrame({
                "country": self.link_country(),
                "transport_revenue": self.tariff_revenue(),
                "congestion_rent": self.congestion_rent(),
                "build_cost": self.build_cost(),
            }),
        ]
        table = pd.concat(frames).fillna(0.0).groupby("country").sum()
        table.index = table.index.where(table.index != "", "(none)")
        return table

    def bottlenecks(self, n: int = 10) -> pd.DataFrame:
        """The `n` most utilised links: mean and peak utilisation, flow and congestion rent."""
        util = self.utilisation()
        table = pd.DataFrame({
            "carrier": self.network.links["carrier"],
            "mean_utilisation": util.mul(self.days, axis=0).sum(min_count=1) / self.days.sum(),
            "peak_utilisation": util.max(),
            "mean_flow": self.volume(self.flows) / self.days.sum(),
            "congestion_rent": self.congestion_rent(),
        }).dropna(subset=["mean_utilisation"])
        return table.sort_values(["mean_utilisation", "congestion_rent"], ascending=False).head(n)

    def explain_violations(self) -> list[str]:
        """Each row the elastic re-solve could not satisfy, as a sentence in annual units."""
        from corridor.units import BASE_AMOUNT, format_rate

        net, total_days = self.network, float(self.days.sum())
        lines = []
        for v in self.violations:
            if v.block == "target":
                target = net.targets.loc[v.element]
                carrier = target["carrier"]
                need = format_rate(target["minimum"], carrier)
                lines.append(f"Target {v.element} ({target['links']} >= {need}) cannot be met: "
                             f"short by {format_rate(v.amount / total_days, carrier)}.")
            elif v.block == "balance":
                carrier = net.nodes.at[v.element, "carrier"]
                what = "lacks" if v.amount > 0 else "cannot send away"
                lines.append(f"Node {v.element} {what} {format_rate(abs(v.amount), carrier)} "
                             f"in period {v.period}.")
            else:
                carrier = net.storages.at[v.element, "carrier"]
                lines.append(f"Storage {v.element} cannot reach its required level in period "
                             f"{v.period}: off by {abs(v.amount):,.1f} "
                             f"{BASE_AMOUNT[carrier]}.")
        return lines

    def to_dict(self) -> dict:
        """The run document of docs/data-contract.md (NaN becomes null)."""
        def series(df: pd.DataFrame) -> dict:
            return {str(k): [_num(v) for v in df[k]] for k in df.columns}

        return {
            "status": self.status,
            "objective": _num(self.objective),
            "network": self.network.name,
            "periods": self.n_periods,
            "days": [float(d) for d in self.days],
            "units": {"flow": "base unit per day (gas mcm/d, oil kt/d)",
                      "price": "USD per base unit (USD/mcm, USD/kt)", "money": "USD"},
            "flows": series(self.flows),
            "unmet": series(self.unmet),
            "prices": series(self.prices),
            "supply": series(self.supply),
            "storage_level": series(self.storage_level),
            "violations": [v.__dict__ for v in self.violations],
            "diagnosis": self.explain_violations(),
            "message": self.message,
            "stats": self.stats,
        }


def _num(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value

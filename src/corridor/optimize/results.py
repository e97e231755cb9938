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
from corridor.optimize import accounts
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
    unit_supply: pd.DataFrame | None = None  # (periods x supply units) produced per day
    unit_served: pd.DataFrame | None = None  # (periods x demand units) taken per day
    supply_units: pd.DataFrame | None = None  # the units' table (bands.supply_units)
    demand_units: pd.DataFrame | None = None  # the units' table (bands.demand_units)
    contracts: pd.DataFrame | None = None  # (periods x contracts) delivered per day
    contract_shadow: pd.Series | None = None  # USD per base unit the volume band costs

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
        """Demand served per period (base units per day), all bands of a demand together."""
        return self.unit_served.T.groupby(self.demand_units["demand"]).sum().T.reindex(
            columns=self.network.demands.index, fill_value=0.0)

    def supplied(self) -> pd.DataFrame:
        """Production per supply and period (base units per day), all its bands together."""
        return self.supply

    def unit_amount(self) -> pd.DataFrame:
        """What each demand unit could take per period (base units per day)."""
        return self.unit_served + self._unit_unmet()

    def _unit_unmet(self) -> pd.DataFrame:
        from corridor.optimize.inputs import ModelInputs  # local: avoids a cycle at import

        amount = ModelInputs.from_network(self.network, self.n_periods).unit_amount
        return pd.DataFrame(amount, index=self.unit_served.index,
                            columns=self.unit_served.columns) - self.unit_served

    def demand_amount(self) -> pd.DataFrame:
        """Demand per period after profiles (base units per day): a demand's `amount`, or all
        its bands when it is given by bands only."""
        if self.demand is None:
            from corridor.optimize.inputs import ModelInputs  # local: avoids a cycle at import

            self.demand = ModelInputs.from_network(self.network, self.n_periods).demand_amount
        return pd.DataFrame(self.demand, index=self.unmet.index, columns=self.unmet.columns)

    def welfare(self) -> float:
        """Total surplus, USD over the horizon: value of the demand bands served minus supply,
        storage and build cost and the cost of shortages. Shippers pay tariffs, so flows follow
        them and the objective charges them; to the region they are the transit countries'
        income, so welfare = tariff revenue - objective (docs/model.md), plus what price-capped
        buyers value their purchases above the cap (`cap_wedge`, 0 without caps). `welfare_by`
        splits it by country or owner."""
        return float(self.tariff_revenue().sum()) - float(self.objective) + self.cap_wedge()

    def cap_wedge(self) -> float:
        """USD over the horizon that price-capped buyers value what they take above the cap the
        LP allocated on: sum of (value - cap) x served (docs/model.md, "Price caps")."""
        units = self.demand_units
        if units is None or "wedge" not in units or not units["wedge"].any():
            return 0.0
        served = self.unit_served[units.index].to_numpy()
        return float((served * units["wedge"].to_numpy(float) * self.days[:, None]).sum())

    @_memo
    def ledger(self) -> pd.DataFrame:
        """Every money entry of the run (accounts.ledger)."""
        return accounts.ledger(self)

    def welfare_by(self, by: str = "country") -> pd.DataFrame:
        """Welfare components, welfare and money details per country or per owner (USD)."""
        return accounts.welfare_table(self.ledger(), by)

    def identity_gap(self) -> float:
        """Relative gap between the sum of the welfare components and `welfare()`."""
        return accounts.identity_gap(self.ledger(), self.welfare())

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

    def spreads(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Unit margin (USD per base unit) beyond the tariff, forward and reverse, per link:
        what a unit entering is worth on arrival (after losses) minus its price and tariff."""
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
        """Per link, USD over the horizon: flow x (price spread beyond the tariff); negative
        where a target or contract forces flow against the spread."""
        fwd, rev = self.spreads()
        rent = self.flows_forward * fwd.fillna(0.0) + self.flows_reverse * rev.fillna(0.0)
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
        return over_horizon(self.network.annual_cost("links").where(built, 0.0), self.days)

    def asset_build_cost(self, table: str) -> pd.Series:
        """Per supply or storage, USD over the horizon: annualised cost of the built ones (a
        proposed one a scenario builds; 0 for most)."""
        from corridor.optimize.inputs import built  # local: avoids a cycle at import

        rows = getattr(self.network, table)
        cost = self.network.annual_cost(table) * built(rows) if len(rows) else pd.Series(0.0)
        return over_horizon(cost, self.days)

    def money_by_country(self) -> pd.DataFrame:
        """USD over the horizon per country: welfare components, welfare and details."""
        return self.welfare_by("country")

    def money_by_owner(self) -> pd.DataFrame:
        """USD over the horizon per owner (a row's `owner`, else its country)."""
        return self.welfare_by("owner")

    def fuel_by_country(self) -> pd.DataFrame:
        """Volume lost in transport (compressor fuel) per country and carrier over the horizon,
        split by each link's segments (base units)."""
        links = self.network.links
        lost = self.volume(self.flows_forward + self.flows_reverse) * links["loss"]
        shares = accounts.link_shares(self.network)
        frame = pd.DataFrame({"country": shares["country"].replace("", "(none)"),
                              "carrier": links["carrier"].reindex(shares["link"]).to_numpy(),
                              "fuel": lost.reindex(shares["link"]).to_numpy()
                              * shares["share"].to_numpy()})
        return frame.groupby(["country", "carrier"])["fuel"].sum().unstack(fill_value=0.0)

    def contract_table(self) -> pd.DataFrame:
        """Per contract: seller, buyer, price, volume over the horizon, contract revenue beside
        the same volume at the buyer's nodal price, take-or-pay payment, transfer to the seller
        and the shadow price of its volume band (USD per base unit; > 0: the minimum binds)."""
        ct = self.network.contracts
        money = accounts.contract_money(self)
        return pd.concat([ct[["seller", "buyer", "price"]], money,
                          self.contract_shadow.rename("shadow_price")], axis=1)

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
            elif v.block.startswith("contract"):
                lines.append(self._explain_contract(v))
            else:
                carrier = net.storages.at[v.element, "carrier"]
                lines.append(f"Storage {v.element} cannot reach its required level in period "
                             f"{v.period}: off by {abs(v.amount):,.1f} "
                             f"{BASE_AMOUNT[carrier]}.")
        return lines

    def _welfare_dict(self) -> dict | None:
        """Totals and per-country welfare components (USD over the horizon)."""
        if not self.optimal:
            return None
        table = self.welfare_by("country")

        def row(values: pd.Series) -> dict:
            return {str(k): _num(v) for k, v in values.items()}

        return {"total": _num(self.welfare()), "components": row(table.sum()),
                "identity_gap": _num(self.identity_gap()),
                "by_country": {str(c): row(r) for c, r in table.iterrows()},
                "by_owner": {str(c): row(r) for c, r in self.welfare_by("owner").iterrows()}}

    def _contracts_dict(self) -> dict:
        if not self.optimal or self.network.contracts.empty:
            return {}
        table = self.contract_table()
        return {str(cid): {k: (_num(v) if isinstance(v, (int, float, np.floating)) else str(v))
                           for k, v in r.items()} for cid, r in table.iterrows()}

    def _explain_contract(self, v: Violation) -> str:
        """A contract row that cannot be met, naming the contracts it concerns."""
        from corridor.units import format_rate

        ct, total_days = self.network.contracts, float(self.days.sum())
        column = {"contract_seller": "seller", "contract_buyer": "buyer"}.get(v.block)
        if v.block == "contract_volume":
            carrier = self.network.supplies.at[ct.at[v.element, "seller"], "carrier"]
            return (f"Contract {v.element} cannot deliver its minimum "
                    f"({format_rate(ct.at[v.element, 'min'], carrier)}): short by "
                    f"{format_rate(abs(v.amount) / total_days, carrier)}.")
        if column is None:  # a route link
            who = ct.index[[v.element in spec.split() for spec in ct["links"]]]  # a route step
            what = f"link {v.element} cannot carry"
        else:
            who = ct.index[ct[column] == v.element]
            what = f"{column} {v.element} cannot " + ("produce" if column == "seller" else "take")
        return (f"Contract(s) {', '.join(who)}: {what} the contracted volume in period "
                f"{v.period} (short by {abs(v.amount):,.3f} base units per day).")

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
                      "price": "USD per base unit (USD/mcm, USD/kt)",
                      "money": "USD over the horizon"},
            "flows": series(self.flows),
            "unmet": series(self.unmet),
            "prices": series(self.prices),
            "supply": series(self.supply),
            "supplied": series(self.supply),
            "served": series(self.served()),
            "welfare": self._welfare_dict(),
            "contracts": self._contracts_dict(),
            "storage_level": series(self.storage_level),
            "violations": [v.__dict__ for v in self.violations],
            "diagnosis": self.explain_violations(),
            "message": self.message,
            "stats": self.stats,
        }


def _num(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value

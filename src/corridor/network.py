"""The Network: typed tables of nodes, links, supplies, demands, storages, targets, price curves,
contracts and profiles.

Every quantity is in base units (mcm or kt; rates per day), every table is a DataFrame indexed by
id. Networks are built by `corridor.validation.build_network`, which checks them; the optimiser,
reports and writers only ever see a checked Network.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from corridor.finance import DEFAULT_DISCOUNT_RATE, annual_cost
from corridor.schema import BUILT_STATUSES, TABLES


def _empty(table: str) -> pd.DataFrame:
    """An empty table of the contract (for networks built without that optional file)."""
    columns = [c.name for c in TABLES[table].columns if c.name != "id"]
    return pd.DataFrame(columns=[*columns, "kind"] if table == "curves" else columns,
                        index=pd.Index([], name="id"))


class DemandCurve(BaseModel):
    """How a demand's `price` and `elasticity` become bands (docs/model.md, "Demand curves")."""

    model_config = ConfigDict(extra="forbid")

    bands: int = Field(8, ge=2, le=100, multiple_of=2,
                       description="bands between the window's prices (even, so that the "
                                   "reference price is a band edge)")
    window: float = Field(0.5, gt=0.0, lt=1.0,
                          description="half-width of the finely banded price range, as a "
                                      "share of the reference price")


class Planning(BaseModel):
    """`network.yaml` `planning`: the horizon `corridor plan` optimises over."""

    model_config = ConfigDict(extra="forbid")

    years: str | list[int] = Field(
        description="modelled years, a list or 'first:last:step'; each stands for the years up "
                    "to the next one (the last for one step)")
    discount_rate: float = Field(DEFAULT_DISCOUNT_RATE, ge=0.0, lt=1.0,
                                 description="real discount rate per year")
    money_year: int | None = Field(None, description="the year whose USD all money is in")
    periods: int = Field(12, ge=1, le=365, description="representative periods per year")

    @field_validator("years")
    @classmethod
    def _years(cls, value):
        modelled_years(value)  # raises ValueError with the reason
        return value


def modelled_years(spec: str | list[int]) -> list[int]:
    """'2025:2040:5' -> [2025, 2030, 2035, 2040]; a list is checked to be strictly increasing."""
    if isinstance(spec, str):
        parts = spec.split(":")
        if len(parts) not in (2, 3) or not all(p.strip().lstrip("-").isdigit() for p in parts):
            raise ValueError(f"years {spec!r}: expected first:last or first:last:step")
        first, last = int(parts[0]), int(parts[1])
        step = int(parts[2]) if len(parts) == 3 else 1
        if step < 1 or last < first:
            raise ValueError(f"years {spec!r}: need first <= last and step >= 1")
        years = list(range(first, last + 1, step))
    else:
        years = [int(y) for y in spec]
    if not years or any(b <= a for a, b in zip(years, years[1:], strict=False)):
        raise ValueError("years must be a non-empty, strictly increasing list")
    return years


class PeakDay(BaseModel):
    """`network.yaml` `security: {COUNTRY: ...}`: the country's D_max for N-1, the gas demand of
    a day of exceptionally high demand (once in 20 years, EU 2017/1938 Annex II), with its
    source. Without it N-1 uses the peak of the demands' profiles (docs/coalitions.md)."""

    model_config = ConfigDict(extra="forbid")

    d_max: float = Field(gt=0.0, description="peak-day domestic gas demand, in `unit`")
    unit: str = Field("mcm/d", description="a gas rate unit (mcm/d, bcm/yr, ...)")
    source: str = Field(min_length=1, description="source key(s) or publication")
    method: str = Field("", description="published figure, or how it was derived")
    year: int | None = None
    mean_day: float | None = Field(
        None, gt=0.0, description="the country's mean-day domestic gas demand (mcm/d) that "
                                  "d_max belongs to; where given, D_max follows a network's "
                                  "demand (a scenario's other year) in proportion")

    @field_validator("unit")
    @classmethod
    def _unit(cls, value):
        from corridor.units import UnitError, factor_to_base

        try:
            factor_to_base(value, "gas")
        except UnitError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @property
    def mcm_per_day(self) -> float:
        """d_max in the base rate (mcm/d)."""
        from corridor.units import factor_to_base

        return self.d_max * factor_to_base(self.unit, "gas")


class NetworkMeta(BaseModel):
    """The optional `network.yaml`: name, description and model-wide defaults."""

    model_config = ConfigDict(extra="allow")

    name: str = "network"
    description: str = ""
    base_year: int | None = None
    value_of_lost_load: dict[str, float] = Field(
        default_factory=lambda: {"gas": 1.0e6, "oil": 2.0e6},
        description="USD per base unit (mcm, kt) of unmet demand when a demand has no `value`",
    )
    key_nodes: list[str] = Field(default_factory=list)
    demand_curve: DemandCurve = Field(default_factory=lambda: DemandCurve())
    planning: Planning | None = None
    security: dict[str, PeakDay] = Field(
        default_factory=dict, description="per country: its 1-in-20 peak-day demand for N-1")

    @property
    def discount_rate(self) -> float:
        """The rate that annualises capex: the planning horizon's, else the default."""
        return self.planning.discount_rate if self.planning else DEFAULT_DISCOUNT_RATE


@dataclass
class Network:
    """A checked gas/oil network in base units. Build it with `build_network` or `read_network`."""

    nodes: pd.DataFrame
    links: pd.DataFrame
    supplies: pd.DataFrame
    demands: pd.DataFrame
    storages: pd.DataFrame
    targets: pd.DataFrame
    profiles: pd.DataFrame  # index: period 1..12 (months) or 1..365 (days); one column per profile
    curves: pd.DataFrame = field(default_factory=lambda: _empty("curves"))  # index: its owner id
    contracts: pd.DataFrame = field(default_factory=lambda: _empty("contracts"))
    paths: pd.DataFrame = field(default_factory=lambda: _empty("paths"))  # index: demand/supply
    groups: pd.DataFrame = field(default_factory=lambda: _empty("groups"))
    meta: NetworkMeta = field(default_factory=NetworkMeta)
    origin: str = "<memory>"
    scenarios: tuple[str, ...] = ()  # scenario files applied to the folder's network, in order

    @property
    def name(self) -> str:
        return self.meta.name

    def active_links(self) -> pd.DataFrame:
        """Links that exist in the modelled year (operating); proposed ones need a scenario."""
        return self.links[self.links["status"].isin(BUILT_STATUSES)]

    def annual_cost(self, table: str = "links") -> pd.Series:
        """USD per year each row of `table` costs while built (build_cost + annualised capex +
        fixed O&M, `finance.annual_cost`)."""
        return annual_cost(getattr(self, table), self.meta.discount_rate)

    def demand_value(self) -> pd.Series:
        """USD per base unit of each demand: its `value`, else its carrier's value of lost load."""
        voll = self.demands["carrier"].map(self.meta.value_of_lost_load).astype(float)
        return self.demands["value"].fillna(voll)

    def node_country(self, node_ids) -> pd.Series:
        return self.nodes["country"].reindex(node_ids)

    def replace(self, **tables) -> Network:
        """A copy with some tables replaced (the caller is responsible for re-validating)."""
        return replace(self, **tables)

    def counts(self) -> dict[str, int]:
        """Number of rows per table, e.g. for `corridor info`."""
        return {name: len(getattr(self, name)) for name in
                ("nodes", "links", "supplies", "demands", "storages", "targets", "curves",
                 "contracts", "paths", "groups")}

    @property
    def origin_path(self) -> Path | None:
        return Path(self.origin) if self.origin != "<memory>" else None

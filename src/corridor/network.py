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
from pydantic import BaseModel, ConfigDict, Field

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
    meta: NetworkMeta = field(default_factory=NetworkMeta)
    origin: str = "<memory>"
    scenarios: tuple[str, ...] = ()  # scenario files applied to the folder's network, in order

    @property
    def name(self) -> str:
        return self.meta.name

    def active_links(self) -> pd.DataFrame:
        """Links that exist in the modelled year (operating); proposed ones need a scenario."""
        return self.links[self.links["status"].isin(BUILT_STATUSES)]

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
                 "contracts")}

    @property
    def origin_path(self) -> Path | None:
        return Path(self.origin) if self.origin != "<memory>" else None

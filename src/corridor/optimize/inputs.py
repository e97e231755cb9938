"""Model inputs: a Network turned into the numpy arrays one optimisation needs.

Everything period-dependent is a (periods x elements) array already multiplied by its profile;
node references are integer positions. The LP blocks read only these arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from corridor.network import Network
from corridor.periods import period_days, resample


def _profile_grid(table: pd.DataFrame, profiles: pd.DataFrame) -> np.ndarray:
    """(periods x rows) multipliers: each row's named profile, or 1 where it names none."""
    names = table["profile"] if "profile" in table else pd.Series("", index=table.index)
    grid = profiles.reindex(columns=names.to_numpy()).to_numpy(float, copy=True)
    grid[:, (names == "").to_numpy()] = 1.0
    return grid


@dataclass
class ModelInputs:
    """Arrays for one optimisation of `network` over `days` (one entry per period)."""

    network: Network
    days: np.ndarray
    node_ids: pd.Index
    links: pd.DataFrame  # the built links that enter the model
    link_from: np.ndarray
    link_to: np.ndarray
    link_capacity: np.ndarray  # (T, L) forward, base units per day
    link_reverse_capacity: np.ndarray  # (T, L)
    reversible: np.ndarray  # positions of links with reverse capacity
    supply_node: np.ndarray
    supply_capacity: np.ndarray  # (T, S)
    demand_node: np.ndarray
    demand_amount: np.ndarray  # (T, D)
    demand_value: np.ndarray  # (D,) USD per base unit unmet
    storage_node: np.ndarray
    target_members: list[np.ndarray]  # link positions per target
    target_minimum: np.ndarray  # base units per day, averaged over the horizon

    @property
    def n_periods(self) -> int:
        return len(self.days)

    @classmethod
    def from_network(cls, net: Network, n_periods: int) -> ModelInputs:
        days = period_days(n_periods)
        profiles = resample(net.profiles, n_periods)
        position = pd.Series(np.arange(len(net.nodes)), index=net.nodes.index)
        links = net.active_links()
        availability = _profile_grid(links, profiles)
        link_pos = pd.Series(np.arange(len(links)), index=links.index)
        value = net.demand_value().to_numpy(float)
        members = [link_pos.reindex(spec.split()).dropna().to_numpy(int)
                   for spec in net.targets["links"]]
        return cls(
            network=net,
            days=days,
            node_ids=net.nodes.index,
            links=links,
            link_from=position[links["from"]].to_numpy(),
            link_to=position[links["to"]].to_numpy(),
            link_capacity=links["capacity"].to_numpy(float) * availability,
            link_reverse_capacity=links["reverse_capacity"].to_numpy(float) * availability,
            reversible=np.flatnonzero(links["reverse_capacity"].to_numpy(float) > 0),
            supply_node=position[net.supplies["node"]].to_numpy(),
            supply_capacity=net.supplies["capacity"].to_numpy(float)
            * _profile_grid(net.supplies, profiles),
            demand_node=position[net.demands["node"]].to_numpy(),
            demand_amount=net.demands["amount"].to_numpy(float)
            * _profile_grid(net.demands, profiles),
            demand_value=value,
            storage_node=position[net.storages["node"]].to_numpy(),
            target_members=members,
            target_minimum=net.targets["minimum"].to_numpy(float),
        )

"""Model inputs: a Network turned into the numpy arrays one optimisation needs.

Everything period-dependent is a (periods x elements) array already multiplied by its profile;
node references are integer positions. The LP blocks read only these arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from corridor.network import Network
from corridor.optimize.bands import demand_units, supply_units
from corridor.periods import period_days, resample
from corridor.schema import BUILT_STATUSES


def _profile_grid(table: pd.DataFrame, profiles: pd.DataFrame) -> np.ndarray:
    """(periods x rows) multipliers: each row's named profile, or 1 where it names none."""
    names = table["profile"] if "profile" in table else pd.Series("", index=table.index)
    grid = profiles.reindex(columns=names.to_numpy()).to_numpy(float, copy=True)
    grid[:, (names == "").to_numpy()] = 1.0
    return grid


def built(table: pd.DataFrame) -> np.ndarray:
    """1 for rows that exist in the modelled year (operating), 0 for proposed supplies and
    storages, which only `corridor plan` may build."""
    if "status" not in table:
        return np.ones(len(table))
    return table["status"].isin(BUILT_STATUSES).to_numpy(float)


def targets_in_force(net: Network) -> np.ndarray:
    """1 for targets that apply in the network's year (`base_year`): those without `from_year`
    and those from that year on; 0 for targets that start later (or always 1 with no year)."""
    start = net.targets["from_year"].to_numpy(float) if "from_year" in net.targets \
        else np.full(len(net.targets), np.nan)
    year = net.meta.base_year
    return np.where(np.isnan(start) | (year is None) | (start <= (year or 0)), 1.0, 0.0)


@dataclass
class ModelInputs:
    """Arrays for one optimisation of `network` over `days` (one entry per period).

    Supplies and demands enter as *units* (`bands.py`): one per supply or demand, or one per
    price band. Unit arrays are indexed like `supply_units` / `demand_units`.
    """

    network: Network
    days: np.ndarray
    node_ids: pd.Index
    links: pd.DataFrame  # the built links that enter the model
    link_from: np.ndarray
    link_to: np.ndarray
    link_capacity: np.ndarray  # (T, L) forward, base units per day
    link_reverse_capacity: np.ndarray  # (T, L)
    reversible: np.ndarray  # positions of links with reverse capacity
    supply_units: pd.DataFrame  # index: unit label; columns supply, quantity, price
    supply_parent: np.ndarray  # (Us,) position of each unit's supply in network.supplies
    supply_node: np.ndarray  # (Us,)
    supply_capacity: np.ndarray  # (T, Us) base units per day
    supply_cost: np.ndarray  # (Us,) USD per base unit
    demand_units: pd.DataFrame  # index: unit label; columns demand, quantity, price, fixed
    demand_parent: np.ndarray  # (Ud,) position of each unit's demand in network.demands
    demand_node: np.ndarray  # (Ud,)
    unit_amount: np.ndarray  # (T, Ud) base units per day each demand unit may take
    unit_value: np.ndarray  # (Ud,) USD per base unit: a band's price, a fixed demand's VoLL
    unit_fixed: np.ndarray  # (Ud,) bool: unserved is a shortage (fixed demand)
    demand_amount: np.ndarray  # (T, D) per demand: amount (all bands for curves) x profile
    storage_node: np.ndarray
    storage_rate: np.ndarray  # (J,) base units per day; 0 for a storage not built
    storage_volume: np.ndarray  # (J,) base units; 0 for a storage not built
    link_annual_cost: pd.Series  # per built link, USD/yr (build_cost + capex annuity + O&M)
    target_members: list[np.ndarray]  # link positions per target
    target_minimum: np.ndarray  # base units per day, averaged over the horizon
    asset_annual_cost: float = 0.0  # USD/yr of the built supplies and storages (capex annuity
    # + O&M): a proposed supply or storage a scenario builds is charged like a built link

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
        members = [link_pos.reindex(spec.split()).dropna().to_numpy(int)
                   for spec in net.targets["links"]]
        supplies, demands = net.supplies, net.demands
        s_units, d_units = supply_units(net), demand_units(net)
        s_parent = pd.Series(np.arange(len(supplies)), index=supplies.index)[
            s_units["supply"]].to_numpy()
        d_parent = pd.Series(np.arange(len(demands)), index=demands.index)[
            d_units["demand"]].to_numpy()
        supply_profile = _profile_grid(supplies, profiles) * built(supplies)
        demand_profile = _profile_grid(demands, profiles)
        unit_amount = d_units["quantity"].to_numpy(float) * demand_profile[:, d_parent]
        reference = demands["amount"].to_numpy(float).copy()
        has_curve = demands.index.isin(net.curves.index[net.curves["kind"] == "demand"]
                                       if len(net.curves) else [])
        if has_curve.any():  # a demand given only by bands: its amount is all its bands
            total = d_units.groupby("demand")["quantity"].sum()
            reference[has_curve] = total.reindex(demands.index[has_curve]).to_numpy()
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
            supply_units=s_units,
            supply_parent=s_parent,
            supply_node=position[supplies["node"]].to_numpy()[s_parent],
            supply_capacity=s_units["quantity"].to_numpy(float) * supply_profile[:, s_parent],
            supply_cost=s_units["price"].to_numpy(float),
            demand_units=d_units,
            demand_parent=d_parent,
            demand_node=position[demands["node"]].to_numpy()[d_parent],
            unit_amount=unit_amount,
            unit_value=d_units["price"].to_numpy(float),
            unit_fixed=d_units["fixed"].to_numpy(bool),
            demand_amount=reference * demand_profile,
            storage_node=position[net.storages["node"]].to_numpy(),
            storage_rate=net.storages["rate"].to_numpy(float) * built(net.storages),
            storage_volume=net.storages["volume"].to_numpy(float) * built(net.storages),
            link_annual_cost=net.annual_cost("links").reindex(links.index),
            target_members=members,
            target_minimum=net.targets["minimum"].to_numpy(float) * targets_in_force(net),
            asset_annual_cost=asset_annual_cost(net),
        )


def asset_annual_cost(net: Network) -> float:
    """USD/yr the built supplies and storages cost (build_cost + capex annuity + fixed O&M)."""
    return float(sum((net.annual_cost(name) * built(getattr(net, name))).sum()
                     for name in ("supplies", "storages") if len(getattr(net, name))))

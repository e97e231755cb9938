"""Constraint families of the flow LP: node balance, storage continuity, route targets and
contracts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from corridor.optimize.inputs import ModelInputs
from corridor.optimize.lp import Block, LinearProgram
from corridor.optimize.variables import suspended_contracts
from corridor.validation import parse_route


def _node_rows(balance: Block, nodes: np.ndarray) -> np.ndarray:
    """Row positions of the balance of `nodes` in every period, shape (periods, k)."""
    return balance.index(nodes)


def node_balance(lp: LinearProgram, inputs: ModelInputs, forward: Block, reverse: Block,
                 supply: Block, unmet: Block, inject: Block, withdraw: Block) -> Block:
    """Each node and period: inflow - outflow + supply + unmet + withdrawal - injection = demand.

    A link's loss applies in either direction: what arrives is (1 - loss) x what entered.
    The duals of these rows are the nodal prices.
    """
    demand = node_demand(inputs, inputs.unit_amount)
    # Diagnosis prefers blaming targets and storage end levels (volumes) over physics: a unit
    # of imbalance weighs as ten times the volume it represents over its period.
    balance = lp.add_constraints("balance", inputs.node_ids, demand, demand,
                                 elastic_weight=10.0 * inputs.days[:, None])
    keep = 1.0 - inputs.links["loss"].to_numpy(float)
    rev = inputs.reversible
    lp.add_terms(_node_rows(balance, inputs.link_from), forward.index(), -1.0)
    lp.add_terms(_node_rows(balance, inputs.link_to), forward.index(), keep)
    lp.add_terms(_node_rows(balance, inputs.link_to[rev]), reverse.index(), -1.0)
    lp.add_terms(_node_rows(balance, inputs.link_from[rev]), reverse.index(), keep[rev])
    lp.add_terms(_node_rows(balance, inputs.supply_node), supply.index(), 1.0)
    lp.add_terms(_node_rows(balance, inputs.demand_node), unmet.index(), 1.0)
    lp.add_terms(_node_rows(balance, inputs.storage_node), withdraw.index(), 1.0)
    lp.add_terms(_node_rows(balance, inputs.storage_node), inject.index(), -1.0)
    return balance


def node_demand(inputs: ModelInputs, unit_amount: np.ndarray) -> np.ndarray:
    """(periods, nodes) sum of the demand units' quantities at each node: the balance rows'
    right-hand side."""
    demand = np.zeros((inputs.n_periods, len(inputs.node_ids)))
    np.add.at(demand.T, inputs.demand_node, unit_amount.T)
    return demand


def storage_continuity(lp: LinearProgram, inputs: ModelInputs, inject: Block, withdraw: Block,
                       level: Block) -> Block:
    """level[t] - level[t-1] - days[t] x (inject[t] - withdraw[t]) = 0.

    Before the first period the level is `initial` x volume for storages with a given end level,
    and the last period's level for cyclic ones (the year wraps around).
    """
    st = inputs.network.storages
    volume = inputs.storage_volume
    final = st["final"].to_numpy(float)
    cyclic = final != final  # NaN: cyclic
    start = np.where(cyclic, 0.0, st["initial"].to_numpy(float) * volume)
    rhs = np.zeros((inputs.n_periods, len(st)))
    rhs[0] = start
    rows = lp.add_constraints("storage_continuity", st.index, rhs, rhs)
    days = inputs.days[:, None]
    lp.add_terms(rows.index(), level.index(), 1.0)
    lp.add_terms(rows.index(), inject.index(), -days)
    lp.add_terms(rows.index(), withdraw.index(), days)
    previous = np.roll(level.index(), 1, axis=0)  # period 0 points at the last period
    coef = np.full(previous.shape, -1.0)
    coef[0, ~cyclic] = 0.0  # the start level is a constant on the right-hand side
    lp.add_terms(rows.index(), previous, coef)
    return rows


def flow_targets(lp: LinearProgram, inputs: ModelInputs, forward: Block) -> Block:
    """Total forward flow over the horizon through each target's links >= its minimum."""
    targets = inputs.network.targets
    total_days = inputs.days.sum()
    rows = lp.add_constraints("target", targets.index, inputs.target_minimum * total_days,
                              np.inf, n_periods=1)
    for k, members in enumerate(inputs.target_members):
        cols = forward.index(members)
        lp.add_terms(np.full(cols.shape, rows.start + k), cols,
                     np.broadcast_to(inputs.days[:, None], cols.shape))
    return rows


def contract_rows(lp: LinearProgram, inputs: ModelInputs, contract: Block, supply: Block,
                  unmet: Block, forward: Block) -> None:
    """A contract's volume is produced by its seller, carried forward on every step of its
    route (on any of a step's parallel links) and taken by its buyer (per period, summed over
    the contracts that share each);
    a contract priced per year keeps its annual average rate within [min, max]."""
    table = inputs.network.contracts
    if table.empty:
        return
    net = inputs.network
    k = np.arange(len(table))
    seller = net.supplies.index.get_indexer(table["seller"])
    buyer = net.demands.index.get_indexer(table["buyer"])
    sellers, buyers = np.unique(seller), np.unique(buyer)
    rows = lp.add_constraints("contract_seller", net.supplies.index[sellers], -np.inf, 0.0)
    at = np.searchsorted(sellers, seller)
    lp.add_terms(rows.index(at), contract.index(k), 1.0)
    units = np.flatnonzero(np.isin(inputs.supply_parent, sellers))
    lp.add_terms(rows.index(np.searchsorted(sellers, inputs.supply_parent[units])),
                 supply.index(units), -1.0)
    rows = lp.add_constraints("contract_buyer", net.demands.index[buyers], -np.inf,
                              buyer_capacity(inputs, inputs.unit_amount, buyers))
    lp.add_terms(rows.index(np.searchsorted(buyers, buyer)), contract.index(k), 1.0)
    units = np.flatnonzero(np.isin(inputs.demand_parent, buyers))
    lp.add_terms(rows.index(np.searchsorted(buyers, inputs.demand_parent[units])),
                 unmet.index(units), 1.0)
    link_pos = pd.Series(np.arange(len(inputs.links)), index=inputs.links.index)
    steps: dict[tuple[int, ...], list[int]] = {}  # a route step's built links -> its contracts
    for c, spec in enumerate(table["links"]):
        for step in parse_route(spec):
            built = tuple(sorted(int(link_pos[lid]) for lid in step if lid in link_pos.index))
            if built:  # a step with no built link was handled by the contract's bounds
                steps.setdefault(built, []).append(c)
    labels = ["+".join(inputs.links.index[list(step)]) for step in steps]
    rows = lp.add_constraints("contract_route", labels, -np.inf, 0.0)
    for r, (step, members) in enumerate(steps.items()):
        lp.add_terms(rows.index([r]), contract.index(members), 1.0)
        lp.add_terms(rows.index([r]), forward.index(list(step)), -1.0)
    yearly = np.flatnonzero((table["per"] == "year").to_numpy())
    total = inputs.days.sum()
    minimum = np.where(suspended_contracts(inputs), 0.0, table["min"].to_numpy(float))
    rows = lp.add_constraints("contract_volume", table.index[yearly], minimum[yearly] * total,
                              table["max"].to_numpy(float)[yearly] * total, n_periods=1,
                              elastic_weight=1.0)
    for j, c in enumerate(yearly):
        cols = contract.index([c])[:, 0]
        lp.add_terms(np.full(cols.shape, rows.start + j), cols, inputs.days)


def buyer_capacity(inputs: ModelInputs, unit_amount: np.ndarray, buyers: np.ndarray) -> np.ndarray:
    """(periods, buyers) all the units of each contract buyer could take."""
    out = np.zeros((inputs.n_periods, len(buyers)))
    units = np.flatnonzero(np.isin(inputs.demand_parent, buyers))
    np.add.at(out.T, np.searchsorted(buyers, inputs.demand_parent[units]), unit_amount[:, units].T)
    return out


"""Constraint families of the flow LP: node balance, storage continuity, route targets."""

from __future__ import annotations

import numpy as np

from corridor.optimize.inputs import ModelInputs
from corridor.optimize.lp import Block, LinearProgram


def _node_rows(balance: Block, nodes: np.ndarray) -> np.ndarray:
    """Row positions of the balance of `nodes` in every period, shape (periods, k)."""
    return balance.index(nodes)


def node_balance(lp: LinearProgram, inputs: ModelInputs, forward: Block, reverse: Block,
                 supply: Block, unmet: Block, inject: Block, withdraw: Block) -> Block:
    """Each node and period: inflow - outflow + supply + unmet + withdrawal - injection = demand.

    A link's loss applies in either direction: what arrives is (1 - loss) x what entered.
    The duals of these rows are the nodal prices.
    """
    n_nodes = len(inputs.node_ids)
    demand = np.zeros((inputs.n_periods, n_nodes))
    np.add.at(demand.T, inputs.demand_node, inputs.demand_amount.T)
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


def storage_continuity(lp: LinearProgram, inputs: ModelInputs, inject: Block, withdraw: Block,
                       level: Block) -> Block:
    """level[t] - level[t-1] - days[t] x (inject[t] - withdraw[t]) = 0.

    Before the first period the level is `initial` x volume for storages with a given end level,
    and the last period's level for cyclic ones (the year wraps around).
    """
    st = inputs.network.storages
    volume = st["volume"].to_numpy(float)
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

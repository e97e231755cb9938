"""The least-cost flow model as a recipe: the list of variable and constraint blocks.

Read this file to see the whole LP; how each block is written lives in `variables.py` and
`constraints.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corridor.network import Network
from corridor.optimize import constraints, variables
from corridor.optimize.inputs import ModelInputs
from corridor.optimize.lp import LinearProgram
from corridor.periods import over_horizon


@dataclass
class FlowModel:
    """An assembled LP together with the inputs it was built from."""

    lp: LinearProgram
    inputs: ModelInputs


def build_flow_model(net: Network, n_periods: int = 1) -> FlowModel:
    """Minimise minus the total surplus over the year: supply, transport and storage cost, the
    annualised build cost of built projects and the cost of shortages, less the value of the
    demand bands served (docs/model.md). The objective is therefore -welfare."""
    inputs = ModelInputs.from_network(net, n_periods)
    lp = LinearProgram(n_periods)
    forward, reverse = variables.link_flows(lp, inputs)
    supply = variables.supply(lp, inputs)
    unmet = variables.unmet_demand(lp, inputs)
    inject, withdraw, level = variables.storage(lp, inputs)
    contract = variables.contracts(lp, inputs)
    constraints.node_balance(lp, inputs, forward, reverse, supply, unmet, inject, withdraw)
    constraints.storage_continuity(lp, inputs, inject, withdraw, level)
    constraints.flow_targets(lp, inputs, forward)
    constraints.contract_rows(lp, inputs, contract, supply, unmet, forward)
    lp.offset = objective_constant(lp, inputs, lp.vector("cost"), lp.vector("col_upper"))
    return FlowModel(lp, inputs)


def build_costs(inputs: ModelInputs) -> float:
    """Annualised build cost (build_cost, capex, fixed O&M) of the built links, supplies and
    storages, for the modelled days."""
    return float(over_horizon(inputs.link_annual_cost.sum() + inputs.asset_annual_cost,
                              inputs.days))


def objective_constant(lp: LinearProgram, inputs: ModelInputs, cost: np.ndarray,
                       upper: np.ndarray) -> float:
    """The objective's constant: the build cost of built links less what the price-responsive
    demand units would be worth if all were served (their `unmet` columns' cost x upper bound),
    so that the objective is cost - value served. Written once, for the model as built and for
    every changed copy of its data (`FlowSolver.update_constant`)."""
    unmet = lp.columns["unmet"].index()[:, ~inputs.unit_fixed].ravel()
    return build_costs(inputs) - float(cost[unmet] @ upper[unmet])

"""Variable families of the flow LP, one function each, vectorised over periods x elements.

Costs are in USD over the whole period: a rate (per day) times the period's days.
"""

from __future__ import annotations

from corridor.optimize.inputs import ModelInputs
from corridor.optimize.lp import Block, LinearProgram


def _per_period(inputs: ModelInputs, unit_cost):
    """USD per (base unit per day) in each period: a unit cost times the period's days."""
    return inputs.days[:, None] * unit_cost


def link_flows(lp: LinearProgram, inputs: ModelInputs) -> tuple[Block, Block]:
    """Flow entering each link at its `from` end, and (for reversible links) at its `to` end."""
    tariff = inputs.links["tariff"].to_numpy(float)
    forward = lp.add_variables("flow_forward", inputs.links.index, 0.0, inputs.link_capacity,
                               _per_period(inputs, tariff))
    rev = inputs.reversible
    reverse = lp.add_variables("flow_reverse", inputs.links.index[rev], 0.0,
                               inputs.link_reverse_capacity[:, rev],
                               _per_period(inputs, tariff[rev]))
    return forward, reverse


def supply(lp: LinearProgram, inputs: ModelInputs) -> Block:
    """Production of each supply, up to its (profiled) capacity, at its unit cost."""
    net = inputs.network
    return lp.add_variables("supply", net.supplies.index, 0.0, inputs.supply_capacity,
                            _per_period(inputs, net.supplies["cost"].to_numpy(float)))


def unmet_demand(lp: LinearProgram, inputs: ModelInputs) -> Block:
    """Demand left unserved, up to the whole demand, at its value of lost load."""
    return lp.add_variables("unmet", inputs.network.demands.index, 0.0, inputs.demand_amount,
                            _per_period(inputs, inputs.demand_value))


def storage(lp: LinearProgram, inputs: ModelInputs) -> tuple[Block, Block, Block]:
    """Injection and withdrawal rates (withdrawal carries the storage cost) and end-of-period level.

    A storage with a `final` fraction starts at `initial` and must end at `final`; without one it
    is cyclic (ends where it started), which is the usual assumption for a representative year.
    """
    st = inputs.network.storages
    rate, volume = st["rate"].to_numpy(float), st["volume"].to_numpy(float)
    inject = lp.add_variables("storage_inject", st.index, 0.0, rate)
    withdraw = lp.add_variables("storage_withdraw", st.index, 0.0, rate,
                                _per_period(inputs, st["cost"].to_numpy(float)))
    upper = volume[None, :].repeat(inputs.n_periods, axis=0)
    lower = upper * 0.0
    final = st["final"].to_numpy(float)
    fixed_end = ~(final != final)  # not NaN
    lower[-1, fixed_end] = upper[-1, fixed_end] = final[fixed_end] * volume[fixed_end]
    level = lp.add_variables("storage_level", st.index, lower, upper)
    return inject, withdraw, level

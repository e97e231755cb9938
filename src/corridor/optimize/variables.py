"""Variable families of the flow LP, one function each, vectorised over periods x elements.

Costs are in USD over the whole period: a rate (per day) times the period's days.
"""

from __future__ import annotations

import numpy as np

from corridor.optimize.inputs import ModelInputs
from corridor.optimize.lp import Block, LinearProgram
from corridor.validation import parse_route


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
    """Production of each supply unit (a supply, or one of its bands), up to its (profiled)
    quantity, at its marginal cost."""
    return lp.add_variables("supply", inputs.supply_units.index, 0.0, inputs.supply_capacity,
                            _per_period(inputs, inputs.supply_cost))


def unmet_demand(lp: LinearProgram, inputs: ModelInputs) -> Block:
    """What each demand unit does not take, up to its whole quantity, at the unit's value.

    For a band this is the value its buyers forgo (the model adds back the value of every band
    as a constant, so the objective is minus the surplus); for a fixed demand it is the shortage
    at its value of lost load.
    """
    return lp.add_variables("unmet", inputs.demand_units.index, 0.0, inputs.unit_amount,
                            _per_period(inputs, inputs.unit_value))


def suspended_contracts(inputs: ModelInputs) -> np.ndarray:
    """Contracts whose route has a step with no built link: they deliver nothing."""
    built = set(inputs.links.index)
    return np.array([any(not built & set(step) for step in parse_route(spec))
                     for spec in inputs.network.contracts["links"]], dtype=bool)


def contracts(lp: LinearProgram, inputs: ModelInputs) -> Block:
    """Each contract's delivered volume (base units per day); a contract priced per period has
    its min and max as bounds, one priced per year gets them as a horizon row instead.

    The volume costs nothing: the band's minimum binds the flows, and which volume between what
    the band needs and what the flows allow is reported is settled after the solve
    (`FlowSolver.credit_contracts`), so that crediting never moves the optimum.

    A route with a step none of whose links is built delivers nothing (validation warns): its
    band is suspended, as a scenario's `block` suspends a contract over a blocked link.
    """
    table = inputs.network.contracts
    per_period = (table["per"] == "period").to_numpy()
    lower = np.where(per_period, table["min"].to_numpy(float), 0.0)
    upper = np.where(per_period, table["max"].to_numpy(float), np.inf)
    unbuilt = suspended_contracts(inputs)
    lower = np.where(unbuilt, 0.0, lower)  # a route with a step not built delivers nothing
    upper = np.where(unbuilt, 0.0, upper)
    return lp.add_variables("contract", table.index, lower, upper)


def storage(lp: LinearProgram, inputs: ModelInputs) -> tuple[Block, Block, Block]:
    """Injection and withdrawal rates (withdrawal carries the storage cost) and end-of-period level.

    A storage with a `final` fraction starts at `initial` and must end at `final`; without one it
    is cyclic (ends where it started), which is the usual assumption for a representative year.
    """
    st = inputs.network.storages
    rate, volume = inputs.storage_rate, inputs.storage_volume
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

"""Least-cost multi-period flow: build the sparse LP, solve it with HiGHS, read back Results."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from corridor.network import Network
from corridor.optimize.model import FlowModel, build_flow_model
from corridor.optimize.resolvable import FlowSolver, LPData, LPSolver, solve
from corridor.optimize.results import Results, _periods
from corridor.optimize.solve import Solution, SolverError, Violation, write_mps

IDENTITY_TOLERANCE = 1e-6

__all__ = ["optimize", "build_flow_model", "read_results", "Results", "SolverError",
           "Violation", "write_mps", "FlowSolver", "LPSolver", "LPData", "solve"]


def optimize(net: Network, periods: int = 1, options: dict | None = None) -> Results:
    """Find the flows of `net` that maximise total surplus over `periods` periods of one year
    (1, 12 or 365)."""
    start = time.perf_counter()
    model = build_flow_model(net, periods)
    build_seconds = time.perf_counter() - start
    solver = FlowSolver(model, solver_options(model, options))
    solver.run()
    solution = solver.solution()
    if solution.status == "optimal":  # which part of the flows each contract is credited with
        solution.x[solver.columns("contract")] = solver.credit_contracts(solution.x)
    results = read_results(model, solution)
    results.stats.update(build_seconds=build_seconds, solve_seconds=solution.solve_seconds,
                         iterations=solution.iterations, variables=model.lp.n_cols,
                         constraints=model.lp.n_rows)
    if results.optimal:
        check_identity(results)
    return results


def check_identity(results: Results) -> None:
    """The welfare identity on a solved run: its components must add up to its welfare (they
    do whatever the prices, because every node balances); a gap means money is lost in the
    accounting, which is a bug, so it is recorded and warned about, never hidden."""
    gap = results.identity_gap()
    results.stats["identity_gap"] = gap
    if not gap <= IDENTITY_TOLERANCE:
        warnings.warn(f"welfare identity off by {gap:.2e} of the money moved "
                      f"(tolerance {IDENTITY_TOLERANCE:g})", RuntimeWarning, stacklevel=3)


def solver_options(model: FlowModel, options: dict | None) -> dict:
    """HiGHS options for a cold solve: the caller's, and presolve off when demand has bands.

    HiGHS' presolve removes little from a banded model and the simplex then takes longer on what
    it leaves: on the bundled network at 365 days, 1.63 s with presolve against 1.10 s without,
    on the benchmark's synthetic network 2.10 s against 1.76 s (benchmarks/banded_demand.py).
    """
    banded = len(model.inputs.demand_units) > len(model.inputs.network.demands)
    return {**({"presolve": "off"} if banded else {}), **(options or {})}


def read_results(model: FlowModel, solution: Solution) -> Results:
    """Unpack a solution vector into per-family tables; prices are balance duals per day.

    Supply and demand units (bands) are summed into their supply or demand; `unmet` keeps only
    shortages (fixed demand left unserved), what a band does not take is not a shortage.
    """
    lp, inputs = model.lp, model.inputs
    net = inputs.network
    index = _periods(inputs.n_periods)

    def table(name: str, ids: pd.Index, vector: np.ndarray, blocks=lp.columns) -> pd.DataFrame:
        df = blocks[name].unpack(vector).reindex(columns=ids, fill_value=0.0)
        df.index = index
        return df

    x, dual = solution.x, solution.row_dual
    prices = table("balance", net.nodes.index, dual, lp.rows).div(inputs.days, axis=0)
    targets = lp.rows["target"]
    target_prices = pd.Series(dual[targets.start:targets.start + targets.size], index=targets.ids)
    unit_supply = table("supply", inputs.supply_units.index, x)
    unit_unmet = table("unmet", inputs.demand_units.index, x)
    shortage = unit_unmet * inputs.unit_fixed  # bands left untaken are not shortages
    contracts = table("contract", net.contracts.index, x)
    contract_shadow = _contract_shadow(model, solution)
    if not solution.status == "optimal":
        prices[:] = np.nan
        target_prices[:] = np.nan
        contract_shadow[:] = np.nan
    return Results(
        network=net,
        days=inputs.days,
        status=solution.status,
        objective=solution.objective,
        flows_forward=table("flow_forward", net.links.index, x),
        flows_reverse=table("flow_reverse", net.links.index, x),
        supply=unit_supply.T.groupby(inputs.supply_units["supply"]).sum().T.reindex(
            columns=net.supplies.index, fill_value=0.0),
        unmet=shortage.T.groupby(inputs.demand_units["demand"]).sum().T.reindex(
            columns=net.demands.index, fill_value=0.0),
        storage_level=table("storage_level", net.storages.index, x),
        storage_inject=table("storage_inject", net.storages.index, x),
        storage_withdraw=table("storage_withdraw", net.storages.index, x),
        prices=prices,
        target_prices=target_prices,
        violations=solution.violations,
        message=solution.message,
        demand=inputs.demand_amount,
        unit_supply=unit_supply,
        unit_served=pd.DataFrame(inputs.unit_amount, index=index,
                                 columns=inputs.demand_units.index) - unit_unmet,
        supply_units=inputs.supply_units,
        demand_units=inputs.demand_units,
        contracts=contracts,
        contract_shadow=contract_shadow,
    )


def _contract_shadow(model: FlowModel, solution: Solution) -> pd.Series:
    """USD per base unit of annual volume that the contract's volume band costs the network:
    positive when its minimum binds, else 0 (a maximum caps the volume credited to the contract,
    not the flow: more can be traded at nodal prices)."""
    lp, inputs = model.lp, model.inputs
    table = inputs.network.contracts
    shadow = pd.Series(0.0, index=table.index, dtype=float)
    if table.empty:
        return shadow
    rows = lp.rows["contract_volume"]
    row_dual = solution.row_dual[rows.start:rows.start + rows.size]
    shadow[rows.ids] = row_dual
    if solution.col_dual is not None:
        per_period = (table["per"] == "period").to_numpy()
        cols = lp.columns["contract"].index()
        reduced = solution.col_dual[cols].sum(axis=0) / inputs.days.sum()
        shadow[per_period] = reduced[per_period]
    return shadow

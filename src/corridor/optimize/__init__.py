"""Least-cost multi-period flow: build the sparse LP, solve it with HiGHS, read back Results."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from corridor.network import Network
from corridor.optimize.model import FlowModel, build_flow_model
from corridor.optimize.results import Results, _periods
from corridor.optimize.solve import Solution, SolverError, Violation, solve, write_mps

__all__ = ["optimize", "build_flow_model", "read_results", "Results", "SolverError",
           "Violation", "write_mps"]


def optimize(net: Network, periods: int = 1, options: dict | None = None) -> Results:
    """Find the least-cost flows of `net` over `periods` periods of one year (1, 12 or 365)."""
    start = time.perf_counter()
    model = build_flow_model(net, periods)
    build_seconds = time.perf_counter() - start
    solution = solve(model.lp, options)
    results = read_results(model, solution)
    results.stats.update(build_seconds=build_seconds, solve_seconds=solution.solve_seconds,
                         iterations=solution.iterations, variables=model.lp.n_cols,
                         constraints=model.lp.n_rows)
    return results


def read_results(model: FlowModel, solution: Solution) -> Results:
    """Unpack a solution vector into per-family tables; prices are balance duals per day."""
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
    if not solution.status == "optimal":
        prices[:] = np.nan
        target_prices[:] = np.nan
    return Results(
        network=net,
        days=inputs.days,
        status=solution.status,
        objective=solution.objective,
        flows_forward=table("flow_forward", net.links.index, x),
        flows_reverse=table("flow_reverse", net.links.index, x),
        supply=table("supply", net.supplies.index, x),
        unmet=table("unmet", net.demands.index, x),
        storage_level=table("storage_level", net.storages.index, x),
        storage_inject=table("storage_inject", net.storages.index, x),
        storage_withdraw=table("storage_withdraw", net.storages.index, x),
        prices=prices,
        target_prices=target_prices,
        violations=solution.violations,
        message=solution.message,
        demand=inputs.demand_amount,
    )

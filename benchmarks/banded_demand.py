"""Price-responsive demand costs little: a 365-day model with demand curves against the same
network with fixed demand, built and solved in one process.

    .venv/bin/python benchmarks/banded_demand.py [--repeat 3] [--periods 365]

Cases: the bundled Central Asia network as shipped (domestic demand on linear demand curves,
export markets, contracts) and the same network with every demand fixed at its amount (no
`price`/`elasticity`, no demand bands); and a synthetic network (the optimizer benchmark's, 120
nodes) whose demands get `price` and `elasticity` against the same network fixed. Each case is
built and solved `--repeat` times with one HiGHS thread and the fastest kept, with Corridor's
default settings (which turn HiGHS' presolve off for a banded model, `optimize.solver_options`)
and with presolve off for both models of a case; the table gives
seconds, LP size, simplex iterations and the banded/fixed ratio (issue target: at most 1.2).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corridor.data import bundled_path  # noqa: E402
from corridor.io import read_network  # noqa: E402
from corridor.network import Network  # noqa: E402
from corridor.optimize import optimize  # noqa: E402

SETTINGS = {"Corridor's": {"threads": 1, "random_seed": 0},
            "presolve off": {"threads": 1, "random_seed": 0, "presolve": "off"}}


def fixed(net: Network) -> Network:
    """The same network with every demand fixed at its amount."""
    demands = net.demands.assign(price=np.nan, elasticity=np.nan)
    curves = net.curves[net.curves["kind"] != "demand"]
    return net.replace(demands=demands, curves=curves)


def priced(net: Network, elasticity: float = -0.2) -> Network:
    """Every demand of `net` on a linear demand curve through its amount at its value."""
    demands = net.demands.assign(price=net.demand_value() * 0.25, elasticity=elasticity)
    return net.replace(demands=demands)


def timed(net: Network, periods: int, repeat: int, options: dict) -> tuple[float, dict]:
    best, stats = float("inf"), {}
    for _ in range(repeat):
        start = time.perf_counter()
        results = optimize(net, periods, options)
        seconds = time.perf_counter() - start
        if results.status != "optimal":
            raise SystemExit(f"{net.name}: {results.status}")
        if seconds < best:
            best, stats = seconds, results.stats
    return best, stats


def synthetic(nodes: int) -> Network:
    """The optimizer benchmark's seeded synthetic gas network (fixed demand)."""
    from optimizer_vs_pypsa import synthetic_network

    from corridor.validation import build_network

    data = synthetic_network(nodes, seed=1)
    return build_network(data.tables, profiles=data.profiles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--periods", type=int, default=365)
    parser.add_argument("--nodes", type=int, default=120)
    args = parser.parse_args()
    bundled = read_network(bundled_path())
    cases = [("bundled network", bundled, fixed(bundled))]
    net = synthetic(args.nodes)
    cases.append((f"synthetic, {args.nodes} nodes", priced(net), net))
    print(f"{'case':24} {'HiGHS':13} {'banded s':>9} {'fixed s':>8} {'ratio':>6} "
          f"{'banded vars':>12} {'fixed vars':>11} {'banded iters':>13} {'fixed iters':>12}")
    for name, banded_net, fixed_net in cases:
        for setting, options in SETTINGS.items():
            fixed_s, f_stats = timed(fixed_net, args.periods, args.repeat, options)
            banded_s, b_stats = timed(banded_net, args.periods, args.repeat, options)
            print(f"{name:24} {setting:13} {banded_s:9.2f} {fixed_s:8.2f} "
                  f"{banded_s / fixed_s:6.2f} {b_stats['variables']:12,} "
                  f"{f_stats['variables']:11,} {b_stats['iterations']:13,} "
                  f"{f_stats['iterations']:12,}")


if __name__ == "__main__":
    main()

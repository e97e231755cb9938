"""Sweep throughput on the default network, and the cost of a warm re-solve against a cold one.

    python benchmarks/sweep_scaling.py                 # the bundled 1000-draw outage sweep
    python benchmarks/sweep_scaling.py --draws 200     # a quicker run
    python benchmarks/sweep_scaling.py --skip-dask

Throughput: the bundled sweep `outages` (central-asia, 12 periods) run by each executor, all
draws from the same seed, results streamed through the same ordering as `corridor sweep` (not
stored, so the store is not measured): in this process, on a local pool of 1 and of 2 worker
processes, and on a Dask LocalCluster of 2 single-threaded worker processes (127.0.0.1, no
dashboard). "wall" includes starting the workers (and the cluster), "first" is the time to the
first result, "steady" the draws/s after it. Every executor must return exactly the in-process
answers (bitwise), which the table checks.

Warm vs cold, per draw, for the first --compare draws, all in this process:
  warm     `Resolver.solve`: apply the draw to the LP's bounds/costs, push the changed
           entries to the one HiGHS instance, re-solve from the base basis, read quantities;
  cold     `optimize` of the drawn network: `build_flow_model` + a fresh HiGHS solve (presolve
           on) + reading the results: what re-building per draw costs;
  cold+net the drawn network written as a scenario and applied (`Sampler.scenario` +
           `scenario.apply`, which re-validates the network), then cold: the naive route.
Target: warm at least 5x cheaper than cold; 1000 draws in under 60 s on 2 cores.
The table goes to stdout and to benchmarks/results/sweep_scaling.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from corridor.optimize import optimize
from corridor.scenario import apply
from corridor.sweep import DaskExecutor, InlineExecutor, LocalPool, Resolver, load_job, run
from corridor.sweep.cluster import local_cluster

RESULTS = Path(__file__).resolve().parent / "results" / "sweep_scaling.md"


def throughput(job, executor, reference: list | None) -> dict:
    """Run every draw on `executor`; wall time, time to the first result, steady rate."""
    got, first = [], []

    def keep(result) -> None:
        if not first:
            first.append(time.perf_counter())
        got.append(result)

    start = time.perf_counter()
    outcome = run(job, executor, keep)
    wall = time.perf_counter() - start
    steady = (len(got) - 1) / (start + wall - first[0]) if len(got) > 1 else float("nan")
    same = reference is None or all(
        a.draw == b.draw and a.objective == b.objective and np.array_equal(a.values, b.values)
        for a, b in zip(reference, got, strict=True))
    return {"draws": outcome.draws, "wall": wall, "first": first[0] - start,
            "rate": outcome.draws / wall, "steady": steady, "same": same, "results": got,
            "load": os.getloadavg()[0]}


def warm_vs_cold(job, n: int) -> dict:
    """Median seconds per draw of a warm re-solve, a cold build+solve and the naive route."""
    resolver = Resolver(job)
    net, periods = job.network, job.periods
    warm, cold, naive = [], [], []
    for i in range(n):
        started = time.perf_counter()
        resolver.solve(i)
        warm.append(time.perf_counter() - started)
        draw = resolver.sampler.draw(i)
        started = time.perf_counter()
        drawn = apply(net, resolver.sampler.scenario(draw))
        applied = time.perf_counter()
        optimize(drawn, periods)  # build_flow_model + a fresh HiGHS solve + read results
        done = time.perf_counter()
        cold.append(done - applied)
        naive.append(done - started)
    return {"warm": float(np.median(warm)), "cold": float(np.median(cold)),
            "naive": float(np.median(naive)), "n": n}


def table(rows: list[tuple[str, dict]], costs: dict, args) -> str:
    lines = ["# Sweep scaling: the bundled outage sweep on the default network", "",
             f"{args.draws} draws of `outages` (central-asia, 12 periods, seed from the file); "
             f"{platform.machine()}, {os.cpu_count()} cores; Python {platform.python_version()}. "
             "Load = 1-minute load average after the case (other work on the machine slows "
             "every case).", "",
             "| executor | draws | wall s | first result s | draws/s (wall) | draws/s (steady) "
             "| same answers | load |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {r['draws']} | {r['wall']:.2f} | {r['first']:.2f} | "
                     f"{r['rate']:.0f} | {r['steady']:.0f} | {'yes' if r['same'] else '**NO**'}"
                     f" | {r['load']:.2f} |")
    ratio, naive = costs["cold"] / costs["warm"], costs["naive"] / costs["warm"]
    best = min(r["wall"] for name, r in rows if "2" in name)
    lines += ["", f"Per draw, median of the first {costs['n']} draws, in this process:", "",
              "| warm re-solve ms | cold build+solve ms | cold incl. applying the draw to the "
              "network ms | cold / warm (>= 5) | naive / warm |",
              "|---|---|---|---|---|",
              f"| {1000 * costs['warm']:.2f} | {1000 * costs['cold']:.2f} | "
              f"{1000 * costs['naive']:.2f} | {ratio:.1f} {'yes' if ratio >= 5 else '**NO**'} | "
              f"{naive:.1f} |", "",
              f"1000-draw target (< 60 s on 2 cores, best 2-worker executor, scaled to 1000 "
              f"draws): {best * 1000 / args.draws:.1f} s "
              f"{'yes' if best * 1000 / args.draws < 60 else '**NO**'}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--compare", type=int, default=100, help="draws for warm vs cold")
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()
    job = load_job("outages", draws=args.draws)
    rows = [("this process", throughput(job, InlineExecutor(), None))]
    reference = rows[0][1]["results"]
    for n in (1, 2):
        rows.append((f"local pool, {n} worker(s)", throughput(job, LocalPool(n), reference)))
    if not args.skip_dask:
        from distributed import Client

        started = time.perf_counter()
        with local_cluster(2) as cluster, Client(cluster) as client:
            client.wait_for_workers(2)
            cluster_start = time.perf_counter() - started
            r = throughput(job, DaskExecutor(client=client), reference)
            r["wall"] += cluster_start
            r["first"] += cluster_start
            r["rate"] = r["draws"] / r["wall"]
            rows.append(("Dask LocalCluster, 2 workers", r))
    costs = warm_vs_cold(job, min(args.compare, args.draws))
    text = table(rows, costs, args)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()

"""Corridor's steady-state gas solver against pandapipes on the same networks and equations.

    python benchmarks/hydraulics_vs_pandapipes.py            # grids 100 .. 20 000 pipes + GasLib
    python benchmarks/hydraulics_vs_pandapipes.py --quick    # smoke run, a few seconds
    python benchmarks/hydraulics_vs_pandapipes.py --sizes 1000 10000 --repeat 5

Needs pandapipes (`pip install pandapipes`). Both solvers run in this one process, one after
the other, on the same network: synthetic meshed grids (`corridor.hydraulics.synthetic`, with
heights) and the GasLib instances in tests/data/gaslib at the operating point Corridor finds
(the same regulator states and set points are given to pandapipes). Same equations: Colebrook-
White friction, pandapipes' linear compressibility Z = 1 - 0.0022 p, the same gas (normal density,
constant viscosity), temperature and heights. Tolerances: Corridor stops at residuals below
1e-8 bar and 1e-10 of the throughput; pandapipes runs with tol_p = tol_m = 1e-8.

Times are wall clock, best of --repeat runs:
  corridor   solve(model) on the fixed operating point: structure, start, Newton, results;
  pandapipes pipeflow(net) on a net built beforehand (its table-to-array setup is inside);
  operate    (GasLib only) Corridor's full solve including its search for regulator modes and
             set points from the published data (pandapipes has no such logic).
The table goes to stdout and to benchmarks/results/hydraulics_vs_pandapipes.md.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from corridor.hydraulics import model_from_network, solve
from corridor.hydraulics.reference import absolute_pressures, to_pandapipes
from corridor.hydraulics.synthetic import grid_size_for, synthetic_grid
from corridor.io.gaslib import read_gaslib

ROOT = Path(__file__).resolve().parents[1]
GASLIB = ROOT / "tests" / "data" / "gaslib"
SHARED = ROOT.parent / "shared" / "data" / "gaslib"
RESULTS = ROOT / "benchmarks" / "results" / "hydraulics_vs_pandapipes.md"
DEFAULT_SIZES = (100, 1_000, 5_000, 10_000, 20_000)
INSTANCES = (("GasLib-11", "GasLib-11.scn"), ("GasLib-24", "GasLib-24.scn"),
             ("GasLib-40", "GasLib-40.scn"), ("GasLib-135", "GasLib-135.scn"),
             ("GasLib-582", "nomination_cold_8.scn"))


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, value = np.inf, None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - started)
    return best, value


def pandapipes_run(net) -> int:
    import pandapipes as pp

    pp.pipeflow(net, friction_model="colebrook", mode="hydraulics", tol_p=1e-8, tol_m=1e-8,
                max_iter_hyd=100)
    return int(net._internal_results["iterations_hydraulics"])


def compare(name: str, model, repeat: int, operate_seconds: float | None = None) -> dict:
    t_ours, result = best_of(repeat, lambda: solve(model))
    row = {"network": name, "pipes": int((model.kind == "pipe").sum()),
           "elements": model.n_elements, "nodes": model.n_nodes,
           "corridor_s": t_ours, "corridor_iter": result.iterations,
           "operate_s": operate_seconds, "pandapipes_s": np.nan, "pandapipes_iter": None,
           "ratio": np.nan, "max_rel_dp": np.nan, "note": ""}
    if not result.converged:
        row["note"] = f"corridor: {result.message}"
        return row
    net = to_pandapipes(result.model, result.state, result.flow_kg_s)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_pp, iters = best_of(repeat, lambda: pandapipes_run(net))
    except Exception as exc:  # pandapipes raises its own PipeflowNotConverged
        row["note"] = f"pandapipes: {type(exc).__name__}"
        return row
    theirs = absolute_pressures(net, result.model)
    ok = np.isfinite(theirs) & (result.pressure_bar > 0)
    row.update(pandapipes_s=t_pp, pandapipes_iter=iters, ratio=t_pp / t_ours,
               max_rel_dp=float(np.max(np.abs(theirs[ok] - result.pressure_bar[ok])
                                       / result.pressure_bar[ok])))
    if np.any(result.pressure_bar <= 0):
        row["note"] = "some nodes need negative pressure (infeasible operating point)"
    elif result.violations:
        row["note"] = f"{len(result.violations)} bound violation(s) at this operating point"
    return row


def gaslib_cases(repeat: int):
    for name, scn in INSTANCES:
        folder = GASLIB / name if (GASLIB / name / scn).is_file() else SHARED / name
        if not (folder / scn).is_file():
            continue
        net = read_gaslib(folder / f"{name}.net", folder / scn)
        model = model_from_network(net, friction="colebrook", compressibility="linear")
        t_operate, result = best_of(repeat, lambda m=model: solve(m))
        yield name, result.operating_point(), t_operate


def fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    return format(value, spec)


def table(rows: list[dict]) -> str:
    head = ("| network | pipes | elements | Corridor s (iter) | pandapipes s (iter) | speed-up | "
            "max rel. pressure diff | Corridor with operating search s | note |")
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        lines.append(
            f"| {r['network']} | {r['pipes']} | {r['elements']} | "
            f"{fmt(r['corridor_s'], '.4f')} ({r['corridor_iter']}) | "
            f"{fmt(r['pandapipes_s'], '.4f')} ({fmt(r['pandapipes_iter'], 'd')}) | "
            f"{fmt(r['ratio'], '.1f')}x | {fmt(r['max_rel_dp'], '.1e')} | "
            f"{fmt(r['operate_s'], '.3f')} | {r['note']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES),
                        help="approximate numbers of pipes of the synthetic grids")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best is kept)")
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--no-gaslib", action="store_true", help="skip the GasLib instances")
    args = parser.parse_args()
    sizes, repeat = (([100, 1000], 1) if args.quick else (args.sizes, args.repeat))
    import pandapipes

    rows = []
    for pipes in sizes:
        rows_cols = grid_size_for(pipes)
        model = synthetic_grid(*rows_cols, friction="colebrook", compressibility="linear")
        rows.append(compare(f"grid {rows_cols[0]}x{rows_cols[1]}", model, repeat))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    if not args.no_gaslib:
        for name, model, t_operate in gaslib_cases(repeat):
            rows.append(compare(name, model, repeat, t_operate))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    try:
        import numba  # noqa: F401

        accel = "with numba"
    except ImportError:
        accel = "without numba (its optional accelerator)"
    header = (f"Corridor vs pandapipes {pandapipes.__version__} {accel}; Python "
              f"{platform.python_version()} on {platform.machine()}, best of {repeat}; "
              "Colebrook-White, linear Z, same gas, temperature and heights.\n")
    text = header + "\n" + table(rows) + "\n"
    print("\n" + text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

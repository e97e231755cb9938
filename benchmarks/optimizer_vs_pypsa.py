"""Corridor's least-cost flow optimiser against PyPSA (linopy) on the same synthetic gas networks.

Each (size, tool) case runs in a fresh spawned child process, so that its peak memory
(`ru_maxrss`) belongs to that case alone; the parent only collects the numbers and prints one
table. Both tools get the same data, the same HiGHS version and the same HiGHS options (one
thread, one algorithm), and their objectives are compared.

    python benchmarks/optimizer_vs_pypsa.py                 # ~11 k .. ~1 M variables, ~10 min
    python benchmarks/optimizer_vs_pypsa.py --quick --repeat 1         # smoke run, ~20 s
    python benchmarks/optimizer_vs_pypsa.py --sizes 50 500 --periods 12 --solver ipm

Timing phases (wall clock, seconds):
  build  data tables -> LP in memory.  Corridor: build_network (validation, units) +
         build_flow_model.  PyPSA: Network + add components + create_model (linopy).
  solve  everything after: hand the LP to HiGHS, HiGHS run, read the solution back.
         Corridor: solve() + read_results().  PyPSA: optimize.solve_model() (incl. assign_*).
  highs  HiGHS's own run (`Highs.run()`) inside `solve`.
  total  build + solve (CPU: the process's CPU time over the same span).
  assembly (Corridor) = build_flow_model + hand-off to HiGHS (solve - highs - read-back).
Peak memory: the child's RSS high-water mark minus its RSS after imports and data generation.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import multiprocessing
import os
import platform
import resource
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_SIZES = (12, 120, 350, 1200)
QUICK_SIZES = (6, 24)
RESULTS = Path(__file__).resolve().parent / "results"
OBJECTIVE_TOLERANCE = 1e-6
TARGET_RATIO = 0.5
TARGET_ASSEMBLY = 0.10
ASSEMBLY_AT = 1_000_000  # the assembly target applies from this many variables
IMPORTS = {"corridor": ("corridor.validation", "corridor.optimize", "corridor.optimize.solve"),
           "pypsa": ("pypsa", "linopy.solvers", "corridor.periods", "corridor.validation",
                     "corridor.interchange.pypsa")}


# ----------------------------------------------------------------------------- synthetic data


@dataclass
class Synthetic:
    """One synthetic network as Corridor's raw tables plus daily profiles (period 1..365)."""

    tables: dict[str, pd.DataFrame]
    profiles: pd.DataFrame


def _ring_and_chords(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A directed ring over all nodes plus ~n/2 random chords: ~1.5 links per node."""
    frm, to = list(range(n)), [(i + 1) % n for i in range(n)]
    seen = set(zip(frm, to, strict=True))
    while len(frm) < n + n // 2:
        a, b = (int(x) for x in rng.integers(0, n, 2))
        if a != b and (a, b) not in seen and (b, a) not in seen:
            seen.add((a, b))
            frm.append(a)
            to.append(b)
    return np.array(frm), np.array(to)


def _links(rng: np.random.Generator, nodes: list[str]) -> pd.DataFrame:
    """Links with random capacity and tariff; ~20 % reversible with 0.5 % loss."""
    frm, to = _ring_and_chords(rng, len(nodes))
    k = len(frm)
    capacity = rng.uniform(20.0, 100.0, k)
    reversible = rng.random(k) < 0.2
    return pd.DataFrame({
        "id": [f"L{i:05d}" for i in range(k)],
        "from": np.asarray(nodes)[frm], "to": np.asarray(nodes)[to],
        "capacity": capacity, "unit": "mcm/d",
        "tariff": rng.uniform(0.5, 5.0, k).round(3),
        "loss": np.where(reversible, 0.005, 0.0),
        "reverse_capacity": np.where(reversible, capacity * rng.uniform(0.5, 1.0, k), 0.0),
    })


def _daily_profiles(rng: np.random.Generator) -> pd.DataFrame:
    """Seasonal demand shapes (winter peak, three phases) and a mild production profile."""
    day = np.arange(1, 366)
    columns = {"period": day}
    for j, phase in enumerate((0, 10, 25)):
        season = 1.0 + 0.5 * np.cos(2 * np.pi * (day - 15 - phase) / 365)
        columns[f"demand{j}"] = (season * rng.uniform(0.95, 1.05, 365)).round(4)
    columns["production"] = (0.95 + 0.05 * np.cos(2 * np.pi * (day - 200) / 365)).round(4)
    return pd.DataFrame(columns)


def _pick(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """Sorted positions of a random `share` of `n` nodes (at least one)."""
    return np.sort(rng.choice(n, max(1, round(share * n)), replace=False))


def synthetic_network(n_nodes: int, seed: int = 7) -> Synthetic:
    """A connected random gas network: supplies on ~10 % of nodes, demands on ~40 %, storages."""
    rng = np.random.default_rng(seed + n_nodes)
    nodes = [f"N{i:05d}" for i in range(n_nodes)]
    d_at, s_at, st_at = (_pick(rng, n_nodes, share) for share in (0.4, 0.1, 0.02))
    amount = rng.uniform(5.0, 40.0, len(d_at))
    peak_demand = 1.5 * amount.sum()
    demands = pd.DataFrame({
        "id": [f"D{i:05d}" for i in range(len(d_at))], "node": np.asarray(nodes)[d_at],
        "amount": amount, "unit": "mcm/d", "value": 2000.0,
        "profile": [f"demand{i % 3}" for i in range(len(d_at))],
    })
    supplies = pd.DataFrame({
        "id": [f"S{i:05d}" for i in range(len(s_at))], "node": np.asarray(nodes)[s_at],
        "capacity": 1.1 * peak_demand / len(s_at) * rng.uniform(0.7, 1.3, len(s_at)),
        "unit": "mcm/d", "cost": rng.uniform(80.0, 250.0, len(s_at)).round(2),
        "profile": "production",
    })
    volume = rng.uniform(500.0, 3000.0, len(st_at))
    storages = pd.DataFrame({
        "id": [f"U{i:05d}" for i in range(len(st_at))], "node": np.asarray(nodes)[st_at],
        "volume": volume, "volume_unit": "mcm", "rate": volume / 60.0, "rate_unit": "mcm/d",
        "initial": 0.5, "cost": 1.0,
    })
    tables = {"nodes": pd.DataFrame({"id": nodes, "carrier": "gas"}), "links": _links(rng, nodes),
              "supplies": supplies, "demands": demands, "storages": storages, "targets": None}
    return Synthetic(tables, _daily_profiles(rng))


# ----------------------------------------------------------------------------- the two tools


@dataclass
class Case:
    """What one (tool, size) run measured."""

    tool: str
    nodes: int
    variables: int = 0
    constraints: int = 0
    build: float = 0.0
    solve: float = 0.0
    highs: float = 0.0
    total: float = 0.0
    cpu: float = 0.0  # process CPU seconds over build + solve: less sensitive to other load
    assembly: float = float("nan")
    objective: float = float("nan")
    status: str = ""
    baseline_mb: float = 0.0
    peak_mb: float = 0.0  # high-water mark above the baseline
    build_peak_mb: float = 0.0  # the same, at the end of the build phase
    load: float = 0.0  # 1-minute load average at the end: other work on the machine
    detail: dict = field(default_factory=dict)


def run_corridor(data: Synthetic, periods: int, options: dict, case: Case) -> None:
    """Validate the tables, assemble the LP, solve it and read the results back."""
    from corridor.optimize import build_flow_model, read_results
    from corridor.optimize.resolvable import solve
    from corridor.validation import build_network

    t0 = time.perf_counter()
    net = build_network(data.tables, profiles=data.profiles)
    t1 = time.perf_counter()
    model = build_flow_model(net, periods)
    t2 = time.perf_counter()
    case.build_peak_mb = _peak_mb() - case.baseline_mb
    solution = solve(model.lp, options)
    t3 = time.perf_counter()
    read_results(model, solution)
    t4 = time.perf_counter()
    case.build, case.solve, case.total = t2 - t0, t4 - t2, t4 - t0
    case.highs = solution.solve_seconds
    handoff = t3 - t2 - solution.solve_seconds
    case.assembly = (t2 - t1) + handoff
    case.detail = {"network": t1 - t0, "model": t2 - t1, "handoff": handoff, "readback": t4 - t3}
    case.variables, case.constraints = model.lp.n_cols, model.lp.n_rows
    case.objective, case.status = solution.objective, solution.status
    case.detail["iterations"] = solution.iterations


def corridor_network(data: Synthetic):
    """The synthetic tables as a checked Corridor network."""
    from corridor.validation import build_network

    return build_network(data.tables, profiles=data.profiles)


def pypsa_network(net, periods: int):
    """The same network in PyPSA, by Corridor's supported exporter (corridor.interchange.pypsa):
    a Link per direction, Generators, Loads + shedding Generators, StorageUnits."""
    from corridor.interchange.pypsa import to_pypsa

    return to_pypsa(net, periods)


def _series(shape: pd.DataFrame, table: pd.DataFrame, snapshots: pd.Index) -> pd.DataFrame:
    """(snapshots x rows) profile multipliers named by each row's id."""
    values = shape[table["profile"].to_numpy()].to_numpy()
    return pd.DataFrame(values, index=snapshots, columns=table["id"].to_numpy())


def _time_highs_runs() -> list[float]:
    """Record the duration of each `Highs.run()` that linopy makes."""
    import linopy.solvers

    seconds: list[float] = []
    original = linopy.solvers._run_highs_with_keyboard_interrupt

    def timed(h):
        start = time.perf_counter()
        original(h)
        seconds.append(time.perf_counter() - start)

    linopy.solvers._run_highs_with_keyboard_interrupt = timed
    return seconds


def run_pypsa(data: Synthetic, periods: int, options: dict, case: Case, io_api: str) -> None:
    """Build the PyPSA network, create the linopy model, solve it with HiGHS."""
    for name in ("pypsa", "linopy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)  # pandas-3 string dtype notices
    highs_runs = _time_highs_runs()
    net = corridor_network(data)  # Corridor's checks are not PyPSA's build time
    t0 = time.perf_counter()
    n = pypsa_network(net, periods)
    t1 = time.perf_counter()
    model = n.optimize.create_model(include_objective_constant=False)
    t2 = time.perf_counter()
    case.build_peak_mb = _peak_mb() - case.baseline_mb
    status, condition = n.optimize.solve_model(solver_name="highs", solver_options=options,
                                               io_api=io_api, progress=False)
    t3 = time.perf_counter()
    case.build, case.solve, case.highs, case.total = t2 - t0, t3 - t2, sum(highs_runs), t3 - t0
    case.detail = {"network": t1 - t0, "model": t2 - t1}
    case.variables, case.constraints = int(model.nvars), int(model.ncons)
    case.objective = float(n.objective) + float(n.objective_constant or 0.0) + \
        n.meta["corridor"]["objective_constant"]
    case.status = condition if status == "ok" else f"{status}/{condition}"
    info = n.model.solver_model.getInfo()
    case.detail["iterations"] = max(info.simplex_iteration_count, 0) + max(
        info.ipm_iteration_count, 0)


def run_case(tool: str, n_nodes: int, periods: int, options: dict, io_api: str) -> Case:
    """One case in this (child) process: import, generate data, measure, report memory."""
    import psutil

    for module in IMPORTS[tool]:  # before the baseline, so that no phase pays for an import
        importlib.import_module(module)
    data = synthetic_network(n_nodes)
    gc.collect()
    case = Case(tool, n_nodes, baseline_mb=psutil.Process().memory_info().rss / 2**20)
    cpu = time.process_time()
    if tool == "corridor":
        run_corridor(data, periods, options, case)
    else:
        run_pypsa(data, periods, options, case, io_api)
    case.cpu = time.process_time() - cpu
    case.peak_mb = _peak_mb() - case.baseline_mb
    case.load = os.getloadavg()[0]
    return case


def _peak_mb() -> float:
    """This process's RSS high-water mark in MiB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_child(*args) -> Case:
    """Run one case in a fresh spawned process, so its memory high-water mark is its own."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(run_case, args)


def best_of(repeat: int, *args) -> Case:
    """The run with the smallest total time out of `repeat` fresh-process runs of one case."""
    return min((in_child(*args) for _ in range(max(1, repeat))), key=lambda case: case.total)


# ----------------------------------------------------------------------------- reporting


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1.0)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 else "-"


def table_rows(pairs: list[tuple[Case, Case]]) -> list[list[str]]:
    """Rows of the result table: Corridor, PyPSA and their ratio for each size."""
    rows = []
    for c, p in pairs:
        for x in (c, p):
            rows.append([str(x.nodes), f"{x.variables:,}", f"{x.constraints:,}", x.tool,
                         f"{x.build:.2f}", f"{x.solve:.2f}", f"{x.highs:.2f}", f"{x.total:.2f}",
                         f"{x.cpu:.2f}", f"{x.peak_mb:.0f}", f"{x.baseline_mb:.0f}",
                         f"{x.objective:.8e}", x.status])
        rows.append(["", "", "", "**ratio C/P**", _ratio(c.build, p.build),
                     _ratio(c.solve, p.solve), _ratio(c.highs, p.highs),
                     _ratio(c.total, p.total), _ratio(c.cpu, p.cpu), _ratio(c.peak_mb, p.peak_mb),
                     _ratio(c.baseline_mb, p.baseline_mb),
                     f"rel diff {_rel(c.objective, p.objective):.1e}", ""])
    return rows


HEADER = ["nodes", "variables", "rows", "tool", "build s", "solve s", "HiGHS s", "total s",
          "CPU s", "peak MB", "base MB", "objective", "status"]
TARGET_HEADER = ["nodes", "variables", "total C/P (<= 0.5)", "CPU C/P", "peak C/P (<= 0.5)",
                 "assembly / HiGHS (<= 10 %)", "objectives agree (< 1e-6)"]


def _mark(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def target_rows(pairs: list[tuple[Case, Case]]) -> list[list[str]]:
    """Each target of docs/design.md 'Performance', met or not, per size."""
    rows = []
    for c, p in pairs:
        total, peak = c.total / p.total, c.peak_mb / max(p.peak_mb, 1e-9)
        share, diff = c.assembly / c.highs, _rel(c.objective, p.objective)
        rows.append([str(c.nodes), f"{c.variables:,}",
                     f"{total:.2f} {_mark(total <= TARGET_RATIO)}", _ratio(c.cpu, p.cpu),
                     f"{peak:.2f} {_mark(peak <= TARGET_RATIO)}",
                     f"{share:.1%} " + (_mark(share <= TARGET_ASSEMBLY)
                                        if c.variables >= ASSEMBLY_AT else "(target at 1 M)"),
                     f"{diff:.1e} {_mark(diff < OBJECTIVE_TOLERANCE)}"])
    return rows


def detail_rows(pairs: list[tuple[Case, Case]]) -> list[list[str]]:
    """Where the build time goes, per tool and size."""
    rows = []
    for c, p in pairs:
        d, e = c.detail, p.detail
        rows.append([str(c.nodes), f"{d['network']:.2f}", f"{d['model']:.2f}",
                     f"{d['handoff']:.2f}", f"{c.highs:.2f}", f"{d['readback']:.2f}",
                     f"{d['iterations']:,}", f"{c.build_peak_mb:.0f}", f"{e['network']:.2f}",
                     f"{e['model']:.2f}", f"{p.solve - p.highs:.2f}", f"{p.highs:.2f}",
                     f"{e['iterations']:,}", f"{p.build_peak_mb:.0f}",
                     f"{c.load:.1f} / {p.load:.1f}"])
    return rows


DETAIL_HEADER = ["nodes", "C network", "C model", "C hand-off", "C HiGHS", "C read-back",
                 "C iterations", "C build MB", "P network", "P create_model",
                 "P solve_model - HiGHS", "P HiGHS", "P iterations", "P build MB", "load C / P"]


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def show(title: str, header: list[str], rows: list[list[str]]) -> None:
    """Print a table with rich."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for h in header:
        table.add_column(h, justify="right")
    for r in rows:
        table.add_row(*(cell.replace("**", "") for cell in r))
    Console(width=200).print(table)


def versions() -> str:
    """Versions of the libraries that matter for the numbers."""
    from importlib.metadata import version

    names = ("corridor", "pypsa", "linopy", "highspy", "numpy", "scipy", "pandas", "xarray")
    return ", ".join(f"{n} {version(n)}" for n in names)


# ----------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = " ".join(map(str, DEFAULT_SIZES))
    ap.add_argument("--sizes", type=int, nargs="+", help=f"node counts (default: {default})")
    ap.add_argument("--periods", type=int, default=365, help="periods of the year (default 365)")
    ap.add_argument("--quick", action="store_true", help=f"smoke run: sizes {QUICK_SIZES}")
    ap.add_argument("--solver", choices=("simplex", "ipm"), default="simplex",
                    help="HiGHS algorithm, the same for both tools (default: dual simplex; "
                    "ipm runs with crossover and is ~5x slower on these networks)")
    ap.add_argument("--io-api", choices=("direct", "lp", "mps"), default="direct",
                    help="how linopy hands the model to HiGHS (default direct: no file)")
    ap.add_argument("--repeat", type=int, default=2,
                    help="runs per case, keeping the fastest (default 2: HiGHS times vary by "
                    "~20 %% from run to run on a shared machine)")
    ap.add_argument("--output", type=Path, default=RESULTS / "optimizer_vs_pypsa.md")
    return ap.parse_args(argv)


def highs_options(solver: str) -> dict:
    """The HiGHS options passed verbatim to both tools."""
    extra = {"simplex_strategy": 1} if solver == "simplex" else {"run_crossover": "on"}
    return {"solver": solver, **extra, "threads": 1, "presolve": "on", "random_seed": 0,
            "output_flag": False}


def main(argv=None) -> None:
    args = parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    options = highs_options(args.solver)
    pairs = []
    for n_nodes in sizes:
        start = time.perf_counter()
        c, p = (best_of(args.repeat, tool, n_nodes, args.periods, options, args.io_api)
                for tool in ("corridor", "pypsa"))
        pairs.append((c, p))
        print(f"{n_nodes} nodes, {c.variables:,} variables: corridor {c.total:.1f} s, "
              f"pypsa {p.total:.1f} s (case wall {time.perf_counter() - start:.0f} s)", flush=True)
    setup = (f"{args.periods} periods; HiGHS options {options}; linopy io_api={args.io_api}; "
             f"best total of {args.repeat} run(s) per case; "
             f"{platform.processor() or platform.machine()}, {multiprocessing.cpu_count()} cores")
    show("Corridor vs PyPSA: build + solve", HEADER, table_rows(pairs))
    show("Targets (docs/design.md, Performance)", TARGET_HEADER, target_rows(pairs))
    show("Where the time goes (s)", DETAIL_HEADER, detail_rows(pairs))
    print(setup + "\n" + versions())
    write_markdown(args.output, pairs, setup)


def write_markdown(path: Path, pairs: list[tuple[Case, Case]], setup: str) -> None:
    """The three tables and the set-up as one markdown file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join([
        "# Corridor vs PyPSA: least-cost flow build + solve",
        f"{setup}.  \n{versions()}.  \nPeak = RSS high-water mark of the case's own process "
        "minus its RSS after imports and data generation (base).",
        markdown(HEADER, table_rows(pairs)),
        "## Targets", markdown(TARGET_HEADER, target_rows(pairs)),
        "## Where the time goes (s)", markdown(DETAIL_HEADER, detail_rows(pairs)),
    ]) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

"""Corridor's investment plan against PyPSA's multi-period expansion on the same gas network.

Issue 12's check of continuous expansion: one seeded synthetic gas network (the one
optimizer_vs_pypsa.py builds) plus proposed links with `expansion: continuous`, capex and
lifetime, planned over investment periods with growing demand, first by `corridor.plan.plan`,
then by PyPSA (`n.optimize(multi_investment_periods=True)`), in this one process. Both hand the
LP to the same HiGHS with the same options; the two objectives must agree to 1e-6 relative.

    python benchmarks/planning_vs_pypsa.py                      # 150 nodes, 3 x 52 periods, ~50 s
    python benchmarks/planning_vs_pypsa.py --nodes 40 --periods 12        # smoke run, ~20 s
    python benchmarks/planning_vs_pypsa.py --values             # plan() also values each build

Timing phases (wall clock, seconds):
  build  data tables -> networks.  Corridor: build_network (checks, units).  PyPSA: Network,
         investment periods and weightings, `add` of every component.
  solve  Corridor: plan() (plan LP, HiGHS, the LP again with the builds fixed, each year's
         results and accounts).  PyPSA: n.optimize() (linopy model, HiGHS, solution and duals
         written back).
  HiGHS  every `Highs.run()` inside `solve`, summed.
  total  build + solve: the whole process the ratio (target <= 0.5) is taken on.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import platform
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from optimizer_vs_pypsa import (
    Synthetic,
    _series,
    highs_options,
    markdown,
    show,
    synthetic_network,
)

RESULTS = Path(__file__).resolve().parent / "results"
YEARS = (2025, 2030, 2035)
DISCOUNT_RATE = 0.07
LIFETIMES = (10.0, 20.0, 30.0, 40.0)  # years; 10 retires a 2025 build before 2035
OBJECTIVE_TOLERANCE = 1e-6
TARGET_RATIO = 0.5


# ----------------------------------------------------------------------------- the plan's data


@dataclass
class PlanCase:
    """The synthetic network with proposed links and demand paths, and the horizon."""

    data: Synthetic
    years: tuple[int, ...]
    rate: float
    periods: int

    @property
    def projects(self) -> pd.DataFrame:
        links = self.data.tables["links"]
        return links[links["status"] == "proposed"]

    def weights(self) -> np.ndarray:
        """Calendar years each modelled year stands for: up to the next; the last as the step
        before it."""
        gaps = np.diff(self.years)
        return np.append(gaps, gaps[-1] if len(gaps) else 1)

    def objective_weights(self) -> np.ndarray:
        """Per modelled year y_k: sum over j < weight_k of (1+r)^-(y_k + j - first year), what
        one USD a year over its step is worth in the first year's money."""
        first = self.years[0]
        return np.array([sum((1.0 + self.rate) ** -(year + j - first) for j in range(weight))
                         for year, weight in zip(self.years, self.weights(), strict=True)])

    def annuity(self) -> pd.Series:
        """USD per year per mcm/d of each proposed link: capex x r / (1 - (1+r)^-lifetime)
        / capacity."""
        p, r = self.projects, self.rate
        recovery = r / (1.0 - (1.0 + r) ** -p["lifetime"])
        return (p["capex"] * recovery / p["capacity"]).set_axis(p["id"])

    def demand_factor(self) -> pd.DataFrame:
        """(years x demands) demand growth factor, from paths.csv."""
        paths = self.data.tables["paths"]
        return paths.pivot(index="year", columns="id", values="factor").loc[list(self.years)]


def proposed_links(rng: np.random.Generator, links: pd.DataFrame, nodes: list[str],
                   count: int) -> pd.DataFrame:
    """`count` proposed one-way links with continuous expansion: half loop existing links (same
    ends), half are new chords; capex 0.02-0.3 M USD per mcm/d, lifetime 10-40 years."""
    loops = links.iloc[rng.choice(len(links), count // 2, replace=False)]
    frm, to = list(loops["from"]), list(loops["to"])
    while len(frm) < count:
        a, b = rng.choice(nodes, 2, replace=False)
        frm.append(str(a))
        to.append(str(b))
    capacity = rng.uniform(20.0, 80.0, count)
    return pd.DataFrame({
        "id": [f"P{i:04d}" for i in range(count)], "from": frm, "to": to,
        "capacity": capacity, "unit": "mcm/d", "tariff": rng.uniform(0.5, 5.0, count).round(3),
        "loss": np.where(rng.random(count) < 0.5, 0.005, 0.0), "reverse_capacity": 0.0,
        "status": "proposed", "expansion": "continuous",
        "capex": (capacity * rng.uniform(0.02e6, 0.3e6, count)).round(0),
        "lifetime": rng.choice(LIFETIMES, count),
    })


def plan_case(n_nodes: int, periods: int, seed: int = 11) -> PlanCase:
    """The synthetic network of optimizer_vs_pypsa.py with ~n/4 proposed links and every
    demand growing by 0-40 % from the first to the last modelled year (paths.csv)."""
    data = synthetic_network(n_nodes)
    rng = np.random.default_rng(seed + n_nodes)
    tables = dict(data.tables)
    existing = tables["links"].assign(status="operating")
    nodes = list(tables["nodes"]["id"])
    tables["links"] = pd.concat([existing, proposed_links(rng, existing, nodes,
                                                          max(2, n_nodes // 4))],
                                ignore_index=True)
    growth = rng.uniform(0.0, 0.4, len(tables["demands"]))
    share = (np.array(YEARS) - YEARS[0]) / (YEARS[-1] - YEARS[0])
    tables["paths"] = pd.DataFrame({
        "id": np.repeat(tables["demands"]["id"].to_numpy(), len(YEARS)),
        "year": np.tile(YEARS, len(growth)),
        "factor": (1.0 + growth[:, None] * share[None, :]).ravel().round(4),
    })
    return PlanCase(Synthetic(tables, data.profiles), YEARS, DISCOUNT_RATE, periods)


# ----------------------------------------------------------------------------- the two tools


@dataclass
class Run:
    """What one tool's run measured."""

    tool: str
    variables: int = 0
    constraints: int = 0
    build: float = 0.0
    solve: float = 0.0
    highs_runs: list[float] = field(default_factory=list)  # seconds of each HiGHS run
    objective: float = float("nan")
    constant: float = 0.0  # objective constant, removed before comparing
    status: str = ""
    capacity: pd.DataFrame = field(default_factory=pd.DataFrame)  # years x projects, mcm/d
    prices: pd.DataFrame = field(default_factory=pd.DataFrame)  # (year, period) x node, USD/mcm

    @property
    def highs(self) -> float:
        return sum(self.highs_runs)

    @property
    def total(self) -> float:
        return self.build + self.solve

    @property
    def variable_part(self) -> float:
        return self.objective - self.constant


class HighsTimer:
    """Times every HiGHS run of either tool: Corridor calls `highspy._Highs.run`, linopy
    `highspy.Highs.run`, which inherits it."""

    def __init__(self):
        import highspy

        self.seconds: list[float] = []
        timer, original = self, highspy._Highs.run

        def timed(h, *args, **kwargs):
            start = time.perf_counter()
            try:
                return original(h, *args, **kwargs)
            finally:
                timer.seconds.append(time.perf_counter() - start)

        highspy._Highs.run = timed

    def take(self) -> list[float]:
        """Seconds of each run since the last take."""
        out = list(self.seconds)
        self.seconds.clear()
        return out


def run_corridor(case: PlanCase, options: dict, values: bool, timer: HighsTimer) -> Run:
    """build_network, then plan() over the network.yaml `planning` horizon."""
    from corridor.network import NetworkMeta, Planning
    from corridor.plan import plan
    from corridor.validation import build_network

    run = Run("corridor")
    timer.take()
    t0 = time.perf_counter()
    meta = NetworkMeta(name="planning-bench", planning=Planning(
        years=list(case.years), discount_rate=case.rate, periods=case.periods))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = build_network(case.data.tables, profiles=case.data.profiles, meta=meta)
    t1 = time.perf_counter()
    result = plan(net, gap=0.0, options=options, values=values)
    t2 = time.perf_counter()
    run.build, run.solve = t1 - t0, t2 - t1
    run.highs_runs = timer.take()
    run.status = result.status
    run.variables, run.constraints = result.model.lp.n_cols, result.model.lp.n_rows
    run.objective, run.constant = result.objective, result.model.lp.offset
    if result.optimal:
        run.capacity = result.capacity().T.rename_axis(index="year", columns="project")
        run.prices = pd.concat({y: r.prices for y, r in result.years.items()})
    return run


def pypsa_network(case: PlanCase):
    """The same plan in PyPSA: investment periods weighted as Corridor weighs its years, one
    extendable Link per proposed link and possible build year, loads growing per period."""
    import pypsa

    from corridor.interchange.pypsa import add_links
    from corridor.periods import period_days, resample

    t, years = case.data.tables, list(case.years)
    shape = resample(case.data.profiles.set_index("period"), case.periods)
    n = pypsa.Network()
    n.set_snapshots(pd.MultiIndex.from_product([years, range(case.periods)],
                                               names=["period", "timestep"]))
    n.investment_periods = years
    n.investment_period_weightings["years"] = case.weights().astype(float)
    n.investment_period_weightings["objective"] = case.objective_weights()
    n.snapshot_weightings.loc[:, :] = np.tile(period_days(case.periods), len(years))[:, None]
    n.add("Carrier", "gas")
    n.add("Bus", t["nodes"]["id"], carrier="gas")
    links = t["links"][t["links"]["status"] == "operating"].set_index("id")
    add_links(n, links)  # corridor.interchange.pypsa: a Link per direction, losses both ways
    sup = t["supplies"]
    n.add("Generator", sup["id"], bus=sup["node"].to_numpy(), p_nom=sup["capacity"].to_numpy(),
          marginal_cost=sup["cost"].to_numpy(),
          p_max_pu=_per_period(_series(shape, sup, range(case.periods)), n.snapshots))
    dem = t["demands"]
    growth = case.demand_factor()[dem["id"]].to_numpy()  # years x demands
    profile = _per_period(_series(shape, dem, range(case.periods)), n.snapshots)
    load = profile * np.repeat(growth, case.periods, axis=0) * dem["amount"].to_numpy()
    n.add("Load", "load_" + dem["id"], bus=dem["node"].to_numpy(),
          p_set=load.set_axis("load_" + dem["id"], axis=1))
    peak = dem["amount"].to_numpy() * growth.max(axis=0)
    n.add("Generator", "shed_" + dem["id"], bus=dem["node"].to_numpy(), p_nom=peak,
          marginal_cost=dem["value"].to_numpy(),
          p_max_pu=(load / peak).set_axis("shed_" + dem["id"], axis=1))
    st = t["storages"]
    n.add("StorageUnit", st["id"], bus=st["node"].to_numpy(), p_nom=st["rate"].to_numpy(),
          max_hours=(st["volume"] / st["rate"]).to_numpy(), marginal_cost=st["cost"].to_numpy(),
          cyclic_state_of_charge=True, cyclic_state_of_charge_per_period=True,
          efficiency_store=1.0, efficiency_dispatch=1.0)
    _proposed_pypsa_links(n, case)
    return n


def _per_period(frame: pd.DataFrame, snapshots: pd.MultiIndex) -> pd.DataFrame:
    """A (periods of one year x rows) frame repeated for every investment period."""
    reps = len(snapshots) // len(frame)
    return pd.DataFrame(np.tile(frame.to_numpy(), (reps, 1)), index=snapshots,
                        columns=frame.columns)


def _proposed_pypsa_links(n, case: PlanCase) -> None:
    """Link `<id>@<year>` per proposed link and modelled year: extendable up to the link's
    capacity, built in that year, retired after its lifetime, charged its annuity per mcm/d in
    every period it is active."""
    p = case.projects
    for year in case.years:
        n.add("Link", p["id"] + f"@{year}", bus0=p["from"].to_numpy(), bus1=p["to"].to_numpy(),
              efficiency=1.0 - p["loss"].to_numpy(), marginal_cost=p["tariff"].to_numpy(),
              p_nom=0.0, p_nom_extendable=True, p_nom_max=p["capacity"].to_numpy(),
              capital_cost=case.annuity().to_numpy(), build_year=year,
              lifetime=p["lifetime"].to_numpy())


def build_once(case: PlanCase):
    """extra_functionality: each proposed link is built at most once over the horizon, its
    builds in all years together at most its capacity (Corridor's `build_once` row)."""
    import xarray as xr

    def constrain(n, snapshots) -> None:
        p_nom = n.model["Link-p_nom"]
        names = pd.Index(p_nom.coords[p_nom.dims[0]].values)
        proposed = names[names.str.contains("@")]
        project = xr.DataArray(proposed.str.split("@").str[0], dims=p_nom.dims[0],
                               coords={p_nom.dims[0]: proposed}, name="project")
        total = p_nom.sel({p_nom.dims[0]: proposed}).groupby(project).sum()
        capacity = xr.DataArray(case.projects.set_index("id")["capacity"], dims="project")
        n.model.add_constraints(total <= capacity, name="Link-build_once")

    return constrain


def run_pypsa(case: PlanCase, options: dict, io_api: str, timer: HighsTimer) -> Run:
    """Build the PyPSA network and run n.optimize(multi_investment_periods=True)."""
    for name in ("pypsa", "linopy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    run = Run("pypsa")
    timer.take()
    t0 = time.perf_counter()
    n = pypsa_network(case)
    t1 = time.perf_counter()
    status, condition = n.optimize(multi_investment_periods=True, solver_name="highs",
                                   solver_options=options, io_api=io_api,
                                   extra_functionality=build_once(case),
                                   include_objective_constant=False, progress=False)
    t2 = time.perf_counter()
    run.build, run.solve = t1 - t0, t2 - t1
    run.highs_runs = timer.take()
    run.status = condition if status == "ok" else f"{status}/{condition}"
    run.variables, run.constraints = int(n.model.nvars), int(n.model.ncons)
    run.objective = float(n.objective)
    run.constant = float(n.objective_constant or 0.0)
    run.objective += run.constant
    run.capacity = pypsa_capacity(n, case)
    prices = n.buses_t.marginal_price
    run.prices = prices.set_axis(pd.MultiIndex.from_product([case.years,
                                                             range(1, case.periods + 1)]))
    return run


def pypsa_capacity(n, case: PlanCase) -> pd.DataFrame:
    """(years x projects) capacity of each proposed link in operation, summed over the years
    it was built in."""
    links = n.links[n.links.index.str.contains("@")]
    project = links.index.str.split("@").str[0]
    out = {}
    for year in case.years:
        active = (links["build_year"] <= year) & (year < links["build_year"] + links["lifetime"])
        out[year] = (links["p_nom_opt"] * active).groupby(project).sum()
    return pd.DataFrame(out).T.rename_axis(index="year", columns="project")


# ----------------------------------------------------------------------------- reporting


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1.0)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 else "-"


HEADER = ["tool", "variables", "rows", "build s", "solve s", "HiGHS s (runs)", "total s",
          "objective", "constant", "status"]


def table_rows(c: Run, p: Run) -> list[list[str]]:
    rows = [[x.tool, f"{x.variables:,}", f"{x.constraints:,}", f"{x.build:.2f}",
             f"{x.solve:.2f}",
             f"{x.highs:.2f} ({' + '.join(f'{s:.2f}' for s in x.highs_runs)})", f"{x.total:.2f}",
             f"{x.objective:.10e}", f"{x.constant:.3e}", x.status] for x in (c, p)]
    rows.append(["**ratio C/P**", "", "", _ratio(c.build, p.build), _ratio(c.solve, p.solve),
                 _ratio(c.highs, p.highs), _ratio(c.total, p.total), "", "", ""])
    return rows


CHECK_HEADER = ["check", "value", "met"]


def check_rows(c: Run, p: Run, case: PlanCase) -> list[list[str]]:
    """The targets and agreement checks."""
    diff = _rel(c.variable_part, p.variable_part)
    ratio = c.total / p.total
    cap = c.capacity.reindex_like(p.capacity).fillna(0.0) - p.capacity
    built = [f"{y}: {c.capacity.loc[y].sum():.1f} / {p.capacity.loc[y].sum():.1f}"
             for y in case.years]
    mark = {True: "yes", False: "**NO**"}
    return [
        ["objectives, relative difference (constants removed)", f"{diff:.1e}",
         mark[diff < OBJECTIVE_TOLERANCE]],
        ["whole-process time C/P (target <= 0.5)", f"{ratio:.2f}", mark[ratio <= TARGET_RATIO]],
        ["capacity in operation, mcm/d, C / P", "; ".join(built), ""],
        ["largest capacity difference of one link and year, mcm/d",
         f"{np.abs(cap.to_numpy()).max():.3g}", "(informative: LP optima need not be unique)"],
        ["links built (any year), C / P",
         f"{int((c.capacity.max() > 1e-6).sum())} / {int((p.capacity.max() > 1e-6).sum())}"
         f" of {len(case.projects)}", ""],
        ["nodal prices within 1e-6 relative, share of (year, period, node)",
         f"{_same_prices(c.prices, p.prices):.1%}",
         "(informative: duals of these LPs are not unique)"],
    ]


def _same_prices(a: pd.DataFrame, b: pd.DataFrame) -> float:
    b = b.reindex(index=a.index, columns=a.columns)
    close = np.abs(a - b) <= 1e-6 * np.maximum(np.abs(b), 1.0)
    return float(close.to_numpy().mean())


def versions() -> str:
    from importlib.metadata import version

    names = ("corridor", "pypsa", "linopy", "highspy", "numpy", "pandas", "xarray")
    return ", ".join(f"{n} {version(n)}" for n in names)


# ----------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=150, help="network size (default 150)")
    ap.add_argument("--periods", type=int, default=52,
                    help="representative periods per modelled year (default 52, weekly)")
    ap.add_argument("--solver", choices=("simplex", "ipm"), default="simplex",
                    help="HiGHS algorithm, the same for both tools (default dual simplex)")
    ap.add_argument("--io-api", choices=("direct", "lp", "mps"), default="direct",
                    help="how linopy hands the model to HiGHS (default direct: no file)")
    ap.add_argument("--values", action="store_true",
                    help="let plan() also value each built project (one re-solve each)")
    ap.add_argument("--output", type=Path, default=RESULTS / "planning_vs_pypsa.md")
    return ap.parse_args(argv)


def warm_up() -> None:
    """Imports and pint's unit registry (loaded on first use) before any timing, so that
    neither tool's phases pay one-off start-up costs."""
    import linopy  # noqa: F401
    import pypsa  # noqa: F401

    import corridor.plan  # noqa: F401
    import corridor.validation  # noqa: F401
    from corridor.units import registry

    registry()


def main(argv=None) -> None:
    args = parse_args(argv)
    warm_up()
    case = plan_case(args.nodes, args.periods)
    options = highs_options(args.solver)
    timer = HighsTimer()
    c = run_corridor(case, options, args.values, timer)
    print(f"corridor: {c.total:.1f} s, {c.status}", flush=True)
    p = run_pypsa(case, options, args.io_api, timer)
    print(f"pypsa: {p.total:.1f} s, {p.status}", flush=True)
    setup = (f"{args.nodes} nodes, {len(case.projects)} proposed links (continuous), years "
             f"{', '.join(map(str, case.years))} (weights {case.weights().tolist()} years, "
             f"objective weights {np.round(case.objective_weights(), 4).tolist()} at "
             f"{case.rate:.0%}), {args.periods} periods a year; plan values="
             f"{args.values}; HiGHS options {options}; linopy io_api={args.io_api}; "
             f"{platform.processor() or platform.machine()}, {multiprocessing.cpu_count()} cores")
    show("Corridor plan vs PyPSA multi-period expansion: build + solve", HEADER,
         table_rows(c, p))
    show("Checks", CHECK_HEADER, check_rows(c, p, case))
    print(setup + "\n" + versions())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n\n".join([
        "# Corridor plan vs PyPSA: continuous expansion over investment periods",
        f"{setup}.  \n{versions()}.",
        markdown(HEADER, table_rows(c, p)), "## Checks", markdown(CHECK_HEADER,
                                                                   check_rows(c, p, case)),
    ]) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

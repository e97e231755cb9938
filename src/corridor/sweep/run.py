"""Running a sweep: prepare the job, pick where it runs, and stream results out in draw order.

Execution is in this process (`workers=0`), on a local pool of worker processes (the default,
one per core), or on a Dask cluster (`scheduler`: an address, `local[:N]`, or Dask's configured
`scheduler-address`). Whatever runs it, results are handed on in draw order through a small
reorder buffer, so what is written and printed is identical from run to run, and memory holds
only the draws that finished ahead of a slower one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from corridor.sweep.resolve import DrawResult, Job, Resolver, solve_safely
from corridor.sweep.spec import DEFAULT_PERIODS, SweepError, SweepFile, find_sweep, read_sweep_file


def load_job(file: str | Path, draws: int | None = None, seed: int | None = None,
             flows: bool = False, options: dict | None = None) -> Job:
    """Read a sweep file (a path or a bundled sweep's name) and its network and scenario."""
    spec = read_sweep_file(find_sweep(file))
    return job_for(spec, draws=draws, seed=seed, flows=flows, options=options)


def job_for(spec: SweepFile, draws: int | None = None, seed: int | None = None,
            flows: bool = False, options: dict | None = None) -> Job:
    """The job of a parsed sweep: its network (relative paths from the file's folder) with the
    scenario applied; `draws` and `seed` override the file's."""
    from corridor.data import BUNDLED, resolve
    from corridor.io import read_network
    from corridor.scenario import apply, find_scenario, read_scenario_file, scenario_periods

    here = Path(spec.path).parent if spec.path else Path.cwd()
    name = spec.network
    folder = resolve(name if name is None or name in BUNDLED else str(here / name))
    if not folder.is_dir():
        raise spec.fail(spec.line_of("network"), f"network {name!r} is neither a folder nor "
                                                 "a bundled network")
    net = read_network(folder)
    periods = spec.periods
    if spec.scenario:
        scenario = read_scenario_file(find_scenario(spec.scenario, net, here))
        periods = periods or scenario_periods(scenario, net)
        net = apply(net, scenario)
    spec = spec.model_copy(update={"draws": draws or spec.draws,
                                   "seed": spec.seed if seed is None else seed})
    if spec.grid and spec.n_draws > spec.grid_size:
        raise spec.fail(spec.line_of("grid"), f"{spec.n_draws} draws asked, the grid has "
                                              f"{spec.grid_size} points")
    job = Job(net, spec, periods or DEFAULT_PERIODS, flows)
    if options:
        job.options.update(options)
    return job


class InlineExecutor:
    """Draws solved one after the other in this process (no worker processes)."""

    def __init__(self, resolver: Resolver | None = None):
        self.resolver = resolver

    def describe(self) -> str:
        return "this process"

    def results(self, job: Job, draw_ids: Iterable[int]) -> Iterator[DrawResult]:
        resolver = self.resolver if self.resolver and self.resolver.job is job else Resolver(job)
        for i in draw_ids:
            yield solve_safely(resolver, int(i))


def executor_for(workers: int | None = None, scheduler: str | None = None):
    """Where draws run: Dask when a scheduler is given or configured, else local processes
    (`workers` 0: in this process)."""
    from corridor.sweep.cluster import DaskExecutor, configured_scheduler
    from corridor.sweep.pool import LocalPool, default_workers

    address = scheduler or configured_scheduler()
    if address:
        return DaskExecutor(address, workers=workers or default_workers())
    if workers == 0:
        return InlineExecutor()
    if workers is not None and workers < 0:
        raise SweepError("--workers is a number of processes >= 0")
    return LocalPool(workers)


def in_order(results: Iterable[DrawResult], ids: list[int]) -> Iterator[DrawResult]:
    """Results in the order of `ids`, each once (a duplicate would be dropped), holding back
    only those that finished before an earlier draw."""
    position = {draw_id: k for k, draw_id in enumerate(ids)}
    held: dict[int, DrawResult] = {}
    nxt = 0
    for result in results:
        k = position.get(result.draw)
        if k is None or k < nxt or k in held:
            continue
        held[k] = result
        while nxt in held:
            yield held.pop(nxt)
            nxt += 1
    if nxt < len(ids):
        missing = [ids[k] for k in range(nxt, len(ids)) if k not in held][:5]
        raise SweepError(f"the sweep ended without draw(s) {missing}")


@dataclass
class SweepOutcome:
    """What a finished (or interrupted) sweep did."""

    draws: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    retried: int = 0
    complete: bool = False

    @property
    def rate(self) -> float:
        return self.draws / self.seconds if self.seconds > 0 else float("nan")


def run(job: Job, executor, on_result: Callable[[DrawResult], None],
        draw_ids: list[int] | None = None, outcome: SweepOutcome | None = None) -> SweepOutcome:
    """Run every draw of the job on `executor`, handing each result to `on_result` in order;
    `outcome` (if given) is kept up to date even when the run is interrupted."""
    ids = list(range(job.spec.n_draws)) if draw_ids is None else list(draw_ids)
    outcome = outcome or SweepOutcome()
    start = time.perf_counter()
    try:
        for result in in_order(executor.results(job, ids), ids):
            on_result(result)
            outcome.draws += 1
            outcome.statuses[result.status] = outcome.statuses.get(result.status, 0) + 1
            outcome.retried += result.attempts > 1
        outcome.complete = True
    finally:
        outcome.seconds = time.perf_counter() - start
    return outcome


def run_and_store(job: Job, executor=None, store: str | Path | None = None,
                  on_result: Callable[[DrawResult], None] | None = None,
                  on_start: Callable[[int, object], None] | None = None
                  ) -> tuple[int, SweepOutcome]:
    """Check the sweep against its network, solve the base case (draw -1), run every draw and
    write them to the results store as they come; returns the sweep id and the outcome.
    An interrupted sweep keeps what was written and is marked `interrupted`."""
    from corridor.sweep.results import SweepStore

    resolver = Resolver(job)  # errors in the sweep file surface here, before any worker starts
    if executor is None or (isinstance(executor, InlineExecutor) and executor.resolver is None):
        executor = InlineExecutor(resolver)  # reuse the model just built
    outcome = SweepOutcome()
    with SweepStore(store) as db:
        sweep_id = db.create(job, executor.describe())
        q = resolver.quantities
        writer = db.writer(sweep_id, q.labels, q.link_ids)
        writer.add(resolver.solve_base())

        def handle(result: DrawResult) -> None:
            writer.add(result)
            if on_result is not None:
                on_result(result)

        if on_start is not None:
            on_start(sweep_id, q.labels)
        try:
            run(job, executor, handle, outcome=outcome)
        finally:
            writer.flush()
            db.finish(sweep_id, outcome.draws, outcome.seconds, outcome.complete)
    return sweep_id, outcome

"""Commands on sweeps: `sweep` runs thousands of draws of a network, `sweep-report` shows them."""

from __future__ import annotations

import json
import math
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from corridor.cli.common import DebugOpt, StoreOpt, UserError, err, guarded, out

app = typer.Typer()

SweepArg = Annotated[str, typer.Argument(
    help="Sweep file (YAML), or the name of a bundled sweep (e.g. outages).")]
WorkersOpt = Annotated[int | None, typer.Option(
    "--workers", "-w", min=0,
    help="Worker processes (default: one per core; 0: solve in this process). With a Dask "
         "scheduler of `local`, the number of local Dask workers.")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler",
    help="Run on a Dask cluster: its scheduler address (tcp://host:8786), or `local[:N]` for a "
         "local Dask cluster. Default: Dask's configured scheduler-address "
         "(DASK_SCHEDULER_ADDRESS), else local processes.")]


class _RateColumn(ProgressColumn):
    """Draws per second over the last seconds."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} draws/s", style="progress.data.speed")


def _progress() -> Progress:
    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                    MofNCompleteColumn(), _RateColumn(), TimeElapsedColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), console=err, transient=False)


def _number(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


class _JsonDocument:
    """The `--json` document, spooled to a temporary file as draws arrive (bounded memory) and
    printed whole at the end, so stdout carries one complete document or nothing."""

    def __init__(self, job):
        self.job, self.labels = job, None
        self.file = tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+")
        self.first = True

    def start(self, sweep_id: int, labels) -> None:
        self.labels = labels
        spec = self.job.spec
        head = {"sweep_id": sweep_id, "name": spec.name, "network": self.job.network.name,
                "periods": self.job.periods, "seed": spec.seed, "draws_requested": spec.n_draws,
                "units": {"objective": "USD", "unmet": "volume over the horizon in base units "
                          "(gas mcm, oil kt)"}}
        self.file.write(json.dumps(head)[:-1] + ', "draws": [')

    def add(self, result) -> None:
        from corridor.sweep.quantities import unmet_by_country

        entry = {"draw": result.draw, "status": result.status,
                 "objective": _number(result.objective),
                 "unmet": unmet_by_country(result.values, self.labels)}
        self.file.write(("" if self.first else ",") + json.dumps(entry))
        self.first = False

    def finish(self, outcome) -> None:
        tail = {"statuses": outcome.statuses, "seconds": round(outcome.seconds, 3),
                "complete": outcome.complete}
        self.file.write("], " + json.dumps(tail)[1:] + "\n")
        self.file.seek(0)
        shutil.copyfileobj(self.file, sys.stdout)
        sys.stdout.flush()


@app.command("sweep")
def sweep(file: SweepArg, workers: WorkersOpt = None, scheduler: SchedulerOpt = None,
          draws: Annotated[int | None, typer.Option(
              min=1, help="Number of draws (default: the file's; draw i is the same whatever "
                          "the number).")] = None,
          seed: Annotated[int | None, typer.Option(min=0, help="Seed (default: the file's).")]
          = None,
          flows: Annotated[bool, typer.Option(
              "--flows", help="Also store every draw's flows per period and link.")] = False,
          as_json: Annotated[bool, typer.Option(
              "--json", help="Print one JSON document: one entry per draw.")] = False,
          store: StoreOpt = None, debug: DebugOpt = False) -> None:
    """Run a sweep: every draw solved warm on local processes or a Dask cluster, then stored."""

    def body() -> None:
        from corridor.sweep.run import executor_for, load_job, run_and_store

        job = load_job(file, draws=draws, seed=seed, flows=flows)
        executor = executor_for(workers, scheduler)
        document = _JsonDocument(job) if as_json else None
        bar = _progress() if not as_json and err.is_terminal else None
        task = bar.add_task(f"Sweep {job.spec.name}", total=job.spec.n_draws) if bar else None

        def on_result(result) -> None:
            if document is not None:
                document.add(result)
            if bar is not None:
                bar.advance(task)

        if bar is not None:
            bar.start()
        try:
            sweep_id, outcome = run_and_store(
                job, executor, store, on_result,
                on_start=document.start if document is not None else None)
        finally:
            if bar is not None:
                bar.stop()
        if document is not None:
            document.finish(outcome)
            return
        _print_report(sweep_id, store)
        out.print(f"Stored as sweep #{sweep_id}. HTML page: `corridor sweep-report {sweep_id} "
                  f"-o sweep-{sweep_id}.html`.")

    guarded(debug, body)


def _print_report(sweep_id: int, store: Path | None) -> None:
    from corridor.sweep.report import load_report, terminal
    from corridor.sweep.results import SweepStore

    with SweepStore(store) as db:
        report = load_report(db, sweep_id)
    terminal(report, out)


def _sweep_id(db, text: str) -> int:
    if text == "latest":
        latest = db.latest()
        if latest is None:
            raise UserError("no sweep is stored yet: run `corridor sweep FILE` first")
        return latest
    if not text.lstrip("#").isdigit():
        raise UserError(f"{text!r} is not a sweep id (a number, or 'latest'; see "
                        "`corridor sweep-report` without an id)")
    return int(text.lstrip("#"))


@app.command("sweep-report")
def sweep_report(
    run: Annotated[str | None, typer.Argument(
        help="Sweep id, or 'latest'. Without it, list the stored sweeps.")] = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="HTML page to write (default: sweep-ID.html).")] = None,
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Loss-of-load probability, unserved energy, revenue and flow percentiles of a sweep."""

    def body() -> None:
        from corridor.sweep.report import load_report, terminal, to_dict, write_html
        from corridor.sweep.results import SweepStore

        with SweepStore(store) as db:
            if run is None:
                _list_sweeps(db, as_json)
                return
            report = load_report(db, _sweep_id(db, run))
        if as_json:
            sys.stdout.write(json.dumps(to_dict(report), default=str) + "\n")
            return
        terminal(report, out)
        path = write_html(report, output or Path(f"sweep-{report.meta['sweep_id']}.html"))
        out.print(f"HTML page written to {path}")

    guarded(debug, body)


def _list_sweeps(db, as_json: bool) -> None:
    from corridor.sweep.report import _rich

    df = db.sweeps()
    if as_json:
        sys.stdout.write(df.to_json(orient="records", date_format="iso") + "\n")
        return
    if df.empty:
        out.print("No sweeps yet: `corridor sweep outages` runs the bundled one.")
        return
    df = df.assign(created=df["created"].astype(str).str.slice(0, 19))
    out.print(_rich(df, f"Stored sweeps in {db.path}", {"seconds": "{:,.1f}"}))

"""Commands on scenarios and stored runs: scenarios, runs, show, compare, report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from corridor.cli.common import (
    DebugOpt,
    NetworkArg,
    StoreOpt,
    UserError,
    guarded,
    load_network,
    load_scenario_network,
    out,
    progress,
)

app = typer.Typer()


def _frame_table(df: pd.DataFrame, title: str, fmt: str = "{:,.2f}") -> Table:
    """A DataFrame as a rich table: index first, numbers formatted."""
    table = Table(title=title, title_justify="left")
    table.add_column(str(df.index.name or ""))
    for col in df.columns:
        table.add_column(str(col), justify="right")
    for idx, row in df.iterrows():
        label = " / ".join(map(str, idx)) if isinstance(idx, tuple) else str(idx)
        table.add_row(label, *(f"{v:,}" if isinstance(v, int) else
                               fmt.format(v) if isinstance(v, float) and pd.notna(v)
                               else ("" if v is None or (isinstance(v, float) and pd.isna(v))
                                     else str(v)) for v in row))
    return table


@app.command()
def scenarios(network: NetworkArg = None, debug: DebugOpt = False) -> None:
    """List the network's bundled scenarios with their one-line descriptions."""

    def body() -> None:
        from corridor.scenario import list_scenarios

        net = load_network(network)
        table = Table(title=f"Scenarios of {net.name}", title_justify="left")
        for col in ("scenario", "extends", "periods", "description"):
            table.add_column(col)
        for s in list_scenarios(net):
            table.add_row(s.name, s.extends or "", str(s.periods or ""), s.description)
        out.print(table)
        out.print("Run one with `corridor run --scenario NAME`; compare with "
                  "`corridor compare base NAME`.")

    guarded(debug, body)


@app.command()
def runs(store: StoreOpt = None, debug: DebugOpt = False) -> None:
    """List the runs kept in the results store, newest first."""

    def body() -> None:
        from corridor.store import Store

        with Store(store) as db:
            df = db.runs()
            out.print(f"Results store: {db.path}")
        if df.empty:
            out.print("No runs yet: `corridor run` stores every run.")
            return
        df = df.assign(objective=df["objective"] / 1e9, welfare=df["welfare"] / 1e9,
                       created=df["created"].astype(str).str.slice(0, 19),
                       input_hash=df["input_hash"].fillna("").str.slice(0, 12))
        df = df.rename(columns={"objective": "objective bn USD", "welfare": "welfare bn USD"})
        out.print(_frame_table(df.set_index("run_id"), "Stored runs"))

    guarded(debug, body)


def _run_id(text: str) -> int | None:
    text = text.lstrip("#")
    return int(text) if text.isdigit() else None


@app.command()
def show(run: Annotated[str, typer.Argument(help="Run id (see `corridor runs`).")],
         store: StoreOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False,
         debug: DebugOpt = False) -> None:
    """Print one stored run: what produced it and its headline results."""

    def body() -> None:
        from corridor.compare import Comparison
        from corridor.store import Store

        run_id = _run_id(run)
        if run_id is None:
            raise UserError(f"{run!r} is not a run id (a number; see `corridor runs`)")
        with Store(store) as db:
            stored = db.load(run_id)
        comparison = Comparison([stored])
        if as_json:
            meta = {k: (None if pd.isna(v) else str(v) if k == "created" else v)
                    for k, v in stored.meta.items()}
            sys.stdout.write(json.dumps({"run": meta, **comparison.to_dict()}, default=str)
                             + "\n")
            return
        meta = pd.Series(stored.meta).drop(["key_nodes", "violations"])
        out.print(_frame_table(meta.to_frame("value"), f"Run {stored.label}", "{:,.4g}"))
        _print_comparison(comparison)

    guarded(debug, body)


@app.command()
def compare(
    items: Annotated[list[str], typer.Argument(
        help="Run ids or scenario names; the first is the reference. A scenario name is run "
             "(and stored) now.")],
    network: Annotated[str | None, typer.Option(help="Network for scenario names.")] = None,
    periods: Annotated[int | None, typer.Option(min=1, max=365)] = None,
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Compare runs or scenarios: cost, unmet demand, flows, prices, revenue, bottlenecks."""

    def body() -> None:
        from corridor.compare import Comparison
        from corridor.store import Store

        if len(items) < 2:
            raise UserError("compare needs at least two runs or scenarios")
        with Store(store) as db:
            ids = [_resolve_item(db, item, network, periods, as_json) for item in items]
            twice = sorted({i for i in ids if ids.count(i) > 1})
            if twice:
                raise UserError(f"run(s) {', '.join(f'#{i}' for i in twice)} named twice: "
                                f"a scenario whose inputs were solved before is that stored run "
                                f"(see `corridor runs`)")
            stored = [db.load(i) for i in ids]
        comparison = Comparison(stored)
        if as_json:
            sys.stdout.write(json.dumps(comparison.to_dict(), default=str) + "\n")
        else:
            _print_comparison(comparison)

    guarded(debug, body)


def _resolve_item(db, item: str, network: str | None, periods: int | None, quiet: bool) -> int:
    """A run id as given, or the id of a fresh stored run of the named scenario."""
    from corridor.optimize import optimize
    from corridor.outputs import input_hash

    run_id = _run_id(item)
    if run_id is not None:
        return run_id
    net, spec = load_scenario_network(network, None if _plain_base(network, item) else item)
    name = spec.name if spec else ""  # stored like `corridor run` without a scenario
    n = periods or (spec.periods if spec else None) or 1
    digest = input_hash(net)
    same = db.find(net.name, name, n, digest) if digest else None
    if same is not None:
        return same  # the same inputs were solved before: reuse that run
    with progress(f"Running scenario {name or 'base'} over {n} period(s)", enabled=not quiet):
        results = optimize(net, n)
    return db.save(results, name, digest)


def _plain_base(network: str | None, item: str) -> bool:
    """`base` names the network as it is, unless the network ships a scenario called base."""
    if item != "base":
        return False
    from corridor.scenario import list_scenarios

    return "base" not in {s.name for s in list_scenarios(load_network(network))}


def _print_comparison(c) -> None:
    out.print(_frame_table(c.headline(),
                           "Objective and welfare (bn USD; change from the first run)"))
    unmet = c.unmet_by_country()
    if unmet.empty:
        out.print("[green]No domestic demand is left unmet in any run.[/green]")
    else:
        out.print(_frame_table(unmet, "Unmet domestic demand over the horizon (bcm gas, Mt oil)"))
    for label, violations in c.violations().items():
        for v in violations:
            out.print(f"[red]{label}: {v['block']} {v['element']} (period {v['period']}) "
                      f"cannot be met: short by {v['amount']:,.1f}[/red]")
    if len(c.runs) > 1:
        out.print(_frame_table(c.flow_changes(), "Flows that changed most (annual)"))
    out.print(_frame_table(c.price_changes(), "Mean prices at key nodes"))
    out.print(_frame_table(c.transport_revenue(), "Transport revenue by country (M USD)",
                           "{:,.1f}"))
    for label, links in c.new_bottlenecks().items():
        if links:
            out.print(f"New bottlenecks in {label}: {', '.join(links)}")


@app.command()
def report(run: Annotated[str, typer.Argument(help="Run id (see `corridor runs`).")],
           output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")]
           = Path("report.html"),
           plan: Annotated[bool, typer.Option(
               "--plan", help="RUN is a plan id: draw its build timeline, capacity, flows "
                              "and welfare by year.")] = False,
           store: StoreOpt = None, debug: DebugOpt = False) -> None:
    """Write the offline HTML report (map, Sankey, charts, tables) of a stored run, or of a
    stored plan with --plan."""

    def body() -> None:
        from corridor.report.html import write_report
        from corridor.store import Store

        run_id = _run_id(run)
        if run_id is None:
            raise UserError(f"{run!r} is not a run id (a number; see `corridor runs`)")
        if plan:
            from corridor.plan.report import write_plan_html

            with Store(store) as db:
                path = write_plan_html(db.load_plan(run_id), output)
            out.print(f"Report of plan {run_id} written to {path}")
            return
        with Store(store) as db:
            stored = db.load(run_id)
        with progress("Writing the report"):
            path = write_report(stored, output)
        out.print(f"Report of run {stored.label} written to {path}")

    guarded(debug, body)

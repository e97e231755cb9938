"""Commands on one network: run, validate, info, units."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

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


@app.command()
def run(
    network: NetworkArg = None,
    scenario: Annotated[str | None, typer.Option(
        help="Scenario name (see `corridor scenarios`) or YAML file applied to the network.")]
    = None,
    periods: Annotated[int | None, typer.Option(
        help="Periods in the year: 1, 12 (months) or 365 (days); default: the scenario's, or 1.",
        min=1, max=365)] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Write Parquet tables, summary.json and report.html to this folder.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document to stdout.")]
    = False,
    mps: Annotated[Path | None, typer.Option(help="Also write the LP as an MPS file.")] = None,
    excel: Annotated[Path | None, typer.Option(
        help="Also write the results as an Excel workbook (one sheet per table).")] = None,
    by: Annotated[str, typer.Option(
        "--by", help="Print welfare by country or by owner (operators, producers).")]
    = "country",
    store: StoreOpt = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not save the run.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Find the flows that maximise total surplus; report bottlenecks, prices, shortages and
    welfare by country (or owner)."""

    def body() -> None:
        if by not in ("country", "owner"):
            raise UserError(f"--by must be country or owner, not {by!r}")
        from corridor.optimize import build_flow_model, optimize, write_mps
        from corridor.outputs import input_hash, write_results
        from corridor.report.terminal import print_summary

        net, spec = load_scenario_network(network, scenario)
        n = periods or (spec.periods if spec and spec.periods else 1)
        with progress(f"Solving {net.name} over {n} period(s)", enabled=not as_json):
            results = optimize(net, n)
        name = spec.name if spec else ""
        run_id = None
        if not no_store:
            from corridor.store import Store

            with Store(store) as db:
                run_id = db.save(results, name, input_hash(net))
        if mps is not None:
            write_mps(build_flow_model(net, n).lp, mps)
        if excel is not None:
            from corridor.interchange.excel import write_results_xlsx

            write_results_xlsx(results, excel)
        if out_dir is not None:
            from corridor.report.html import write_report
            from corridor.store import as_stored

            write_results(results, out_dir)
            write_report(as_stored(results, name, input_hash(net)), out_dir / "report.html")
        if as_json:
            sys.stdout.write(json.dumps({**results.to_dict(), "run_id": run_id,
                                         "scenario": name}) + "\n")
        else:
            print_summary(results, out, by)
            if run_id is not None:
                out.print(f"Stored as run {run_id} (`corridor show {run_id}`).")
            if out_dir is not None:
                out.print(f"Results and report.html written to {out_dir}/")
        if not results.optimal:
            raise typer.Exit(1)

    guarded(debug, body)


@app.command()
def validate(network: NetworkArg = None, debug: DebugOpt = False) -> None:
    """Check a network folder and report every problem with its file, line and column."""

    def body() -> None:
        net = load_network(network)
        counts = ", ".join(f"{v} {k}" for k, v in net.counts().items())
        out.print(f"[green]{net.origin}: valid[/green] ({counts})")

    guarded(debug, body)


@app.command()
def info(network: NetworkArg = None, debug: DebugOpt = False) -> None:
    """Describe a network: its tables, carriers, countries and assets by status."""

    def body() -> None:
        from corridor.units import DISPLAY_RATE, factor_to_base

        net = load_network(network)
        out.print(f"[bold]{net.name}[/bold] ({net.origin})")
        if net.meta.description:
            out.print(net.meta.description)
        table = Table(title="Assets by carrier")
        for col in ("carrier", "nodes", "links (operating/other)", "supply", "demand",
                    "storages"):
            table.add_column(col, justify="left" if col == "carrier" else "right")
        for carrier in ("gas", "oil"):
            unit = DISPLAY_RATE[carrier]
            scale = 1.0 / factor_to_base(unit, carrier)
            links = net.links[net.links["carrier"] == carrier]
            built = links["status"].eq("operating").sum()
            sup = net.supplies.loc[net.supplies["carrier"] == carrier, "capacity"].sum()
            dem = net.demands.loc[net.demands["carrier"] == carrier, "amount"].sum()
            table.add_row(carrier, str((net.nodes["carrier"] == carrier).sum()),
                          f"{built}/{len(links) - built}", f"{sup * scale:,.1f} {unit}",
                          f"{dem * scale:,.1f} {unit}",
                          str((net.storages["carrier"] == carrier).sum()))
        out.print(table)
        countries = sorted(c for c in net.nodes["country"].unique() if c)
        out.print(f"Countries: {', '.join(countries)}")
        if net.meta.base_year:
            out.print(f"Base year: {net.meta.base_year}")

    guarded(debug, body)


@app.command()
def units() -> None:
    """Print the base units, common conversions and every declared conversion factor."""
    from corridor.units import FACTORS, conversion_table

    table = Table(title="One of each unit in base units (gas: mcm/d, oil: kt/d)")
    for col in ("carrier", "unit", "base units per day"):
        table.add_column(col)
    for carrier, unit, factor in conversion_table():
        table.add_row(carrier, unit, f"{factor:.6g}")
    out.print(table)
    factors = Table(title="Declared conversion factors")
    for col in ("factor", "value", "basis"):
        factors.add_column(col)
    for f in FACTORS.values():
        factors.add_row(f.name, f.value, f.note)
    out.print(factors)
    out.print("A year counts 365 days; tariffs and costs are USD per base unit (USD/mcm, USD/kt).")

"""`corridor plan`: which projects to build and when, what they earn, and who pays."""

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
    guarded,
    load_scenario_network,
    out,
    progress,
)

app = typer.Typer()
BN = 1e9


@app.command()
def plan(
    network: NetworkArg = None,
    scenario: Annotated[str | None, typer.Option(
        help="Scenario name or YAML file applied to the network first.")] = None,
    years: Annotated[str | None, typer.Option(
        help="Modelled years, first:last:step (default: network.yaml planning.years).")] = None,
    periods: Annotated[int | None, typer.Option(
        help="Representative periods per year (default: planning.periods).", min=1,
        max=365)] = None,
    gap: Annotated[float, typer.Option(
        help="Relative MIP gap at which HiGHS stops (of the whole objective).", min=0.0)]
    = 1e-4,
    allocate: Annotated[bool, typer.Option(
        "--allocate", help="Split each built project's cost among the countries it benefits "
                           "(Shapley, nucleolus, SCRB; core check).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    html: Annotated[Path | None, typer.Option(
        help="Also write an HTML page: build timeline, capacity, flows and welfare by "
             "year.")] = None,
    store: StoreOpt = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not save the plan.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Choose which proposed projects to build and when (a MILP over the planning horizon):
    the build schedule with each project's cost and value, discounted welfare, money by country
    and year, and shortages."""

    def body() -> None:
        from corridor.plan import plan as solve_plan

        net, spec = load_scenario_network(network, scenario)
        with progress(f"Planning {net.name}", enabled=not as_json):
            result = solve_plan(net, years=years, periods=periods, gap=gap)
        allocations = {}
        if allocate and result.optimal:
            from corridor.plan.allocate import allocate as split

            allocations = split(result)
        plan_id = None
        if not no_store and result.optimal:
            from corridor.store import Store

            with Store(store) as db:
                plan_id = db.save_plan(result, spec.name if spec else "")
        if html is not None and result.optimal:
            import tempfile

            from corridor.plan.report import write_plan_html
            from corridor.store import Store

            if plan_id is None:  # draw from a throw-away store, as `report --plan` would
                with tempfile.TemporaryDirectory() as tmp, Store(f"{tmp}/plan.duckdb") as db:
                    write_plan_html(db.load_plan(db.save_plan(result)), html)
            else:
                with Store(store) as db:
                    write_plan_html(db.load_plan(plan_id), html)
        if as_json:
            doc = {**result.to_dict(), "plan_id": plan_id,
                   "scenario": spec.name if spec else ""}
            if allocations:
                doc["allocation"] = {pid: {"cost": t.attrs["cost"],
                                           "uncovered": t.attrs["uncovered"],
                                           "in_core": t.attrs["in_core"],
                                           "shares": json.loads(t.to_json(orient="index"))}
                                     for pid, t in allocations.items()}
            sys.stdout.write(json.dumps(doc) + "\n")
        else:
            print_plan(result)
            for pid, table in allocations.items():
                print_allocation(pid, table)
            if plan_id is not None:
                out.print(f"Stored as plan {plan_id}.")
        if not result.optimal:
            raise typer.Exit(1)

    guarded(debug, body)


def print_plan(result) -> None:
    """The build schedule, totals, money by country and year, and shortages."""
    h = result.horizon
    if not result.optimal:
        out.print(f"[bold red]Plan {result.status}[/bold red]: {result.message}")
        for v in result.violations[:12]:
            out.print(f"  {v.block} {v.element} (period {v.period}): short by {v.amount:,.3f}")
        return
    net = result.model.network
    names = {**net.links["name"].to_dict(), **net.supplies.get("name", {})} \
        if "name" in net.links else {}
    view = Table(title=f"Build schedule, {h.years[0]}-{h.years[-1]} (years {list(h.years)}; "
                       f"{h.discount_rate:.0%} discount rate; money: bn USD of {h.years[0]})",
                 title_justify="left")
    for col in ("project", "name", "from", "share", "capex", "discounted cost",
                "value without cost", "net value"):
        view.add_column(col, justify="left" if col in ("project", "name") else "right")
    values = result.values
    for pid, row in values.sort_values("year").iterrows():
        def bn(v):  # NaN: committed, never a choice; inf: the plan is infeasible without it
            return "committed" if v != v else "required" if v == float("inf") \
                else f"{v / BN:,.2f}"
        view.add_row(pid, str(names.get(pid, ""))[:48], f"{int(row['year'])}",
                     f"{row['share']:.2f}", f"{row['capex'] / BN:,.2f}",
                     f"{row['discounted_cost'] / BN:,.2f}", bn(row["gross_value"]),
                     bn(row["net_value"]))
    out.print(view)
    skipped = [p for p in result.projects.index if p not in values.index]
    out.print(f"  not built: {', '.join(skipped) or 'none'}; value: what the plan loses "
              "without the project (and those that require it), other builds kept; required: "
              "no plan without it meets the targets")
    absolute = abs(result.objective) * result.mip_gap
    out.print(f"Discounted welfare {result.welfare() / BN:,.2f} bn USD; objective "
              f"{result.objective / BN:,.2f} bn; MIP gap {result.mip_gap:.2e} "
              f"({absolute / 1e6:,.1f} M USD); identity gap {result.identity_gap():.1e}; "
              f"{result.model.lp.n_cols:,} variables, "
              f"{int(result.model.lp.vector('integer').sum())} integer; {result.seconds:.1f} s")
    money = result.money_by_country() / BN
    table = Table(title="Welfare by country and year, after project costs (bn USD/yr)",
                  title_justify="left")
    table.add_column("country")
    for y in money.columns:
        table.add_column(str(y), justify="right")
    for country, row in money.iterrows():
        table.add_row(str(country), *(f"{v:,.2f}" for v in row))
    out.print(table)
    short = result.shortages()
    out.print("Shortages (fixed demand unserved): " + "; ".join(
        f"{y}: {r['unmet']:,.0f} base units, {r['shortage_cost'] / 1e6:,.1f} M USD"
        for y, r in short.iterrows()))


def print_allocation(pid: str, table) -> None:
    from corridor.plan.allocate import in_core_label

    view = Table(title=f"Who pays for {pid}: discounted cost {table.attrs['cost'] / BN:,.2f} "
                       f"bn USD (in the core: {in_core_label(table)})", title_justify="left")
    for col in ("country", "benefit", "Shapley", "nucleolus", "SCRB"):
        view.add_column(col, justify="left" if col == "country" else "right")
    for country, row in table.iterrows():
        view.add_row(str(country), *(f"{row[c] / BN:,.3f}" for c in
                                     ("benefit", "shapley", "nucleolus", "scrb")))
    out.print(view)
    if table.attrs["uncovered"] > 1.0:
        out.print(f"  benefits fall {table.attrs['uncovered'] / BN:,.3f} bn short of the cost: "
                  "the projects that require it carry the rest")

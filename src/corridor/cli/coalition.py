"""Commands on coalitions of countries: `corridor coalition` (what the union is worth and a fair
split of it) and `corridor security` (N-1 and peak-day disruptions)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from corridor.cli.common import (
    DebugOpt,
    NetworkArg,
    UserError,
    err,
    guarded,
    load_scenario_network,
    out,
)
from corridor.network import Network

app = typer.Typer()

ScenarioOpt = Annotated[str | None, typer.Option(
    "--scenario", help="Apply this scenario (a name or a file) to the network first.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document to stdout.")]
PROGRESS_FROM = 256  # coalitions; fewer solve in well under a second


def network_for(network: str | None, scenario: str | None) -> tuple[Network, int | None]:
    """The network with the scenario applied, and the periods that scenario asks for."""
    net, spec = load_scenario_network(network, scenario)
    return net, spec.periods if spec else None


def _names(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _prices(text: str | None) -> dict[str, float] | None:
    """'gas=250000,oil=500000' -> {'gas': 250000.0, 'oil': 500000.0}."""
    if not text:
        return None
    prices = {}
    for item in _names(text):
        key, sep, number = item.partition("=")
        try:
            prices[key.strip()] = float(number)
        except ValueError:
            sep = ""
        if not sep:
            raise UserError(f"--outside-price takes carrier=USD per base unit pairs, e.g. "
                            f"gas=250000,oil=500000; cannot read {item!r}")
    return prices


def _solve(game):
    """All coalition values, with a progress bar on stderr when there are many."""
    total = 1 << len(game.players)
    if total < PROGRESS_FROM:
        return game.solve_all()
    from rich.progress import Progress

    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("coalition LPs", total=total)
        return game.solve_all(lambda done, _: progress.update(task, completed=done))


@app.command()
def coalition(
    network: NetworkArg = None,
    players: Annotated[str, typer.Option(
        help="Comma-separated players: values of the --by column, e.g. RU,KZ,UZ,TM,CN.")]
    = "RU,KZ,UZ",
    scenario: ScenarioOpt = None,
    by: Annotated[str, typer.Option(
        help="The column that names players: country, or e.g. owner for companies.")]
    = "country",
    basis: Annotated[str, typer.Option(
        help="welfare (value of served demand minus costs) or savings (cost saved against "
             "importing domestic demand at --outside-price).")] = "welfare",
    outside_price: Annotated[str | None, typer.Option(
        help="For --basis savings: import price per carrier in USD per base unit "
             "(USD/mcm, USD/kt), e.g. gas=250000,oil=550000.")] = None,
    outside: Annotated[bool, typer.Option(
        "--outside/--no-outside",
        help="Assets of non-players (e.g. export markets) are open to every coalition "
             "(default), or closed to all.")] = True,
    carrier: Annotated[str, typer.Option(help="all, gas or oil.")] = "all",
    periods: Annotated[int | None, typer.Option(
        help="Periods in the year: 1, 12 or 365 (default: the scenario's, or 1).",
        min=1, max=365)] = None,
    all_coalitions: Annotated[bool, typer.Option(
        "--all", help="List every coalition, not only pairs and players alone.")] = False,
    options: Annotated[str | None, typer.Option(
        "--options", help="Comma-separated proposed links, '+' joining links built together "
                          "(e.g. G30+G31,G32; at most 4): value every coalition "
                          "with the option to build those its members hold, and print each "
                          "project's strategic value to every player.")] = None,
    as_json: JsonOpt = False,
    html: Annotated[Path | None, typer.Option(
        help="Also write an HTML report with a bar chart per player.")] = None,
    debug: DebugOpt = False,
) -> None:
    """What a union of countries is worth against bilateral deals, and a fair split of it:
    Shapley value, nucleolus, core, and each player's bargaining power (with --options, what
    the option to build a project does to it)."""

    def body() -> None:
        from corridor.coalitions.network_game import NetworkGame
        from corridor.coalitions.report import print_coalition, write_coalition_html
        from corridor.coalitions.summary import summarise

        net, scenario_periods = network_for(network, scenario)
        game = NetworkGame(net, _names(players), by=by, periods=periods or scenario_periods or 1,
                           basis=basis,
                           outside_price=_prices(outside_price), outside=outside,
                           carrier=carrier)
        summary = summarise(_solve(game), net.name)
        strategic = None
        if options:
            from corridor.coalitions.options import option_values

            strategic = option_values(
                net, _names(players), _names(options), by=by,
                periods=periods or scenario_periods or 1, basis=basis,
                outside_price=_prices(outside_price), outside=outside,
                carrier=carrier).strategic_values()
        if html is not None:
            write_coalition_html(summary, html)
        if as_json:
            doc = summary.to_dict()
            if strategic is not None:
                doc["options"] = json.loads(strategic.to_json(orient="records"))
            sys.stdout.write(json.dumps(doc) + "\n")
            return
        print_coalition(summary, out, all_coalitions)
        if strategic is not None:
            _print_strategic(strategic)
        if html is not None:
            out.print(f"HTML report written to {html}")

    guarded(debug, body)


def _print_strategic(table) -> None:
    """Each option's change in every player's Shapley value and nucleolus (M USD/yr)."""
    from rich.table import Table

    view = Table(title="Pipeline power: what the option to build changes (M USD over the "
                       "modelled year)", title_justify="left")
    for name in ("option", "player", "Shapley change", "nucleolus change",
                 "union value change", "option's annual cost"):
        view.add_column(name, justify="left" if name in ("option", "player") else "right")
    for row in table.itertuples():
        view.add_row(row.option, row.player, f"{row.shapley_change / 1e6:,.1f}",
                     f"{row.nucleolus_change / 1e6:,.1f}",
                     f"{row.union_value_change / 1e6:,.1f}", f"{row.annual_cost / 1e6:,.1f}")
    out.print(view)
    out.print("  a project is an option: a coalition may build it only if it holds every "
              "country it crosses, and builds it only if that pays (its cost is charged)")


@app.command()
def security(
    network: NetworkArg = None,
    scenario: ScenarioOpt = None,
    countries: Annotated[str | None, typer.Option(
        help="Comma-separated countries (default: every country with domestic gas demand).")]
    = None,
    top: Annotated[int, typer.Option(
        help="Disrupt, for each country, this many of the infrastructures that carry the most "
             "gas to it on the peak day.", min=1)] = 4,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """N-1 per country (EU 2017/1938 Annex II) with every term, and the unserved demand when
    the largest infrastructures fail, cooperatively and with each country serving itself first."""

    def body() -> None:
        from corridor.coalitions.report import print_security
        from corridor.coalitions.security import n_minus_one, simulate

        net, _ = network_for(network, scenario)
        chosen = _names(countries) or None
        n1 = n_minus_one(net, chosen)
        sim = simulate(net, chosen, top)
        if as_json:
            doc = {"network": net.name, "units": "mcm/d",
                   "n_minus_one": json.loads(n1.to_json(orient="index")),
                   "disruptions": json.loads(sim.to_json(orient="records"))}
            sys.stdout.write(json.dumps(doc) + "\n")
            return
        print_security(n1, sim, out, net.name)

    guarded(debug, body)

"""`corridor hydraulics`: steady-state gas pressures and flows, and the physical check of a plan."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from corridor.cli.common import (
    DebugOpt,
    UserError,
    guarded,
    load_network,
    load_scenario_network,
    out,
)

app = typer.Typer(no_args_is_help=True, help="Steady-state gas hydraulics: solve a network "
                  "(GasLib or Corridor) or check whether a plan's flows are physically possible.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document to stdout.")]
FrictionOpt = Annotated[str, typer.Option(
    help="Friction factor: colebrook, swamee-jain or nikuradse.")]
ZOpt = Annotated[str, typer.Option("--compressibility", "-z",
                                   help="Compressibility: linear, constant, papay or aga.")]


def _load(net: str, nominations: Path | None, compressors: Path | None):
    """A Network from a GasLib .net file (with optional .scn/.cs) or a Corridor network."""
    from corridor.io.gaslib import read_gaslib

    path = Path(net)
    if path.suffix.lower() == ".net":
        if not path.is_file():
            raise UserError(f"{path}: no such file")
        cs = compressors
        if cs is None and path.with_suffix(".cs").is_file():
            cs = path.with_suffix(".cs")
        return read_gaslib(path, nominations, cs)
    if nominations is not None:
        raise UserError("--nominations applies to GasLib .net files only")
    return load_network(net)


@app.command("solve")
def solve_command(
    net: Annotated[str, typer.Argument(help="GasLib .net file, Corridor network folder or "
                                            "bundled network name.")],
    nominations: Annotated[Path | None, typer.Option(
        "--nominations", "-n", help="GasLib .scn file with the nominated entry/exit flows.")]
    = None,
    compressors: Annotated[Path | None, typer.Option(
        help="GasLib .cs file (default: the .cs next to the .net file, if any).")] = None,
    friction: FrictionOpt = "colebrook",
    compressibility: ZOpt = "papay",
    slack: Annotated[str | None, typer.Option(help="Pressure reference node.")] = None,
    slack_pressure: Annotated[float | None, typer.Option(
        help="Pressure of the reference node (bar absolute).")] = None,
    no_adjust: Annotated[bool, typer.Option(
        "--no-adjust", help="Keep set points as given (do not move them into bounds).")] = False,
    top: Annotated[int, typer.Option(help="Elements listed as the worst.")] = 8,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Solve steady-state pressures and flows; print extremes, worst elements and violations."""

    def body() -> None:
        from corridor.hydraulics import SolverOptions, model_from_network, solve

        network = _load(net, nominations, compressors)
        model = model_from_network(network, friction=friction, compressibility=compressibility,
                                   slack=slack, slack_pressure_bar=slack_pressure)
        result = solve(model, SolverOptions(adjust_set_points=not no_adjust))
        if as_json:
            sys.stdout.write(json.dumps(result.to_dict()) + "\n")
        else:
            _print_solution(result, top)
        if not result.converged:
            raise typer.Exit(1)

    guarded(debug, body)


def _print_solution(result, top: int) -> None:
    model = result.model
    status = "[green]converged[/green]" if result.converged else "[red]did not converge[/red]"
    out.print(f"[bold]{model.name}[/bold]: {status} in {result.iterations} Newton iterations "
              f"({result.outer_rounds} operating rounds), {result.seconds * 1000:.1f} ms; "
              f"{model.n_nodes} nodes, {model.n_elements} elements; friction {model.friction}, "
              f"Z {model.compressibility}, {model.gas.temperature_k - 273.15:.1f} degC")
    if result.message:
        out.print(f"[yellow]{result.message}[/yellow]")
    if not result.converged:
        for kind, ident, value in result.worst or []:
            what = "residual" if kind == "element" else "pressure"
            out.print(f"  {kind} {ident}: {what} {value:.3g} bar")
        return
    p = result.pressure_bar
    lo, hi = int(p.argmin()), int(p.argmax())
    out.print(f"Pressure: min {p[lo]:.2f} bar at {model.node_ids[lo]}, max {p[hi]:.2f} bar at "
              f"{model.node_ids[hi]}")
    for k in np.flatnonzero(np.isfinite(model.slack_bar)):
        extra = result.injection_kg_s[k] / model.kg_s_per_1000m3_h()
        out.print(f"Reference {model.node_ids[k]} held at {model.slack_bar[k]:.2f} bar balances "
                  f"the network with {extra:+.3f} x 1000 m3/h beyond its nomination")
    el = result.elements_frame()
    el["abs_dp"] = el["dp_bar"].abs()
    table = Table(title=f"Largest pressure drops (top {top})")
    for col in ("element", "kind", "state", "flow 1000 m3/h", "p from", "p to", "v m/s",
                "lambda", "Z"):
        table.add_column(col, justify="left" if col in ("element", "kind", "state") else "right")
    for eid, r in el.sort_values("abs_dp", ascending=False).head(top).iterrows():
        table.add_row(str(eid), r["kind"], r["state"], f"{r['flow_1000m3_h']:.1f}",
                      f"{r['p_from_bar']:.2f}", f"{r['p_to_bar']:.2f}",
                      _fmt(r["velocity_m_s"], ".2f"), _fmt(r["friction_factor"], ".5f"),
                      _fmt(r["z"], ".4f"))
    out.print(table)
    comp = el[el["ratio"].notna()]
    if len(comp):
        out.print("Active compressors: " + ", ".join(
            f"{i} ratio {r['ratio']:.3f}, {r['power_mw']:.2f} MW" for i, r in comp.iterrows()))
    for note in result.notes:
        out.print(f"[dim]note:[/dim] {note}", highlight=False, soft_wrap=True)
    if result.violations:
        out.print(f"[red]{len(result.violations)} bound violation(s):[/red]")
        for v in result.violations[:20]:
            out.print(f"  {v}", highlight=False, soft_wrap=True)
        if len(result.violations) > 20:
            out.print(f"  ... and {len(result.violations) - 20} more (use --json)")
    else:
        out.print("[green]All pressures within their bounds.[/green]")
    out.print(f"Mass balance: largest node error {result.mass_balance_error():.1e} of the "
              "throughput")


def _fmt(value, spec: str) -> str:
    return "" if value != value else format(value, spec)  # NaN -> blank


@app.command("check")
def check_command(
    run: Annotated[Path, typer.Argument(help="Results folder written by `corridor run --out`.")],
    period: Annotated[int | None, typer.Option(
        help="Period to check (default: the one with the largest total gas flow).")] = None,
    network: Annotated[str | None, typer.Option(
        help="Network folder (default: the network named in the run's summary.json).")] = None,
    maop: Annotated[float, typer.Option(help="Maximum operating pressure, bar, where the data "
                                             "has none.")] = 75.0,
    min_pressure: Annotated[float, typer.Option(help="Minimum pressure, bar, where the data has "
                                                     "none.")] = 35.0,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Check that a run's planned gas flows fit the pipes' pressures; report compression."""

    def body() -> None:
        import pandas as pd

        from corridor.hydraulics.check import CheckAssumptions, check_plan

        flows_file, summary_file = run / "flows.parquet", run / "summary.json"
        if not flows_file.is_file():
            raise UserError(f"{run}: no flows.parquet (write one with `corridor run NETWORK "
                            f"--out {run}`)")
        name, scenario = network, None
        if name is None:
            if not summary_file.is_file():
                raise UserError(f"{run}: no summary.json naming the network; pass --network")
            doc = json.loads(summary_file.read_text())
            # the folder the run read (and the last scenario it applied, which applies the ones
            # it extends); older summaries name only a bundled network
            name = doc.get("network_folder") or doc.get("network")
            scenario = (doc.get("scenarios") or [None])[-1]
        net = load_scenario_network(name, scenario)[0]
        flows = pd.read_parquet(flows_file)
        gas_links = [c for c in flows.columns if c in set(net.links.index[
            net.links["carrier"] == "gas"])]
        chosen = period
        if chosen is None:
            chosen = flows[gas_links].abs().sum(axis=1).idxmax()
        if chosen not in flows.index:
            raise UserError(f"period {chosen} is not in {flows_file} (periods: "
                            f"{', '.join(map(str, flows.index[:12]))})")
        result = check_plan(net, flows.loc[chosen], period=chosen,
                            assumptions=CheckAssumptions(maop_bar=maop,
                                                         min_pressure_bar=min_pressure))
        if as_json:
            sys.stdout.write(json.dumps(result.to_dict()) + "\n")
        else:
            _print_check(result)
        if not result.result.converged:
            raise typer.Exit(1)

    guarded(debug, body)


def _print_check(check) -> None:
    seg = check.segments
    out.print(f"[bold]{check.network}[/bold], period {check.period}: hydraulic check of "
              f"{len(seg)} gas pipe segments with length and diameter "
              f"({len(check.skipped)} gas links skipped)")
    table = Table(title="Segments (flows in mcm/d, pressures in bar)")
    for col in ("link", "from -> to", "km", "mm", "planned", "physical", "p in", "p out",
                "stations", "ratio", "MW"):
        table.add_column(col, justify="left" if col in ("link", "from -> to") else "right")
    for sid, r in seg.iterrows():
        table.add_row(str(sid), f"{r['from']} -> {r['to']}", f"{r['length_km']:.0f}",
                      f"{r['diameter_mm']:.0f}", f"{r['planned_mcm_d']:.1f}",
                      _fmt(r["physical_mcm_d"], ".1f"), _fmt(r["p_in_bar"], ".1f"),
                      _fmt(r["p_out_bar"], ".1f"), str(int(r["stations"])),
                      _fmt(r["ratio"], ".2f"), _fmt(r["power_mw"], ".1f"))
    out.print(table)
    total = float(seg["power_mw"].fillna(0).sum())
    out.print(f"Compression needed: {int(seg['stations'].sum())} running stations, "
              f"{total:,.0f} MW shaft power in total.")
    if check.problems:
        out.print(f"[red]{len(check.problems)} finding(s):[/red]")
        for p in check.problems:
            out.print(f"  {p}", highlight=False, soft_wrap=True)
    else:
        out.print("[green]The planned flows fit the pressures without extra stations.[/green]")
    if check.skipped:
        with_flow = {k: v for k, v in check.skipped.items() if "planned 0.0" not in v
                     and "planned -0.0" not in v}
        if with_flow:
            out.print("Not checked (missing data): " + "; ".join(
                f"{k} {v}" for k, v in with_flow.items()), highlight=False, soft_wrap=True)
    out.print("Assumptions: " + "; ".join(check.assumptions), highlight=False, soft_wrap=True)


__all__ = ["app"]

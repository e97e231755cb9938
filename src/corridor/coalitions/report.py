"""Coalition and security reports: terminal tables (rich) and a self-contained HTML page with a
bar chart per player (plotly, its JavaScript embedded: the file works offline)."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from corridor.coalitions.summary import CoalitionSummary

MILLION = 1e6
ALLOCATION_LABELS = {"alone": "alone v(i)", "shapley": "Shapley", "nucleolus": "nucleolus",
                     "marginal": "marginal v(N)-v(N-i)", "shapley_gain": "Shapley - alone"}


def _m(value: float) -> str:
    return f"{value / MILLION:,.1f}"


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for k, col in enumerate(columns):
        table.add_column(col, justify="left" if k == 0 else "right")
    return table


def coalition_lines(s: CoalitionSummary) -> list[str]:
    """The header and the verdicts, as plain sentences."""
    cv, st = s.values, s.values.settings
    carrier = st.get("carrier", "all")
    lines = [
        f"[bold]{s.network}[/bold]: players {', '.join(cv.players)} (by {st['by']}), "
        f"carrier {carrier}, {st['periods']} period(s), basis {st['basis']}",
        f"{s.definition}. Money in million USD per year; the outside world alone achieves "
        f"{_m(cv.welfare[0])}.",
        f"{len(cv.values):,} coalition LPs in {cv.seconds:.2f} s (one warm-started HiGHS model, "
        f"{cv.iterations:,} simplex iterations).",
    ]
    return lines


def coalition_tables(s: CoalitionSummary, all_coalitions: bool = False) -> list[Table]:
    """Union versus pairs versus players alone, and the fair splits."""
    values = _table("Coalition values (M USD/yr)",
                    ["coalition", "value", "gain over members alone"])
    shown = s.coalitions if all_coalitions else s.coalitions[
        (s.coalitions["size"] <= 2) | (s.coalitions["size"] == len(s.values.players))]
    for name, row in shown.iterrows():
        values.add_row(name, _m(row["value"]), _m(row["gain"]) if row["size"] > 1 else "")
    split = _table("Fair split of the union's value (M USD/yr)",
                   ["player", *ALLOCATION_LABELS.values()])
    for player, row in s.table.iterrows():
        split.add_row(str(player), *(_m(row[c]) for c in ALLOCATION_LABELS))
    return [values, split]


def verdict_lines(s: CoalitionSummary) -> list[str]:
    core, bil, prop = s.core, s.bilateral, s.properties
    lines = [f"Best bilateral arrangement (pairs and players alone): {', '.join(bil['best_split'])}"
             f" = {_m(bil['value'])}; the union adds {_m(bil['union_gain'])}."]
    if core["shapley_in_core"]:
        lines.append("The Shapley split is in the core: no coalition does better on its own.")
    else:
        lines.append(f"The Shapley split is NOT in the core: {core['blocking_coalition']} would "
                     f"earn {_m(core['blocking_excess'])} more on its own.")
    lines.append("The core is empty (least-core epsilon "
                 f"{_m(core['least_core_epsilon'])})." if core["core_empty"] else
                 "The core is non-empty; the nucleolus lies in it.")
    verified = {True: "verified by Kohlberg's criterion", False: "FAILED Kohlberg's criterion",
                None: "not re-verified (more than 8 players)"}[prop["kohlberg_verified"]]
    lines.append(f"Nucleolus {verified}. The game is "
                 f"{'' if prop['superadditive'] else 'not '}superadditive and "
                 f"{'' if prop['convex'] else 'not '}convex.")
    return lines + [f"Note: {n}" for n in s.notes]


def print_coalition(s: CoalitionSummary, console: Console, all_coalitions: bool = False) -> None:
    for line in coalition_lines(s):
        console.print(line, highlight=False)
    for table in coalition_tables(s, all_coalitions):
        console.print(table)
    for line in verdict_lines(s):
        console.print(line, highlight=False)


def coalition_figure(s: CoalitionSummary):
    """Grouped bars per player: alone, Shapley, nucleolus, marginal contribution (M USD/yr)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    players = [str(p) for p in s.table.index]
    for col in ("alone", "shapley", "nucleolus", "marginal"):
        fig.add_bar(name=ALLOCATION_LABELS[col], x=players, y=s.table[col] / MILLION)
    fig.update_layout(barmode="group", yaxis_title="million USD per year",
                      title=f"{s.network}: what each player gets and brings",
                      template="plotly_white", legend={"orientation": "h"})
    return fig


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(float_format=lambda x: f"{x / MILLION:,.1f}", border=0,
                         classes="numbers")


def write_coalition_html(s: CoalitionSummary, path: str | Path) -> Path:
    """One self-contained HTML file (plotly.js embedded, no CDN)."""
    fig = coalition_figure(s).to_html(full_html=False, include_plotlyjs=True)
    coalitions = s.coalitions.drop(columns="size")
    allocation = s.table.rename(columns=ALLOCATION_LABELS)
    text = "".join(f"<p>{html.escape(_plain(line))}</p>"
                   for line in coalition_lines(s) + verdict_lines(s))
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(s.network)}: coalitions</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
            "table.numbers td{text-align:right;padding:0 1em}</style></head><body>"
            f"<h1>Coalitions on {html.escape(s.network)}</h1>{text}{fig}"
            f"<h2>Fair split (M USD/yr)</h2>{_html_table(allocation)}"
            f"<h2>Coalition values (M USD/yr)</h2>{_html_table(coalitions)}</body></html>")
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path


def _plain(line: str) -> str:
    """Strip rich markup of the few tags used here."""
    return line.replace("[bold]", "").replace("[/bold]", "")


# -- security ---------------------------------------------------------------------------------

def n1_table(n1: pd.DataFrame) -> Table:
    table = _table("N-1 per country (EU 2017/1938 Annex II), mcm/d",
                   ["country", "EP", "P", "S", "LNG", "I", "largest (gas to it)", "D_max",
                    "N-1 %", ">= 100 %", "EP nameplate", "transit"])
    for c, r in n1.iterrows():
        ok = "" if pd.isna(r["N-1"]) else ("yes" if r["N-1"] >= 100 else "NO")
        table.add_row(str(c), *(f"{r[k]:,.1f}" for k in ("EP", "P", "S", "LNG", "I")),
                      f"{r['I_infrastructure']} ({r['I_carried']:,.1f})", f"{r['D_max']:,.1f}",
                      "n/a" if pd.isna(r["N-1"]) else f"{r['N-1']:,.0f}", ok,
                      f"{r['EP_nameplate']:,.1f}", f"{r['transit']:,.1f}")
    return table


def disruption_table(sim: pd.DataFrame) -> Table:
    countries = list(dict.fromkeys(sim["country"]))
    table = _table("Peak-day disruptions: unserved domestic demand, mcm/d (share of D_max)",
                   ["infrastructure out", "capacity", "mode", *countries])
    for (name, mode), rows in sim.groupby(["disruption", "mode"], sort=False):
        by_country = rows.set_index("country")
        cells = [f"{by_country.at[c, 'unserved']:,.2f} ({by_country.at[c, 'share']:.0%})"
                 if pd.notna(by_country.at[c, "share"]) else
                 f"{by_country.at[c, 'unserved']:,.2f}" for c in countries]
        capacity = "" if name == "(none)" else f"{rows['capacity'].iloc[0]:,.1f}"
        table.add_row(name, capacity, mode, *cells)
    return table


def print_security(n1: pd.DataFrame, sim: pd.DataFrame, console: Console, name: str) -> None:
    from corridor.coalitions.security import PROFILE_PEAK

    console.print(f"[bold]{name}[/bold]: N-1 = (EP + P + S + LNG - I) / D_max x 100; gas only; "
                  "each term counts only what it can deliver to the country's own demand over "
                  "its own pipelines, transit held (EP at nameplate and the transit its entries "
                  "carried on the peak day are shown for comparison); I is the largest loss "
                  "of those terms among the country's own infrastructures that carry gas to "
                  "it (in brackets: the gas it carries).", highlight=False)
    if n1.empty:
        console.print("No country of this network has domestic gas demand: nothing to assess.")
        return
    for c, basis in n1["D_max_basis"].items():
        label = c or "(network)"
        text = ("the peak of its demands' profiles (monthly data: the peak month's mean day, "
                "not a 1-in-20-years day)" if basis == PROFILE_PEAK else basis)
        console.print(f"D_max of {label}: {text}", highlight=False)
    if list(n1.index) == [""]:
        console.print("The network names no country: it is assessed as one area, shown as "
                      "'(network)'.", highlight=False)
        n1 = n1.rename(index={"": "(network)"})
        sim = sim.replace({"country": {"": "(network)"}})
    console.print(n1_table(n1))
    console.print(disruption_table(sim))
    console.print("Cooperative: least-cost sharing of the shortage. Own demand first: each "
                  "country first serves its own demand from its own production, storage and "
                  "internal pipelines; only the rest flows on (transit gas is not seized).",
                  highlight=False)

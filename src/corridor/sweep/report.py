"""The report of a stored sweep: security of supply, revenue and flow distributions.

All figures are aggregated by DuckDB from the store (memory does not grow with the draws):

- loss-of-load probability (LOLP): the share of solved draws in which a country's unmet demand
  (per market and carrier) exceeds the base case's by more than a tolerance (1e-6 of the demand
  plus 1000 m3 or 1 t); for domestic demand the base is normally zero, so this is the plain
  probability of a shortage; for exports it is the probability of selling less than in the
  base case (an export market's base unmet amount is often unused headroom, not a shortage);
- expected unserved energy (EUE): the mean unmet volume over the draws, and its mean excess
  over the base case, in bcm (gas) or Mt (oil) over the modelled horizon (a year);
- percentiles (5, 25, 50, 75, 95 %) of transport revenue per country (tariff x flow entering the
  country's links, million USD) and of the net flow of the links that vary most;
- the objective (minus the surplus) distribution, and the draws that cost most, with their changes.

`terminal(report, console)` prints the tables; `write_html(report, path)` writes one offline
page: plotly.js is embedded (no CDN), so it opens with no network access.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from rich.console import Console
from rich.table import Table

from corridor.sweep.results import SweepStore
from corridor.units import AMOUNT_DIVISOR, DISPLAY_AMOUNT

PERCENTILES = (5, 25, 50, 75, 95)
TOL_REL, TOL_ABS = 1e-6, 1e-3  # shortfall tolerance: share of demand + base units (mcm, kt)


def _quantiles(column: str, where: str) -> str:
    return ", ".join(f"quantile_cont({column}, {p / 100}) FILTER (WHERE {where}) AS p{p}"
                     for p in PERCENTILES)


_SECURITY = f"""
WITH d AS (SELECT draw, item, carrier, value FROM sweep_draws
           WHERE sweep_id = $id AND quantity = 'unmet_' || $market),
dem AS (SELECT draw, item, carrier, value AS demand FROM sweep_draws
        WHERE sweep_id = $id AND quantity = 'demand_' || $market),
base AS (SELECT item, carrier, value AS base FROM d WHERE draw = -1)
SELECT item AS country, carrier, avg(demand) AS demand, any_value(base) AS base,
       avg(CASE WHEN value > base + {TOL_REL} * demand + {TOL_ABS} THEN 1.0 ELSE 0.0 END)
           AS lolp,
       avg(value) AS eue, avg(greatest(value - base, 0)) AS eue_beyond_base,
       quantile_cont(value, 0.95) AS p95, max(value) AS worst, count(*) AS draws
FROM d JOIN dem USING (draw, item, carrier) JOIN base USING (item, carrier)
WHERE draw >= 0 GROUP BY ALL ORDER BY country, carrier
"""

_SPREAD = f"""
WITH d AS (SELECT draw, item, carrier, value FROM sweep_draws
           WHERE sweep_id = $id AND quantity = $quantity)
SELECT item, carrier, any_value(value) FILTER (WHERE draw = -1) AS base,
       avg(value) FILTER (WHERE draw >= 0) AS mean,
       {_quantiles("value", "draw >= 0")}
FROM d GROUP BY ALL ORDER BY item, carrier
"""


@dataclass
class SweepReport:
    """The aggregated figures of one sweep (volumes in base units over the horizon, money USD)."""

    meta: dict
    statuses: pd.Series
    domestic: pd.DataFrame
    export: pd.DataFrame
    revenue: pd.DataFrame
    flows: pd.DataFrame
    objective: pd.DataFrame
    objectives: pd.Series
    costliest: pd.DataFrame

    @property
    def solved(self) -> int:
        return int(self.statuses.drop(["error", "failed"], errors="ignore").sum())


def load_report(db: SweepStore, sweep_id: int, top_flows: int = 12) -> SweepReport:
    """Aggregate a stored sweep."""
    meta = db.meta(sweep_id)
    con = db.con
    params = {"id": sweep_id}
    statuses = con.execute("SELECT status, count(*) AS n FROM sweep_outcomes WHERE sweep_id = ? "
                           "AND draw >= 0 GROUP BY status ORDER BY status", [sweep_id]).df()
    security = {m: con.execute(_SECURITY, {**params, "market": m}).df()
                for m in ("domestic", "export")}
    revenue = con.execute(_SPREAD, {**params, "quantity": "transit_revenue"}).df()
    flows = con.execute(_SPREAD, {**params, "quantity": "flow"}).df()
    flows = flows.assign(spread=flows["p95"] - flows["p5"])
    flows = flows[flows["spread"] > 1e-6].nlargest(top_flows, "spread")
    names = json.loads(meta["link_names"] or "{}")
    flows.insert(1, "name", flows["item"].map(names).fillna(""))
    outcomes = con.execute("SELECT draw, status, objective, iterations, seconds, changes "
                           "FROM sweep_outcomes WHERE sweep_id = ? ORDER BY draw",
                           [sweep_id]).df()
    drawn = outcomes[outcomes["draw"] >= 0]
    base_row = outcomes[outcomes["draw"] == -1]
    objective = pd.DataFrame([{
        "base": base_row["objective"].iloc[0] if len(base_row) else float("nan"),
        "mean": drawn["objective"].mean(),
        **{f"p{p}": drawn["objective"].quantile(p / 100) for p in PERCENTILES},
        "iterations": drawn["iterations"].mean(), "solve_ms": 1000 * drawn["seconds"].mean()}])
    costliest = drawn.nlargest(5, "objective")[["draw", "status", "objective", "changes"]]
    costliest = costliest.assign(changes=costliest["changes"].map(describe_changes))
    return SweepReport(meta, statuses.set_index("status")["n"], security["domestic"],
                       security["export"], revenue, flows, objective,
                       drawn.set_index("draw")["objective"], costliest)


def describe_changes(changes: str) -> str:
    """A stored draw's changes (JSON) in words: outages with their days, then factors."""
    data = json.loads(changes or "{}")
    parts = []
    for o in data.get("outages", []):
        left = "" if o["availability"] == 0 else f" at {o['availability']:.0%}"
        parts.append(f"{o['name']} ({' '.join(o['links'])}) from day {o['start_day']} for "
                     f"{o['days']} d{left}")
    for name, value in data.get("factors", {}).items():
        shown = f"{value:.3f}" if isinstance(value, float) else \
            f"{min(value):.3f}-{max(value):.3f}"
        parts.append(f"{name} x {shown}")
    return "; ".join(parts) or "no change"


def _volume(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Base-unit volumes (mcm, kt) as bcm and Mt."""
    return df.assign(**{c: df[c] / AMOUNT_DIVISOR for c in columns},
                     unit=df["carrier"].map(DISPLAY_AMOUNT))


SECURITY_COLUMNS = {"country": "country", "unit": "unit", "demand": "demand",
                    "base": "base unmet", "lolp": "LOLP", "eue": "EUE",
                    "eue_beyond_base": "EUE beyond base", "p95": "P95 unmet",
                    "worst": "worst", "draws": "draws"}


def security_table(df: pd.DataFrame) -> pd.DataFrame:
    """Security of supply per country and carrier in display units."""
    cols = ["demand", "base", "eue", "eue_beyond_base", "p95", "worst"]
    table = _volume(df, cols)[list(SECURITY_COLUMNS)]
    return table.rename(columns=SECURITY_COLUMNS)


def spread_table(df: pd.DataFrame, money: bool) -> pd.DataFrame:
    cols = ["base", "mean", *(f"p{p}" for p in PERCENTILES)]
    if money:
        return df.assign(**{c: df[c] / 1e6 for c in cols})
    return _volume(df, cols)


def _rich(df: pd.DataFrame, title: str, formats: dict[str, str] | None = None) -> Table:
    formats = formats or {}
    table = Table(title=title, title_justify="left")
    for col in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in df.itertuples(index=False):
        cells = []
        for col, value in zip(df.columns, row, strict=True):
            if isinstance(value, float):
                cells.append("" if pd.isna(value) else formats.get(col, "{:,.2f}").format(value))
            else:
                cells.append(str(value))
        table.add_row(*cells)
    return table


def headline(report: SweepReport) -> str:
    m = report.meta
    counts = ", ".join(f"{n} {s}" for s, n in report.statuses.items())
    seconds = m["seconds"]
    speed = (f" in {seconds:,.1f} s ({m['completed'] / seconds:,.0f} draws/s)"
             if seconds and seconds == seconds else "")
    return (f"[bold]Sweep #{m['sweep_id']} {m['name']}[/bold]: {m['network']}"
            f"{' / ' + m['scenario'] if m['scenario'] else ''}, {m['periods']} period(s), "
            f"seed {m['seed']}, {m['completed']} of {m['draws']} draws {m['state']}{speed}; "
            f"{counts}. Ran on {m['executor']}.")


def terminal(report: SweepReport, console: Console) -> None:
    """Print the report's tables."""
    console.print(headline(report), highlight=False)
    pct = {"LOLP": "{:.1%}"}
    console.print(_rich(security_table(report.domestic), "Domestic demand: loss-of-load "
                        "probability and expected unserved energy (bcm gas, Mt oil over the "
                        "horizon)", pct))
    if len(report.export):  # export markets priced as world markets are not demand that goes short
        console.print(_rich(security_table(report.export), "Export demand: probability of "
                            "selling less than in the base case, and expected shortfall", pct))
    rev = spread_table(report.revenue, money=True).rename(columns={"item": "country"})
    console.print(_rich(rev, "Transport revenue by country (million USD over the horizon)",
                        {c: "{:,.1f}" for c in rev.columns}))
    if len(report.flows):
        flows = spread_table(report.flows, money=False).drop(columns=["carrier", "spread"])
        flows["name"] = flows["name"].str.slice(0, 40)
        console.print(_rich(flows.rename(columns={"item": "link"}),
                            "Links whose flow varies most (bcm gas, Mt oil over the horizon)"))
    obj = report.objective.copy()
    money = ["base", "mean", *(f"p{p}" for p in PERCENTILES)]
    obj[money] = obj[money] / 1e9
    console.print(_rich(obj, "Objective (bn USD: minus the surplus) and solver effort per draw",
                        {"iterations": "{:,.0f}", "solve_ms": "{:,.2f}"}))


def _bar(df: pd.DataFrame, column: str, title: str, axis: str) -> go.Figure:
    labels = df["country"] + " " + df["unit"]
    fig = go.Figure(go.Bar(x=labels, y=df[column]))
    fig.update_layout(title=title, yaxis_title=axis, height=360, margin={"t": 50, "b": 40},
                      yaxis={"rangemode": "tozero"})
    return fig


def _boxes(df: pd.DataFrame, label: pd.Series, title: str, axis: str) -> go.Figure:
    """Box plots from precomputed percentiles: box 25-75 %, whiskers 5-95 %, line the median."""
    fig = go.Figure(go.Box(x=label, q1=df["p25"], median=df["p50"], q3=df["p75"],
                           lowerfence=df["p5"], upperfence=df["p95"], mean=df["mean"],
                           boxmean=True, name=""))
    fig.add_trace(go.Scatter(x=label, y=df["base"], mode="markers", name="base case",
                             marker={"symbol": "diamond", "size": 9}))
    fig.update_layout(title=title, yaxis_title=axis, height=420, margin={"t": 50, "b": 120})
    return fig


def figures(report: SweepReport) -> list[go.Figure]:
    dom = security_table(report.domestic)
    exp = security_table(report.export)
    rev = spread_table(report.revenue, money=True)
    flows = spread_table(report.flows, money=False)
    obj = go.Figure(go.Histogram(x=report.objectives / 1e9, nbinsx=40))
    obj.update_layout(title="Objective (minus the surplus) over the draws", xaxis_title="bn USD",
                      yaxis_title="draws", height=360)
    figs = [_bar(dom, "LOLP", "Domestic loss-of-load probability", "share of draws"),
            _bar(dom, "EUE", "Domestic expected unserved energy", "bcm (gas) / Mt (oil)"),
            _bar(exp, "LOLP", "Probability of exporting less than in the base case",
                 "share of draws"),
            _boxes(rev, rev["item"] + " " + rev["carrier"], "Transport revenue by country",
                   "million USD"),
            obj]
    if len(flows):
        figs.insert(4, _boxes(flows, flows["item"] + " " + flows["carrier"],
                              "Net flow of the links that vary most", "bcm (gas) / Mt (oil)"))
    return figs


def _html_table(df: pd.DataFrame, title: str) -> str:
    return f"<h2>{html.escape(title)}</h2>" + df.to_html(index=False, classes="table", border=0,
                                                         float_format=lambda v: f"{v:,.3f}")


def report_html(report: SweepReport) -> str:
    """The whole self-contained page (plotly.js embedded once, in the first figure)."""
    from corridor.report.html import CSS

    divs = "".join(pio.to_html(f, full_html=False, include_plotlyjs=(k == 0),
                               config={"displaylogo": False, "responsive": True})
                   for k, f in enumerate(figures(report)))
    title = f"Corridor sweep #{report.meta['sweep_id']}: {report.meta['name']}"
    head = html.escape(headline(report).replace("[bold]", "").replace("[/bold]", ""))
    costliest = report.costliest.assign(objective=report.costliest["objective"] / 1e9)
    tables = "".join([
        _html_table(security_table(report.domestic), "Domestic demand: LOLP and EUE "
                    "(bcm gas, Mt oil)"),
        _html_table(security_table(report.export), "Export demand: shortfall against the "
                    "base case"),
        _html_table(spread_table(report.revenue, money=True).rename(columns={"item": "country"}),
                    "Transport revenue by country (million USD)"),
        _html_table(spread_table(report.flows, money=False).drop(columns="spread")
                    .rename(columns={"item": "link"}),
                    "Flows that vary most (bcm gas, Mt oil)"),
        _html_table(costliest, "The costliest draws (bn USD) and what they changed"),
    ])
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{head}</p>{divs}{tables}</body></html>")


def write_html(report: SweepReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html(report), encoding="utf-8")
    return path


def to_dict(report: SweepReport) -> dict:
    """The aggregated figures as JSON-able data (base units, USD)."""
    def records(df: pd.DataFrame) -> list[dict]:
        return json.loads(df.to_json(orient="records"))

    meta = {k: (str(v) if k == "created" else v) for k, v in report.meta.items()
            if k not in ("spec", "link_names", "days")}
    return {"sweep": json.loads(json.dumps(meta, default=str)),
            "statuses": {str(k): int(v) for k, v in report.statuses.items()},
            "domestic": records(report.domestic), "export": records(report.export),
            "transit_revenue": records(report.revenue), "flows": records(report.flows),
            "objective": records(report.objective)}

"""A plan as one self-contained HTML page: build timeline, capacity and flows by year, and
welfare by country and year (plotly.js embedded, nothing fetched)."""

from __future__ import annotations

import html
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from corridor.plan.results import PlanResults


def timeline_figure(result: PlanResults) -> go.Figure:
    """One bar per built project from the year it operates to the end of the horizon."""
    years = result.horizon.years
    end = years[-1] + result.horizon.weights[-1]
    fig = go.Figure()
    for pid, year in sorted(result.builds().items(), key=lambda kv: kv[1]):
        fig.add_bar(y=[pid], x=[end - year], base=[year], orientation="h", name=pid,
                    hovertext=f"{pid}: from {year}", showlegend=False)
    fig.update_layout(title="Builds: operating from", xaxis_title="year", height=380)
    return fig


def capacity_figure(result: PlanResults) -> go.Figure:
    """Capacity in operation by year (share of each project's size), per project."""
    share = result.available()
    fig = go.Figure()
    for pid in share.columns[(share > 0).any()]:
        fig.add_bar(x=[str(y) for y in share.index], y=share[pid], name=pid)
    fig.update_layout(barmode="stack", title="Project capacity in operation (share of size)",
                      height=380)
    return fig


def flow_figure(result: PlanResults) -> go.Figure:
    """Annual flow on each built project link, by year (base units)."""
    fig = go.Figure()
    links = [p for p in result.builds() if result.projects.loc[p, "table"] == "links"]
    for pid in links:
        volume = [float(r.volume(r.flows[[pid]]).iloc[0]) for r in result.years.values()]
        fig.add_scatter(x=[str(y) for y in result.years], y=volume, name=pid, mode="lines+markers")
    fig.update_layout(title="Flow on built project links (base units a year)", height=380)
    return fig


def money_figure(result: PlanResults) -> go.Figure:
    money = result.money_by_country() / 1e9
    fig = go.Figure()
    for country, row in money.iterrows():
        fig.add_scatter(x=[str(y) for y in row.index], y=row.to_numpy(), name=str(country),
                        mode="lines+markers")
    fig.update_layout(title="Welfare by country after project costs (bn USD a year)", height=420)
    return fig


def write_plan_html(result: PlanResults, path: str | Path) -> Path:
    figures = [timeline_figure(result), capacity_figure(result), flow_figure(result),
               money_figure(result)]
    divs = "".join(pio.to_html(f, full_html=False, include_plotlyjs=False) for f in figures)
    name = html.escape(result.model.network.name)
    table = result.values.to_html(float_format=lambda v: f"{v:,.3g}") if len(result.values) \
        else ""
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{name}: plan</title>"
            f"<script>{get_plotlyjs()}</script><style>body{{font-family:sans-serif;"
            "max-width:1100px;margin:2em auto}</style></head><body>"
            f"<h1>Plan for {name}, {result.horizon.years[0]}-{result.horizon.years[-1]}</h1>"
            f"<p>Discounted welfare {result.welfare() / 1e9:,.2f} bn USD; MIP gap "
            f"{result.mip_gap:.2e}.</p>{divs}<h2>Built projects (USD)</h2>{table}"
            "</body></html>")
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path

"""A plan as one self-contained HTML page: build timeline, capacity and flows by year, and
welfare by country and year (plotly.js embedded, nothing fetched). Drawn from a plan's stored
tables, so `corridor report --plan N` and `corridor plan --html` give the same page."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs


@dataclass
class StoredPlan:
    """A plan's stored tables (`Store.save_plan`): head row, builds, capacity, flows, money."""

    head: dict
    builds: pd.DataFrame  # project, year, share, capex, discounted_cost, gross/net value
    capacity: pd.DataFrame  # project, year, capacity
    flows: pd.DataFrame  # link, year, flow (base units over the year)
    money: pd.DataFrame  # country, year, welfare


def timeline_figure(plan: StoredPlan) -> go.Figure:
    """One bar per built project from the year it operates to the end of the horizon."""
    years = [int(y) for y in str(plan.head["years"]).split(",")]
    end = years[-1] + (years[-1] - years[-2] if len(years) > 1 else 1)
    fig = go.Figure()
    for row in plan.builds.sort_values("year").itertuples():
        fig.add_bar(y=[row.project], x=[end - row.year], base=[row.year], orientation="h",
                    hovertext=f"{row.project}: from {row.year}, share {row.share:.2f}",
                    showlegend=False)
    fig.update_layout(title="Builds: operating from", xaxis_title="year", height=380)
    return fig


def capacity_figure(plan: StoredPlan) -> go.Figure:
    """Capacity of the built projects in operation by year (base units)."""
    wide = plan.capacity.pivot(index="year", columns="project", values="capacity")
    fig = go.Figure()
    for pid in wide.columns[(wide > 0).any()]:
        fig.add_bar(x=[str(y) for y in wide.index], y=wide[pid], name=pid)
    fig.update_layout(barmode="stack", title="Project capacity in operation (base units)",
                      height=380)
    return fig


def flow_figure(plan: StoredPlan) -> go.Figure:
    """Annual flow on each built project link, by year (base units)."""
    fig = go.Figure()
    wide = plan.flows.pivot(index="year", columns="link", values="flow")
    for pid in [p for p in plan.builds["project"] if p in wide.columns]:
        fig.add_scatter(x=[str(y) for y in wide.index], y=wide[pid], name=pid,
                        mode="lines+markers")
    fig.update_layout(title="Flow on built project links (base units a year)", height=380)
    return fig


def money_figure(plan: StoredPlan) -> go.Figure:
    wide = plan.money.pivot(index="year", columns="country", values="welfare") / 1e9
    fig = go.Figure()
    for country in wide.columns:
        fig.add_scatter(x=[str(y) for y in wide.index], y=wide[country], name=str(country),
                        mode="lines+markers")
    fig.update_layout(title="Welfare by country after project costs (bn USD a year)",
                      height=420)
    return fig


def write_plan_html(plan: StoredPlan, path: str | Path) -> Path:
    figures = [timeline_figure(plan), capacity_figure(plan), flow_figure(plan),
               money_figure(plan)]
    divs = "".join(pio.to_html(f, full_html=False, include_plotlyjs=False) for f in figures)
    head = plan.head
    name = html.escape(str(head["network"]))
    table = plan.builds.to_html(index=False, float_format=lambda v: f"{v:,.4g}")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{name}: plan</title>"
            f"<script>{get_plotlyjs()}</script><style>body{{font-family:sans-serif;"
            "max-width:1100px;margin:2em auto}</style></head><body>"
            f"<h1>Plan for {name} {html.escape(str(head.get('scenario') or ''))}, years "
            f"{html.escape(str(head['years']))}</h1>"
            f"<p>Discounted welfare {head['welfare'] / 1e9:,.2f} bn USD; MIP gap "
            f"{head['mip_gap']:.2e}.</p>{divs}<h2>Built projects (USD)</h2>{table}"
            "</body></html>")
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path

"""The offline HTML report of a run: map of flows, Sankey by country, charts over periods, tables.

Everything the page needs is inside the file: plotly.js, and the country borders (shipped with
the package) handed to plotly through its `PlotlyGeoAssets` hook, so geo maps never fetch from a
CDN and the page renders with no network access.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from corridor.store import StoredRun
from corridor.units import (
    AMOUNT_DIVISOR,
    DISPLAY_AMOUNT,
    DISPLAY_PRICE,
    DISPLAY_RATE,
    PRICE_DIVISOR,
    RATE_TO_DISPLAY,
)

GEO_ASSET = Path(__file__).resolve().parent.parent / "data" / "geo" / "world_110m.json"
COLOURS = {"gas": "#1f77b4", "oil": "#8c564b"}
UTILISATION_SCALE = "RdYlGn_r"


def _mean_over_periods(run: StoredRun, table: str, column: str, value: str) -> pd.Series:
    wide = run.wide(table, column, value)
    days = run.days()
    return wide.mul(days, axis=0).sum(min_count=1) / days.sum()


def map_figure(run: StoredRun) -> go.Figure:
    """Links drawn between their nodes, coloured by utilisation, width by flow; nodes by price."""
    nodes = run.tables["nodes"].set_index("node")
    links = run.tables["links"].set_index("link")
    flow = _mean_over_periods(run, "flows", "link", "flow").reindex(links.index).fillna(0.0)
    util = _mean_over_periods(run, "flows", "link", "utilisation").reindex(links.index)
    fig = go.Figure()
    peak = max(float(flow.abs().max()), 1e-9)
    for lid, link in links.iterrows():
        ends = nodes.reindex([link["from"], link["to"]])
        if ends[["lat", "lon"]].isna().any().any():
            continue
        built = link["status"] == "operating"
        u = util.get(lid)
        colour = _utilisation_colour(u) if built and pd.notna(u) else "#bbbbbb"
        text = (f"{lid} {html.escape(str(link['name']))}<br>flow "
                f"{flow[lid] * RATE_TO_DISPLAY:,.2f} {DISPLAY_RATE.get(link['carrier'], '')}"
                "<br>utilisation "
                f"{'n/a' if pd.isna(u) else f'{u:.0%}'}<br>status {link['status']}")
        fig.add_trace(go.Scattergeo(
            lon=ends["lon"], lat=ends["lat"], mode="lines", hoverinfo="text", text=[text] * 2,
            line={"width": 1.5 + 8 * abs(flow[lid]) / peak, "color": colour,
                  "dash": "solid" if built else "dot"},
            showlegend=False, name=lid))
    price = _mean_over_periods(run, "prices", "node", "price")
    for carrier, symbol in (("gas", "circle"), ("oil", "square")):
        sub = nodes[(nodes["carrier"] == carrier) & nodes["lat"].notna()]
        fig.add_trace(go.Scattergeo(
            lon=sub["lon"], lat=sub["lat"], mode="markers", name=f"{carrier} nodes",
            marker={"size": 6, "symbol": symbol, "color": COLOURS[carrier]},
            text=[f"{n} ({c})<br>price {price.get(n, np.nan) / PRICE_DIVISOR:,.0f} "
                  f"{DISPLAY_PRICE[carrier]}"
                  for n, c in zip(sub.index, sub["country"], strict=True)],
            hoverinfo="text"))
    fig.add_trace(go.Scattergeo(  # an invisible trace that carries the colour bar
        lon=[None], lat=[None], mode="markers", showlegend=False, hoverinfo="skip",
        marker={"colorscale": UTILISATION_SCALE, "cmin": 0, "cmax": 1, "color": [0],
                "colorbar": {"title": "utilisation", "tickformat": ".0%"}, "size": 0.1}))
    lat, lon = nodes["lat"].dropna(), nodes["lon"].dropna()
    fig.update_geos(projection_type="natural earth", showcountries=True, showland=True,
                    landcolor="#f4f1ea", countrycolor="#999999", showcoastlines=True,
                    resolution=110, scope="world",
                    lataxis_range=[lat.min() - 3, lat.max() + 3] if len(lat) else None,
                    lonaxis_range=[lon.min() - 5, lon.max() + 5] if len(lon) else None)
    fig.update_layout(title="Network and mean flows (line width: flow; colour: utilisation; "
                            "dotted: not built)", height=620,
                      margin={"l": 0, "r": 0, "t": 40, "b": 0},
                      legend={"orientation": "h", "y": -0.02, "x": 0})
    return fig


def _utilisation_colour(u: float) -> str:
    from plotly.colors import sample_colorscale

    return sample_colorscale(UTILISATION_SCALE, [min(max(float(u), 0.0), 1.0)])[0]


def sankey_figure(run: StoredRun, carrier: str) -> go.Figure | None:
    """Annual volumes from production by country, across borders, to consumption by country."""
    nodes = run.tables["nodes"].set_index("node")
    links = run.tables["links"].set_index("link")
    links = links[links["carrier"] == carrier]
    days = run.days().sum()
    flows = run.wide("flows", "link", "flow").mul(run.days(), axis=0).sum() / days * RATE_TO_DISPLAY
    edges: dict[tuple[str, str], float] = {}

    def add(a: str, b: str, v: float) -> None:
        if v > 1e-6:
            edges[a, b] = edges.get((a, b), 0.0) + v

    crossing: dict[tuple[str, str], float] = {}
    for lid, link in links.iterrows():
        a, b = nodes.at[link["from"], "country"], nodes.at[link["to"], "country"]
        if a != b:
            crossing[a, b] = crossing.get((a, b), 0.0) + float(flows.get(lid, 0.0))
    for (a, b), f in crossing.items():  # net opposite flows so transit loops do not draw cycles
        if (a, b) < (b, a):
            net_ab = f - crossing.get((b, a), 0.0)
            add(a, b, net_ab) if net_ab > 0 else add(b, a, -net_ab)
        elif (b, a) not in crossing:
            add(a, b, f) if f > 0 else add(b, a, -f)
    supply = run.tables["supply"]
    supply = supply[supply["carrier"] == carrier]
    produced = (supply["produced"] * supply["period"].map(_days(run))).groupby(
        supply["country"]).sum() / days * RATE_TO_DISPLAY
    for country, v in produced.items():
        add(f"production {country}", country, float(v))
    unmet = run.tables["unmet"]
    unmet = unmet[unmet["carrier"] == carrier]
    served = unmet["served"].fillna(unmet["amount"] - unmet["unmet"])  # runs stored before 0.2
    served = (served * unmet["period"].map(_days(run))).groupby(
        unmet["country"]).sum() / days * RATE_TO_DISPLAY
    for country, v in served.items():
        add(country, f"consumption {country}", float(v))
    if not edges:
        return None
    labels = sorted({x for e in edges for x in e})
    index = {name: i for i, name in enumerate(labels)}
    fig = go.Figure(go.Sankey(
        node={"label": labels, "pad": 12},
        link={"source": [index[a] for a, _ in edges], "target": [index[b] for _, b in edges],
              "value": list(edges.values())},
        valueformat=",.2f", valuesuffix=f" {DISPLAY_RATE[carrier]}"))
    fig.update_layout(title=f"{carrier.capitalize()}: production, border crossings and "
                            f"consumption by country ({DISPLAY_RATE[carrier]})", height=520)
    return fig


def _days(run: StoredRun) -> pd.Series:
    return run.tables["periods"].set_index("period")["days"]


def utilisation_figure(run: StoredRun, n: int = 15) -> go.Figure:
    """Utilisation of the most used links in every period."""
    util = run.wide("flows", "link", "utilisation")
    top = util.mean().sort_values(ascending=False).head(n).index
    fig = go.Figure(go.Heatmap(z=util[top].T.to_numpy(), x=util.index, y=list(top),
                               colorscale=UTILISATION_SCALE, zmin=0, zmax=1,
                               colorbar={"tickformat": ".0%"}))
    fig.update_layout(title=f"Utilisation of the {len(top)} most used links by period",
                      xaxis_title="period", height=460)
    return fig


def price_figure(run: StoredRun) -> go.Figure:
    """Prices at the key nodes over the periods."""
    prices = run.wide("prices", "node", "price") / PRICE_DIVISOR
    keys = [k for k in json.loads(run.meta.get("key_nodes") or "[]") if k in prices.columns]
    nodes = run.tables["nodes"].set_index("node")
    fig = go.Figure()
    for node in keys or list(prices.columns[:8]):
        carrier = nodes.at[node, "carrier"]
        fig.add_trace(go.Scatter(x=prices.index, y=prices[node], mode="lines+markers",
                                 name=f"{node} ({DISPLAY_PRICE[carrier]})",
                                 yaxis="y" if carrier == "gas" else "y2"))
    fig.update_layout(title="Prices at key nodes", xaxis_title="period", height=420,
                      yaxis={"title": "gas, USD per 1000 m3"},
                      yaxis2={"title": "oil, USD per tonne", "overlaying": "y", "side": "right"})
    return fig


def _tables_html(run: StoredRun) -> str:
    links = run.tables["links"].set_index("link")
    util = _mean_over_periods(run, "flows", "link", "utilisation").dropna()
    flow = _mean_over_periods(run, "flows", "link", "flow")
    top = util.sort_values(ascending=False).head(10).index
    bottlenecks = pd.DataFrame({
        "name": links.loc[top, "name"], "mean utilisation": util[top].map("{:.0%}".format),
        "mean flow": [f"{flow[i] * RATE_TO_DISPLAY:,.2f} {DISPLAY_RATE[links.at[i, 'carrier']]}"
                      for i in top]})
    unmet = run.tables["unmet"]
    volume = (unmet["unmet"] * unmet["period"].map(_days(run))).groupby(unmet["demand"]).sum()
    short = unmet.drop_duplicates("demand").set_index("demand").loc[volume[volume > 1e-6].index]
    short = short.assign(unmet=[f"{volume[d] / AMOUNT_DIVISOR:,.2f} {DISPLAY_AMOUNT[c]}"
                                for d, c in zip(short.index, short["carrier"], strict=True)])
    money = run.tables["money"].set_index("country") / 1e6
    parts = [("The ten most utilised links", bottlenecks),
             ("Shortages (fixed demand left unserved) over the horizon",
              short[["node", "country", "market", "unmet"]]),
             ("Welfare by country, million USD", money.round(1))]
    return "".join(f"<h2>{title}</h2>" + df.to_html(classes="table", border=0)
                   for title, df in parts)


def _summary_html(run: StoredRun) -> str:
    m = run.meta
    objective = "n/a" if pd.isna(m["objective"]) else f"{m['objective'] / 1e9:,.2f} bn USD"
    welfare = "n/a" if pd.isna(m["welfare"]) else f"{m['welfare'] / 1e9:,.2f} bn USD"
    items = {"network": m["network"], "scenario": m["scenario"] or "base",
             "status": m["status"], "periods": m["periods"],
             "objective (minus the surplus)": objective,
             "welfare": welfare, "created": m["created"], "input hash": m["input_hash"],
             "Corridor": m["corridor_version"]}
    return "<table class='table'>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in items.items()) + "</table>"


CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}
.table{border-collapse:collapse;font-size:.9em}.table td,.table th{padding:3px 10px;
border-bottom:1px solid #ddd;text-align:right}.table th:first-child,.table td:first-child{
text-align:left}"""


def report_html(run: StoredRun) -> str:
    """The whole self-contained page for one stored run."""
    figures = [map_figure(run), sankey_figure(run, "gas"), sankey_figure(run, "oil"),
               utilisation_figure(run), price_figure(run)]
    divs = "".join(pio.to_html(f, full_html=False, include_plotlyjs=False,
                               config={"displaylogo": False, "responsive": True})
                   for f in figures if f is not None)
    geo = GEO_ASSET.read_text(encoding="utf-8")
    title = f"Corridor report: {run.meta['network']} / {run.meta['scenario'] or 'base'}"
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{CSS}</style>"
            f"<script>window.PlotlyGeoAssets={{topojson:{{'world_110m':{geo}}}}};</script>"
            f"<script>{get_plotlyjs()}</script></head><body><h1>{html.escape(title)}</h1>"
            f"{_summary_html(run)}{divs}{_tables_html(run)}</body></html>")


def write_report(run: StoredRun, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html(run), encoding="utf-8")
    return path

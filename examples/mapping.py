"""A static map of a run's flows for the example notebooks (matplotlib, no internet).

Corridor's interactive map is plotly (`run.write(folder)` writes it into report.html, offline).
Inside a notebook a plotly geo map needs plotly.js and country shapes from a CDN to render, so the
notebooks draw this PNG instead: the country borders and coasts come from the Natural Earth
110m TopoJSON shipped inside the corridor package (data/geo/world_110m.json), each link is a line
between its nodes, its width the mean flow and its colour the mean utilisation, as in the report.
"""

from __future__ import annotations

import json
from importlib.resources import files

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection

_WORLD = files("corridor") / "data" / "geo" / "world_110m.json"


def _arcs(topo: dict) -> list[np.ndarray]:
    """The TopoJSON arcs in lon/lat (quantised, delta-encoded in the file)."""
    scale, shift = np.array(topo["transform"]["scale"]), np.array(topo["transform"]["translate"])
    return [np.cumsum(np.array(arc, dtype=float), axis=0) * scale + shift for arc in topo["arcs"]]


def draw_basemap(ax: plt.Axes, bounds: tuple[float, float, float, float]) -> None:
    """Country borders and coasts inside bounds = (lon_min, lon_max, lat_min, lat_max)."""
    topo = json.loads(_WORLD.read_text(encoding="utf-8"))
    arcs = _arcs(topo)
    used = {i if i >= 0 else ~i  # every arc of a country: borders and coasts
            for geometry in topo["objects"]["countries"]["geometries"]
            for part in (geometry["arcs"] if geometry["type"] == "MultiPolygon"
                         else [geometry["arcs"]])
            for ring in part for i in ring}
    ax.add_collection(LineCollection([arcs[i] for i in sorted(used)], colors="#999999",
                                     linewidths=0.6, zorder=1))
    lon_min, lon_max, lat_min, lat_max = bounds
    ax.set_xlim(lon_min, lon_max)
    ax.set_ylim(lat_min, lat_max)
    ax.set_aspect(1 / np.cos(np.radians((lat_min + lat_max) / 2)))  # equirectangular at mid-lat
    ax.set_facecolor("#f4f1ea")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")


def flow_map(nodes: pd.DataFrame, links: pd.DataFrame, title: str,
             bounds: tuple[float, float, float, float] = (26, 92, 34, 58)) -> plt.Figure:
    """Links as lines between their nodes: width by mean flow, colour by mean utilisation.

    Args:
        nodes: per node id, `lat`, `lon` and `carrier` (the network's nodes table).
        links: per link id, `from`, `to`, `flow` (mean, any one unit per carrier) and
            `utilisation` (mean, 0-1); links with no flow are drawn thin and grey.
        title: the figure's title.
        bounds: (lon_min, lon_max, lat_min, lat_max) of the map.
    """
    fig, ax = plt.subplots(figsize=(10, 5.6))
    draw_basemap(ax, bounds)
    ends = links.join(nodes[["lat", "lon"]], on="from").join(
        nodes[["lat", "lon"]], on="to", rsuffix="_to").dropna(subset=["lat", "lat_to"])
    peak = max(float(ends["flow"].abs().max()), 1e-9)
    colours = plt.get_cmap("RdYlGn_r")
    for _, link in ends.sort_values("flow", key=abs).iterrows():
        used = abs(link["flow"]) > 1e-6
        ax.plot([link["lon"], link["lon_to"]], [link["lat"], link["lat_to"]],
                color=colours(min(max(link["utilisation"], 0), 1)) if used else "#bbbbbb",
                linewidth=0.8 + 6 * abs(link["flow"]) / peak, solid_capstyle="round",
                zorder=2 if used else 1.5)
    for carrier, marker, colour in (("gas", "o", "#1f77b4"), ("oil", "s", "#8c564b")):
        sub = nodes[(nodes["carrier"] == carrier) & nodes["lat"].notna()]
        ax.scatter(sub["lon"], sub["lat"], s=10, marker=marker, color=colour, zorder=3,
                   label=f"{carrier} nodes")
    bar = fig.colorbar(plt.cm.ScalarMappable(cmap=colours, norm=plt.Normalize(0, 1)), ax=ax,
                       shrink=0.8, pad=0.01)
    bar.set_label("mean utilisation")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig

"""Synthetic meshed gas grids for validation and benchmarks (deterministic, any size).

A rows x cols lattice of nodes joined by pipes to their right and lower neighbours (meshed:
every inner node has four pipes), fed at one corner at a fixed pressure, with every other node
drawing an equal share of the load. Lengths, diameters and heights vary pseudo-randomly but
reproducibly, so solvers see unequal pipes and elevation terms.
"""

from __future__ import annotations

import math

import numpy as np

from corridor.hydraulics.gas import Gas
from corridor.hydraulics.model import PIPE, HydraulicModel


def grid_size_for(pipes: int) -> tuple[int, int]:
    """Rows and columns of a square-ish lattice with about `pipes` pipes (2 r c - r - c)."""
    side = max(2, int(round((1 + math.sqrt(1 + 2 * pipes)) / 2)))
    return side, side


def synthetic_grid(rows: int, cols: int, *, load_kg_s: float | None = None,
                   supply_bar: float = 70.0, seed: int = 7, friction: str = "colebrook",
                   compressibility: str = "linear", gas: Gas | None = None,
                   heights: bool = True) -> HydraulicModel:
    """A meshed lattice of pipes with one pressure reference and loads at all other nodes."""
    rng = np.random.default_rng(seed)
    n = rows * cols
    idx = np.arange(n).reshape(rows, cols)
    frm = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    to = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    m = len(frm)
    length = rng.uniform(2_000.0, 12_000.0, m)
    diameter = rng.choice([0.4, 0.5, 0.6, 0.8], m)
    load = load_kg_s if load_kg_s is not None else 0.02 * n  # keeps drops moderate at any size
    withdrawal = np.full(n, load / (n - 1))
    withdrawal[0] = 0.0
    slack = np.full(n, np.nan)
    slack[0] = supply_bar
    height = rng.uniform(0.0, 300.0, n) if heights else np.zeros(n)
    nan_e = np.full(m, np.nan)
    return HydraulicModel(
        name=f"grid-{rows}x{cols}", node_ids=np.array([f"n{i}" for i in range(n)], dtype=object),
        height_m=height, p_min_bar=np.full(n, np.nan), p_max_bar=np.full(n, np.nan),
        withdrawal_kg_s=withdrawal, slack_bar=slack,
        element_ids=np.array([f"p{i}" for i in range(m)], dtype=object),
        kind=np.full(m, PIPE, dtype=object), from_node=frm, to_node=to, length_m=length,
        diameter_m=diameter, roughness_m=np.full(m, 5e-5), drag=np.zeros(m),
        control=np.full(m, "", dtype=object), set_pressure_bar=nan_e, set_ratio=nan_e,
        set_inlet_bar=nan_e, loss_in_bar=np.zeros(m), loss_out_bar=np.zeros(m),
        p_in_min_bar=nan_e, p_out_max_bar=nan_e, reverse_allowed=np.ones(m, dtype=bool),
        gas=gas or Gas(), friction=friction, compressibility=compressibility)

"""Demand and supply units: the price bands the LP sees.

A *unit* is one column family entry per period: a supply unit produces up to its quantity at its
marginal cost, a demand unit takes up to its quantity and is worth its price to its buyers.

- A supply without bands is one unit (`capacity` at `cost`); with rows in `curves.csv` it is one
  unit per band.
- A demand with rows in `curves.csv` is one unit per band; a demand with `price` and
  `elasticity` is the linear demand curve through (`amount`, `price`) cut into bands
  (`linear_bands`); an export market without bands is one unit (`amount` at `value`, the price the
  market pays). All of these are *price-responsive*: what they do not take is simply not bought.
- A domestic demand with none of these is *fixed*: one unit of `amount` at its value of lost load,
  and what it does not get is a shortage.

Profiles scale unit quantities. A demand or supply with one unit keeps its own id as the unit's
label; bands are labelled `id#band`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from corridor.network import DemandCurve, Network


def linear_bands(amount: float, price: float, elasticity: float,
                 curve: DemandCurve) -> list[tuple[float, float]]:
    """(quantity, price) bands of the linear demand curve through (amount, price) whose point
    elasticity there is `elasticity` (< 0).

    Q(P) = amount x (1 + elasticity x (P / price - 1)) between the choke price
    price x (1 - 1 / elasticity) and 0. Prices from price x (1 - window) to price x (1 + window)
    are cut into `bands` equal steps; the quantity wanted above that range is one band, the
    quantity added below it another. Each band is priced at the curve's mean price over it (for a
    linear curve, its midpoint), so the value of every whole band is exact. Errors (docs/model.md,
    "Demand curves"): when supply sets the price inside the window, the quantity served is within
    half a band, |elasticity| x amount x window / bands, of the curve's; when demand sets it, the
    price is within window x price / bands of the curve's.
    """
    if amount <= 0:
        return []
    choke = price * (1.0 - 1.0 / elasticity)

    def quantity(p: float) -> float:
        return amount * (1.0 + elasticity * (p / price - 1.0))

    window = np.linspace(price * (1.0 + curve.window), price * (1.0 - curve.window),
                         curve.bands + 1)
    # a steep curve chokes inside the window: its edges above the choke price fall away, and
    # the reference price stays an edge
    edges = np.minimum(np.concatenate([[choke], window, [0.0]]), choke)
    bands = []
    for p_top, p_bottom in zip(edges[:-1], edges[1:], strict=True):
        width = quantity(p_bottom) - quantity(p_top)
        if width > 1e-12 * amount:
            bands.append((width, 0.5 * (p_top + p_bottom)))
    return bands


def demand_units(net: Network) -> pd.DataFrame:
    """One row per demand unit: `demand` (id), `quantity` (base units per day before profiles),
    `price` (USD per base unit the LP values it at), `fixed` (a shortage-type unit), `core` (part
    of the amount the demand takes in normal times: a fixed demand, or a band of a demand curve
    priced at or above its reference price; sweeps count what core units do not get) and `wedge`
    (USD per base unit its buyers value it above `price`: under a `price_cap` the LP allocates on
    min(value, cap), sellers receive at most the cap, and the buyer keeps value - cap as consumer
    surplus; 0 without a cap); index: the unit label."""
    demands, curves = net.demands, net.curves
    value = net.demand_value()
    banded = curves[curves["kind"] == "demand"] if len(curves) else curves
    rows: list[tuple[str, str, float, float, bool, bool]] = []
    for did, d in demands.iterrows():
        if did in banded.index:
            own = banded.loc[[did]].sort_values("band")
            bands = list(zip(own["quantity"], own["price"], strict=True))
            labels = [f"{did}#{b}" for b in own["band"]]
        elif d["price"] == d["price"]:  # not NaN: a linear demand curve
            bands = linear_bands(d["amount"], d["price"], d["elasticity"], net.meta.demand_curve)
            labels = [f"{did}#{k + 1}" for k in range(len(bands))]
        else:
            fixed = d["market"] != "export"
            rows.append((str(did), str(did), float(d["amount"]), float(value[did]), fixed, fixed))
            continue
        if len(bands) == 1:
            labels = [str(did)]
        reference = d["price"] if d["price"] == d["price"] else np.inf
        rows += [(lab, str(did), float(q), float(p), False, bool(p >= reference * (1 - 1e-12)))
                 for lab, (q, p) in zip(labels, bands, strict=True)]
    table = pd.DataFrame(rows, columns=["unit", "demand", "quantity", "price", "fixed", "core"])
    cap = (demands["price_cap"] if "price_cap" in demands
           else pd.Series(np.nan, index=demands.index)).reindex(table["demand"]).to_numpy(float)
    capped = np.where(np.isnan(cap) | table["fixed"].to_numpy(bool), np.inf, cap)
    value = table["price"].to_numpy(float)
    table["price"] = np.minimum(value, capped)
    table["wedge"] = value - table["price"].to_numpy(float)
    return table.set_index("unit")


def supply_units(net: Network) -> pd.DataFrame:
    """One row per supply unit: `supply` (id), `quantity` (capacity, base units per day before
    profiles), `price` (marginal cost, USD per base unit); index: the unit label."""
    supplies, curves = net.supplies, net.curves
    banded = curves[curves["kind"] == "supply"] if len(curves) else curves
    rows: list[tuple[str, str, float, float]] = []
    for sid, s in supplies.iterrows():
        if sid in banded.index:
            own = banded.loc[[sid]].sort_values("band")
            labels = ([str(sid)] if len(own) == 1 else [f"{sid}#{b}" for b in own["band"]])
            rows += [(lab, str(sid), float(q), float(p)) for lab, q, p in
                     zip(labels, own["quantity"], own["price"], strict=True)]
        else:
            rows.append((str(sid), str(sid), float(s["capacity"]), float(s["cost"])))
    table = pd.DataFrame(rows, columns=["unit", "supply", "quantity", "price"])
    return table.set_index("unit")

"""The quantities of interest of one draw, as sparse linear maps of the LP's solution.

Every quantity is a sum of columns weighted by days (or by the draw's own costs), so one small
sparse matrix product gives all of them at once:

- `unmet_domestic`, `unmet_export`: what demand did not get per country and carrier over the
  horizon (base units: mcm gas, kt oil), by the demand's `country` and `market`: a fixed demand's
  shortage, and for a demand curve the part of its reference amount (its bands priced at or
  above the reference price) it did not take. Unsold headroom of a market is not counted;
- `demand_domestic`, `demand_export`: the draw's reference demand over the horizon (after
  multipliers), the same units' quantities;
- `transit_revenue`: tariff x flow entering the country's links (USD over the horizon), with the
  draw's tariffs, split among a link's countries by its `segments` (else its `country`, else its
  `from` node's);
- `flow`: net flow of each link over the horizon (base units; from -> to positive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from corridor.optimize.accounts import link_shares
from corridor.optimize.lp import Block
from corridor.optimize.model import FlowModel

LABEL_COLUMNS = ["quantity", "item", "carrier"]


def _codes(quantity, item, carrier) -> tuple[np.ndarray, pd.DataFrame]:
    """Group code of each entry, and the sorted group labels (quantity, item, carrier)."""
    keys = pd.DataFrame({"quantity": quantity, "item": item, "carrier": carrier})
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(keys[LABEL_COLUMNS]), sort=True)
    return codes, uniques.to_frame(index=False, name=LABEL_COLUMNS)


def _summing(parts: list[tuple[Block, np.ndarray, np.ndarray, object]], n_groups: int,
             n_cols: int) -> sp.csr_matrix:
    """A (groups x columns) matrix: for each (block, elements, codes, weight) part, the block's
    columns of those elements added to their group with a weight that broadcasts over
    (periods, entries)."""
    rows, cols, vals = [], [], []
    for block, elements, codes, weight in parts:
        index = block.index(elements)
        rows.append(np.broadcast_to(codes[None, :], index.shape).ravel())
        cols.append(index.ravel())
        vals.append(np.broadcast_to(np.asarray(weight, dtype=float), index.shape).ravel())
    if not rows:
        return sp.csr_matrix((n_groups, n_cols))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n_groups, n_cols))


@dataclass
class Quantities:
    """Labels (quantity, item, carrier) and the maps that compute them from a solution."""

    labels: pd.DataFrame
    of_x: sp.csr_matrix  # unmet and flow: applied to x
    of_cost_x: sp.csr_matrix  # transit revenue: applied to cost * x
    of_upper: sp.csr_matrix  # demand: applied to the column upper bounds
    link_ids: pd.Index
    forward: Block
    reverse: Block
    reversible: np.ndarray

    @classmethod
    def of(cls, model: FlowModel) -> Quantities:
        lp, inputs = model.lp, model.inputs
        net, days, n = inputs.network, inputs.days[:, None], lp.n_cols
        unmet, fwd = lp.columns["unmet"], lp.columns["flow_forward"]
        rev = lp.columns["flow_reverse"]
        links, rev_pos = inputs.links, inputs.reversible
        core = np.flatnonzero(inputs.demand_units["core"].to_numpy(bool))
        owner = net.demands.iloc[inputs.demand_parent[core]]
        market = owner["market"].to_numpy(object)
        u_codes, u_labels = _codes("unmet_" + market, owner["country"], owner["carrier"])
        d_codes, d_labels = _codes("demand_" + market, owner["country"], owner["carrier"])
        all_links = np.arange(len(links))
        f_codes, f_labels = _codes("flow", links.index, links["carrier"])
        shares = link_shares(net.replace(links=links))
        at = links.index.get_indexer(shares["link"])
        r_codes, r_labels = _codes("transit_revenue", shares["country"],
                                   links["carrier"].to_numpy()[at])
        share = shares["share"].to_numpy()
        reversible = np.isin(at, rev_pos)
        rev_at = np.searchsorted(rev_pos, at[reversible])
        of_x = sp.vstack([
            _summing([(unmet, core, u_codes, days)], len(u_labels), n),
            _summing([(fwd, all_links, f_codes, days),
                      (rev, np.arange(len(rev_pos)), f_codes[rev_pos], -days)],
                     len(f_labels), n),
        ]).tocsr()
        of_cost_x = _summing([(fwd, at, r_codes, share),
                              (rev, rev_at, r_codes[reversible], share[reversible])],
                             len(r_labels), n)
        of_upper = _summing([(unmet, core, d_codes, days)], len(d_labels), n)
        labels = pd.concat([u_labels, f_labels, r_labels, d_labels], ignore_index=True)
        return cls(labels=labels, of_x=of_x, of_cost_x=of_cost_x, of_upper=of_upper,
                   link_ids=links.index, forward=fwd, reverse=rev, reversible=rev_pos)

    def values(self, x: np.ndarray, cost: np.ndarray, upper: np.ndarray) -> np.ndarray:
        """All quantities of one solution, in the order of `labels`."""
        return np.concatenate([self.of_x @ x, self.of_cost_x @ (cost * x),
                               self.of_upper @ upper])

    def missing(self, upper: np.ndarray) -> np.ndarray:
        """Quantities of a draw without a solution: NaN, except the demand it asked for."""
        out = np.full(len(self.labels), np.nan)
        out[len(out) - self.of_upper.shape[0]:] = self.of_upper @ upper
        return out

    def flows(self, x: np.ndarray) -> np.ndarray:
        """Net flow per period and link (base units per day), shape (periods, links)."""
        net = x[self.forward.index()].copy()
        net[:, self.reversible] -= x[self.reverse.index()]
        return net


def unmet_by_country(values: np.ndarray | None, labels: pd.DataFrame) -> dict:
    """{market: {country: {carrier: unmet volume}}} of one draw (None where it has no value)."""
    out: dict = {"domestic": {}, "export": {}}
    if values is None:
        return out
    for (quantity, item, carrier), value in zip(labels[LABEL_COLUMNS].itertuples(index=False),
                                                values, strict=True):
        if quantity.startswith("unmet_"):
            market = out.setdefault(quantity.removeprefix("unmet_"), {})
            market.setdefault(item, {})[carrier] = None if np.isnan(value) else float(value)
    return out

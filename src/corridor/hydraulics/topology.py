"""Which pressures and flows are unknown, given how every element is operated.

Elements are in one of five states. Resistive ones (pipes, resistors) relate flow to the
pressures at their ends and stay in the Newton system. The others are *links* that are
contracted before Newton:
- lossless (short pipe, open valve, bypassed regulator): p_to = p_from;
- ratio (compressor with a pressure ratio): p_to = ratio * p_from (losses ignored);
- set pressure (active compressor or control valve): p_to = set point, p_from free;
- set inlet (active regulator that holds its suction/upstream side): p_from = set point;
- closed: no flow.
Nodes joined by lossless and ratio links form a *pressure component* with one unknown P, a
squared pressure: p^2 = alpha * P + offset at each member. A component is *fixed* if it holds a
reference
(slack) node or a regulator outlet. Nodes joined by any link form a *mass group*: flows on
links are internal to it, so its nodes share one mass balance. A group with one free
component contributes one equation for one unknown; a group without one holds a slack, whose
injection closes the balance. Flows on links are recovered after Newton (`link_flows`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components
from scipy.sparse.linalg import spsolve

from corridor.hydraulics.model import HydraulicModel, HydraulicsError

RESISTIVE, LOSSLESS, CLOSED, SET_PRESSURE, SET_RATIO, SET_INLET = 0, 1, 2, 3, 4, 5
ACTIVE_STATES = (SET_PRESSURE, SET_RATIO, SET_INLET)


class StructureError(HydraulicsError):
    """Regulator set points that leave pressures undetermined; names the regulators."""

    def __init__(self, message: str, regulators: np.ndarray):
        super().__init__(message)
        self.regulators = regulators


@dataclass
class Structure:
    """Unknowns and equations of one Newton solve (see the module docstring)."""

    state: np.ndarray  # per element
    comp: np.ndarray  # pressure component per node
    alpha: np.ndarray  # per node: p^2 = alpha * P[comp] + offset (squared pressures, bar^2)
    offset: np.ndarray
    comp_value: np.ndarray  # fixed P per component, NaN if free
    group: np.ndarray  # mass group per node
    unknown_of_node: np.ndarray  # index into P for nodes of free components, else -1
    row_of_node: np.ndarray  # mass-balance equation that holds each node, else -1
    n_unknown: int
    expand: csr_matrix  # nodes x unknowns: d p / d P
    p_fixed: np.ndarray  # per node: p^2 when P = 0 (offset, or the fixed squared pressure)
    balance: csr_matrix  # unknowns x nodes: sums node balances of each unknown's group
    resistive: np.ndarray  # element indices in the Newton system
    internal: np.ndarray  # element indices of links (flows recovered afterwards)
    slack_nodes: np.ndarray

    def squared(self, unknowns: np.ndarray) -> np.ndarray:
        """Squared pressure (bar^2) of every node; negative where no real pressure exists."""
        return self.expand @ unknowns + self.p_fixed


def _graph(n: int, a: np.ndarray, b: np.ndarray) -> csr_matrix:
    return coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)).tocsr()


def _names(ids: np.ndarray, idx, limit: int = 6) -> str:
    idx = list(idx)
    shown = ", ".join(str(ids[i]) for i in idx[:limit])
    return shown + (f" and {len(idx) - limit} more" if len(idx) > limit else "")


def _link_relation(model: HydraulicModel, e: np.ndarray, state: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Slope a and intercept b of p_to^2 = a * p_from^2 + b for lossless and ratio links."""
    ratio = state[e] == SET_RATIO
    a = np.where(ratio, model.set_ratio[e] ** 2, 1.0)
    return a, np.zeros(len(e))


def build_structure(model: HydraulicModel, state: np.ndarray) -> Structure:
    """Contract links, fix pressures and pair every unknown pressure with a mass balance."""
    n, ids, eids = model.n_nodes, model.node_ids, model.element_ids
    f, t = model.from_node, model.to_node
    link = (state == LOSSLESS) | (state == SET_RATIO)
    ncomp, comp = connected_components(_graph(n, f[link], t[link]), directed=False)
    alpha, offset = np.ones(n), np.zeros(n)
    ratio_edges = np.flatnonzero(state == SET_RATIO)
    if len(ratio_edges):
        _propagate_ratios(model, state, link, comp, alpha, offset)
    # fixed pressures: reference nodes and regulator outlets
    setp = np.flatnonzero(state == SET_PRESSURE)
    seti = np.flatnonzero(state == SET_INLET)
    slack_nodes = np.flatnonzero(np.isfinite(model.slack_bar))
    fix_node = np.concatenate([slack_nodes, t[setp], f[seti]])
    fix_value = np.concatenate([model.slack_bar[slack_nodes], model.set_pressure_bar[setp],
                                model.set_inlet_bar[seti]])
    fix_what = [f"reference node {ids[k]}" for k in slack_nodes] + \
               [f"set point of {eids[e]}" for e in setp] + \
               [f"inlet set point of {eids[e]}" for e in seti]
    if np.any(~np.isfinite(fix_value)):
        bad = [w for w, v in zip(fix_what, fix_value, strict=True) if not np.isfinite(v)]
        raise HydraulicsError(f"no pressure value for {', '.join(bad[:6])}")
    comp_p = (fix_value ** 2 - offset[fix_node]) / alpha[fix_node]
    comp_value = np.full(ncomp, np.nan)
    order = np.argsort(comp[fix_node], kind="stable")
    for k in order:  # one entry per fixed pressure: few
        c = comp[fix_node[k]]
        if np.isnan(comp_value[c]):
            comp_value[c] = comp_p[k]
        elif abs(comp_value[c] - comp_p[k]) > 1e-9 * max(1.0, abs(comp_p[k])):
            others = [fix_what[j] for j in order if comp[fix_node[j]] == c]
            members = np.flatnonzero(comp == c)
            raise HydraulicsError(
                f"conflicting pressures: {', '.join(others)} fix different pressures on nodes "
                f"joined without resistance ({_names(ids, members)})")
    # mass groups
    mlink = link | (state == SET_PRESSURE) | (state == SET_INLET)
    ngroup, group = connected_components(_graph(n, f[mlink], t[mlink]), directed=False)
    comp_group = np.zeros(ncomp, dtype=int)
    comp_group[comp] = group
    free_comp = np.isnan(comp_value)
    n_free = np.bincount(comp_group[free_comp], minlength=ngroup)
    has_slack = np.bincount(group[slack_nodes], minlength=ngroup) > 0
    for g in np.flatnonzero((n_free > 1) | ((n_free == 1) & has_slack)
                            | ((n_free == 0) & ~has_slack)):
        members = np.flatnonzero(group == g)
        links = [e for e in np.flatnonzero(mlink) if group[f[e]] == g]
        regs = [e for e in links if state[e] in (SET_PRESSURE, SET_INLET)]
        raise StructureError(
            f"pressures are not determined around {_names(eids, links)}: the set points of "
            f"{_names(eids, regs)} leave nodes {_names(ids, members)} with {n_free[g]} free "
            "pressure levels for one mass balance", np.array(regs, dtype=int))
    unknown_of_group = np.full(ngroup, -1)
    with_unknown = np.flatnonzero(n_free == 1)
    unknown_of_group[with_unknown] = np.arange(len(with_unknown))
    unknown_of_comp = np.where(free_comp, unknown_of_group[comp_group], -1)
    unknown_of_node = unknown_of_comp[comp]
    n_unknown = len(with_unknown)
    free_node = unknown_of_node >= 0
    rows = np.flatnonzero(free_node)
    expand = csr_matrix((alpha[rows], (rows, unknown_of_node[rows])), shape=(n, n_unknown))
    p_fixed = np.where(free_node, offset, alpha * np.nan_to_num(comp_value[comp]) + offset)
    in_eq = unknown_of_group[group] >= 0
    cols = np.flatnonzero(in_eq)
    balance = csr_matrix((np.ones(len(cols)), (unknown_of_group[group[cols]], cols)),
                         shape=(n_unknown, n))
    # every island needs a pressure reference
    open_el = state != CLOSED
    nisl, island = connected_components(_graph(n, f[open_el], t[open_el]), directed=False)
    referenced = np.bincount(island[slack_nodes], minlength=nisl) > 0
    if not referenced.all():
        lost = np.flatnonzero(~referenced[island])
        raise HydraulicsError(f"no pressure reference (slack) in the part of the network with "
                              f"nodes {_names(ids, lost)}")
    return Structure(state=state, comp=comp, alpha=alpha, offset=offset, comp_value=comp_value,
                     group=group, unknown_of_node=unknown_of_node,
                     row_of_node=unknown_of_group[group], n_unknown=n_unknown,
                     expand=expand, p_fixed=p_fixed, balance=balance,
                     resistive=np.flatnonzero(state == RESISTIVE),
                     internal=np.flatnonzero(mlink), slack_nodes=slack_nodes)


def _propagate_ratios(model: HydraulicModel, state: np.ndarray, link: np.ndarray,
                      comp: np.ndarray, alpha: np.ndarray, offset: np.ndarray) -> None:
    """alpha and offset of nodes in components that hold ratio links, by breadth-first order."""
    n, f, t = model.n_nodes, model.from_node, model.to_node
    edges = np.flatnonzero(link)
    a, b = _link_relation(model, edges, state)
    # directed adjacency both ways with the inverse relation backwards
    src = np.concatenate([f[edges], t[edges]])
    dst = np.concatenate([t[edges], f[edges]])
    sa = np.concatenate([a, 1.0 / a])
    sb = np.concatenate([b, -b / a])
    _, first = np.unique(src * n + dst, return_index=True)  # one edge per ordered node pair
    graph = coo_matrix((first + 1.0, (src[first], dst[first])), shape=(n, n)).tocsr()
    for c in np.unique(comp[f[state == SET_RATIO]]):
        root = int(np.flatnonzero(comp == c)[0])
        order, pred = breadth_first_order(graph, root, directed=True, return_predecessors=True)
        for node in order[1:]:
            k = int(graph[pred[node], node]) - 1
            alpha[node] = sa[k] * alpha[pred[node]]
            offset[node] = sa[k] * offset[pred[node]] + sb[k]
    # every link must agree (loops through ratio links must close)
    bad = np.abs(alpha[t[edges]] - a * alpha[f[edges]]) + \
        np.abs(offset[t[edges]] - (a * offset[f[edges]] + b)) > 1e-9
    if bad.any():
        raise HydraulicsError(f"pressure ratios around a loop do not close: elements "
                              f"{_names(model.element_ids, edges[bad])}")


def link_flows(model: HydraulicModel, st: Structure, q_res: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Flows on links and the injection at every node that closes its balance.

    Within a mass group the link flows are the least-squares (equal-resistance) solution of
    the node balances, which is the unique one when links form a tree; the injection is zero
    everywhere except at reference nodes (what the slack supplies).
    """
    n = model.n_nodes
    f, t = model.from_node, model.to_node
    res = st.resistive
    net_out = (np.bincount(f[res], q_res, minlength=n) - np.bincount(t[res], q_res, minlength=n)
               + model.withdrawal_kg_s)
    flows = np.zeros(model.n_elements)
    flows[res] = q_res
    internal = st.internal
    if len(internal):
        fi, ti = f[internal], t[internal]
        m = len(internal)
        inc = csr_matrix((np.r_[np.ones(m), -np.ones(m)], (np.r_[fi, ti], np.r_[np.arange(m),
                                                                                 np.arange(m)])),
                         shape=(n, m))
        lap = (inc @ inc.T).tocsr()
        touched = np.flatnonzero(np.diff(lap.indptr) > 0)
        # pin one node per group: its slack if it has one
        pin_rank = np.where(np.isfinite(model.slack_bar), 0, 1)
        order = np.lexsort((pin_rank[touched], st.group[touched]))
        first = np.r_[True, np.diff(st.group[touched][order]) != 0]
        pinned = touched[order][first]
        keep = np.setdiff1d(touched, pinned)
        phi = np.zeros(n)
        if len(keep):
            sub = lap[keep][:, keep].tocsc()
            phi[keep] = np.atleast_1d(spsolve(sub, -net_out[keep]))
        flows[internal] = inc.T @ phi
        net_out = net_out + inc @ flows[internal]
    return flows, net_out

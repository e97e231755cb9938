"""The operating policy: which state each valve, control valve and compressor is in.

GasLib publishes flows only, so the states and set points of `auto` elements are chosen here
(docs/hydraulics.md, "Operating logic"): auto valves open unless they short-circuit a
regulator; each regulator holds the pressure zone farther from the reference; duplicate and
looped set points close; after each Newton solve regulators switch between active and bypass,
failing ones are released, and set points (and an automatic reference pressure) move so the
zones they hold stay within their pressure bounds. Every function works on the array of
element states of `corridor.hydraulics.topology` (RESISTIVE, LOSSLESS, CLOSED, SET_*).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components, shortest_path

from corridor.hydraulics.model import (
    COMPRESSOR,
    CONTROL_VALVE,
    DEFAULT_MAOP_BAR,
    PIPE,
    REGULATORS,
    RESISTOR,
    SHORT_PIPE,
    VALVE,
    HydraulicModel,
    HydraulicsError,
)
from corridor.hydraulics.topology import (
    ACTIVE_STATES,
    CLOSED,
    LOSSLESS,
    RESISTIVE,
    SET_INLET,
    SET_PRESSURE,
    SET_RATIO,
    Structure,
    StructureError,
    build_structure,
)


def initial_state(model: HydraulicModel) -> np.ndarray:
    """Element states from their kinds and controls (auto regulators start active)."""
    state = np.full(model.n_elements, RESISTIVE)
    kind, control = model.kind, model.control
    state[kind == SHORT_PIPE] = LOSSLESS
    state[(kind == VALVE) & np.isin(control, ("open", "auto"))] = LOSSLESS
    state[(kind == VALVE) & (control == "closed")] = CLOSED
    reg = np.isin(kind, REGULATORS)
    active = reg & np.isin(control, ("auto", "active"))
    by_ratio = active & ~np.isfinite(model.set_pressure_bar) & np.isfinite(model.set_ratio)
    state[active] = SET_PRESSURE
    state[by_ratio] = SET_RATIO
    state[reg & (control == "bypass")] = LOSSLESS
    state[reg & (control == "closed")] = CLOSED
    bad = (kind != PIPE) & (kind != RESISTOR) & (state == RESISTIVE)
    if bad.any():
        raise HydraulicsError(f"element(s) {', '.join(model.element_ids[bad][:6])} have no "
                              "operating state")
    return state


def zones(model: HydraulicModel, cut: np.ndarray, state: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected parts of the network when elements `cut` (and closed ones) are removed."""
    n, f, t = model.n_nodes, model.from_node, model.to_node
    keep = (state != CLOSED) & ~cut
    graph = coo_matrix((np.ones(keep.sum()), (f[keep], t[keep])), shape=(n, n))
    return connected_components(graph, directed=False)


def anchor_inlet(model: HydraulicModel, state: np.ndarray) -> np.ndarray:
    """Regulators that hold their inlet side rather than their outlet side.

    Cutting all regulators leaves pressure zones; every zone needs one pressure anchor. Zones
    are ordered by their distance from the zones holding a reference node (breadth first over
    regulators); each regulator anchors the side farther from the reference. Normally that is
    its outlet (a compressor or pressure-reducing valve feeding the network downstream); a
    regulator pointing towards the reference, e.g. the compressor behind an entry, holds its
    suction side instead, because nominated flows leave the outlet pressure to the network.
    """
    reg = np.isin(model.kind, REGULATORS) & (state != CLOSED)
    nz, zone = zones(model, reg, state)
    zf, zt = zone[model.from_node[reg]], zone[model.to_node[reg]]
    graph = coo_matrix((np.ones(len(zf)), (zf, zt)), shape=(nz, nz)).tocsr()
    roots = np.unique(zone[np.isfinite(model.slack_bar)])
    dist = np.full(nz, np.inf)
    if len(roots):
        dist_all = shortest_path(graph, directed=False, unweighted=True, indices=roots)
        dist = np.min(np.atleast_2d(dist_all), axis=0)
    out = np.zeros(model.n_elements, dtype=bool)
    out[np.flatnonzero(reg)] = dist[zf] > dist[zt]
    return out


def default_inlet_set_points(model: HydraulicModel, state: np.ndarray, inlet: np.ndarray
                             ) -> np.ndarray:
    """Inlet set points where missing: the highest pressure the inlet zone allows."""
    set_in = model.set_inlet_bar.copy()
    reg = np.isin(model.kind, REGULATORS) & (state != CLOSED)
    nz, zone = zones(model, reg, state)
    zone_max = np.full(nz, np.inf)
    np.minimum.at(zone_max, zone, np.where(np.isfinite(model.p_max_bar), model.p_max_bar,
                                           np.inf))
    need = inlet & ~np.isfinite(set_in)
    value = zone_max[zone[model.from_node[need]]]
    fallback = np.where(np.isfinite(model.set_pressure_bar[need]),
                        model.set_pressure_bar[need], DEFAULT_MAOP_BAR)
    set_in[need] = np.where(np.isfinite(value), value, fallback)
    return set_in


def regulator_switches(model: HydraulicModel, state: np.ndarray, p: np.ndarray,
                        flow: np.ndarray, inlet: np.ndarray, eps: float) -> np.ndarray:
    """New states of auto regulators: bypass when they cannot act, active when needed."""
    new = state.copy()
    auto = np.isin(model.kind, REGULATORS) & (model.control == "auto")
    f, t = model.from_node, model.to_node
    p_in = p[f] - model.loss_in_bar
    p_out = p[t] + model.loss_out_bar
    comp, cv = model.kind == COMPRESSOR, model.kind == CONTROL_VALVE
    active = auto & np.isin(state, ACTIVE_STATES)
    tiny = 1e-9
    # an active compressor that would have to expand is bypassed, an active control valve
    # that would have to compress is opened; one that would run backwards is bypassed if it
    # may carry reverse flow and closed otherwise (GasLib: flowMin >= 0)
    backwards = active & (flow < -eps)
    new[active & comp & (p_out < p_in - tiny)] = LOSSLESS
    new[active & cv & (p_out > p_in + tiny)] = LOSSLESS
    new[backwards] = np.where(model.reverse_allowed[backwards], LOSSLESS, CLOSED)
    open_back = auto & (state == LOSSLESS) & (flow < -eps) & ~model.reverse_allowed
    new[open_back] = CLOSED
    bypass = auto & (state == LOSSLESS) & (flow > eps)
    set_out = np.where(np.isfinite(model.set_pressure_bar), model.set_pressure_bar, np.inf)
    set_in = model.set_inlet_bar
    wake = np.where(inlet,
                    np.where(comp, p[f] > set_in + 1e-6, p[f] < set_in - 1e-6),
                    np.where(comp, p[t] < set_out - 1e-6, p[t] > set_out + 1e-6))
    wake &= bypass
    by_ratio = ~np.isfinite(model.set_pressure_bar) & np.isfinite(model.set_ratio) & ~inlet
    new[wake] = np.where(inlet[wake], SET_INLET,
                         np.where(by_ratio[wake], SET_RATIO, SET_PRESSURE))
    return new


def release_regulators(model: HydraulicModel, state: np.ndarray, p: np.ndarray,
                        worst: list) -> list[str]:
    """After a failed solve: bypass the auto regulators that anchor the troubled zones.

    Troubled zones hold a node below its minimum pressure or an element with one of the
    largest residuals; a regulator holding such a zone at its set point may make the nominated
    flows impossible (e.g. a pressure-reducing valve set too low for what flows behind it).
    """
    f, t = model.from_node, model.to_node
    anchoring = np.isin(state, (SET_PRESSURE, SET_INLET))
    nz, zone = zones(model, anchoring, state)
    bad = np.zeros(nz, dtype=bool)
    low = np.isfinite(model.p_min_bar) & (p < model.p_min_bar - 1e-6)
    bad[zone[low]] = True
    index = {eid: i for i, eid in enumerate(model.element_ids)}
    for kind, ident, _ in worst or []:
        if kind == "element":
            e = index[ident]
            bad[zone[f[e]]] = bad[zone[t[e]]] = True
    held = np.where(state == SET_PRESSURE, zone[t], zone[f])
    release = anchoring & (model.control == "auto") & bad[held]
    state[release] = LOSSLESS
    return [str(e) for e in model.element_ids[release]]


def operating_structure(model: HydraulicModel, state: np.ndarray, notes: list[str]) -> Structure:
    """build_structure, closing auto regulators that close a loop of set points (e.g. two
    control valves back to back) until every pressure is determined."""
    for _ in range(model.n_elements + 1):
        try:
            return build_structure(model, state)
        except StructureError as exc:
            auto = [e for e in exc.regulators if model.control[e] == "auto"]
            if not auto:
                raise
            state[auto[-1]] = CLOSED
            notes.append(f"{model.element_ids[auto[-1]]} closed: its set point would leave "
                         "pressures undetermined (regulators in a loop)")
    raise HydraulicsError("could not determine the operating structure")


def _islands(model: HydraulicModel, state: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Island of each node (over non-closed elements), and per island whether it holds a
    reference node and whether anything is withdrawn or supplied in it."""
    nisl, island = zones(model, np.zeros(model.n_elements, dtype=bool), state)
    referenced = np.bincount(island[np.isfinite(model.slack_bar)], minlength=nisl) > 0
    loaded = np.bincount(island, np.abs(model.withdrawal_kg_s), minlength=nisl) > 0
    return island, referenced, loaded


def pin_unloaded_islands(model: HydraulicModel, state: np.ndarray
                         ) -> tuple[HydraulicModel, np.ndarray, list[str]]:
    """Give each island with no reference and no load a reference pressure (the mean of the
    others and the set points), so the equations stay determined; its pressures mean nothing.

    Returns the model (a copy if anything changed), which nodes are in such islands, and a note.
    """
    island, referenced, loaded = _islands(model, state)
    isolated = (~referenced & ~loaded)[island]
    if not isolated.any():
        return model, isolated, []
    model = replace(model, slack_bar=model.slack_bar.copy())
    for isl in np.unique(island[isolated]):
        model.slack_bar[np.flatnonzero(island == isl)[0]] = np.nanmean(
            np.r_[model.slack_bar[~isolated], model.set_pressure_bar, 50.0])
    return model, isolated, [f"{isolated.sum()} node(s) cut off by closed elements carry no "
                             "flow; their pressure is not determined (reported empty)"]


def close_duplicate_anchors(model: HydraulicModel, state: np.ndarray) -> list[str]:
    """Close auto regulators that would hold a pressure already held by another one.

    Two regulators holding the same pressure component (e.g. parallel compressor units into
    one node) leave the split of flow between them undetermined by pressures; the first keeps
    control and the others are closed. A regulator whose ends are joined without resistance
    cannot act and is bypassed. Returns one note per change.
    """
    f, t = model.from_node, model.to_node
    link = (state == LOSSLESS) | (state == SET_RATIO)
    _, comp = zones(model, ~link, state)
    notes = []
    held = {int(c): f"reference node {model.node_ids[k]}"
            for k in np.flatnonzero(np.isfinite(model.slack_bar)) for c in [comp[k]]}
    auto = model.control == "auto"
    for e in np.flatnonzero(np.isin(state, (SET_PRESSURE, SET_INLET))):
        if comp[f[e]] == comp[t[e]]:
            if auto[e]:
                state[e] = LOSSLESS
                notes.append(f"{model.element_ids[e]} bypassed: its ends are joined without "
                             "resistance")
            continue
        c = int(comp[t[e]] if state[e] == SET_PRESSURE else comp[f[e]])
        if c in held and auto[e]:
            state[e] = CLOSED
            notes.append(f"{model.element_ids[e]} closed: it would hold the same pressure as "
                         f"{held[c]}")
        else:
            held.setdefault(c, model.element_ids[e])
    return notes


def auto_valves(model: HydraulicModel, state: np.ndarray) -> list[str]:
    """Open `auto` valves, except those that would short-circuit a regulator.

    A compressor station or control valve can only act if its two ends are not joined without
    resistance. For each regulator whose ends are joined through short pipes and open valves,
    the auto valves on that lossless path (typically the station's bypass and configuration
    valves) are closed, path by path, until its ends are separated.
    """
    auto = (model.kind == VALVE) & (model.control == "auto")
    state[auto] = LOSSLESS
    if not auto.any():
        return []
    n, f, t = model.n_nodes, model.from_node, model.to_node
    notes = []
    for r in np.flatnonzero(np.isin(model.kind, REGULATORS) & (state != CLOSED)):
        for _ in range(model.n_elements):
            lossless = np.flatnonzero(state == LOSSLESS)
            pair_elem = {}
            for e in lossless:  # first element per node pair, both directions
                pair_elem.setdefault((f[e], t[e]), e)
                pair_elem.setdefault((t[e], f[e]), e)
            graph = coo_matrix((np.ones(2 * len(lossless)),
                                (np.r_[f[lossless], t[lossless]], np.r_[t[lossless],
                                                                      f[lossless]])),
                               shape=(n, n)).tocsr()
            _, pred = breadth_first_order(graph, f[r], directed=True, return_predecessors=True)
            if pred[t[r]] < 0:
                break
            path, node = [], t[r]
            while node != f[r]:
                path.append(pair_elem[(pred[node], node)])
                node = pred[node]
            closed = None
            for v in (e for e in path if auto[e]):  # nearest the outlet first
                state[v] = CLOSED
                if not _stranded(model, state):
                    closed = v
                    break
                state[v] = LOSSLESS
            if closed is None:
                break
            notes.append(f"{model.element_ids[closed]} closed: it short-circuits "
                         f"{model.element_ids[r]}")
    return notes


def _stranded(model: HydraulicModel, state: np.ndarray) -> bool:
    """Whether some loaded part of the network has lost its pressure reference."""
    _, referenced, loaded = _islands(model, state)
    return bool(np.any(loaded & ~referenced))


def effective_bounds(model: HydraulicModel, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node pressure bounds including active regulators' least inlet pressures."""
    p_min, p_max = model.p_min_bar.copy(), model.p_max_bar.copy()
    active = np.isin(state, ACTIVE_STATES)
    e = np.flatnonzero(active & np.isfinite(model.p_in_min_bar))
    np.fmax.at(p_min, model.from_node[e], model.p_in_min_bar[e])
    return p_min, p_max


def adjust_set_points(model: HydraulicModel, state: np.ndarray, p: np.ndarray,
                       set_p: np.ndarray, set_in: np.ndarray, slack: np.ndarray,
                       auto_slack: np.ndarray, tol: float) -> bool:
    """Shift the controllers of each pressure zone so its nodes come within bounds.

    A zone is what is left connected when active regulators are cut; its pressure level is
    held by the regulator outlets and reference nodes in it. If some nodes are above their
    maximum (below their minimum) and none below (above), every adjustable controller of the
    zone moves down (up) by the largest violation. Returns whether anything changed.
    """
    f, t = model.from_node, model.to_node
    nz, zone = zones(model, (state == SET_PRESSURE) | (state == SET_INLET), state)
    p_min, p_max = effective_bounds(model, state)
    over = np.where(np.isfinite(p_max), p - p_max, -np.inf)
    under = np.where(np.isfinite(p_min), p_min - p, -np.inf)
    zone_over = np.full(nz, -np.inf)
    zone_under = np.full(nz, -np.inf)
    np.maximum.at(zone_over, zone, over)
    np.maximum.at(zone_under, zone, under)
    margin = 1e-3  # bar: aim slightly inside the bound so the correction settles quickly
    room_over = np.where(np.isfinite(p_max), p_max - p, np.inf)
    room_under = np.where(np.isfinite(p_min), p - p_min, np.inf)
    zone_room_over = np.full(nz, np.inf)
    zone_room_under = np.full(nz, np.inf)
    np.minimum.at(zone_room_over, zone, room_over)
    np.minimum.at(zone_room_under, zone, room_under)
    # move down by the excess (but not below any minimum of the zone), or up likewise
    down = np.minimum(zone_over + margin, np.maximum(zone_room_under, 0.0))
    up = np.minimum(zone_under + margin, np.maximum(zone_room_over, 0.0))
    shift = np.where((zone_over > tol) & (zone_under <= 0), -down, 0.0)
    shift = np.where((zone_under > tol) & (zone_over <= 0), up, shift)
    changed = False
    regs = np.flatnonzero((state == SET_PRESSURE) & (model.control == "auto"))
    for e in regs:
        d = shift[zone[t[e]]]
        if d == 0:
            continue
        new = set_p[e] + d
        limit = min(model.p_out_max_bar[e] if np.isfinite(model.p_out_max_bar[e]) else np.inf,
                    p_max[t[e]] if np.isfinite(p_max[t[e]]) else np.inf)
        new = min(new, limit)
        if abs(new - set_p[e]) > 1e-4:
            set_p[e] = new
            changed = True
    for e in np.flatnonzero((state == SET_INLET) & (model.control == "auto")):
        d = shift[zone[f[e]]]
        if d == 0:
            continue
        new = set_in[e] + d
        if np.isfinite(p_max[f[e]]):
            new = min(new, p_max[f[e]])
        if np.isfinite(model.p_in_min_bar[e]):
            new = max(new, model.p_in_min_bar[e])
        if abs(new - set_in[e]) > 1e-4:
            set_in[e] = new
            changed = True
    for k in np.flatnonzero(auto_slack & np.isfinite(slack)):
        d = shift[zone[k]]
        if d == 0:
            continue
        new = slack[k] + d
        if np.isfinite(p_max[k]):
            new = min(new, p_max[k])
        if np.isfinite(p_min[k]):
            new = max(new, p_min[k])
        if abs(new - slack[k]) > 1e-4:
            slack[k] = new
            changed = True
    return changed

"""Steady-state solve: Newton-Raphson on the whole network with a sparse Jacobian.

Unknowns are the mass flows of resistive elements and one pressure per free pressure
component (`corridor.hydraulics.topology`). The Jacobian

    [ dr/dq   dr/dP ] [dq]   [-r]        r: pressure-loss residual per element (bar)
    [ A       0     ] [dP] = [-b]        b: mass balance per group (kg/s)

has a diagonal dr/dq, so flows are eliminated and each iteration factorises only the sparse
pressure matrix S = A (dr/dq)^-1 dr/dP (scipy SuperLU). The start comes from two linearised
solves (p_i - p_j = R m, R from fully rough friction at a typical then the linear flow); a
backtracking line search on the scaled residual keeps pressures positive and the residual
falling. Around Newton, an outer loop switches regulators left on `auto` between active and
bypass, and nudges their set points (and an automatic reference pressure) so the nodes they
control stay within their bounds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse import coo_matrix, csc_matrix
from scipy.sparse.csgraph import connected_components, shortest_path
from scipy.sparse.linalg import splu

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
from corridor.hydraulics.pipes import Pipes
from corridor.hydraulics.results import HydraulicResult, element_results
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
    link_flows,
)

LINEAR_PASSES = 2  # linearised solves before Newton


@dataclass(frozen=True)
class SolverOptions:
    """Tolerances and switches of a solve."""

    tol_pressure_bar: float = 1e-8  # largest pressure-loss residual accepted
    tol_flow: float = 1e-10  # largest mass-balance residual, relative to the throughput
    max_iter: int = 50  # Newton iterations per solve
    max_outer: int = 30  # regulator mode switches and set-point corrections
    adjust_set_points: bool = True  # move auto set points to keep pressures within bounds
    bound_tol_bar: float = 1e-6


@dataclass
class _Newton:
    unknowns: np.ndarray
    q: np.ndarray  # resistive flows
    converged: bool
    iterations: int
    residual: float
    message: str = ""
    worst: list | None = None


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


class _System:
    """The Newton system for one structure: balances, pipe equations and the pressure matrix.

    Everything is held as index arrays over the resistive elements, so one iteration is a few
    vectorised numpy operations plus one sparse LU: no Python loop over elements and no generic
    sparse matrix products.
    """

    def __init__(self, model: HydraulicModel, st: Structure, pipes: Pipes, opts: SolverOptions,
                 p_ref: float):
        self.model, self.st, self.pipes, self.opts = model, st, pipes, opts
        self.p_ref = p_ref
        self.r_scale = 1.0 / (2.0 * p_ref)  # squared-form residual (bar^2) -> about bar
        res = st.resistive
        self.f, self.t = model.from_node[res], model.to_node[res]
        nu = st.n_unknown
        self.n_unknown = nu
        # columns: the unknown pressure of each end (alpha = 0 where the end is fixed)
        self.u_f, self.u_t = st.unknown_of_node[self.f], st.unknown_of_node[self.t]
        self.a_f = np.where(self.u_f >= 0, st.alpha[self.f], 0.0)
        self.a_t = np.where(self.u_t >= 0, st.alpha[self.t], 0.0)
        self.u_f, self.u_t = np.maximum(self.u_f, 0), np.maximum(self.u_t, 0)
        # rows: the balance equation of each end (weight 0 where the end has none)
        g_f, g_t = st.row_of_node[self.f], st.row_of_node[self.t]
        self.w_f, self.w_t = (g_f >= 0).astype(float), (g_t >= 0).astype(float)
        self.g_f, self.g_t = np.maximum(g_f, 0), np.maximum(g_t, 0)
        self.d_group = st.balance @ model.withdrawal_kg_s
        # sparsity pattern of S = A diag(1/dr_dq) dr/dP: four entries per element
        rows = np.concatenate([self.g_f, self.g_f, self.g_t, self.g_t])
        cols = np.concatenate([self.u_f, self.u_t, self.u_f, self.u_t])
        key = rows.astype(np.int64) * max(nu, 1) + cols
        order = np.lexsort((rows, cols))  # column-major for CSC
        uniq, first = np.unique(key[order] % max(nu, 1) * max(nu, 1) + key[order] // max(nu, 1),
                                return_index=True)
        slot = np.empty(len(key), dtype=np.int64)
        slot[order] = np.searchsorted(uniq, key[order] % max(nu, 1) * max(nu, 1)
                                      + key[order] // max(nu, 1))
        self.slot = slot
        self.nnz = len(uniq)
        s_cols = uniq // max(nu, 1)
        self.indices = (uniq % max(nu, 1)).astype(np.int32)
        self.indptr = np.searchsorted(s_cols, np.arange(nu + 1)).astype(np.int32)
        throughput = 0.5 * np.abs(model.withdrawal_kg_s).sum()
        self.q_scale = max(throughput, 1e-3)
        self.q_floor = 1e-7 * self.q_scale

    def balance(self, q: np.ndarray) -> np.ndarray:
        """A q: net outflow of each balance row through resistive elements."""
        nu = self.n_unknown
        return (np.bincount(self.g_f, self.w_f * q, minlength=nu)
                - np.bincount(self.g_t, self.w_t * q, minlength=nu))

    def residual(self, unknowns: np.ndarray, q: np.ndarray):
        p = self.st.squared(unknowns)
        ev = self.pipes.evaluate(p[self.f], p[self.t], q, self.q_floor)
        b = self.balance(q) + self.d_group
        return p, ev, b

    def merit(self, ev, b) -> float:
        return float(np.sum((ev.r * self.r_scale) ** 2) + np.sum((b / self.q_scale) ** 2))

    def converged(self, ev, b) -> bool:
        return (np.all(np.abs(ev.r) * self.r_scale <= self.opts.tol_pressure_bar)
                and np.all(np.abs(b) <= self.opts.tol_flow * self.q_scale))

    def solve_linear(self, dr_dq: np.ndarray, dr_dpf: np.ndarray, dr_dpt: np.ndarray,
                     r: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(dP, dq) of the linear system [dr/dq dr/dP; A 0] [dq; dP] = [-r; -b]."""
        inv = 1.0 / dr_dq
        bf, bt = dr_dpf * self.a_f, dr_dpt * self.a_t  # d r / d P at both ends
        if self.n_unknown:
            wf, wt = self.w_f * inv, self.w_t * inv
            data = np.concatenate([wf * bf, wf * bt, -wt * bf, -wt * bt])
            values = np.bincount(self.slot, data, minlength=self.nnz)
            s = csc_matrix((values, self.indices, self.indptr),
                           shape=(self.n_unknown, self.n_unknown))
            dp = _lu_solve(s, b - self.balance(r * inv))
            bp_dp = bf * dp[self.u_f] + bt * dp[self.u_t]
        else:
            dp, bp_dp = np.zeros(0), 0.0
        dq = -(r + bp_dp) * inv
        return dp, dq

    def step(self, ev, b) -> tuple[np.ndarray, np.ndarray]:
        """Newton step (dP, dq) by eliminating the flows."""
        return self.solve_linear(ev.dr_dq, ev.dr_dpf, ev.dr_dpt, ev.r, b)


def _lu_solve(s, rhs: np.ndarray) -> np.ndarray:
    """Solve the pressure system. It is a weighted Laplacian (symmetric pattern, dominant
    diagonal), so a minimum-degree ordering on A + A^T with diagonal pivots is both fast and
    stable; a general pivoting LU is the fallback."""
    try:
        x = splu(s, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                 options={"SymmetricMode": True}).solve(rhs)
        if np.all(np.isfinite(x)):
            return x
    except RuntimeError:
        pass
    try:
        return splu(s).solve(rhs)
    except RuntimeError as exc:  # exactly singular
        raise HydraulicsError(f"singular network matrix ({exc}): some pressures are not "
                              "determined") from None


def _linear_start(sys: _System, p_ref: float) -> tuple[np.ndarray, np.ndarray]:
    """Flows and pressures of the linearised network, twice: a robust Newton start."""
    st, pipes = sys.st, sys.pipes
    m = len(st.resistive)
    alpha_of_unknown = np.ones(st.n_unknown)
    rows = np.flatnonzero(st.unknown_of_node >= 0)
    alpha_of_unknown[st.unknown_of_node[rows]] = st.alpha[rows]
    unknowns = p_ref ** 2 / alpha_of_unknown
    q_typ = np.full(m, sys.q_scale / max(1.0, np.sqrt(m)))
    q = np.zeros(m)
    for _ in range(LINEAR_PASSES):
        resistance = pipes.linear_resistance(p_ref, q_typ)
        p = st.squared(unknowns)
        r = p[sys.f] - p[sys.t] - resistance * q
        b = sys.balance(q) + sys.d_group
        dp, dq = sys.solve_linear(-resistance, np.ones(m), -np.ones(m), r, b)
        q = q + dq
        unknowns = unknowns + dp
        q_typ = np.maximum(np.abs(q), 1e-3 * sys.q_scale / max(1.0, np.sqrt(m)))
    return unknowns, q


def _newton(sys: _System, unknowns: np.ndarray, q: np.ndarray) -> _Newton:
    opts = sys.opts
    _, ev, b = sys.residual(unknowns, q)
    phi = sys.merit(ev, b)
    for it in range(1, opts.max_iter + 1):
        if sys.converged(ev, b):
            return _Newton(unknowns, q, True, it - 1, phi)
        dp, dq = sys.step(ev, b)
        if not (np.all(np.isfinite(dp)) and np.all(np.isfinite(dq))):
            return _Newton(unknowns, q, False, it, phi, "the Newton step is not finite")
        step = 1.0
        accepted = False
        for _ in range(40):
            u_new, q_new = unknowns + step * dp, q + step * dq
            _, ev_new, b_new = sys.residual(u_new, q_new)
            phi_new = sys.merit(ev_new, b_new)
            if np.isfinite(phi_new) and phi_new <= (1.0 - 1e-4 * step) * phi:
                accepted = True
                break
            step *= 0.5
        if not accepted:
            return _Newton(unknowns, q, False, it, phi, "the line search found no descent")
        unknowns, q, ev, b, phi = u_new, q_new, ev_new, b_new, phi_new
    if sys.converged(ev, b):
        return _Newton(unknowns, q, True, opts.max_iter, phi)
    return _Newton(unknowns, q, False, opts.max_iter, phi,
                   f"no convergence in {opts.max_iter} iterations")


def _worst(sys: _System, unknowns: np.ndarray, q: np.ndarray, k: int = 5) -> list[tuple]:
    """Elements and groups with the largest residuals, for a non-convergence message."""
    model, st = sys.model, sys.st
    p, ev, b = sys.residual(unknowns, q)
    out = []
    for i in np.argsort(-np.abs(ev.r))[:k]:
        e = st.resistive[i]
        out.append(("element", model.element_ids[e], float(ev.r[i] * sys.r_scale)))
    p = signed_sqrt(p)
    low = np.argsort(p)[:k]
    for i in low:
        out.append(("node", model.node_ids[i], float(p[i])))
    return out


def _zones(model: HydraulicModel, cut: np.ndarray, state: np.ndarray) -> tuple[int, np.ndarray]:
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
    nz, zone = _zones(model, reg, state)
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
    nz, zone = _zones(model, reg, state)
    zone_max = np.full(nz, np.inf)
    np.minimum.at(zone_max, zone, np.where(np.isfinite(model.p_max_bar), model.p_max_bar,
                                           np.inf))
    need = inlet & ~np.isfinite(set_in)
    value = zone_max[zone[model.from_node[need]]]
    fallback = np.where(np.isfinite(model.set_pressure_bar[need]),
                        model.set_pressure_bar[need], DEFAULT_MAOP_BAR)
    set_in[need] = np.where(np.isfinite(value), value, fallback)
    return set_in


def _regulator_switches(model: HydraulicModel, state: np.ndarray, p: np.ndarray,
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


def _release_regulators(model: HydraulicModel, state: np.ndarray, p: np.ndarray,
                        worst: list) -> list[str]:
    """After a failed solve: bypass the auto regulators that anchor the troubled zones.

    Troubled zones hold a node below its minimum pressure or an element with one of the
    largest residuals; a regulator holding such a zone at its set point may make the nominated
    flows impossible (e.g. a pressure-reducing valve set too low for what flows behind it).
    """
    f, t = model.from_node, model.to_node
    anchoring = np.isin(state, (SET_PRESSURE, SET_INLET))
    nz, zone = _zones(model, anchoring, state)
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


def _structure(model: HydraulicModel, state: np.ndarray, notes: list[str]) -> Structure:
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


def _unloaded_islands(model: HydraulicModel, state: np.ndarray) -> np.ndarray:
    """Nodes of islands (over non-closed elements) with no reference and no load."""
    nisl, island = _zones(model, np.zeros(model.n_elements, dtype=bool), state)
    referenced = np.bincount(island[np.isfinite(model.slack_bar)], minlength=nisl) > 0
    loaded = np.bincount(island, np.abs(model.withdrawal_kg_s), minlength=nisl) > 0
    return (~referenced & ~loaded)[island]


def close_duplicate_anchors(model: HydraulicModel, state: np.ndarray) -> list[str]:
    """Close auto regulators that would hold a pressure already held by another one.

    Two regulators holding the same pressure component (e.g. parallel compressor units into
    one node) leave the split of flow between them undetermined by pressures; the first keeps
    control and the others are closed. A regulator whose ends are joined without resistance
    cannot act and is bypassed. Returns one note per change.
    """
    f, t = model.from_node, model.to_node
    link = (state == LOSSLESS) | (state == SET_RATIO)
    _, comp = _zones(model, ~link, state)
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
    from scipy.sparse.csgraph import breadth_first_order

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
    nisl, island = _zones(model, np.zeros(model.n_elements, dtype=bool), state)
    referenced = np.bincount(island[np.isfinite(model.slack_bar)], minlength=nisl) > 0
    loaded = np.bincount(island, np.abs(model.withdrawal_kg_s), minlength=nisl) > 0
    return bool(np.any(loaded & ~referenced))


def effective_bounds(model: HydraulicModel, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node pressure bounds including active regulators' least inlet pressures."""
    p_min, p_max = model.p_min_bar.copy(), model.p_max_bar.copy()
    active = np.isin(state, ACTIVE_STATES)
    e = np.flatnonzero(active & np.isfinite(model.p_in_min_bar))
    np.fmax.at(p_min, model.from_node[e], model.p_in_min_bar[e])
    return p_min, p_max


def _adjust_set_points(model: HydraulicModel, state: np.ndarray, p: np.ndarray,
                       set_p: np.ndarray, set_in: np.ndarray, slack: np.ndarray,
                       auto_slack: np.ndarray, tol: float) -> bool:
    """Shift the controllers of each pressure zone so its nodes come within bounds.

    A zone is what is left connected when active regulators are cut; its pressure level is
    held by the regulator outlets and reference nodes in it. If some nodes are above their
    maximum (below their minimum) and none below (above), every adjustable controller of the
    zone moves down (up) by the largest violation. Returns whether anything changed.
    """
    f, t = model.from_node, model.to_node
    nz, zone = _zones(model, (state == SET_PRESSURE) | (state == SET_INLET), state)
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


def solve(model: HydraulicModel, options: SolverOptions | None = None) -> HydraulicResult:
    """Steady-state pressures and flows of a hydraulic model (see the module docstring)."""
    opts = options or SolverOptions()
    started = time.perf_counter()
    model.check()
    state = initial_state(model)
    notes = auto_valves(model, state)
    isolated = _unloaded_islands(model, state)
    if isolated.any():
        model = replace(model, slack_bar=model.slack_bar.copy())
        _, island = _zones(model, np.zeros(model.n_elements, dtype=bool), state)
        for isl in np.unique(island[isolated]):
            model.slack_bar[np.flatnonzero(island == isl)[0]] = np.nanmean(
                np.r_[model.slack_bar[~isolated], model.set_pressure_bar, 50.0])
        notes.append(f"{isolated.sum()} node(s) cut off by closed elements carry no flow; "
                     "their pressure is not determined (reported empty)")
    inlet = anchor_inlet(model, state)
    state[inlet & np.isin(state, ACTIVE_STATES)] = SET_INLET
    set_in = default_inlet_set_points(model, state, inlet)
    set_p = model.set_pressure_bar.copy()
    slack = model.slack_bar.copy()
    slack_auto = np.isfinite(slack) & model.slack_adjustable
    res_kind = (model.kind == PIPE) | (model.kind == RESISTOR)
    pipes_all = Pipes(model, np.flatnonzero(res_kind))
    total_iter, outer = 0, 0
    p_nodes = None
    q_all = np.zeros(model.n_elements)
    seen: set[bytes] = set()
    frozen = np.zeros(model.n_elements, dtype=bool)
    message = ""
    newton = None
    st = None
    last: tuple | None = None
    for outer in range(1, opts.max_outer + 1):  # noqa: B007 (reported)
        work = replace(model, set_pressure_bar=set_p.copy(), set_inlet_bar=set_in.copy(),
                       slack_bar=slack.copy())
        for note in close_duplicate_anchors(work, state):
            if note not in notes:
                notes.append(note)
        st = _structure(work, state, notes)
        pipes = pipes_all  # pipes and resistors are always the resistive elements
        fixed = np.concatenate([slack[np.isfinite(slack)], set_p[state == SET_PRESSURE],
                                set_in[state == SET_INLET]])
        p_ref = float(np.mean(fixed)) if len(fixed) else 50.0
        sys = _System(work, st, pipes, opts, p_ref)
        if p_nodes is None:
            unknowns, q = _linear_start(sys, p_ref)
        else:
            unknowns = _unknowns_from(st, p_nodes)
            q = q_all[st.resistive]
        newton = _Newton(unknowns, q, False, 0, np.inf)
        newton = _newton(sys, unknowns, q)
        if not newton.converged and p_nodes is not None:  # a cold start may do better
            unknowns, q = _linear_start(sys, p_ref)
            retry = _newton(sys, unknowns, q)
            retry.iterations += newton.iterations
            newton = retry
        total_iter += newton.iterations
        if not newton.converged:
            newton.worst = _worst(sys, newton.unknowns, newton.q)
            message = newton.message
            released = _release_regulators(work, state, signed_sqrt(st.squared(
                newton.unknowns)), newton.worst)
            if released:
                notes.append("no solution with " + ", ".join(released) + " active; bypassed")
                p_nodes = None
                continue
            break
        p_nodes = signed_sqrt(st.squared(newton.unknowns))
        q_all, _ = link_flows(work, st, newton.q)
        last = (work, state.copy(), st, newton, p_nodes)
        eps = 1e-6 * sys.q_scale
        new_state = _regulator_switches(work, state, p_nodes, q_all, inlet, eps)
        new_state[frozen] = state[frozen]
        if np.any(new_state != state):
            key = new_state.tobytes()
            if key in seen:  # a cycle: hold the flipping regulators in their passive state
                flipping = new_state != state
                frozen |= flipping
                passive = np.where(np.isin(state, ACTIVE_STATES), new_state, state)
                new_state = np.where(flipping, passive, new_state)
                notes.append("held " + ", ".join(model.element_ids[flipping][:8])
                             + " open or closed (their modes would flip)")
                if len(seen) > 3 * opts.max_outer:
                    message = "regulator modes do not settle"
                    break
            seen.add(key)
            state = new_state
            continue
        if opts.adjust_set_points and _adjust_set_points(
                work, state, p_nodes, set_p, set_in, slack, slack_auto, opts.bound_tol_bar):
            continue
        break
    else:
        message = f"regulator modes and set points did not settle in {opts.max_outer} rounds"
    elapsed = time.perf_counter() - started
    if last is not None:  # report the last converged solve with the settings it used
        work, state, st, newton, p_nodes = last
    else:
        work = replace(model, set_pressure_bar=set_p, set_inlet_bar=set_in, slack_bar=slack)
    if newton is None or not newton.converged:
        return HydraulicResult.failed(work, state, total_iter, outer, elapsed, message,
                                      newton.worst if newton else None,
                                      signed_sqrt(st.squared(newton.unknowns))
                                      if newton and st else None)
    flows, injection = link_flows(work, st, newton.q)
    p_nodes = np.where(isolated, np.nan, p_nodes)
    detail = element_results(work, state, p_nodes, flows, opts.bound_tol_bar)
    result = HydraulicResult.from_solution(work, state, p_nodes, flows, injection, detail,
                                           total_iter, outer, elapsed, opts.bound_tol_bar)
    result.notes = notes
    if message:
        result.message = message
        result.settled = False
    return result


def _unknowns_from(st: Structure, p: np.ndarray) -> np.ndarray:
    """Unknown pressures that reproduce node pressures p as closely as the structure allows."""
    unknowns = np.zeros(st.n_unknown)
    rows = np.flatnonzero(st.unknown_of_node >= 0)
    # later rows overwrite earlier ones; any member of a component gives the same value
    unknowns[st.unknown_of_node[rows]] = (np.sign(p[rows]) * p[rows] ** 2 - st.offset[rows]) \
        / st.alpha[rows]
    return unknowns


def signed_sqrt(squared: np.ndarray) -> np.ndarray:
    """Pressures from squared pressures; a negative square gives a negative 'pressure' that
    marks where the flows cannot be carried at all."""
    return np.sign(squared) * np.sqrt(np.abs(squared))


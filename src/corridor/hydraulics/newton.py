"""The Newton core: one steady-state solve of the network equations for fixed element states.

Unknowns are the mass flows of resistive elements and one pressure per free pressure
component (`corridor.hydraulics.topology`). The Jacobian

    [ dr/dq   dr/dP ] [dq]   [-r]        r: pressure-loss residual per element (bar)
    [ A       0     ] [dP] = [-b]        b: mass balance per group (kg/s)

has a diagonal dr/dq, so flows are eliminated and each iteration factorises only the sparse
pressure matrix S = A (dr/dq)^-1 dr/dP (scipy SuperLU). The start comes from two linearised
solves (p_i - p_j = R m, R from fully rough friction at a typical then the linear flow); a
backtracking line search on the scaled residual keeps pressures positive and the residual
falling. Which elements are open, closed or holding a set point is decided outside, by
`corridor.hydraulics.operation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csc_matrix
from scipy.sparse.linalg import splu

from corridor.hydraulics.model import HydraulicModel, HydraulicsError
from corridor.hydraulics.pipes import Pipes
from corridor.hydraulics.topology import Structure

if TYPE_CHECKING:
    from corridor.hydraulics.solver import SolverOptions

LINEAR_PASSES = 2  # linearised solves before Newton


@dataclass
class NewtonOutcome:
    """Where one Newton solve ended: unknown pressures, resistive flows and how it went."""

    unknowns: np.ndarray
    q: np.ndarray  # resistive flows
    converged: bool
    iterations: int
    residual: float
    message: str = ""
    worst: list | None = None


class NewtonSystem:
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


def linear_start(sys: NewtonSystem, p_ref: float) -> tuple[np.ndarray, np.ndarray]:
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


def newton_solve(sys: NewtonSystem, unknowns: np.ndarray, q: np.ndarray) -> NewtonOutcome:
    """Newton-Raphson from (unknowns, q) with a backtracking line search on the merit."""
    opts = sys.opts
    _, ev, b = sys.residual(unknowns, q)
    phi = sys.merit(ev, b)
    for it in range(1, opts.max_iter + 1):
        if sys.converged(ev, b):
            return NewtonOutcome(unknowns, q, True, it - 1, phi)
        dp, dq = sys.step(ev, b)
        if not (np.all(np.isfinite(dp)) and np.all(np.isfinite(dq))):
            return NewtonOutcome(unknowns, q, False, it, phi, "the Newton step is not finite")
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
            return NewtonOutcome(unknowns, q, False, it, phi, "the line search found no descent")
        unknowns, q, ev, b, phi = u_new, q_new, ev_new, b_new, phi_new
    if sys.converged(ev, b):
        return NewtonOutcome(unknowns, q, True, opts.max_iter, phi)
    return NewtonOutcome(unknowns, q, False, opts.max_iter, phi,
                         f"no convergence in {opts.max_iter} iterations")


def worst_residuals(sys: NewtonSystem, unknowns: np.ndarray, q: np.ndarray, k: int = 5
                    ) -> list[tuple]:
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


def unknowns_from(st: Structure, p: np.ndarray) -> np.ndarray:
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


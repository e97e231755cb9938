"""Steady-state solve: the operating policy's rounds around the Newton core.

Each round fixes every element's state and set point (`corridor.hydraulics.operation`), solves
the network equations by Newton-Raphson (`corridor.hydraulics.newton`), then lets the policy
switch regulators left on `auto` between active and bypass, release those that make the
nominated flows impossible, and nudge their set points (and an automatic reference pressure)
so the nodes they control stay within their bounds; until nothing changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from corridor.hydraulics.model import PIPE, RESISTOR, HydraulicModel
from corridor.hydraulics.newton import (
    NewtonSystem,
    linear_start,
    newton_solve,
    signed_sqrt,
    unknowns_from,
    worst_residuals,
)
from corridor.hydraulics.operation import (
    adjust_set_points,
    anchor_inlet,
    auto_valves,
    close_duplicate_anchors,
    default_inlet_set_points,
    initial_state,
    operating_structure,
    pin_unloaded_islands,
    regulator_switches,
    release_regulators,
)
from corridor.hydraulics.pipes import Pipes
from corridor.hydraulics.results import HydraulicResult, element_results
from corridor.hydraulics.topology import ACTIVE_STATES, SET_INLET, SET_PRESSURE, link_flows


@dataclass(frozen=True)
class SolverOptions:
    """Tolerances and switches of a solve."""

    tol_pressure_bar: float = 1e-8  # largest pressure-loss residual accepted
    tol_flow: float = 1e-10  # largest mass-balance residual, relative to the throughput
    max_iter: int = 50  # Newton iterations per solve
    max_outer: int = 30  # regulator mode switches and set-point corrections
    adjust_set_points: bool = True  # move auto set points to keep pressures within bounds
    bound_tol_bar: float = 1e-6


def solve(model: HydraulicModel, options: SolverOptions | None = None) -> HydraulicResult:
    """Steady-state pressures and flows of a hydraulic model (see the module docstring)."""
    opts = options or SolverOptions()
    started = time.perf_counter()
    model.check()
    state = initial_state(model)
    notes = auto_valves(model, state)
    model, isolated, pinned = pin_unloaded_islands(model, state)
    notes += pinned
    inlet = anchor_inlet(model, state)
    state[inlet & np.isin(state, ACTIVE_STATES)] = SET_INLET
    set_in = default_inlet_set_points(model, state, inlet)
    set_p = model.set_pressure_bar.copy()
    slack = model.slack_bar.copy()
    slack_auto = np.isfinite(slack) & model.slack_adjustable
    res_kind = (model.kind == PIPE) | (model.kind == RESISTOR)
    pipes = Pipes(model, np.flatnonzero(res_kind))  # pipes and resistors: always resistive
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
        st = operating_structure(work, state, notes)
        fixed = np.concatenate([slack[np.isfinite(slack)], set_p[state == SET_PRESSURE],
                                set_in[state == SET_INLET]])
        p_ref = float(np.mean(fixed)) if len(fixed) else 50.0
        sys = NewtonSystem(work, st, pipes, opts, p_ref)
        if p_nodes is None:
            unknowns, q = linear_start(sys, p_ref)
        else:
            unknowns = unknowns_from(st, p_nodes)
            q = q_all[st.resistive]
        newton = newton_solve(sys, unknowns, q)
        if not newton.converged and p_nodes is not None:  # a cold start may do better
            unknowns, q = linear_start(sys, p_ref)
            retry = newton_solve(sys, unknowns, q)
            retry.iterations += newton.iterations
            newton = retry
        total_iter += newton.iterations
        if not newton.converged:
            newton.worst = worst_residuals(sys, newton.unknowns, newton.q)
            message = newton.message
            released = release_regulators(work, state, signed_sqrt(st.squared(
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
        new_state = regulator_switches(work, state, p_nodes, q_all, inlet, eps)
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
        if opts.adjust_set_points and adjust_set_points(
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


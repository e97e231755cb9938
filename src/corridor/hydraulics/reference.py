"""The same network in pandapipes, for validation and benchmarks (pandapipes is optional).

`to_pandapipes` rebuilds a solved (or to-be-solved) hydraulic model element by element with
the same equations: a fluid with our normal density, constant viscosity and the same
compressibility law; the same temperature, heights, friction model, pipes; resistors as valves
with the drag factor as loss coefficient; lossless elements as open valves; active regulators as
pandapipes pressure controls holding the same node at the same pressure; compressors on a
ratio as pandapipes compressors; reference nodes as external grids. pandapipes works in gauge
pressure over a height-dependent ambient pressure, so `absolute_pressures` adds it back.
"""

from __future__ import annotations

import numpy as np

from corridor.hydraulics.model import HydraulicModel, HydraulicsError
from corridor.hydraulics.topology import (
    CLOSED,
    LOSSLESS,
    RESISTIVE,
    SET_INLET,
    SET_PRESSURE,
    SET_RATIO,
)


def ambient_bar(height_m: np.ndarray) -> np.ndarray:
    """pandapipes' ambient pressure at a height (barometric formula, bar)."""
    from pandapipes.component_models.component_toolbox import p_correction_height_air

    return p_correction_height_air(np.asarray(height_m, dtype=float))


def _fluid(model: HydraulicModel):
    import pandapipes as pp

    gas = model.gas
    fluid = pp.create_constant_fluid("corridor-gas", "gas", density=gas.norm_density,
                                     viscosity=gas.viscosity, heat_capacity=2000.0,
                                     molar_mass=gas.molar_mass, lhv=13.0, hhv=14.0)
    if model.compressibility == "linear":
        fluid.add_property("compressibility", pp.FluidPropertyLinear(gas.z_slope_per_bar, 1.0),
                           warn_on_duplicates=False)
        fluid.add_property("der_compressibility",
                           pp.FluidPropertyConstant(gas.z_slope_per_bar),
                           warn_on_duplicates=False)
    elif model.compressibility == "constant":
        fluid.add_property("compressibility", pp.FluidPropertyLinear(0.0, gas.z_constant),
                           warn_on_duplicates=False)
        fluid.add_property("der_compressibility", pp.FluidPropertyConstant(0.0),
                           warn_on_duplicates=False)
    else:
        raise HydraulicsError(f"pandapipes has no {model.compressibility!r} compressibility; "
                              "compare with 'linear' or 'constant'")
    return fluid


def to_pandapipes(model: HydraulicModel, state: np.ndarray, flow_kg_s: np.ndarray | None = None):
    """A pandapipes net with the same nodes, elements, loads, references and set points.

    A regulator that holds its inlet side (suction) is given to pandapipes as what it does: an
    external grid holding that pressure plus a flow control carrying the regulator's flow
    (`flow_kg_s`, from our solution: pandapipes' pressure control only holds outlets). The
    external grid then exchanges no gas when both solutions agree.
    """
    import pandapipes as pp

    net = pp.create_empty_network(fluid=_fluid(model))
    temp = model.gas.temperature_k
    amb = ambient_bar(model.height_m)
    p_guess = np.nanmean(model.slack_bar) if np.isfinite(model.slack_bar).any() else 50.0
    pp.create_junctions(net, model.n_nodes, pn_bar=p_guess, tfluid_k=temp,
                        height_m=model.height_m)
    f, t = model.from_node, model.to_node
    res = state == RESISTIVE
    pipes = res & (model.length_m > 0)
    if pipes.any():
        pp.create_pipes_from_parameters(
            net, f[pipes], t[pipes], length_km=model.length_m[pipes] / 1000.0,
            inner_diameter_mm=model.diameter_m[pipes] * 1000.0,
            k_mm=model.roughness_m[pipes] * 1000.0, loss_coefficient=model.drag[pipes])
    resistors = res & ~(model.length_m > 0)
    lossless = state == LOSSLESS
    valves = resistors | lossless
    if valves.any():
        diameter = np.where(resistors, model.diameter_m, 1.0) * 1000.0
        pp.create_valves(net, f[valves], t[valves], et="ju", inner_diameter_mm=diameter[valves],
                         opened=True, loss_coefficient=np.where(resistors, model.drag,
                                                                0.0)[valves])
    w = model.withdrawal_kg_s.copy()
    for e in np.flatnonzero(state == SET_INLET):
        dead = _dead_end(model, state, e)
        if dead is not None:  # an entry behind its compressor: its pressure is the set point
            w[t[e]] += w[dead].sum()
            w[dead] = 0.0
            state = state.copy()
            state[e] = CLOSED
    suction = np.flatnonzero(state == SET_INLET) if flow_kg_s is not None else np.zeros(0, int)
    for e in suction:
        pp.create_flow_control(net, f[e], t[e], controlled_mdot_kg_per_s=flow_kg_s[e])
        pp.create_ext_grid(net, f[e], p_bar=model.set_inlet_bar[e] - amb[f[e]], t_k=temp)
    state = state.copy()
    state[suction] = CLOSED
    for e in np.flatnonzero((state == SET_PRESSURE) | (state == SET_INLET)):
        node = t[e] if state[e] == SET_PRESSURE else f[e]
        value = (model.set_pressure_bar[e] if state[e] == SET_PRESSURE
                 else model.set_inlet_bar[e])
        pp.create_pressure_control(net, f[e], t[e], node, value - amb[node],
                                   check_controllability=False)
    for e in np.flatnonzero(state == SET_RATIO):
        pp.create_compressor(net, f[e], t[e], pressure_ratio=model.set_ratio[e])
    ref = np.flatnonzero(np.isfinite(model.slack_bar))
    pp.create_ext_grids(net, ref, p_bar=model.slack_bar[ref] - amb[ref], t_k=temp)
    sinks, sources = np.flatnonzero(w > 0), np.flatnonzero(w < 0)
    if len(sinks):
        pp.create_sinks(net, sinks, mdot_kg_per_s=w[sinks])
    if len(sources):
        pp.create_sources(net, sources, mdot_kg_per_s=-w[sources])
    return net


def _dead_end(model: HydraulicModel, state: np.ndarray, e: int) -> np.ndarray | None:
    """Nodes behind regulator e's inlet if nothing but lossless links joins them (else None)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n, f, t = model.n_nodes, model.from_node, model.to_node
    keep = (state != CLOSED) & (np.arange(model.n_elements) != e)
    graph = coo_matrix((np.ones(keep.sum()), (f[keep], t[keep])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    members = np.flatnonzero(comp == comp[f[e]])
    touching = keep & (np.isin(f, members) | np.isin(t, members))
    if np.any(touching & (state != LOSSLESS)) or np.isfinite(model.slack_bar[members]).any():
        return None
    return members


def run_pandapipes(net, friction: str = "colebrook") -> None:
    """pipeflow with tight tolerances (the defaults stop at 1e-5 relative)."""
    import pandapipes as pp

    pp.pipeflow(net, friction_model=friction, mode="hydraulics", tol_p=1e-10, tol_m=1e-10,
                max_iter_hyd=200, tolerance_colebrook=1e-12, max_iter_colebrook=200)


def absolute_pressures(net, model: HydraulicModel) -> np.ndarray:
    """Node pressures of a solved pandapipes net in bar absolute, in model node order."""
    return net.res_junction["p_bar"].to_numpy(float) + ambient_bar(model.height_m)

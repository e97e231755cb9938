"""Physical check of an optimised plan: can the pipes carry the planned flows at their pressures?

The optimiser moves gas as a linear flow; a pipe can only carry a flow if the pressure at its
inlet exceeds the pressure at its outlet by what friction takes. For every gas link with a length
and a diameter, this check:
1. builds a hydraulic network of those pipe segments, loaded with the planned net flows (the
   planned flows on the checked links define what enters and leaves every node);
2. gives each segment a compressor station at its inlet, in the planned direction, that lifts the
   gas to the maximum operating pressure (MAOP) when the node pressure is lower (bypassed
   otherwise); a segment too long for its flow even from MAOP gets as many equally spaced
   intermediate stations as it needs to keep every sub-segment's outlet above the minimum;
3. solves the steady state (parallel or meshed pipes share flow by physics, not by plan) and
   reports pressure violations, the stations that must run, their pressure ratios and power.
Data gaps are filled with stated assumptions (MAOP, minimum pressure, roughness, gas).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from corridor.hydraulics.gas import SECONDS_PER_DAY, Gas
from corridor.hydraulics.model import (
    COMPRESSOR,
    PIPE,
    HydraulicModel,
    HydraulicsError,
    first_number,
)
from corridor.hydraulics.pipes import Pipes
from corridor.hydraulics.results import HydraulicResult
from corridor.hydraulics.solver import SolverOptions, solve
from corridor.network import Network

# Natural gas typical of Central Asian pipeline gas (methane-rich), at GasLib normal conditions.
PLAN_GAS = Gas(norm_density=0.73, temperature_k=288.15, viscosity=1.1e-5, molar_mass=16.4,
               pseudocritical_pressure_bar=46.0, pseudocritical_temperature_k=192.0)


@dataclass(frozen=True)
class CheckAssumptions:
    """What the check assumes where the network data are silent."""

    maop_bar: float = 75.0
    min_pressure_bar: float = 35.0
    roughness_mm: float = 0.05
    gas: Gas = PLAN_GAS
    friction: str = "colebrook"
    compressibility: str = "papay"

    def lines(self) -> list[str]:
        g = self.gas
        return [
            f"maximum operating pressure {self.maop_bar:g} bar and minimum delivery pressure "
            f"{self.min_pressure_bar:g} bar (absolute) where nodes have no pressure bounds",
            f"pipe roughness {self.roughness_mm:g} mm where links have none; the first "
            "diameter where several are listed (e.g. 1220/1420 -> 1220 mm)",
            f"gas: normal density {g.norm_density:g} kg/m3 (mcm at 0 degC, 1.01325 bar), "
            f"{g.temperature_k - 273.15:g} degC isothermal, viscosity {g.viscosity:g} Pa s, "
            f"{self.compressibility} compressibility, {self.friction} friction",
            "a compressor station at the inlet of every segment (in the planned direction) "
            "lifts gas to MAOP when needed; supply nodes deliver at MAOP",
            f"compressor power: adiabatic, exponent {g.isentropic_exponent:g}, efficiency 0.8",
        ]


@dataclass
class PlanCheck:
    """Outcome of a plan check: per-segment table, node table, violations and assumptions."""

    network: str
    period: object
    segments: pd.DataFrame
    nodes: pd.DataFrame
    result: HydraulicResult
    skipped: dict[str, str]
    assumptions: list[str]
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        seg = self.segments.reset_index().replace({np.nan: None})
        nodes = self.nodes.reset_index().replace({np.nan: None})
        return {
            "network": self.network, "period": _jsonable(self.period),
            "converged": bool(self.result.converged), "iterations": self.result.iterations,
            "segments": seg.to_dict(orient="records"), "nodes": nodes.to_dict(orient="records"),
            "problems": self.problems, "skipped": self.skipped,
            "assumptions": self.assumptions,
            "total_power_mw": float(np.nansum(self.segments["power_mw"])),
            "stations": int(self.segments["stations"].sum()),
        }


def _jsonable(value):
    return value.item() if hasattr(value, "item") else value


def _segments(net: Network, flows: pd.Series) -> tuple[pd.DataFrame, dict[str, str]]:
    """Gas links with a length and a diameter, their planned flow and direction."""
    links = net.links
    gas = links[links["carrier"] == "gas"]
    skipped: dict[str, str] = {}
    rows = []
    for lid, link in gas.iterrows():  # one row per link: dozens, not an inner loop
        flow = float(flows.get(lid, np.nan))
        if not np.isfinite(flow):
            continue  # not in the plan (e.g. not built)
        length = pd.to_numeric(link.get("length_km"), errors="coerce")
        diameter = first_number(link.get("diameter_mm", ""))
        missing = [n for n, v in (("length", length), ("diameter", diameter)) if not v > 0]
        if missing:
            skipped[str(lid)] = f"no {' and '.join(missing)} (planned {flow:.1f} mcm/d)"
            continue
        rows.append({"id": str(lid), "from": str(link["from"]), "to": str(link["to"]),
                     "length_km": float(length), "diameter_mm": float(diameter),
                     "roughness_mm": pd.to_numeric(link.get("roughness_mm"), errors="coerce"),
                     "planned_mcm_d": flow})
    return pd.DataFrame(rows), skipped


def check_plan(net: Network, flows: pd.Series, period: object = None,
               assumptions: CheckAssumptions | None = None,
               options: SolverOptions | None = None) -> PlanCheck:
    """Check the planned flows (link id -> mcm/d, positive from -> to) of one period."""
    a = assumptions or CheckAssumptions()
    seg, skipped = _segments(net, flows)
    if seg.empty:
        raise HydraulicsError(f"{net.name}: no gas link with a length and a diameter carries "
                              "planned flow; nothing to check")
    seg["roughness_mm"] = seg["roughness_mm"].fillna(a.roughness_mm)
    kg_s = 1e6 * a.gas.norm_density / SECONDS_PER_DAY
    forward = seg["planned_mcm_d"].to_numpy() >= 0
    inlet = np.where(forward, seg["from"], seg["to"])
    outlet = np.where(forward, seg["to"], seg["from"])
    q = np.abs(seg["planned_mcm_d"].to_numpy()) * kg_s
    # sub-segments needed so that MAOP at each station keeps the outlet above the minimum
    n_sub = _stations_needed(seg, q, a)
    for _ in range(4):  # meshed pipes share flow by physics: re-size with the physical flows
        model, result, real = _solve(net, seg, inlet, outlet, q, n_sub, a, skipped, options)
        if not result.converged:
            break
        q_phys = _segment_flows(result, seg) * kg_s
        need = np.maximum(n_sub, _stations_needed(seg, np.maximum(q, np.abs(q_phys)), a))
        if np.all(need == n_sub):
            break
        n_sub = need
    return _report(net, period, seg, n_sub, model, result, real, kg_s, skipped, a)


def _stations_needed(seg: pd.DataFrame, q: np.ndarray, a: CheckAssumptions) -> np.ndarray:
    """Sub-segments per segment so that MAOP at each station keeps each outlet above the
    minimum pressure: ceil(K q^2 / (MAOP^2 - p_min^2))."""
    k_seg = _pipe_constant(seg, q, a)
    budget = a.maop_bar ** 2 - a.min_pressure_bar ** 2
    return np.maximum(1, np.ceil(k_seg * q * q / budget - 1e-9)).astype(int)


def _segment_flows(result: HydraulicResult, seg: pd.DataFrame) -> np.ndarray:
    """Flow (mcm/d, positive in the planned direction) in the first pipe of each segment."""
    elements = result.elements_frame()
    pipes = elements[elements["kind"] == PIPE]
    first = pipes.groupby(pipes.index.str.split(":").str[0]).head(1)
    first.index = first.index.str.split(":").str[0]
    return first["flow_1000m3_h"].reindex(seg["id"]).to_numpy() * 0.024


def _solve(net: Network, seg: pd.DataFrame, inlet: np.ndarray, outlet: np.ndarray,
           q: np.ndarray, n_sub: np.ndarray, a: CheckAssumptions, skipped: dict,
           options: SolverOptions | None) -> tuple[HydraulicModel, HydraulicResult, np.ndarray]:
    """Build the station-and-pipe model for the given sub-segments and solve it."""
    real = pd.unique(np.concatenate([inlet, outlet]))
    nodes = net.nodes.reindex(real)
    p_max = pd.to_numeric(nodes.get("pressure_max_bar"), errors="coerce").fillna(a.maop_bar)
    p_min = pd.to_numeric(nodes.get("pressure_min_bar"), errors="coerce").fillna(
        a.min_pressure_bar)
    withdrawal = pd.Series(0.0, index=real)
    np.add.at(withdrawal.values, withdrawal.index.get_indexer(outlet), q)
    np.subtract.at(withdrawal.values, withdrawal.index.get_indexer(inlet), q)
    # build nodes and elements: inlet -(station)-> e@1 -pipe-> [e@2 -(station)-> ...] -> outlet
    node_ids = list(real)
    node_index = {k: i for i, k in enumerate(node_ids)}
    el = {"id": [], "kind": [], "from": [], "to": [], "length": [], "diameter": [],
          "rough": [], "segment": []}

    def add_node(name: str) -> int:
        node_index[name] = len(node_ids)
        node_ids.append(name)
        return node_index[name]

    for i, sid in enumerate(seg["id"]):
        prev = node_index[inlet[i]]
        for k in range(n_sub[i]):
            mid = add_node(f"{sid}@{k + 1}")
            el["id"].append(f"{sid}:station{k + 1}" if n_sub[i] > 1 else f"{sid}:station")
            el["kind"].append(COMPRESSOR)
            el["from"].append(prev)
            el["to"].append(mid)
            el["length"].append(0.0)
            el["diameter"].append(0.0)
            el["rough"].append(0.0)
            el["segment"].append(sid)
            end = node_index[outlet[i]] if k == n_sub[i] - 1 else add_node(f"{sid}#{k + 1}")
            el["id"].append(sid if n_sub[i] == 1 else f"{sid}:{k + 1}")
            el["kind"].append(PIPE)
            el["from"].append(mid)
            el["to"].append(end)
            el["length"].append(seg["length_km"].iloc[i] * 1000.0 / n_sub[i])
            el["diameter"].append(seg["diameter_mm"].iloc[i] / 1000.0)
            el["rough"].append(seg["roughness_mm"].iloc[i] / 1000.0)
            el["segment"].append(sid)
            prev = end
    n, m = len(node_ids), len(el["id"])
    kind = np.array(el["kind"], dtype=object)
    station = kind == COMPRESSOR
    w = np.zeros(n)
    w[: len(real)] = withdrawal.to_numpy()
    hi = np.full(n, a.maop_bar)
    lo = np.full(n, np.nan)
    hi[: len(real)] = p_max.to_numpy()
    lo[: len(real)] = p_min.to_numpy()
    slack = np.full(n, np.nan)
    _place_references(n, np.array(el["from"]), np.array(el["to"]), w, slack, a.maop_bar)
    nan_m = np.full(m, np.nan)
    model = HydraulicModel(
        name=net.name, node_ids=np.array(node_ids, dtype=object),
        height_m=np.zeros(n), p_min_bar=lo, p_max_bar=hi, withdrawal_kg_s=w, slack_bar=slack,
        element_ids=np.array(el["id"], dtype=object), kind=kind,
        from_node=np.array(el["from"]), to_node=np.array(el["to"]),
        length_m=np.array(el["length"]), diameter_m=np.array(el["diameter"]),
        roughness_m=np.array(el["rough"]), drag=np.zeros(m),
        control=np.where(station, "auto", "").astype(object),
        set_pressure_bar=np.where(station, a.maop_bar, np.nan), set_ratio=nan_m,
        set_inlet_bar=nan_m, loss_in_bar=np.zeros(m), loss_out_bar=np.zeros(m),
        p_in_min_bar=nan_m, p_out_max_bar=np.where(station, a.maop_bar, np.nan),
        reverse_allowed=np.ones(m, dtype=bool), gas=a.gas, friction=a.friction,
        compressibility=a.compressibility, skipped=skipped)
    opts = options or SolverOptions()
    return model, solve(model, opts), real


def _pipe_constant(seg: pd.DataFrame, q: np.ndarray, a: CheckAssumptions) -> np.ndarray:
    """K of p_in^2 - p_out^2 = K q^2 per segment at its planned flow (Z at the mean pressure)."""
    m = len(seg)
    tmp = HydraulicModel(
        name="tmp", node_ids=np.array(["a", "b"], dtype=object), height_m=np.zeros(2),
        p_min_bar=np.full(2, np.nan), p_max_bar=np.full(2, np.nan), withdrawal_kg_s=np.zeros(2),
        slack_bar=np.full(2, np.nan), element_ids=seg["id"].to_numpy(object),
        kind=np.full(m, PIPE, dtype=object), from_node=np.zeros(m, dtype=int),
        to_node=np.ones(m, dtype=int), length_m=seg["length_km"].to_numpy() * 1000.0,
        diameter_m=seg["diameter_mm"].to_numpy() / 1000.0,
        roughness_m=seg["roughness_mm"].to_numpy() / 1000.0, drag=np.zeros(m),
        control=np.full(m, "", dtype=object), set_pressure_bar=np.full(m, np.nan),
        set_ratio=np.full(m, np.nan), set_inlet_bar=np.full(m, np.nan),
        loss_in_bar=np.zeros(m), loss_out_bar=np.zeros(m), p_in_min_bar=np.full(m, np.nan),
        p_out_max_bar=np.full(m, np.nan), reverse_allowed=np.ones(m, dtype=bool), gas=a.gas,
        friction=a.friction, compressibility=a.compressibility)
    pipes = Pipes(tmp, np.arange(m))
    ev = pipes.evaluate(np.full(m, a.maop_bar ** 2), np.full(m, a.min_pressure_bar ** 2), q,
                        1e-12)  # Z at the mean pressure of a MAOP -> minimum stretch
    return pipes.coef * ev.z * (ev.friction * pipes.l_over_d)


def _place_references(n: int, frm: np.ndarray, to: np.ndarray, w: np.ndarray,
                      slack: np.ndarray, maop: float) -> None:
    """One pressure reference per island: its largest net injection, held at MAOP."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(frm)), (frm, to)), shape=(n, n))
    nisl, island = connected_components(graph, directed=False)
    for isl in range(nisl):
        members = np.flatnonzero(island == isl)
        slack[members[np.argmin(w[members])]] = maop


def _report(net, period, seg, n_sub, model, result, real, kg_s, skipped, a) -> PlanCheck:
    problems: list[str] = []
    if not result.converged:
        problems.append(f"the solver did not converge: {result.message}")
        empty = seg.set_index("id")
        for col in ("physical_mcm_d", "p_in_bar", "p_out_bar", "stations", "ratio", "power_mw"):
            empty[col] = np.nan
        empty["stations"] = 0
        return PlanCheck(net.name, period, empty, pd.DataFrame(), result, skipped,
                         a.lines() + model.assumptions, problems)
    elements = result.elements_frame()
    el_seg = pd.Series([i.split(":")[0] for i in elements.index], index=elements.index)
    stations = elements[elements["kind"] == COMPRESSOR]
    running = stations["state"].str.startswith("active") & (stations["ratio"] > 1.0 + 1e-6)
    pipes = elements[elements["kind"] == PIPE]
    out = seg.set_index("id").copy()
    out["sub_segments"] = n_sub
    sign = np.where(out["planned_mcm_d"] >= 0, 1.0, -1.0)
    first_pipe = pipes.groupby(el_seg[pipes.index]).head(1)
    first_pipe.index = el_seg[first_pipe.index]
    out["physical_mcm_d"] = first_pipe["flow_1000m3_h"].reindex(out.index).to_numpy() \
        * 0.024 * sign
    out["p_in_bar"] = first_pipe["p_from_bar"].reindex(out.index)
    last_pipe = pipes.groupby(el_seg[pipes.index]).tail(1)
    last_pipe.index = el_seg[last_pipe.index]
    out["p_out_bar"] = last_pipe["p_to_bar"].reindex(out.index)
    st_seg = el_seg[stations.index]
    out["stations"] = running.groupby(st_seg).sum().reindex(out.index).fillna(0).astype(int)
    out["ratio"] = stations["ratio"].where(running).groupby(st_seg).max().reindex(out.index)
    out["power_mw"] = stations["power_mw"].where(running).groupby(st_seg).sum(
        min_count=1).reindex(out.index)
    nodes = result.nodes_frame().loc[list(real)]
    for v in result.violations:
        if v.kind != "node":
            problems.append(str(v))
        elif v.id in set(real):
            problems.append(f"{v.id}: {v.what} ({v.value:.1f} bar, bound {v.bound:.1f})")
        else:  # a node inside a segment, after a station
            sid = v.id.split("@")[0].split("#")[0]
            problems.append(f"{sid}: {v.what} inside the segment ({v.value:.1f} bar, bound "
                            f"{v.bound:.1f})")
    for sid in out.index[out["sub_segments"] > 1]:
        row = out.loc[sid]
        problems.append(
            f"{sid} ({row['length_km']:.0f} km, {row['diameter_mm']:.0f} mm) cannot carry "
            f"{abs(row['planned_mcm_d']):.1f} mcm/d from {a.maop_bar:g} bar to "
            f"{a.min_pressure_bar:g} bar in one stretch: it needs {row['sub_segments'] - 1} "
            "intermediate compressor station(s)")
    diff = (out["physical_mcm_d"] - out["planned_mcm_d"]).abs()
    for sid in out.index[diff > 0.01 * out["planned_mcm_d"].abs().clip(lower=1.0)]:
        problems.append(f"{sid}: physics splits the flow differently from the plan "
                        f"({out.loc[sid, 'physical_mcm_d']:.1f} instead of "
                        f"{out.loc[sid, 'planned_mcm_d']:.1f} mcm/d)")
    if not math.isfinite(float(np.nansum(out["power_mw"]))):
        problems.append("compressor power could not be computed")
    return PlanCheck(net.name, period, out, nodes, result, skipped,
                     a.lines() + model.assumptions, problems)

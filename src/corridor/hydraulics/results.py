"""Results of a hydraulic solve: per node and per element, bound violations, JSON form.

Flows are reported in GasLib's unit, 1000 normal m3 per hour (0 degC, 1.01325 bar), positive
from an element's `from` node to its `to` node; pressures in bar absolute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from corridor.hydraulics.compressibility import compressibility
from corridor.hydraulics.model import COMPRESSOR, PIPE, RESISTOR, HydraulicModel
from corridor.hydraulics.operation import effective_bounds
from corridor.hydraulics.pipes import Pipes

STATE_LABEL = {0: "", 1: "open", 2: "closed", 3: "active", 4: "active", 5: "active (inlet)"}
ADIABATIC_EFFICIENCY = 0.8  # compressor power estimate: isentropic efficiency


@dataclass
class Violation:
    """A pressure outside its bound at a node, or a regulator outside its limits."""

    kind: str  # "node" or "element"
    id: str
    what: str
    value: float
    bound: float

    def __str__(self) -> str:
        return f"{self.kind} {self.id}: {self.what} ({self.value:.3f} vs {self.bound:.3f})"


def compressor_power_mw(model: HydraulicModel, mass_flow: np.ndarray, p_in: np.ndarray,
                        p_out: np.ndarray) -> np.ndarray:
    """Adiabatic shaft power (MW) to compress mass_flow (kg/s) from p_in to p_out (bar)."""
    gas = model.gas
    kappa = gas.isentropic_exponent
    z, _ = compressibility(np.maximum(p_in, 1e-6), gas, model.compressibility)
    ratio = np.maximum(p_out / np.maximum(p_in, 1e-6), 1.0)
    head = (kappa / (kappa - 1.0) * z * gas.specific_gas_constant * gas.temperature_k
            * (ratio ** ((kappa - 1.0) / kappa) - 1.0))
    return np.abs(mass_flow) * head / ADIABATIC_EFFICIENCY / 1e6


def element_results(model: HydraulicModel, state: np.ndarray, p: np.ndarray, flow: np.ndarray,
                    tol: float = 1e-6) -> dict[str, np.ndarray]:
    """Per element: pressure drop, velocity, friction factor, Z, compression ratio, power."""
    m = model.n_elements
    f, t = model.from_node, model.to_node
    out = {name: np.full(m, np.nan) for name in
           ("friction_factor", "reynolds", "z", "velocity_m_s", "ratio", "power_mw")}
    out["dp_bar"] = p[f] - p[t]
    res = np.flatnonzero((model.kind == PIPE) | (model.kind == RESISTOR))
    if len(res):
        pipes = Pipes(model, res)
        ev = pipes.evaluate(np.sign(p[f[res]]) * p[f[res]] ** 2,
                            np.sign(p[t[res]]) * p[t[res]] ** 2, flow[res], 1e-12)
        out["friction_factor"][res] = np.where(pipes.pipe, ev.friction, np.nan)
        out["reynolds"][res] = ev.reynolds
        out["z"][res] = ev.z
        out["velocity_m_s"][res] = flow[res] / (pipes.density(ev.p_mean) * pipes.area)
        unreal = (p[f[res]] <= 0) | (p[t[res]] <= 0)  # no real state to describe
        for name in ("velocity_m_s", "z"):
            out[name][res[unreal]] = np.nan
    comp = np.flatnonzero((model.kind == COMPRESSOR) & np.isin(state, (3, 4, 5)))
    if len(comp):
        p_in = p[f[comp]] - model.loss_in_bar[comp]
        p_out = p[t[comp]] + model.loss_out_bar[comp]
        out["ratio"][comp] = p_out / p_in
        out["power_mw"][comp] = compressor_power_mw(model, flow[comp], p_in, p_out)
    return out


@dataclass
class HydraulicResult:
    """Pressures, flows and diagnostics of one solve."""

    model: HydraulicModel
    converged: bool
    iterations: int
    outer_rounds: int
    seconds: float
    state: np.ndarray
    pressure_bar: np.ndarray | None = None
    flow_kg_s: np.ndarray | None = None
    injection_kg_s: np.ndarray | None = None  # what reference nodes supply (0 elsewhere)
    detail: dict[str, np.ndarray] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    message: str = ""
    settled: bool = True
    worst: list | None = None
    notes: list[str] = field(default_factory=list)  # operating decisions taken by the solver

    @classmethod
    def failed(cls, model, state, iterations, outer, seconds, message, worst, p_last
               ) -> HydraulicResult:
        return cls(model=model, converged=False, iterations=iterations, outer_rounds=outer,
                   seconds=seconds, state=state, pressure_bar=p_last, message=message,
                   worst=worst)

    @classmethod
    def from_solution(cls, model, state, p, flows, injection, detail, iterations, outer,
                      seconds, tol) -> HydraulicResult:
        result = cls(model=model, converged=True, iterations=iterations, outer_rounds=outer,
                     seconds=seconds, state=state, pressure_bar=p, flow_kg_s=flows,
                     injection_kg_s=injection, detail=detail)
        result.violations = result._violations(tol)
        return result

    def _violations(self, tol: float) -> list[Violation]:
        model, p = self.model, self.pressure_bar
        p_min, p_max = effective_bounds(model, self.state)
        out = []
        for i in np.flatnonzero(p > p_max + tol):
            out.append(Violation("node", model.node_ids[i], "pressure above maximum",
                                 float(p[i]), float(p_max[i])))
        for i in np.flatnonzero(p < p_min - tol):
            out.append(Violation("node", model.node_ids[i], "pressure below minimum",
                                 float(p[i]), float(p_min[i])))
        for i in np.flatnonzero((p <= 0) & ~(p < p_min - tol)):
            out.append(Violation("node", model.node_ids[i], "no positive pressure can carry the "
                                 "flows (signed root of a negative squared pressure)",
                                 float(p[i]), 0.0))
        ratio = self.detail.get("ratio")
        if ratio is not None:
            for e in np.flatnonzero(ratio < 1.0 - 1e-9):
                out.append(Violation("element", model.element_ids[e],
                                     "compressor would have to expand (ratio < 1)",
                                     float(ratio[e]), 1.0))
        return out

    # --- tables -----------------------------------------------------------------------------
    def flow_1000m3_h(self) -> np.ndarray:
        return self.flow_kg_s / self.model.kg_s_per_1000m3_h()

    def nodes_frame(self) -> pd.DataFrame:
        """Per node: pressure (bar), bounds, height and what a reference node supplies."""
        model = self.model
        df = pd.DataFrame({"pressure_bar": self.pressure_bar, "pressure_min_bar": model.p_min_bar,
                           "pressure_max_bar": model.p_max_bar, "height_m": model.height_m},
                          index=pd.Index(model.node_ids, name="id"))
        if self.injection_kg_s is not None:
            df["reference_supply_1000m3_h"] = self.injection_kg_s / model.kg_s_per_1000m3_h()
        return df

    def elements_frame(self) -> pd.DataFrame:
        """Per element: kind, state, flow (1000 m3/h), pressures, drop, velocity, lambda, Z."""
        model = self.model
        p = self.pressure_bar
        df = pd.DataFrame({
            "kind": model.kind, "from": model.node_ids[model.from_node],
            "to": model.node_ids[model.to_node],
            "state": [STATE_LABEL[int(s)] for s in self.state],
            "flow_1000m3_h": self.flow_1000m3_h(),
            "p_from_bar": p[model.from_node], "p_to_bar": p[model.to_node],
        }, index=pd.Index(model.element_ids, name="id"))
        for name, values in self.detail.items():
            df[name] = values
        return df

    def to_dict(self) -> dict:
        """The JSON document of `corridor hydraulics solve --json`."""
        model = self.model
        doc = {
            "network": model.name, "converged": bool(self.converged),
            "iterations": int(self.iterations), "outer_rounds": int(self.outer_rounds),
            "seconds": round(self.seconds, 6), "message": self.message,
            "friction": model.friction, "compressibility": model.compressibility,
            "units": {"pressure": "bar (absolute)",
                      "flow": "1000 m3/h at 0 degC and 1.01325 bar, positive from -> to"},
        }
        if self.pressure_bar is not None:
            doc["pressure"] = {str(k): float(v) for k, v in zip(model.node_ids, self.pressure_bar,
                                                                strict=True)}
        if self.flow_kg_s is not None:
            doc["flow"] = {str(k): float(v) for k, v in zip(model.element_ids,
                                                            self.flow_1000m3_h(), strict=True)}
            doc["state"] = {str(model.element_ids[e]): STATE_LABEL[int(self.state[e])]
                            for e in range(model.n_elements) if STATE_LABEL[int(self.state[e])]}
            ref = np.flatnonzero(np.isfinite(model.slack_bar))
            doc["reference"] = {str(model.node_ids[k]): {
                "pressure_bar": float(model.slack_bar[k]),
                "supply_1000m3_h": float(self.injection_kg_s[k] / model.kg_s_per_1000m3_h())}
                for k in ref}
            reg = np.flatnonzero(np.isfinite(self.detail.get("ratio", np.full(0, np.nan))))
            doc["compressors"] = {str(model.element_ids[e]): {
                "ratio": float(self.detail["ratio"][e]),
                "power_mw": float(self.detail["power_mw"][e])} for e in reg}
        doc["violations"] = [v.__dict__ for v in self.violations]
        if self.worst:
            doc["worst"] = [{"kind": k, "id": str(i), "value": v} for k, i, v in self.worst]
        doc["notes"] = list(self.notes)
        doc["assumptions"] = list(model.assumptions)
        doc["skipped"] = dict(model.skipped)
        return doc

    def operating_point(self) -> HydraulicModel:
        """The model with every regulator and valve fixed in the state and set point this solve
        found (no automatic switching): solving it again reproduces this result, and it is
        what a simulator without operating logic (e.g. pandapipes) is given."""
        from dataclasses import replace

        model = self.model
        control = model.control.copy()
        regulators = np.isin(model.kind, ("compressorStation", "controlValve"))
        valves = model.kind == "valve"
        label = np.array([STATE_LABEL[int(s)] for s in self.state], dtype=object)
        active = np.char.startswith(label.astype(str), "active")
        control[regulators & active] = "active"
        control[regulators & (label == "open")] = "bypass"
        control[(regulators | valves) & (label == "closed")] = "closed"
        control[valves & (label == "open")] = "open"
        inlet = self.state == 5
        set_in = np.where(inlet, model.set_inlet_bar, np.nan)
        set_p = np.where(inlet, np.nan, model.set_pressure_bar)
        return replace(model, control=control, set_inlet_bar=set_in, set_pressure_bar=set_p,
                       slack_adjustable=False)

    def mass_balance_error(self) -> float:
        """Largest node imbalance (excluding reference nodes) relative to the throughput."""
        model = self.model
        n = model.n_nodes
        f, t, q = model.from_node, model.to_node, self.flow_kg_s
        net = (np.bincount(f, q, minlength=n) - np.bincount(t, q, minlength=n)
               + model.withdrawal_kg_s)
        free = ~np.isfinite(model.slack_bar)
        scale = max(0.5 * np.abs(model.withdrawal_kg_s).sum(), 1e-12)
        return float(np.max(np.abs(net[free]), initial=0.0) / scale)

"""The solver against closed-form results: single pipe, pipes in series and in parallel,
resistors, regulators; derivatives against finite differences; infeasibility named by node."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

from corridor.hydraulics import Gas, SolverOptions, model_from_network, solve
from corridor.hydraulics.compressibility import compressibility
from corridor.hydraulics.friction import friction_factor
from corridor.hydraulics.gas import NORMAL_PRESSURE_BAR, NORMAL_TEMPERATURE_K, PA_PER_BAR
from corridor.hydraulics.pipes import Pipes
from corridor.hydraulics.synthetic import synthetic_grid
from corridor.network import NetworkMeta
from corridor.validation import build_network

GAS = Gas(norm_density=0.8, temperature_k=288.15, viscosity=1.1e-5)
FLOW = "1000 m3/h"


def network(nodes: list[tuple], links: list[dict], supply: dict, demand: dict):
    """A gas Network from compact lists: nodes (id, p_max), links, nominations in 1000 m3/h."""
    raw = {
        "nodes": pd.DataFrame([{"id": i, "carrier": "gas", "pressure_max_bar": p,
                                "pressure_min_bar": 1.0, "height_m": h}
                               for i, p, h in nodes]),
        "links": pd.DataFrame([{"capacity": 1e4, "reverse_capacity": 1e4, "unit": FLOW, **lk}
                               for lk in links]),
        "supplies": pd.DataFrame([{"id": k, "node": k, "capacity": v, "unit": FLOW}
                                  for k, v in supply.items()]),
        "demands": pd.DataFrame([{"id": k, "node": k, "amount": v, "unit": FLOW}
                                 for k, v in demand.items()]),
    }
    return build_network(raw, meta=NetworkMeta(name="test"))


def pipe(i: str, a: str, b: str, km: float = 50.0, mm: float = 500.0, k: float = 0.05) -> dict:
    return {"id": i, "from": a, "to": b, "kind": "pipe", "length_km": km, "diameter_mm": str(mm),
            "roughness_mm": k}


def pipe_constant(km: float, mm: float, k_mm: float, lam: float) -> float:
    """K in p_in^2 - p_out^2 = K m^2 (bar^2 per (kg/s)^2) for Z = 1."""
    area = np.pi * (mm / 1000) ** 2 / 4
    c = NORMAL_PRESSURE_BAR / (NORMAL_TEMPERATURE_K * GAS.norm_density * PA_PER_BAR)
    return c * GAS.temperature_k * lam * km * 1000 / (mm / 1000) / area ** 2


def nikuradse(mm: float, k_mm: float) -> float:
    return 1.0 / (2 * np.log10(mm / k_mm) + 1.14) ** 2


def kg_s(flow_1000m3_h: float) -> float:
    return flow_1000m3_h * 1000 * GAS.norm_density / 3600


def solved(net, friction="nikuradse", z="constant", **kw):
    model = model_from_network(net, gas=GAS, friction=friction, compressibility=z, **kw)
    result = solve(model)
    assert result.converged, result.message
    return model, result


def test_single_pipe_fully_rough() -> None:
    net = network([("a", 70.0, 0), ("b", 70.0, 0)], [pipe("p", "a", "b", 80, 600, 0.05)],
                  {"a": 300.0}, {"b": 300.0})
    model, result = solved(net)
    k = pipe_constant(80, 600, 0.05, nikuradse(600, 0.05))
    expected = np.sqrt(70.0 ** 2 - k * kg_s(300) ** 2)
    p = dict(zip(model.node_ids, result.pressure_bar, strict=True))
    assert p["a"] == pytest.approx(70.0)
    assert p["b"] == pytest.approx(expected, rel=1e-10)
    assert result.flow_1000m3_h()[0] == pytest.approx(300.0, rel=1e-12)


def test_single_pipe_colebrook() -> None:
    net = network([("a", 60.0, 0), ("b", 60.0, 0)], [pipe("p", "a", "b", 40, 400, 0.02)],
                  {"a": 150.0}, {"b": 150.0})
    model, result = solved(net, friction="colebrook")
    d = 0.4
    re = kg_s(150) * d / (GAS.viscosity * np.pi * d * d / 4)
    lam = brentq(lambda x: 1 / np.sqrt(x) + 2 * np.log10(2.51 / (re * np.sqrt(x))
                                                         + 0.02e-3 / (3.71 * d)), 1e-4, 0.1)
    k = pipe_constant(40, 400, 0.02, lam)
    assert result.pressure_bar[1] == pytest.approx(np.sqrt(60 ** 2 - k * kg_s(150) ** 2),
                                                   rel=1e-9)
    assert result.detail["friction_factor"][0] == pytest.approx(lam, rel=1e-9)


def test_pipes_in_series_add_their_constants() -> None:
    net = network([("a", 70.0, 0), ("b", 70.0, 0), ("c", 70.0, 0)],
                  [pipe("p1", "a", "b", 30, 500), pipe("p2", "b", "c", 60, 400)],
                  {"a": 200.0}, {"c": 200.0})
    _, result = solved(net)
    k = (pipe_constant(30, 500, 0.05, nikuradse(500, 0.05))
         + pipe_constant(60, 400, 0.05, nikuradse(400, 0.05)))
    assert result.pressure_bar[2] == pytest.approx(np.sqrt(70 ** 2 - k * kg_s(200) ** 2),
                                                   rel=1e-10)


def test_parallel_pipes_share_flow_by_resistance() -> None:
    net = network([("a", 70.0, 0), ("b", 70.0, 0)],
                  [pipe("small", "a", "b", 50, 400), pipe("big", "a", "b", 50, 700)],
                  {"a": 500.0}, {"b": 500.0})
    _, result = solved(net)
    k1 = pipe_constant(50, 400, 0.05, nikuradse(400, 0.05))
    k2 = pipe_constant(50, 700, 0.05, nikuradse(700, 0.05))
    q1, q2 = result.flow_1000m3_h()
    assert q1 / q2 == pytest.approx(np.sqrt(k2 / k1), rel=1e-10)
    assert q1 + q2 == pytest.approx(500.0, rel=1e-12)
    assert result.pressure_bar[1] == pytest.approx(np.sqrt(70 ** 2 - k1 * kg_s(q1) ** 2),
                                                   rel=1e-10)


def test_resistor_drag_factor() -> None:
    net = network([("a", 70.0, 0), ("b", 70.0, 0)],
                  [{"id": "r", "from": "a", "to": "b", "kind": "resistor", "diameter_mm": "500",
                    "drag_factor": 20.0}], {"a": 400.0}, {"b": 400.0})
    _, result = solved(net)
    area = np.pi * 0.25 ** 2
    c = NORMAL_PRESSURE_BAR / (NORMAL_TEMPERATURE_K * GAS.norm_density * PA_PER_BAR)
    k = c * GAS.temperature_k * 20.0 / area ** 2
    assert result.pressure_bar[1] == pytest.approx(np.sqrt(70 ** 2 - k * kg_s(400) ** 2),
                                                   rel=1e-10)


def test_compressor_and_control_valve_hold_their_set_points() -> None:
    nodes = [("s", 60.0, 0), ("a", 80.0, 0), ("b", 80.0, 0), ("c", 80.0, 0), ("d", 50.0, 0),
             ("e", 50.0, 0)]
    links = [pipe("p1", "s", "a", 80, 500),
             {"id": "cs", "from": "a", "to": "b", "kind": "compressorStation",
              "set_pressure_bar": 75.0},
             pipe("p2", "b", "c", 80, 500),
             {"id": "cv", "from": "c", "to": "d", "kind": "controlValve",
              "set_pressure_bar": 40.0},
             pipe("p3", "d", "e", 20, 500)]
    model, result = solved(network(nodes, links, {"s": 300.0}, {"e": 300.0}))
    p = dict(zip(model.node_ids, result.pressure_bar, strict=True))
    assert p["b"] == pytest.approx(75.0) and p["d"] == pytest.approx(40.0)
    state = dict(zip(model.element_ids, result.elements_frame()["state"], strict=True))
    assert state["cs"] == "active" and state["cv"] == "active"
    ratio = result.elements_frame().loc["cs", "ratio"]
    assert ratio == pytest.approx(75.0 / p["a"])
    assert result.elements_frame().loc["cs", "power_mw"] > 0
    assert result.mass_balance_error() < 1e-9


def test_unneeded_compressor_is_bypassed_and_closed_valve_blocks() -> None:
    nodes = [("s", 70.0, 0), ("a", 80.0, 0), ("b", 80.0, 0), ("c", 80.0, 0)]
    links = [pipe("p1", "s", "a", 5, 700),
             {"id": "cs", "from": "a", "to": "b", "kind": "compressorStation",
              "set_pressure_bar": 60.0},
             pipe("p2", "b", "c", 5, 700),
             {"id": "v", "from": "s", "to": "c", "kind": "valve", "control": "closed"}]
    model, result = solved(network(nodes, links, {"s": 100.0}, {"c": 100.0}))
    frame = result.elements_frame()
    assert frame.loc["cs", "state"] == "open"  # inlet above 60 bar: no compression
    assert frame.loc["v", "flow_1000m3_h"] == 0.0
    assert frame.loc["p2", "flow_1000m3_h"] == pytest.approx(100.0)


def test_infeasible_flow_names_the_node() -> None:
    net = network([("a", 50.0, 0), ("far", 50.0, 0)], [pipe("thin", "a", "far", 400, 200)],
                  {"a": 500.0}, {"far": 500.0})
    model = model_from_network(net, gas=GAS, friction="nikuradse", compressibility="constant")
    result = solve(model)
    assert result.converged  # squared pressures have a solution ...
    found = [v for v in result.violations if v.id == "far"]
    assert found and found[0].value < 0  # ... but no positive pressure carries the flow


@pytest.mark.parametrize("friction", ["colebrook", "swamee-jain", "nikuradse"])
@pytest.mark.parametrize("z", ["constant", "linear", "papay", "aga"])
def test_pipe_derivatives_match_finite_differences(friction: str, z: str) -> None:
    model = synthetic_grid(3, 3, friction=friction, compressibility=z)
    pipes = Pipes(model, np.arange(model.n_elements))
    rng = np.random.default_rng(1)
    m = model.n_elements
    pf, pt = rng.uniform(40, 70, m) ** 2, rng.uniform(30, 60, m) ** 2
    q = rng.uniform(-80, 80, m)
    ev = pipes.evaluate(pf, pt, q, 1e-12)
    for name, args, h in (("dr_dq", (pf, pt, q), 1e-5), ("dr_dpf", (pf, pt, q), 1e-2),
                          ("dr_dpt", (pf, pt, q), 1e-2)):
        i = {"dr_dq": 2, "dr_dpf": 0, "dr_dpt": 1}[name]
        up, down = list(args), list(args)
        up[i] = args[i] + h
        down[i] = args[i] - h
        numeric = (pipes.evaluate(*up, 1e-12).r - pipes.evaluate(*down, 1e-12).r) / (2 * h)
        np.testing.assert_allclose(getattr(ev, name), numeric, rtol=1e-5, atol=1e-7)


def test_friction_models() -> None:
    re = np.array([1e4, 1e5, 1e6, 1e7])
    d, k = np.full(4, 0.5), np.full(4, 5e-5)
    lam, dlam = friction_factor(re, d, k, "colebrook")
    residual = 1 / np.sqrt(lam) + 2 * np.log10(2.51 / (re * np.sqrt(lam)) + k / (3.71 * d))
    assert np.abs(residual).max() < 1e-10
    sj, _ = friction_factor(re, d, k, "swamee-jain")
    assert np.abs(sj / lam - 1).max() < 0.03
    numeric = (friction_factor(re * 1.0001, d, k)[0] - friction_factor(re * 0.9999, d, k)[0]) \
        / (re * 0.0002)
    np.testing.assert_allclose(dlam, numeric, rtol=1e-5)


def test_compressibility_models() -> None:
    gas = Gas()
    p = np.array([1.0, 40.0, 80.0])
    for model in ("constant", "linear", "papay", "aga"):
        z, dz = compressibility(p, gas, model)
        assert np.all((z > 0.7) & (z <= 1.0 + 1e-12))
        numeric = (compressibility(p + 1e-4, gas, model)[0]
                   - compressibility(p - 1e-4, gas, model)[0]) / 2e-4
        np.testing.assert_allclose(dz, numeric, rtol=1e-6, atol=1e-12)
    assert compressibility(p, gas, "linear")[0][1] == pytest.approx(1 - 0.0022 * 40)


def test_meshed_grid_mass_balance_and_heights() -> None:
    model = synthetic_grid(12, 12, compressibility="papay")
    result = solve(model, SolverOptions())
    assert result.converged and result.iterations < 15
    assert result.mass_balance_error() < 1e-9
    supplied = result.injection_kg_s[0]
    assert supplied == pytest.approx(model.withdrawal_kg_s.sum(), rel=1e-9)

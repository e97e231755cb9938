"""The LP written as MPS is complete: SCIP, a solver independent of HiGHS, reads the file and
finds the same optimum as Corridor, objective offset (build costs of built links) included."""

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyscipopt import Model
from test_optimize_properties import networks

from corridor.io import read_network
from corridor.optimize import build_flow_model, optimize, write_mps

from builders import gas_network


def scip_optimum(path) -> tuple[float, float]:
    """SCIP's optimal objective of an MPS file, and the constant offset it read from the file."""
    model = Model()
    model.hideOutput()
    model.readProblem(str(path))
    model.optimize()
    assert model.getStatus() == "optimal"
    return model.getObjVal(), model.getObjoffset()


def test_small_network_with_storage_and_target(tmp_path):
    net = gas_network(["A", "B", "C"],
                      links=[("AB", "A", "B", 10, 5.0, 0.02, 4), ("BC", "B", "C", 6, 1.0, 0.0)],
                      supplies=[("S", "A", 20, 50.0), ("S2", "C", 2, 90.0)],
                      demands=[("D", "C", 7, 300.0), ("E", "A", 1, 300.0)],
                      storages=[("K", "B", 50, 2, 0.5, None, 1.0)], targets=[("T", "BC", 1)])
    path = write_mps(build_flow_model(net, 12).lp, tmp_path / "model.mps")
    text = path.read_text()
    assert "flow_forward(AB,t1)" in text and "balance(C,t12)" in text
    objective, offset = scip_optimum(path)
    assert offset == 0.0
    assert objective == pytest.approx(optimize(net, 12).objective, rel=1e-9)


def test_tiny_network_with_a_build_cost_offset(tiny_dir, tmp_path):
    """A built link's annualised build cost is a constant in the objective; MPS carries it as
    the objective row's right-hand side (negated), and SCIP adds it back."""
    net = read_network(tiny_dir)
    net = dataclasses.replace(net, links=net.links.assign(
        build_cost=net.links["build_cost"].where(net.links.index != "cpc", 2.5e8)))
    model = build_flow_model(net, 12)
    assert model.lp.offset == pytest.approx(2.5e8)  # 12 months are the whole year
    objective, offset = scip_optimum(write_mps(model.lp, tmp_path / "tiny.mps"))
    assert offset == pytest.approx(2.5e8, rel=1e-12)
    expected = optimize(net, 12).objective
    assert expected > 2.5e8
    assert objective == pytest.approx(expected, rel=1e-9)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(lossy=True, with_storage=True), st.sampled_from([1, 12]))
def test_generated_networks(tmp_path_factory, net, n_periods):
    path = write_mps(build_flow_model(net, n_periods).lp,
                     tmp_path_factory.mktemp("mps") / "model.mps")
    objective, _ = scip_optimum(path)
    assert objective == pytest.approx(optimize(net, n_periods).objective, rel=1e-7, abs=1e-4)

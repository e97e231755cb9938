"""The LP written as MPS is complete: another solver reading it finds the same optimum."""

import highspy
import pytest

from corridor.optimize import build_flow_model, optimize, write_mps

from builders import gas_network


def test_mps_round_trip_gives_same_objective(tmp_path):
    net = gas_network(["A", "B", "C"],
                      links=[("AB", "A", "B", 10, 5.0, 0.02, 4), ("BC", "B", "C", 6, 1.0, 0.0)],
                      supplies=[("S", "A", 20, 50.0), ("S2", "C", 2, 90.0)],
                      demands=[("D", "C", 7, 300.0), ("E", "A", 1, 300.0)],
                      storages=[("K", "B", 50, 2, 0.5, None, 1.0)], targets=[("T", "BC", 1)])
    path = write_mps(build_flow_model(net, 12).lp, tmp_path / "model.mps")
    text = path.read_text()
    assert "flow_forward(AB,t1)" in text and "balance(C,t12)" in text
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(path))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    expected = optimize(net, 12).objective
    assert h.getInfo().objective_function_value == pytest.approx(expected, rel=1e-9)

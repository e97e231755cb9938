"""Validation against pandapipes: the same networks, equations, gas and temperature.

GasLib-11, -24, -40 (operated as our solver decides: the same regulator states and set points
are given to pandapipes) and synthetic meshed grids with heights; node pressures must agree
within 0.5 % (they agree to about 1e-8).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

pp = pytest.importorskip("pandapipes")

from corridor.hydraulics import model_from_network, solve  # noqa: E402
from corridor.hydraulics.reference import (  # noqa: E402
    absolute_pressures,
    run_pandapipes,
    to_pandapipes,
)
from corridor.hydraulics.synthetic import synthetic_grid  # noqa: E402
from corridor.io.gaslib import read_gaslib  # noqa: E402

GASLIB = Path(__file__).parent / "data" / "gaslib"
TOLERANCE = 0.005


def compare(model) -> float:
    result = solve(model)
    assert result.converged, result.message
    net = to_pandapipes(result.model, result.state, result.flow_kg_s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_pandapipes(net, model.friction)
    theirs = absolute_pressures(net, result.model)
    ours = result.pressure_bar
    both = np.isfinite(theirs)  # entries behind a suction-held compressor are not modelled
    assert both.sum() >= 0.9 * len(ours)
    return float(np.max(np.abs(theirs[both] - ours[both]) / ours[both]))


@pytest.mark.parametrize("n", [11, 24, 40])
@pytest.mark.parametrize(("friction", "z"), [("colebrook", "linear"),
                                             ("swamee-jain", "constant")])
def test_gaslib_pressures_match_pandapipes(n: int, friction: str, z: str) -> None:
    folder = GASLIB / f"GasLib-{n}"
    net = read_gaslib(folder / f"GasLib-{n}.net", folder / f"GasLib-{n}.scn")
    model = model_from_network(net, friction=friction, compressibility=z)
    assert compare(model) < TOLERANCE


@pytest.mark.parametrize(("rows", "cols"), [(6, 6), (15, 20)])
@pytest.mark.parametrize(("friction", "z"), [("colebrook", "linear"),
                                             ("swamee-jain", "constant")])
def test_meshed_grids_match_pandapipes(rows: int, cols: int, friction: str, z: str) -> None:
    model = synthetic_grid(rows, cols, friction=friction, compressibility=z, heights=True)
    assert compare(model) < TOLERANCE

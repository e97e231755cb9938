"""Steady-state gas hydraulics: pressures and flows in pipes, valves, regulators, compressors.

`model_from_network` turns a Corridor Network (for instance one read by
`corridor.io.gaslib.read_gaslib`) into a `HydraulicModel`; `solve` returns a `HydraulicResult`.
See docs/hydraulics.md for the equations, units and conventions.
"""

from corridor.hydraulics.gas import Gas
from corridor.hydraulics.model import HydraulicModel, HydraulicsError, model_from_network
from corridor.hydraulics.results import HydraulicResult
from corridor.hydraulics.solver import SolverOptions, solve

__all__ = ["Gas", "HydraulicModel", "HydraulicResult", "HydraulicsError", "SolverOptions",
           "model_from_network", "solve"]

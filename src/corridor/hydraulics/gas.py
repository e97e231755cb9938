"""Gas properties and standard conditions used by the hydraulic model.

One gas per network (isothermal, well mixed). GasLib states its flows at normal conditions
(0 degC, 1.01325 bar), the same as pandapipes' NORMAL_TEMPERATURE / NORMAL_PRESSURE, so a
normal cubic metre means the same in both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

NORMAL_PRESSURE_BAR = 1.01325
NORMAL_TEMPERATURE_K = 273.15
GRAVITY = 9.81  # m/s2, as pandapipes
PA_PER_BAR = 1e5
R_UNIVERSAL = 8314.462618  # J/(kmol K)
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Gas:
    """Properties of the transported gas and the flowing temperature (all SI unless named)."""

    norm_density: float = 0.785  # kg per normal m3 (0 degC, 1.01325 bar)
    temperature_k: float = 283.15  # isothermal flowing temperature
    viscosity: float = 1.0e-5  # dynamic viscosity, Pa s (GasLib literature value)
    molar_mass: float = 18.5674  # kg/kmol
    pseudocritical_pressure_bar: float = 45.93
    pseudocritical_temperature_k: float = 188.55
    isentropic_exponent: float = 1.3  # for compressor power
    z_slope_per_bar: float = -0.0022  # linear compressibility Z = 1 + slope * p (pandapipes)
    z_constant: float = 1.0

    def with_(self, **changes) -> Gas:
        """A copy with some properties changed."""
        return replace(self, **changes)

    @property
    def specific_gas_constant(self) -> float:
        """R / M in J/(kg K)."""
        return R_UNIVERSAL / self.molar_mass

    def density(self, p_bar: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Real-gas density in kg/m3 at absolute pressure p (bar), given Z at p."""
        return (self.norm_density * NORMAL_TEMPERATURE_K * p_bar
                / (self.temperature_k * NORMAL_PRESSURE_BAR * z))


_GASLIB_COLUMNS = {
    "norm_density": "norm_density_kg_per_m3",
    "molar_mass": "molar_mass_kg_per_kmol",
    "pseudocritical_pressure_bar": "pseudocritical_pressure_bar",
    "pseudocritical_temperature_k": "pseudocritical_temperature_k",
    "temperature_k": "gas_temperature_k",
}


def gas_from_nodes(nodes: pd.DataFrame, inflow: pd.Series | None = None, base: Gas | None = None
                   ) -> Gas:
    """The mixed gas of a network whose source nodes carry GasLib gas properties.

    Each property is the mean over sources weighted by their nominated inflow (equal weights
    when no source injects), which is what a well-mixed steady state delivers.
    """
    base = base or Gas()
    if "kind" in nodes:
        sources = nodes[nodes["kind"] == "source"]
    else:
        sources = nodes.iloc[0:0]
    changes = {}
    for field, col in _GASLIB_COLUMNS.items():
        if col not in sources:
            continue
        values = pd.to_numeric(sources[col], errors="coerce")
        weights = (inflow.reindex(sources.index).fillna(0.0) if inflow is not None
                   else pd.Series(0.0, index=sources.index))
        ok = values.notna()
        if not ok.any():
            continue
        w = weights[ok].to_numpy(float)
        if w.sum() <= 0:
            w = np.ones(ok.sum())
        changes[field] = float(np.average(values[ok].to_numpy(float), weights=w))
    return base.with_(**changes)

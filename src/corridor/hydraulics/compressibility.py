"""Compressibility factor Z(p, T) of natural gas and its derivative dZ/dp.

Models:
- ``constant``: Z = gas.z_constant (1 = ideal gas);
- ``linear``: Z = 1 + slope * p with p in bar absolute (pandapipes' lgas/hgas: slope -0.0022);
- ``papay``: Papay (1968), Z = 1 - 3.52 pr exp(-2.26 Tr) + 0.274 pr^2 exp(-1.878 Tr);
- ``aga``: the AGA formula of the GasLib book (Koch et al. 2015, eq. 2.5),
  Z = 1 + 0.257 pr - 0.533 pr / Tr.
pr = p / p_pc and Tr = T / T_pc use the gas's pseudocritical pressure and temperature. A full
AGA8 detail/GERG equation needs the gas composition, which GasLib does not publish.
"""

from __future__ import annotations

import numpy as np

from corridor.hydraulics.gas import Gas

MODELS = ("constant", "linear", "papay", "aga")


def compressibility(p_bar: np.ndarray, gas: Gas, model: str = "linear"
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Z and dZ/dp (per bar) at absolute pressures p (bar) and the gas's temperature."""
    p = np.asarray(p_bar, dtype=float)
    if model == "constant":
        return np.full_like(p, gas.z_constant), np.zeros_like(p)
    if model == "linear":
        return 1.0 + gas.z_slope_per_bar * p, np.full_like(p, gas.z_slope_per_bar)
    ppc = gas.pseudocritical_pressure_bar
    tr = gas.temperature_k / gas.pseudocritical_temperature_k
    pr = p / ppc
    if model == "papay":
        a, b = 3.52 * np.exp(-2.26 * tr), 0.274 * np.exp(-1.878 * tr)
        return 1.0 - a * pr + b * pr * pr, (-a + 2.0 * b * pr) / ppc
    if model == "aga":
        c = 0.257 - 0.533 / tr
        return 1.0 + c * pr, np.full_like(p, c / ppc)
    raise ValueError(f"unknown compressibility model {model!r}; expected one of "
                     f"{', '.join(MODELS)}")

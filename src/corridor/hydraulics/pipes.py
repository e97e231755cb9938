"""The pressure-loss equation of resistive elements (pipes, resistors) and its derivatives.

Isothermal steady flow without acceleration, integrated along the element with Z and the
friction factor at the mean pressure (the same form as pandapipes):

    r = p_i - p_j + rho_avg g (h_i - h_j) / 1e5
        - C T Z(p_m) (lambda L / D + zeta) m |m| / (A^2 (p_i + p_j)) = 0

with p in bar absolute, m the mass flow (kg/s, positive from i to j), C = p_n / (T_n rho_n 1e5),
A the cross-section, p_m = 2/3 (p_i^2 + p_i p_j + p_j^2) / (p_i + p_j) the mean pressure of a
gas pipe, rho_avg the mean of the real-gas densities at both ends, lambda the Darcy friction
factor (`corridor.hydraulics.friction`) and zeta a loss coefficient (a resistor's drag factor).
Newton works on the equivalent squared form (multiplied by p_i + p_j), the familiar
p_i^2 - p_j^2 = K m |m| law, whose unknowns are squared pressures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corridor.hydraulics.compressibility import compressibility
from corridor.hydraulics.friction import friction_factor
from corridor.hydraulics.gas import (
    GRAVITY,
    NORMAL_PRESSURE_BAR,
    NORMAL_TEMPERATURE_K,
    PA_PER_BAR,
)
from corridor.hydraulics.model import HydraulicModel

_PI_FLOOR = 1e-6  # bar^2: pressures are evaluated at least at 1 mbar


@dataclass
class PipeEvaluation:
    """Residual, derivatives and physical by-products of a set of resistive elements."""

    r: np.ndarray
    dr_dq: np.ndarray
    dr_dpf: np.ndarray
    dr_dpt: np.ndarray
    friction: np.ndarray
    reynolds: np.ndarray
    z: np.ndarray
    p_mean: np.ndarray


class Pipes:
    """Static data of the resistive elements `idx` of a model, evaluated many times by Newton."""

    def __init__(self, model: HydraulicModel, idx: np.ndarray):
        self.idx = idx
        self.model = model
        gas = model.gas
        self.diameter = model.diameter_m[idx]
        self.area = np.pi * self.diameter ** 2 / 4.0
        self.length = model.length_m[idx]
        self.roughness = np.where(model.roughness_m[idx] > 0, model.roughness_m[idx], 1e-5)
        self.zeta = model.drag[idx]
        self.l_over_d = self.length / self.diameter
        c = NORMAL_PRESSURE_BAR / (NORMAL_TEMPERATURE_K * gas.norm_density * PA_PER_BAR)
        self.coef = c * gas.temperature_k / self.area ** 2  # K in the module docstring
        self.re_per_flow = self.diameter / (gas.viscosity * self.area)
        dh = model.height_m[model.from_node[idx]] - model.height_m[model.to_node[idx]]
        self.gdh = GRAVITY * dh / PA_PER_BAR
        self.has_height = bool(np.any(dh != 0))
        self.rho_per_p = (gas.norm_density * NORMAL_TEMPERATURE_K
                          / (gas.temperature_k * NORMAL_PRESSURE_BAR))
        self.pipe = self.length > 0

    def evaluate(self, pif: np.ndarray, pit: np.ndarray, q: np.ndarray, q_floor: float
                 ) -> PipeEvaluation:
        """Residual of the squared form and its derivatives at squared pressures (bar^2).

        The equation of the module docstring multiplied by (p_i + p_j):
        p_i^2 - p_j^2 + rho_avg g dh (p_i + p_j) / 1e5 - C T Z F m|m| / A^2 = 0, which is
        nearly linear in the squared pressures and defined for any sign of them, so Newton
        stays robust even where a configuration would need a negative pressure.
        """
        model = self.model
        pf = np.sqrt(np.maximum(pif, _PI_FLOOR))
        pt = np.sqrt(np.maximum(pit, _PI_FLOOR))
        dpf = np.where(pif > _PI_FLOOR, 0.5 / pf, 0.0)  # d p / d p^2
        dpt = np.where(pit > _PI_FLOOR, 0.5 / pt, 0.0)
        s = pf + pt
        p_m = 2.0 / 3.0 * (pf * pf + pf * pt + pt * pt) / s
        dpm_f = 2.0 / 3.0 * (pf * pf + 2.0 * pf * pt) / (s * s)
        dpm_t = 2.0 / 3.0 * (pt * pt + 2.0 * pf * pt) / (s * s)
        z, dz = compressibility(p_m, model.gas, model.compressibility)
        aq = np.abs(q)
        re = aq * self.re_per_flow
        lam, dlam_dre = friction_factor(re, self.diameter, self.roughness, model.friction)
        lam = np.where(self.pipe, lam, 0.0)
        dlam_dre = np.where(self.pipe, dlam_dre, 0.0)
        big_f = lam * self.l_over_d + self.zeta
        qq = q * aq
        loss = self.coef * z * big_f * qq
        r = pif - pit - loss
        dr_dq = -self.coef * z * (2.0 * np.maximum(aq, q_floor) * big_f
                                  + self.l_over_d * dlam_dre * self.re_per_flow * q * q)
        common = self.coef * big_f * qq * dz
        dr_dpf = 1.0 - common * dpm_f * dpf
        dr_dpt = -1.0 - common * dpm_t * dpt
        if self.has_height:
            zf, dzf = compressibility(pf, model.gas, model.compressibility)
            zt, dzt = compressibility(pt, model.gas, model.compressibility)
            rho_f, rho_t = self.rho_per_p * pf / zf, self.rho_per_p * pt / zt
            drho_f = self.rho_per_p * (zf - pf * dzf) / zf ** 2
            drho_t = self.rho_per_p * (zt - pt * dzt) / zt ** 2
            elev = 0.5 * (rho_f + rho_t) * self.gdh
            r = r + elev * s
            dr_dpf = dr_dpf + (0.5 * drho_f * self.gdh * s + elev) * dpf
            dr_dpt = dr_dpt + (0.5 * drho_t * self.gdh * s + elev) * dpt
        return PipeEvaluation(r=r, dr_dq=dr_dq, dr_dpf=dr_dpf, dr_dpt=dr_dpt, friction=lam,
                              reynolds=re, z=z, p_mean=p_m)

    def density(self, p: np.ndarray) -> np.ndarray:
        """Real-gas density (kg/m3) at absolute pressures p (bar)."""
        z, _ = compressibility(p, self.model.gas, self.model.compressibility)
        return self.rho_per_p * p / z

    def linear_resistance(self, p_ref: float, q_typical: np.ndarray) -> np.ndarray:
        """Resistance R (bar^2 per kg/s) of the law p_i^2 - p_j^2 = R m around |m| = q_typical."""
        z, _ = compressibility(np.full(len(self.idx), p_ref), self.model.gas,
                               self.model.compressibility)
        lam, _ = friction_factor(np.full(len(self.idx), 1e7), self.diameter, self.roughness,
                                 self.model.friction)
        big_f = np.where(self.pipe, lam, 0.0) * self.l_over_d + self.zeta
        return np.maximum(self.coef * z * big_f * q_typical, 1e-12)

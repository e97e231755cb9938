"""Darcy friction factor of a pipe and its derivative with respect to the Reynolds number.

Models (the same constants as pandapipes, so results compare one to one):
- ``colebrook``: Colebrook-White, 1/sqrt(l) = -2 log10(2.51 / (Re sqrt(l)) + k / (3.71 D)),
  solved by vectorised Newton iteration on x = 1/sqrt(l) to machine precision;
- ``swamee-jain``: l = 0.25 / log10(k / (3.7 D) + 5.74 / Re^0.9)^2, explicit;
- ``nikuradse``: fully rough, l = 1 / (2 log10(D / k) + 1.14)^2, independent of the flow.
Below Re = RE_MIN the factor is held at its value there: transmission pipelines never run
laminar, and a floor keeps Newton well defined at zero flow.
"""

from __future__ import annotations

import numpy as np

MODELS = ("colebrook", "swamee-jain", "nikuradse")
RE_MIN = 2000.0
_LN10 = np.log(10.0)


def friction_factor(re: np.ndarray, diameter: np.ndarray, roughness: np.ndarray,
                    model: str = "colebrook") -> tuple[np.ndarray, np.ndarray]:
    """Friction factor and d(factor)/d(Re) per pipe (Re >= 0, diameter and roughness in m)."""
    re = np.asarray(re, dtype=float)
    low = re < RE_MIN
    r = np.where(low, RE_MIN, re)
    rel = roughness / diameter
    if model == "colebrook":
        b = rel / 3.71
        a = 2.51 / r
        # start from Swamee-Jain's estimate (within 1-2 %), then Newton on g(x) = 0
        x = -2.0 * np.log10(rel / 3.7 + 5.74 / r ** 0.9)
        for _ in range(30):
            arg = a * x + b
            g = x + 2.0 * np.log10(arg)
            dg = 1.0 + 2.0 * a / (_LN10 * arg)
            step = g / dg
            x = x - step
            if np.all(np.abs(step) <= 1e-13 * np.abs(x)):
                break
        arg = a * x + b
        # implicit derivative: dg/dRe = 2/(ln10 arg) * x * (-2.51/Re^2)
        dg_dre = -2.0 * x * 2.51 / (_LN10 * arg * r * r)
        dg_dx = 1.0 + 2.0 * a / (_LN10 * arg)
        dx_dre = -dg_dre / dg_dx
        lam = x ** -2
        dlam = -2.0 * x ** -3 * dx_dre
    elif model == "swamee-jain":
        arg = rel / 3.7 + 5.74 * r ** -0.9
        lg = np.log10(arg)
        lam = 0.25 / lg ** 2
        darg = -0.9 * 5.74 * r ** -1.9
        dlam = -0.5 / lg ** 3 * darg / (_LN10 * arg)
    elif model == "nikuradse":
        lam = 1.0 / (2.0 * np.log10(diameter / roughness) + 1.14) ** 2
        lam = np.broadcast_to(lam, r.shape).astype(float)
        dlam = np.zeros_like(r)
    else:
        raise ValueError(f"unknown friction model {model!r}; expected one of {', '.join(MODELS)}")
    dlam = np.where(low, 0.0, dlam)
    return lam, dlam

"""Units: parse the rates and amounts users write and convert them to Corridor's base units.

Base units are mcm (million standard m3) for gas and kt (thousand tonnes) for crude; rates are per
day. All arithmetic goes through pint; the only numbers here are the declared cross-dimension
factors (barrels per tonne, energy content), printed by ``corridor units``, and the display units
every report and table shows results in (bcm/yr, Mt/yr, USD per 1000 m3 and per tonne).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pint

CARRIERS = ("gas", "oil")
BASE_AMOUNT = {"gas": "mcm", "oil": "kt"}
BASE_RATE = {"gas": "mcm/d", "oil": "kt/d"}

# How results are shown: annual volumes in the units the region speaks, prices per 1000 m3 and
# per tonne. From base units the factors are the same for gas and oil (tests/test_units.py).
DISPLAY_RATE = {"gas": "bcm/yr", "oil": "Mt/yr"}
DISPLAY_AMOUNT = {"gas": "bcm", "oil": "Mt"}
DISPLAY_PRICE = {"gas": "USD/1000 m3", "oil": "USD/t"}
RATE_TO_DISPLAY = 365 / 1000  # base rate (mcm/d, kt/d) x this = display rate (bcm/yr, Mt/yr)
AMOUNT_DIVISOR = 1000  # base amount (mcm, kt) / this = display amount (bcm, Mt)
PRICE_DIVISOR = 1000.0  # base price (USD/mcm, USD/kt) / this = display price (USD/1000 m3, USD/t)

EXAMPLES = {
    ("gas", True): "bcm/yr, mcm/d, MWh/d", ("oil", True): "Mt/yr, kt/d, kb/d",
    ("gas", False): "bcm, mcm, GWh", ("oil", False): "Mt, kt, mb",
}

# Names users write that collide with pint's defaults ("kt" is a knot, "yr" a Julian year of
# 365.25 days, "bbl" a 31.5-gallon barrel). They are rewritten to unambiguous names before parsing.
_ALIASES = {
    "yr": "calendar_year",
    "year": "calendar_year",
    "years": "calendar_year",
    "kt": "kilotonne",
    "Mt": "megatonne",
    "bbl": "oil_barrel",
    "kb": "kilo_oil_barrel",
    "mb": "mega_oil_barrel",
    "bcm": "bcm_gas",
    "mcm": "mcm_gas",
    "tcm": "thousand_m3_gas",
    "m3": "meter ** 3",
    "Sm3": "scm",
}
_ALIAS_PATTERN = re.compile(r"(?<![A-Za-z_])(" + "|".join(_ALIASES) + r")(?![A-Za-z_])")

_DEFINITIONS = """
calendar_year = 365 * day
kilotonne = 1000 * metric_ton
megatonne = 1e6 * metric_ton
kilo_oil_barrel = 1000 * oil_barrel
mega_oil_barrel = 1e6 * oil_barrel
standard_cubic_meter = [gas_volume] = scm
mcm_gas = 1e6 * scm
bcm_gas = 1e9 * scm
thousand_m3_gas = 1e3 * scm
"""


@dataclass(frozen=True)
class Factor:
    """A declared conversion factor between dimensions, with the reason it has this value."""

    name: str
    value: str
    note: str


# Every cross-dimension factor Corridor uses. Changing one changes every conversion that needs it.
FACTORS = {
    "crude_barrels_per_tonne": Factor(
        "crude_barrels_per_tonne", "7.33 oil_barrel / metric_ton",
        "average crude (Energy Institute Statistical Review convention)"),
    "crude_energy_per_tonne": Factor(
        "crude_energy_per_tonne", "41.868 gigajoule / metric_ton",
        "1 tonne of oil equivalent (IEA convention)"),
    "gas_energy_per_m3": Factor(
        "gas_energy_per_m3", "10.55 kilowatt_hour / scm",
        "gross calorific value of pipeline gas, ~38 MJ/m3 (IEA convention)"),
}


def _preprocess(text: str) -> str:
    return _ALIAS_PATTERN.sub(lambda m: _ALIASES[m.group(1)], text.strip())


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """The unit registry Corridor uses, with the oil-and-gas names defined above."""
    import pint  # not at the top: it takes a second to import, and the constants need none of it

    try:  # pint caches its parsed definitions in the user's cache folder: 0.3 s less per start
        ureg = pint.UnitRegistry(preprocessors=[_preprocess], cache_folder=":auto:")
    except OSError:
        ureg = pint.UnitRegistry(preprocessors=[_preprocess])
    for line in _DEFINITIONS.strip().splitlines():
        ureg.define(line)
    return ureg


class UnitError(ValueError):
    """A unit string that cannot be parsed or does not fit the carrier."""


def _factor(name: str) -> pint.Quantity:
    return registry().Quantity(FACTORS[name].value)


def _to_carrier_dimension(q: pint.Quantity, carrier: str, per_time: bool) -> pint.Quantity:
    """Bring a volume, mass or energy quantity to the carrier's base dimension."""
    ureg = registry()
    base = ureg.Quantity(1, BASE_RATE[carrier] if per_time else BASE_AMOUNT[carrier])
    if q.dimensionality == base.dimensionality:
        return q
    energy_dim = ureg.Quantity(1, "joule / day" if per_time else "joule").dimensionality
    volume_dim = ureg.Quantity(1, "m**3 / day" if per_time else "m**3").dimensionality
    if carrier == "gas" and q.dimensionality == volume_dim:
        return q * ureg.Quantity(1, "scm / m**3")  # plain m3 of gas are standard m3
    if carrier == "gas" and q.dimensionality == energy_dim:
        return q / _factor("gas_energy_per_m3")
    if carrier == "oil":
        if q.dimensionality == volume_dim:
            return q / _factor("crude_barrels_per_tonne")
        if q.dimensionality == energy_dim:
            return q / _factor("crude_energy_per_tonne")
    kind = "a rate (per time)" if per_time else "an amount"
    examples = EXAMPLES[carrier, per_time]
    raise UnitError(f"cannot measure {carrier} as {kind}; expected e.g. {examples}")


@lru_cache(maxsize=256)
def factor_to_base(unit: str, carrier: str, per_time: bool = True) -> float:
    """Multiplier that turns a value in `unit` into base units (per day when `per_time`)."""
    if carrier not in CARRIERS:
        raise UnitError(f"unknown carrier {carrier!r}; expected one of {', '.join(CARRIERS)}")
    import pint

    ureg = registry()
    try:
        q = ureg.Quantity(unit) if unit.strip() else None
        if q is None or not isinstance(q, pint.Quantity):
            raise ValueError("empty")
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError,
            TypeError, ValueError, SyntaxError, AssertionError) as exc:
        raise UnitError(f"unknown unit {unit!r}") from exc
    target = BASE_RATE[carrier] if per_time else BASE_AMOUNT[carrier]
    try:
        return float(_to_carrier_dimension(q, carrier, per_time).to(target).magnitude)
    except UnitError as exc:
        raise UnitError(f"unit {unit!r} {exc}") from exc


def format_rate(value: float, carrier: str) -> str:
    """A base rate (per day) as an annual figure in the carrier's display unit: '12.30 bcm/yr'."""
    unit = DISPLAY_RATE[carrier]
    return f"{value / factor_to_base(unit, carrier):,.2f} {unit}"


def to_base(values, units, carriers, per_time: bool = True) -> np.ndarray:
    """Convert arrays of values with per-row unit and carrier strings to base units, vectorised."""
    values = np.asarray(values, dtype=float)
    keys = list(zip(np.asarray(units, dtype=str), np.asarray(carriers, dtype=str), strict=True))
    factors = np.array([factor_to_base(u, c, per_time) for u, c in keys]) if keys else np.ones(0)
    return values * factors


def conversion_table() -> list[tuple[str, str, float]]:
    """Common units and what one of each is in base units: what `corridor units` prints."""
    rows = []
    for carrier, units in (("gas", ("bcm/yr", "mcm/d", "MWh/d", "GWh/d", "tcm/d")),
                           ("oil", ("Mt/yr", "kt/d", "t/d", "kb/d", "bbl/d", "toe/d"))):
        for unit in units:
            rows.append((carrier, unit, factor_to_base(unit, carrier)))
    return rows

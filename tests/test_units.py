"""Unit parsing and conversion to base units (mcm/d for gas, kt/d for crude)."""

import pytest

from corridor.units import (
    AMOUNT_DIVISOR,
    CARRIERS,
    DISPLAY_AMOUNT,
    DISPLAY_PRICE,
    DISPLAY_RATE,
    FACTORS,
    PRICE_DIVISOR,
    RATE_TO_DISPLAY,
    UnitError,
    conversion_table,
    factor_to_base,
    format_rate,
    to_base,
)


@pytest.mark.parametrize(("unit", "carrier", "expected"), [
    ("bcm/yr", "gas", 1000 / 365),
    ("mcm/d", "gas", 1.0),
    ("1000 m3/h", "gas", 0.024),
    ("GWh/d", "gas", 1 / 10.55),  # declared gross calorific value 10.55 kWh/m3
    ("Mt/yr", "oil", 1000 / 365),
    ("kt/d", "oil", 1.0),
    ("kb/d", "oil", 1 / 7.33),  # declared 7.33 barrels per tonne
    ("t/d", "oil", 0.001),
])
def test_rates_convert_to_base_units_per_day(unit, carrier, expected):
    assert factor_to_base(unit, carrier) == pytest.approx(expected)


def test_amounts_convert_without_time():
    assert factor_to_base("bcm", "gas", per_time=False) == pytest.approx(1000.0)
    assert factor_to_base("Mt", "oil", per_time=False) == pytest.approx(1000.0)


def test_a_year_is_365_days_not_julian():
    assert factor_to_base("bcm/yr", "gas") * 365 == pytest.approx(1000.0)


@pytest.mark.parametrize(("unit", "carrier", "message"), [
    ("furlong/d", "gas", "cannot measure gas"),
    ("Mt/yr", "gas", "cannot measure gas"),
    ("bcm/yr", "oil", "cannot measure oil"),
    ("bcm", "gas", "as a rate"),
    ("parsecs of gas", "gas", "unknown unit"),
    ("", "oil", "unknown unit"),
])
def test_bad_units_are_named(unit, carrier, message):
    with pytest.raises(UnitError, match=message):
        factor_to_base(unit, carrier)


def test_vectorised_conversion_and_declared_table():
    values = to_base([10, 2, 1], ["bcm/yr", "Mt/yr", "kt/d"], ["gas", "oil", "oil"])
    assert values == pytest.approx([10000 / 365, 2000 / 365, 1.0])
    assert {"crude_barrels_per_tonne", "gas_energy_per_m3"} <= set(FACTORS)
    assert ("oil", "kt/d", 1.0) in conversion_table()


@pytest.mark.parametrize("carrier", CARRIERS)
def test_display_factors_match_the_display_units(carrier):
    """The shortcut factors reports use are what pint says for the units they print."""
    assert RATE_TO_DISPLAY == pytest.approx(1 / factor_to_base(DISPLAY_RATE[carrier], carrier))
    assert AMOUNT_DIVISOR == pytest.approx(
        factor_to_base(DISPLAY_AMOUNT[carrier], carrier, per_time=False))
    per = DISPLAY_PRICE[carrier].split("/", 1)[1]  # USD per "1000 m3" or per "t"
    assert PRICE_DIVISOR == pytest.approx(1 / factor_to_base(per, carrier, per_time=False))


def test_rates_are_shown_as_annual_figures():
    assert format_rate(100.0, "gas") == "36.50 bcm/yr"
    assert format_rate(10_000.0, "oil") == "3,650.00 Mt/yr"
    with pytest.raises(KeyError):
        format_rate(1.0, "coal")

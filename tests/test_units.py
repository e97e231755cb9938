"""Unit parsing and conversion to base units (mcm/d for gas, kt/d for crude)."""

import pytest

from corridor.units import FACTORS, UnitError, conversion_table, factor_to_base, to_base


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

"""The bundled Central Asia network reproduces the observed base-year flows.

The observed flows and the tolerance live in the dataset's `network.yaml` (key `calibration`),
written by tools/build_central_asia.py from the region facts (flows.csv); the dataset README
lists the deviation reached for each. A flow passes when
|model - observed| <= max(rel x observed, abs), in the observation's unit (bcm or Mt per year).
"""

from __future__ import annotations

import pytest
import yaml

from corridor.data import bundled_path
from corridor.io import read_network
from corridor.optimize import optimize
from corridor.units import registry

FOLDER = bundled_path("central-asia")
CALIBRATION = yaml.safe_load((FOLDER / "network.yaml").read_text(encoding="utf-8"))["calibration"]
BASE = {"bcm": "mcm", "Mt": "kt"}


def annual(rate_per_day: float, unit: str) -> float:
    """A rate in base units per day as an amount per 365-day year in `unit` (bcm or Mt)."""
    return registry().Quantity(rate_per_day * 365, BASE[unit]).to(unit).magnitude


def domestic(net) -> list[str]:
    return list(net.demands.index[net.demands["market"] == "domestic"])


@pytest.fixture(scope="module")
def base_year():
    """The bundled network and its one-period (annual) least-cost solution."""
    net = read_network(FOLDER)
    return net, optimize(net, periods=1)


def test_base_year_is_optimal(base_year):
    _, result = base_year
    assert result.status == "optimal"


@pytest.mark.parametrize("target", CALIBRATION["flows"],
                         ids=["+".join(t["links"]) for t in CALIBRATION["flows"]])
def test_observed_flow_is_reproduced(base_year, target):
    _, result = base_year
    model = annual(result.flows.iloc[0][target["links"]].sum(), target["unit"])
    observed = target["observed"]
    allowed = max(CALIBRATION["tolerance"]["rel"] * observed, CALIBRATION["tolerance"]["abs"])
    assert abs(model - observed) <= allowed, (
        f"{target['name']}: model {model:.3f} vs observed {observed} {target['unit']} "
        f"({target['year']}), allowed +/- {allowed:.3f}")


def test_no_unmet_domestic_demand_in_the_base_year(base_year):
    net, result = base_year
    unmet = result.unmet.iloc[0][domestic(net)]
    assert (unmet <= 1e-6).all(), unmet[unmet > 1e-6].to_dict()


def test_no_unmet_domestic_demand_month_by_month():
    net = read_network(FOLDER)
    result = optimize(net, periods=12)
    assert result.status == "optimal"
    unmet = result.unmet[domestic(net)].max()
    assert (unmet <= 1e-6).all(), unmet[unmet > 1e-6].to_dict()

"""Small cases solved by hand: losses, reverse flow, storage shifting, targets, infeasibility."""

import numpy as np
import pytest

from corridor.optimize import optimize
from corridor.periods import over_horizon, period_days

from builders import gas_network, monthly_profile


def test_single_line_cost_and_prices():
    net = gas_network(["A", "B"], links=[("L", "A", "B", 10, 100.0, 0.0)],
                      supplies=[("S", "A", 20, 50.0)], demands=[("D", "B", 5, None)])
    r = optimize(net)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(5 * 150.0 * 365)
    assert r.flows.loc[1, "L"] == pytest.approx(5)
    assert r.prices.loc[1, "A"] == pytest.approx(50.0)
    assert r.prices.loc[1, "B"] == pytest.approx(150.0)
    assert r.utilisation().loc[1, "L"] == pytest.approx(0.5)


def test_loss_needs_more_supply_and_raises_price():
    # 10 % lost in the pipe: 9 delivered needs 10 entering; price at B = (50 + 10) / 0.9.
    net = gas_network(["A", "B"], links=[("L", "A", "B", 100, 10.0, 0.1)],
                      supplies=[("S", "A", 100, 50.0)], demands=[("D", "B", 9, None)])
    r = optimize(net)
    assert r.supply.loc[1, "S"] == pytest.approx(10.0)
    assert r.prices.loc[1, "B"] == pytest.approx(60.0 / 0.9)
    assert r.objective == pytest.approx(365 * (10 * 50.0 + 10 * 10.0))


def test_reverse_flow_is_capped_by_reverse_capacity():
    # Supply sits at the link's `to` end; only 3 of 5 can flow back; the rest is unmet at VOLL.
    net = gas_network(["A", "B"], links=[("L", "A", "B", 100, 2.0, 0.0, 3)],
                      supplies=[("S", "B", 100, 10.0)], demands=[("D", "A", 5, 500.0)])
    r = optimize(net)
    assert r.flows.loc[1, "L"] == pytest.approx(-3.0)
    assert r.unmet.loc[1, "D"] == pytest.approx(2.0)
    assert r.prices.loc[1, "A"] == pytest.approx(500.0)
    # congestion rent of the reverse direction: (500 - 10 - 2) per unit, 3 units, 365 days
    assert r.congestion_rent()["L"] == pytest.approx(3 * 488.0 * 365)
    assert r.utilisation().loc[1, "L"] == pytest.approx(1.0)


def test_loss_applies_in_reverse_direction_too():
    net = gas_network(["A", "B"], links=[("L", "A", "B", 100, 0.0, 0.2, 100)],
                      supplies=[("S", "B", 100, 10.0)], demands=[("D", "A", 8, None)])
    r = optimize(net)
    assert r.flows_reverse.loc[1, "L"] == pytest.approx(10.0)
    assert r.supply.loc[1, "S"] == pytest.approx(10.0)


def test_storage_shifts_cheap_summer_gas_to_winter():
    # Supply only in the first half of the year; a cyclic storage at the demand node carries it.
    profile = monthly_profile("summer", [1] * 6 + [0] * 6)
    common = dict(links=[("L", "A", "B", 100, 1.0, 0.0)],
                  supplies=[("S", "A", 10, 20.0, "summer")], demands=[("D", "B", 1, 900.0)],
                  profiles=profile)
    without = optimize(gas_network(["A", "B"], **common), periods=12)
    storage = [("K", "B", 1000, 5, 0.5, None, 0.5)]  # cyclic, 0.5 USD/mcm withdrawn
    with_storage = optimize(gas_network(["A", "B"], storages=storage, **common), periods=12)
    days = period_days(12)
    winter = days[6:].sum()
    assert without.volume(without.unmet)["D"] == pytest.approx(winter)
    assert with_storage.volume(with_storage.unmet)["D"] == pytest.approx(0.0, abs=1e-6)
    withdrawn = with_storage.volume(with_storage.storage_withdraw)["K"]
    assert withdrawn == pytest.approx(winter)
    level = with_storage.storage_level["K"].to_numpy()
    change = days * (with_storage.storage_inject["K"] - with_storage.storage_withdraw["K"])
    assert np.allclose(np.diff(np.r_[level[-1], level]), change)  # cyclic continuity
    assert with_storage.objective == pytest.approx(365 * 21.0 + 0.5 * winter)
    # winter price: summer price plus nothing (no storage cost), so well below VOLL
    assert with_storage.prices["B"].max() < 900.0


def test_storage_with_given_end_level():
    # No supply at all: a storage that starts 80 % full and must end 20 % full releases 60 %.
    net = gas_network(["A"], demands=[("D", "A", 10, 100.0)],
                      storages=[("K", "A", 3650, 100, 0.8, 0.2)])
    r = optimize(net, periods=12)
    assert r.volume(r.storage_withdraw)["K"] == pytest.approx(0.6 * 3650)
    assert r.storage_level["K"].iloc[-1] == pytest.approx(0.2 * 3650)
    assert r.volume(r.unmet)["D"] == pytest.approx(3650 - 0.6 * 3650)


def test_target_forces_flow_onto_the_dearer_route():
    # Direct A->C costs 1; via B costs 5; a target of 4 on the via-B route shifts 4 units.
    links = [("AC", "A", "C", 100, 1.0, 0.0), ("AB", "A", "B", 100, 2.0, 0.0),
             ("BC", "B", "C", 100, 3.0, 0.0)]
    base = dict(links=links, supplies=[("S", "A", 100, 0.0)], demands=[("D", "C", 10, None)])
    free = optimize(gas_network(["A", "B", "C"], **base))
    forced = optimize(gas_network(["A", "B", "C"], targets=[("T", "AB", 4)], **base))
    assert free.flows.loc[1, "AB"] == pytest.approx(0.0)
    assert forced.flows.loc[1, "AB"] == pytest.approx(4.0)
    assert forced.objective - free.objective == pytest.approx(4 * (5.0 - 1.0) * 365)
    assert forced.target_prices["T"] == pytest.approx(4.0)


def test_impossible_target_is_named():
    net = gas_network(["A", "B"], links=[("L", "A", "B", 5, 1.0, 0.0)],
                      supplies=[("S", "A", 100, 0.0)], demands=[("D", "B", 10, None)],
                      targets=[("TOO_MUCH", "L", 8)])
    r = optimize(net)
    assert r.status == "infeasible"
    assert [(v.block, v.element) for v in r.violations] == [("target", "TOO_MUCH")]
    assert r.violations[0].amount == pytest.approx(3 * 365)


def test_storage_end_level_above_volume_reachable_is_named():
    # The storage must end full but nothing can fill it: the continuity row is named.
    net = gas_network(["A"], demands=[("D", "A", 1, 100.0)],
                      storages=[("K", "A", 100, 1, 0.0, 1.0)])
    r = optimize(net, periods=1)
    assert r.status == "infeasible"
    assert {v.element for v in r.violations} == {"K"}


def test_daily_periods_match_annual_when_flat():
    net = gas_network(["A", "B"], links=[("L", "A", "B", 10, 3.0, 0.01)],
                      supplies=[("S", "A", 20, 50.0)], demands=[("D", "B", 5, None)])
    assert optimize(net, 365).objective == pytest.approx(optimize(net, 1).objective)


def test_build_cost_of_built_links_is_a_constant_in_the_objective():
    net = gas_network(["A", "B"], links=[("L", "A", "B", 10, 1.0, 0.0)],
                      supplies=[("S", "A", 20, 5.0)], demands=[("D", "B", 2, None)])
    links = net.links.copy()
    links["build_cost"] = 3.65e6  # USD per year
    half_year = optimize(net.replace(links=links), 2)
    plain = optimize(net, 2)
    days = half_year.days
    assert half_year.objective - plain.objective == pytest.approx(3.65e6 * days.sum() / 365)
    assert half_year.flows.equals(plain.flows)
    assert half_year.money_by_country()["build_cost"].sum() == pytest.approx(3.65e6)


def test_annual_amounts_scale_to_the_modelled_days():
    assert over_horizon(3.65e6, period_days(12)) == pytest.approx(3.65e6)
    assert over_horizon(np.array([365.0, 730.0]), np.array([31.0, 28.0])) == pytest.approx(
        [59.0, 118.0])


def test_demands_without_a_value_are_valued_at_the_value_of_lost_load():
    net = gas_network(["A"], demands=[("D1", "A", 1, None), ("D2", "A", 1, 200.0)], voll=900.0)
    assert net.demand_value().to_dict() == {"D1": 900.0, "D2": 200.0}

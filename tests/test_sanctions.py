"""Scenario keys for sanctions and projects: `sanction` closes exactly what named owners own,
`price_cap` splits the surplus as a cap does (closed form on hand-solved networks) and keeps the
welfare identity, `build` brings a proposed supply into operation with its capex charged, and
mistakes name the file, line and key."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corridor.finance import annual_cost
from corridor.network import NetworkMeta
from corridor.optimize import optimize
from corridor.scenario import ScenarioError, apply, read_scenario_file
from corridor.units import factor_to_base
from corridor.validation import NetworkError, build_network

DAYS = 365.0


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def owned_network():
    """Three nodes A -> B -> C (gas) with owners written as the bundled data writes them."""
    nodes = frame([{"id": n, "carrier": "gas", "country": c} for n, c in
                   (("A", "RU"), ("B", "KZ"), ("C", "CN"))])
    links = frame([
        {"id": "L1", "from": "A", "to": "B", "capacity": 10, "unit": "mcm/d", "tariff": 1,
         "owner": "KazTransOil (Transneft beyond the border)", "reverse_capacity": 2},
        {"id": "L2", "from": "B", "to": "C", "capacity": 10, "unit": "mcm/d", "tariff": 1,
         "owner": "Transneft"},
        {"id": "L3", "from": "A", "to": "C", "capacity": 10, "unit": "mcm/d", "tariff": 5,
         "owner": "Gomeltransneft Druzhba"},
        {"id": "L4", "from": "B", "to": "C", "capacity": 3, "unit": "mcm/d", "tariff": 2,
         "owner": "QazaqGaz"},
    ])
    supplies = frame([
        {"id": "SA", "node": "A", "capacity": 20, "unit": "mcm/d", "cost": 10,
         "owner": "Transneft trading"},
        {"id": "SB", "node": "B", "capacity": 5, "unit": "mcm/d", "cost": 30, "owner": "QazaqGaz"},
    ])
    demands = frame([
        {"id": "DC", "node": "C", "amount": 12, "unit": "mcm/d", "value": 100,
         "market": "export", "owner": "CNPC"},
        {"id": "DB", "node": "B", "amount": 1, "unit": "mcm/d", "owner": "transneft"},
    ])
    storages = frame([{"id": "UGS", "node": "B", "volume": 50, "volume_unit": "mcm", "rate": 2,
                       "rate_unit": "mcm/d", "owner": "Transneft"}])
    meta = NetworkMeta(name="owned", value_of_lost_load={"gas": 1000.0, "oil": 1000.0})
    return build_network({"nodes": nodes, "links": links, "supplies": supplies,
                          "demands": demands, "storages": storages}, None, meta)


def write(tmp_path: Path, text: str, name: str = "s") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_sanction_closes_exactly_the_owners_rows(tmp_path):
    net = owned_network()
    out = apply(net, read_scenario_file(write(tmp_path, "sanction:\n  owners: [Transneft]\n")))
    # whole word, any case, anywhere in the owner text; not inside "Gomeltransneft"
    closed_links = ["L1", "L2"]
    assert (out.links.loc[closed_links, ["capacity", "reverse_capacity"]] == 0).all().all()
    pd.testing.assert_frame_equal(out.links.loc[["L3", "L4"], ["capacity", "reverse_capacity"]],
                                  net.links.loc[["L3", "L4"], ["capacity", "reverse_capacity"]])
    assert out.supplies.at["SA", "capacity"] == 0
    assert out.supplies.at["SB", "capacity"] == net.supplies.at["SB", "capacity"]
    assert out.demands.at["DB", "amount"] == 0 and out.demands.at["DC", "amount"] == 12
    assert out.storages.at["UGS", "rate"] == 0
    r = optimize(out)
    assert r.optimal
    assert r.flows.loc[1, closed_links].abs().max() == pytest.approx(0, abs=1e-9)
    # SA is closed too ("Transneft trading"), so only SB's gas reaches C, over L4 (3 mcm/d)
    assert r.flows.loc[1, "L3"] == pytest.approx(0, abs=1e-9)
    assert r.flows.loc[1, "L4"] == pytest.approx(3)


def test_exact_match_tables_and_window(tmp_path):
    net = owned_network()
    text = ("sanction:\n  - owners: [transneft]\n    match: exact\n    tables: [links, demands]\n"
            "    months: [1, 2]\n")
    out = apply(net, read_scenario_file(write(tmp_path, text)))
    # exact (case-insensitive) owner text: L2 and DB only, and only in the window
    assert out.links.at["L2", "capacity"] == net.links.at["L2", "capacity"]
    profile = out.links.at["L2", "profile"]
    assert profile and out.links.at["L1", "profile"] == ""
    r = optimize(out, 12)
    assert r.flows.loc[[1, 2], "L2"].abs().max() == pytest.approx(0, abs=1e-9)
    assert r.flows.loc[3, "L2"] > 0
    assert out.supplies.at["SA", "capacity"] == net.supplies.at["SA", "capacity"]
    assert out.storages.at["UGS", "rate"] == net.storages.at["UGS", "rate"]


@pytest.mark.parametrize(("text", "expected"), [
    ("sanction:\n  owners: [Rosneft]\n", "line 2: sanction: owner 'Rosneft' owns no row"),
    ("sanction:\n  owners: []\n", "line 2, sanction.0.owners"),
    ("sanction:\n  owners: [Transneft]\n  months: [3]\n", "storages can only be closed"),
    ("sanction:\n  owners: [X]\n  match: fuzzy\n", "sanction.0.match"),
    ("price_cap:\n  buyer: DB\n  price: 60\n  unit: USD/1000 m3\n",
     "line 2: price_cap: DB is a fixed demand"),
    ("price_cap: {buyer: NOPE, price: 60, unit: USD/1000 m3}\n", "unknown demands id(s): NOPE"),
    ("price_cap: {buyer: DC, price: 60, unit: EUR/1000 m3}\n", "is not USD per an amount"),
    ("price_cap: {buyer: DC, price: 60, unit: USD/parsec}\n",
     "price_cap: unit 'parsec' cannot measure gas"),
    ("price_cap: {buyer: DC, price: -1, unit: USD/1000 m3}\n", "line 1, price_cap.0.price"),
    ("build: [SB, NOPE]\n", "line 1: unknown links id(s): NOPE"),
])
def test_mistakes_name_file_line_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        apply(owned_network(), read_scenario_file(path))
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def oil_pair(cap_column: float | None = None, demand: dict | None = None):
    """Oil: a seller at A (cost 100 USD/t, 10 kt/d) and one buyer at B behind a link with a
    tariff of 10 USD/t; the buyer wants 20 kt/d at 300 USD/t (an export market)."""
    nodes = frame([{"id": "A", "carrier": "oil", "country": "RU"},
                   {"id": "B", "carrier": "oil", "country": "KZ"}])
    links = frame([{"id": "L", "from": "A", "to": "B", "capacity": 50, "unit": "kt/d",
                    "tariff": 10_000}])
    supplies = frame([{"id": "S", "node": "A", "capacity": 10, "unit": "kt/d",
                       "cost": 100_000}])
    buyer = demand or {"id": "D", "node": "B", "amount": 20, "unit": "kt/d", "value": 300_000,
                       "market": "export"}
    if cap_column is not None:
        buyer = {**buyer, "price_cap": cap_column}
    meta = NetworkMeta(name="pair")
    return build_network({"nodes": nodes, "links": links, "supplies": supplies,
                          "demands": frame([buyer])}, None, meta)


def by_country(r) -> pd.DataFrame:
    return r.welfare_by("country")


def test_price_cap_splits_the_surplus_in_closed_form(tmp_path):
    """Cap 200 USD/t: the LP allocates on 200, so the price at B is 200 and at A 190; per day
    the seller keeps (190 - 100) x 10, the link 10 x 10, the buyer (300 - 200) x 10 - the same
    total as without the cap, only split differently."""
    free = optimize(oil_pair())
    path = write(tmp_path, "price_cap: {buyer: D, price: 200, unit: USD/t}\n")
    capped_net = apply(oil_pair(), read_scenario_file(path))
    assert capped_net.demands.at["D", "price_cap"] == pytest.approx(200_000)
    capped = optimize(capped_net)
    assert capped.prices.loc[1, "B"] == pytest.approx(200_000)
    assert capped.prices.loc[1, "A"] == pytest.approx(190_000)
    assert capped.served().loc[1, "D"] == pytest.approx(10)
    money = by_country(capped)
    assert money.at["RU", "producer_surplus"] == pytest.approx(90_000 * 10 * DAYS)
    assert money.at["WORLD", "consumer_surplus"] == pytest.approx(100_000 * 10 * DAYS)
    assert money.at["WORLD", "cap_wedge"] == pytest.approx(100_000 * 10 * DAYS)
    assert capped.cap_wedge() == pytest.approx(100_000 * 10 * DAYS)
    assert capped.welfare() == pytest.approx(free.welfare())
    assert capped.welfare() == pytest.approx((300_000 - 100_000) * 10 * DAYS)  # tariff incl.
    assert capped.identity_gap() < 1e-12
    free_money = by_country(free)  # without the cap the seller gets it all: 300 - 10 - 100
    assert free_money.at["RU", "producer_surplus"] == pytest.approx(190_000 * 10 * DAYS)
    assert free_money.at["WORLD", "consumer_surplus"] == pytest.approx(0, abs=1e-3)
    print(f"\ncap 200 USD/t: seller {money.at['RU', 'producer_surplus'] / 1e6:,.1f} M USD "
          f"(free: {free_money.at['RU', 'producer_surplus'] / 1e6:,.1f}), buyer "
          f"{money.at['WORLD', 'consumer_surplus'] / 1e6:,.1f} M USD, welfare unchanged "
          f"{capped.welfare() / 1e6:,.1f} M USD")


def test_a_cap_below_cost_stops_the_trade_and_barrels_convert(tmp_path):
    per_bbl = 1 / factor_to_base("bbl", "oil", per_time=False)  # USD/kt per USD/bbl
    path = write(tmp_path, "price_cap: {buyer: D, price: 13, unit: USD/bbl}\n")
    net = apply(oil_pair(), read_scenario_file(path))
    assert net.demands.at["D", "price_cap"] == pytest.approx(13 * per_bbl)
    r = optimize(net)  # 13 USD/bbl ~ 95 USD/t < 100 + 10: nothing is sold
    assert r.served().loc[1, "D"] == pytest.approx(0, abs=1e-9)
    assert r.welfare() == pytest.approx(0, abs=1e-3)
    assert r.identity_gap() < 1e-6  # of ~no money moved: rounding only


def test_the_lower_of_two_caps_holds_and_a_curve_is_capped_band_by_band(tmp_path):
    path = write(tmp_path, "price_cap:\n  - {buyer: D, price: 250, unit: USD/t}\n"
                           "  - {buyer: D, price: 200, unit: USD/t}\n")
    assert apply(oil_pair(), read_scenario_file(path)).demands.at["D", "price_cap"] \
        == pytest.approx(200_000)
    curve = {"id": "D", "node": "B", "amount": 10, "unit": "kt/d", "price": 300_000,
             "elasticity": -0.5, "market": "domestic"}
    capped = optimize(oil_pair(250_000, curve))
    units = capped.demand_units
    assert (units["price"] <= 250_000 + 1e-9).all()
    np.testing.assert_allclose(units["price"] + units["wedge"],
                               optimize(oil_pair(None, curve)).demand_units["price"])
    served = capped.unit_served.loc[1]
    assert capped.cap_wedge() == pytest.approx(float((served * units["wedge"]).sum()) * DAYS)
    assert capped.cap_wedge() > 0
    assert capped.identity_gap() < 1e-12


def test_a_fixed_demand_cannot_carry_a_cap():
    fixed = {"id": "D", "node": "B", "amount": 5, "unit": "kt/d", "market": "domestic"}
    with pytest.raises(NetworkError, match="price_cap"):
        oil_pair(200_000, fixed)


def test_build_brings_a_proposed_supply_into_operation_with_its_capex(tmp_path):
    nodes = frame([{"id": "A", "carrier": "gas", "country": "TM"}])
    supplies = frame([
        {"id": "OLD", "node": "A", "capacity": 5, "unit": "mcm/d", "cost": 50},
        {"id": "NEW", "node": "A", "capacity": 5, "unit": "mcm/d", "cost": 20,
         "status": "proposed", "capex": 1e9, "lifetime": 25, "fixed_om": 1e6},
    ])
    demands = frame([{"id": "D", "node": "A", "amount": 8, "unit": "mcm/d", "value": 100,
                      "market": "export"}])
    nodes = pd.concat([nodes, frame([{"id": "Z", "carrier": "gas", "country": "TM"}])])
    links = frame([{"id": "LZ", "from": "A", "to": "Z", "capacity": 0, "unit": "mcm/d"}])
    net = build_network({"nodes": nodes, "links": links, "supplies": supplies,
                         "demands": demands}, None, NetworkMeta(name="one"))
    before = optimize(net)
    assert before.supply.loc[1, "NEW"] == 0
    built = apply(net, read_scenario_file(write(tmp_path, "build: [NEW]\n")))
    assert built.supplies.at["NEW", "status"] == "operating"
    after = optimize(built)
    charge = float(annual_cost(built.supplies, built.meta.discount_rate)["NEW"])
    assert charge == pytest.approx(1e9 * 0.08 / (1 - 1.08 ** -25) + 1e6)
    # NEW (20) displaces OLD (50) for 5 of the 8 mcm/d; the year pays its annualised capex
    assert after.supply.loc[1, "NEW"] == pytest.approx(5)
    expected = (100 - 20) * 5 * DAYS + (100 - 50) * 3 * DAYS - charge
    assert after.welfare() == pytest.approx(expected)
    ledger = after.ledger()
    row = ledger[(ledger["element"] == "NEW") & (ledger["component"] == "build_cost")]
    assert float(row["usd"].sum()) == pytest.approx(charge)
    assert after.identity_gap() < 1e-12


def test_a_cap_also_caps_the_buyers_contracts(tmp_path):
    """A contract with the capped buyer at 280 USD/t for 10 kt/d: the cap (200) binds on it
    too, so the seller's contract revenue falls by (280 - 200) x 10 a day and the buyer's
    country gains exactly that; flows and total welfare do not move."""
    def with_contract(net):
        t = {name: getattr(net, name).reset_index() for name in ("nodes", "links", "supplies",
                                                                  "demands")}
        t["contracts"] = frame([{"id": "C", "seller": "S", "buyer": "D", "price": 280_000,
                                 "min": 10, "max": 10, "unit": "kt/d", "links": "L"}])
        return build_network(t, None, net.meta)

    free = optimize(with_contract(oil_pair()))
    path = write(tmp_path, "price_cap: {buyer: D, price: 200, unit: USD/t}\n")
    capped_net = apply(with_contract(oil_pair()), read_scenario_file(path))
    assert capped_net.contracts.at["C", "price"] == pytest.approx(200_000)
    capped = optimize(capped_net)
    assert capped.served().loc[1, "D"] == pytest.approx(free.served().loc[1, "D"])
    assert capped.welfare() == pytest.approx(free.welfare())
    moved = by_country(capped)["welfare"] - by_country(free)["welfare"]
    assert moved["RU"] == pytest.approx(-80_000 * 10 * DAYS)
    assert moved.sum() == pytest.approx(0, abs=1e-3)
    assert capped.identity_gap() < 1e-12

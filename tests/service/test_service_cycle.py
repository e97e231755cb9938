"""The daily cycle: gas-day convention, nominations and renominations until the cut-off,
confirmation by both operators, the lesser rule, allocation rules, capacity per gas day, closing,
the feasibility check on the whole network, measured flows and imbalances, and one transaction
per state change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from conftest import NOW, OPEN_DAY, Env
from hypothesis import given, settings
from hypothesis import strategies as st

from corridor.service import cycle
from corridor.service.cycle import GasDayConvention, allocate
from corridor.service.db import Nomination, User
from corridor.service.feasibility import check_day_plan, interconnection_points, load_network

D = OPEN_DAY.isoformat()


# --- gas days ---------------------------------------------------------------------------------

def test_gas_day_convention_utc() -> None:
    conv = GasDayConvention("UTC", 5, 15.0, 31)
    day = date(2030, 3, 11)
    assert conv.start(day) == datetime(2030, 3, 11, 5, tzinfo=UTC)
    assert conv.end(day) == datetime(2030, 3, 12, 5, tzinfo=UTC)
    assert conv.cutoff(day) == datetime(2030, 3, 10, 14, tzinfo=UTC)
    assert conv.day_of(datetime(2030, 3, 11, 4, 59, tzinfo=UTC)) == date(2030, 3, 10)
    assert conv.day_of(datetime(2030, 3, 11, 5, 0, tzinfo=UTC)) == day
    assert conv.next_open(datetime(2030, 3, 10, 13, 59, tzinfo=UTC)) == day
    assert conv.next_open(datetime(2030, 3, 10, 14, 0, tzinfo=UTC)) == date(2030, 3, 12)


def test_gas_day_convention_local_time() -> None:
    conv = GasDayConvention("Asia/Almaty", 10, 12.0, 31)  # 10:00 local, UTC+5
    day = date(2030, 3, 11)
    assert conv.start(day) == datetime(2030, 3, 11, 5, tzinfo=UTC)
    assert conv.cutoff(day) == datetime(2030, 3, 10, 17, tzinfo=UTC)


# --- allocation rules -------------------------------------------------------------------------

def test_pro_rata() -> None:
    alloc, firm = allocate(np.array([10.0, 30.0]), np.zeros(2), 20.0, "pro_rata")
    assert alloc == pytest.approx([5.0, 15.0]) and firm == pytest.approx([0, 0])
    alloc, _ = allocate(np.array([10.0, 5.0]), np.zeros(2), 20.0, "pro_rata")
    assert alloc == pytest.approx([10.0, 5.0])


def test_firm_first() -> None:
    # A booked 10 firm, B none: A's firm 10 first, then 5 left shared over A's 10 and B's 20
    alloc, firm = allocate(np.array([20.0, 20.0]), np.array([10.0, 0.0]), 15.0, "firm_first")
    assert firm == pytest.approx([10.0, 0.0])
    assert alloc == pytest.approx([10.0 + 5 * 10 / 30, 5 * 20 / 30])
    # firm bookings above capacity are cut pro rata among firm
    alloc, firm = allocate(np.array([20.0, 20.0]), np.array([20.0, 10.0]), 15.0, "firm_first")
    assert alloc == pytest.approx([10.0, 5.0]) and firm == pytest.approx([10.0, 5.0])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100)), min_size=1, max_size=6),
       st.floats(0, 200), st.sampled_from(["pro_rata", "firm_first"]))
def test_allocation_never_exceeds_capacity_or_request(rows, cap, rule) -> None:
    matched = np.array([r[0] for r in rows])
    firm = np.array([r[1] for r in rows])
    alloc, firm_alloc = allocate(matched, firm, cap, rule)
    assert alloc.sum() <= max(cap, 0) + 1e-6
    assert np.all(alloc <= matched + 1e-9) and np.all(alloc >= -1e-12)
    assert np.all(firm_alloc <= alloc + 1e-9)
    if matched.sum() <= cap:
        assert alloc == pytest.approx(matched)


# --- through the API --------------------------------------------------------------------------

def _alloc(env: Env, user: str = "secretariat", day: str = D) -> dict[tuple[str, str], dict]:
    rows = env.call(user, "GET", f"/api/gas-days/{day}/allocations").json()
    return {(a["point"], a["shipper"]): a for a in rows}


def test_lesser_rule_and_both_sides_confirm(env: Env) -> None:
    n = env.nominate("shipper-a", "G08", 10.0)  # RU -> UZ
    assert _alloc(env)[("G08", "SHIPPER-A")]["matched"] == 0.0  # nobody confirmed yet
    env.confirm("operator-ru", n["id"], 10.0)
    assert _alloc(env)[("G08", "SHIPPER-A")]["matched"] == 0.0  # one side is not enough
    env.confirm("operator-uz", n["id"], 8.0)
    a = _alloc(env)[("G08", "SHIPPER-A")]
    assert (a["confirmed_from"], a["confirmed_to"], a["matched"], a["allocated"]) == (
        10.0, 8.0, 8.0, 8.0)
    r = env.call("operator-kz", "POST", f"/api/nominations/{n['id']}/confirm")
    assert r.status_code == 403 and "may not confirm at point G08" in r.json()["detail"]


def test_renomination_until_cutoff(env: Env) -> None:
    first = env.nominate("shipper-a", "G08", 10.0)
    env.confirm("operator-ru", first["id"])
    env.confirm("operator-uz", first["id"])
    second = env.nominate("shipper-a", "G08", 12.0)
    assert second["version"] == 2 and second["id"] != first["id"]
    a = _alloc(env)[("G08", "SHIPPER-A")]
    assert a["nominated"] == 12.0 and a["matched"] == 0.0  # the new version needs confirming
    r = env.call("operator-ru", "POST", f"/api/nominations/{first['id']}/confirm")
    assert r.status_code == 409 and "replaced by version 2" in r.json()["detail"]
    history = env.call("shipper-a", "GET", f"/api/nominations?gas_day={D}&history=true").json()
    assert [h["version"] for h in history] == [1, 2]
    env.clock.now = datetime(2030, 3, 10, 14, 0, tzinfo=UTC)  # the cut-off
    r = env.call("shipper-a", "POST", "/api/nominations",
                 {"gas_day": D, "point": "G08", "quantity": 13.0})
    assert r.status_code == 409 and "cut-off" in r.json()["detail"]


def test_pro_rata_when_capacity_is_short(env: Env) -> None:
    cap = next(p for p in env.call("secretariat", "GET", "/api/points").json()
               if p["point"] == "G47")["capacity"]
    noms = [env.nominate("shipper-a", "G47", 20.0), env.nominate("shipper-b", "G47", 10.0)]
    for n in noms:
        env.confirm("operator-kz", n["id"])
        env.confirm("operator-ru", n["id"])
    a = _alloc(env)
    assert a[("G47", "SHIPPER-A")]["allocated"] == pytest.approx(cap * 20 / 30)
    assert a[("G47", "SHIPPER-B")]["allocated"] == pytest.approx(cap * 10 / 30)
    # maintenance on that gas day: capacity 15, re-allocated at once
    r = env.call("secretariat", "PUT", f"/api/points/G47/capacity/{D}", {"capacity": 15.0})
    assert r.status_code == 200
    a = _alloc(env)
    assert a[("G47", "SHIPPER-A")]["allocated"] == pytest.approx(10.0)
    assert a[("G47", "SHIPPER-B")]["allocated"] == pytest.approx(5.0)


@pytest.fixture
def firm_env(database_url: str):
    e = Env(database_url, allocation_rule="firm_first")
    yield e
    e.close()


def test_firm_first_rule(firm_env: Env) -> None:
    env = firm_env  # the demo books 10 firm at G47 for SHIPPER-A and for SHIPPER-C
    env.call("secretariat", "PUT", f"/api/points/G47/capacity/{D}", {"capacity": 20.0})
    noms = [env.nominate("shipper-a", "G47", 15.0), env.nominate("shipper-b", "G47", 15.0)]
    for n in noms:
        env.confirm("operator-kz", n["id"])
        env.confirm("operator-ru", n["id"])
    a = _alloc(env)
    # A: 10 firm + its share of the 10 left over interruptible 5 (A) and 15 (B)
    assert a[("G47", "SHIPPER-A")]["firm"] == pytest.approx(10.0)
    assert a[("G47", "SHIPPER-A")]["allocated"] == pytest.approx(10.0 + 10 * 5 / 20)
    assert a[("G47", "SHIPPER-B")]["allocated"] == pytest.approx(10 * 15 / 20)
    assert a[("G47", "SHIPPER-B")]["rule"] == "firm_first"


def test_close_check_measure_and_imbalances(env: Env) -> None:
    noms = [env.nominate("shipper-a", "G08", 9.0), env.nominate("shipper-b", "G08", 6.0),
            env.nominate("shipper-b", "G44", 10.0)]
    for n in noms:
        point = n["point"]
        env.confirm("operator-uz", n["id"])
        env.confirm("operator-ru" if point == "G08" else "operator-kz", n["id"])
    r = env.call("secretariat", "POST", f"/api/gas-days/{D}/close")
    assert r.status_code == 409 and "before its cut-off" in r.json()["detail"]
    env.clock.now = datetime(2030, 3, 10, 15, 0, tzinfo=UTC)
    r = env.call("secretariat", "POST", f"/api/gas-days/{D}/close")
    assert r.status_code == 200, r.text
    check = r.json()["feasibility"]
    assert check["status"] == "feasible", check
    assert {p["point"] for p in check["points"] if p["allocated"] > 0} == {"G08", "G44"}
    assert check["hydraulics"]["checked"] is True
    assert env.call("secretariat", "GET", f"/api/gas-days/{D}").json()["status"] == "closed"
    r = env.call("operator-ru", "POST", f"/api/nominations/{noms[0]['id']}/confirm")
    assert r.status_code == 409 and "closed" in r.json()["detail"]
    # measured flows only after the day
    body = {"quantity": 14.0, "by_shipper": {"SHIPPER-A": 9.5, "SHIPPER-B": 4.5}}
    r = env.call("operator-uz", "PUT", f"/api/gas-days/{D}/measurements/G08", body)
    assert r.status_code == 409 and "has not ended" in r.json()["detail"]
    env.clock.now = datetime(2030, 3, 12, 6, 0, tzinfo=UTC)
    r = env.call("operator-uz", "PUT", f"/api/gas-days/{D}/measurements/G08",
                 {"quantity": 14.0, "by_shipper": {"SHIPPER-A": 9.0, "SHIPPER-B": 4.0}})
    assert r.status_code == 422 and "add up to 13" in r.json()["detail"]
    assert env.call("operator-uz", "PUT", f"/api/gas-days/{D}/measurements/G08",
                    body).status_code == 200
    assert env.call("operator-kz", "PUT", f"/api/gas-days/{D}/measurements/G44",
                    {"quantity": 11.0}).status_code == 200  # no split: pro rata
    imb = {(r["point"], r["shipper"]): r for r in env.call(
        "secretariat", "GET", f"/api/gas-days/{D}/imbalances").json()}
    assert imb[("G08", "SHIPPER-A")]["imbalance"] == pytest.approx(0.5)
    assert imb[("G08", "SHIPPER-B")]["imbalance"] == pytest.approx(-1.5)
    assert imb[("G44", "SHIPPER-B")]["imbalance"] == pytest.approx(1.0)
    own = env.call("shipper-a", "GET", f"/api/gas-days/{D}/imbalances").json()
    assert [(r["point"], r["shipper"]) for r in own] == [("G08", "SHIPPER-A")]


def test_infeasible_points_are_reported(env: Env) -> None:
    # 120 mcm/d north on CAC at Kungrad-Beineu (G03): within its technical capacity (45 bcm/yr
    # = 123 mcm/d), so allocation does not cut it, but more than Turkmen and Uzbek gas can bring
    # to Kungrad on an average day in the model: the day check names G03 and its shortfall
    n = env.nominate("shipper-a", "G03", 120.0)
    env.confirm("operator-uz", n["id"])
    env.confirm("operator-kz", n["id"])
    r = env.call("secretariat", "POST", f"/api/gas-days/{D}/check")
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["status"] == "infeasible" and result["infeasible_points"] == ["G03"]
    g03 = next(p for p in result["points"] if p["point"] == "G03")
    assert 0 < g03["shortfall"] <= 120.0
    stored = env.call("regulator", "GET", f"/api/gas-days/{D}/check").json()
    assert stored["id"] == result["id"] and stored["infeasible_points"] == ["G03"]


def test_a_day_plan_beyond_technical_capacity_is_short_by_the_excess() -> None:
    net = load_network("central-asia")
    technical = float(net.links.at["G08", "capacity"])
    flows = [{"point": "G08", "link": "G08", "direction": "forward", "allocated": 30.0}]
    result = check_day_plan(net, flows, hydraulics=False)
    assert result["infeasible_points"] == ["G08"]
    assert result["points"][0]["shortfall"] == pytest.approx(30.0 - technical, rel=1e-6)


def test_feasibility_nets_both_directions() -> None:
    net = load_network("central-asia")
    points = {p["code"]: p for p in interconnection_points(net, ["RU", "KZ", "UZ"])}
    assert {"G39", "G39-R"} <= set(points)  # G39 has reverse capacity: two points
    flows = [{"point": c, "link": p["link"], "direction": p["direction"],
              "allocated": {"G39": 5.0, "G39-R": 8.0}.get(c, 0.0)} for c, p in points.items()]
    result = check_day_plan(net, flows, hydraulics=False)
    assert result["plan"]["G39"] == pytest.approx(-3.0)


def test_every_state_change_is_one_transaction(env: Env, monkeypatch) -> None:
    """A failure after the nomination row is written (while re-allocating) leaves nothing."""
    from sqlalchemy import func, select

    def boom(*args, **kwargs):
        raise RuntimeError("crash while allocating")

    with env.db.read() as s:
        before = s.scalar(select(func.count()).select_from(Nomination))
        with env.db.read() as s2:
            from corridor.service import audit

            head = audit.verify(s2).head_seq
        user = s.scalar(select(User).where(User.username == "shipper-a"))
    monkeypatch.setattr(cycle.commands, "recompute_point", boom)
    with pytest.raises(RuntimeError), env.db.write() as s:
        cycle.submit_nomination(s, user, env.app.state.service.conv, "pro_rata", OPEN_DAY,
                                "G08", 5.0, "k-1", NOW)
    with env.db.read() as s:
        from corridor.service import audit

        assert s.scalar(select(func.count()).select_from(Nomination)) == before
        report = audit.verify(s)
        assert report.ok and report.head_seq == head


def test_horizon_and_closed_days(env: Env) -> None:
    far = (OPEN_DAY + timedelta(days=60)).isoformat()
    r = env.call("shipper-a", "POST", "/api/nominations",
                 {"gas_day": far, "point": "G08", "quantity": 1.0})
    assert r.status_code == 422 and "horizon" in r.json()["detail"]

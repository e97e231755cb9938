"""The whole permission matrix: every API endpoint x every role x own vs another party's data,
401 without a token everywhere except health and login, and what each role sees in lists.

The expectations here are written out independently of corridor.service.permissions: if the
matrix in the code changes, these tests say so.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from conftest import BACKENDS, NOW, OPEN_DAY, Env, fresh_database

from corridor.service.api import iter_routes

PAST = date(2030, 3, 8)  # nominated, confirmed, closed, checked and metered in the fixture
CLOSABLE = date(2030, 3, 9)  # after its cut-off, still open
ROLES = ["secretariat", "regulator", "operator", "shipper"]
ACTOR = {("secretariat", "own"): "secretariat", ("secretariat", "other"): "secretariat",
         ("regulator", "own"): "regulator", ("regulator", "other"): "regulator",
         ("operator", "own"): "operator-kz", ("operator", "other"): "operator-uz",
         ("shipper", "own"): "shipper-a", ("shipper", "other"): "shipper-a"}
# Operators: G47 runs KZ -> RU, so it is the KZ operator's own point and not the UZ operator's.
# Shippers: "own" targets shipper-a's nomination, "other" shipper-b's, both asked by shipper-a.


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory) -> Env:
    if request.param == "postgresql":
        from conftest import postgres_url

        postgres_url()
    env = Env(fresh_database(request.param, tmp_path_factory.mktemp("matrix")))
    env.clock.now = datetime(2030, 3, 7, 10, 0, tzinfo=NOW.tzinfo)
    past = [env.nominate("shipper-a", "G47", 10.0, PAST), env.nominate("shipper-b", "G47", 5.0,
                                                                        PAST)]
    env.nominate("shipper-a", "G44", 5.0, CLOSABLE)
    for n in past:
        env.confirm("operator-kz", n["id"])
        env.confirm("operator-ru", n["id"])
    env.clock.now = datetime(2030, 3, 9, 12, 0, tzinfo=NOW.tzinfo)
    assert env.call("secretariat", "POST", f"/api/gas-days/{PAST}/close").status_code == 200
    r = env.call("operator-kz", "PUT", f"/api/gas-days/{PAST}/measurements/G47",
                 {"quantity": 14.0})
    assert r.status_code == 200, r.text
    env.clock.now = NOW
    env.own = env.nominate("shipper-a", "G47", 10.0)
    env.other = env.nominate("shipper-b", "G47", 8.0)
    env.counter = itertools.count()
    yield env
    env.close()


def _nom(env: Env, role: str, whose: str) -> int:
    if role == "shipper" and whose == "other":
        return env.other["id"]
    return env.own["id"]


def _unique(env: Env) -> int:
    return next(env.counter)


D = OPEN_DAY.isoformat()
# name: (method, path, body, {role: all | own | none})
CASES = {
    "me": ("GET", "/api/me", None, "all all all all"),
    "cycle": ("GET", "/api/cycle", None, "all all all all"),
    "parties.list": ("GET", "/api/parties", None, "all all all all"),
    "parties.create": ("POST", "/api/parties", lambda e, r, w: {
        "code": f"NEW-{_unique(e)}", "name": "New shipper", "kind": "shipper"},
        "all none none none"),
    "users.create": ("POST", "/api/users", lambda e, r, w: {
        "username": f"user{_unique(e)}", "password": "a long password", "party": "SHIPPER-C"},
        "all none none none"),
    "points.list": ("GET", f"/api/points?gas_day={D}", None, "all all all all"),
    "points.one": ("GET", "/api/points/G47", None, "all all own all"),
    "points.capacity": ("PUT", f"/api/points/G47/capacity/{D}", {"capacity": 24.0},
                        "all none none none"),
    "bookings.list": ("GET", "/api/bookings", None, "all all all all"),
    "bookings.set": ("PUT", "/api/bookings", {"shipper": "SHIPPER-B", "point": "G47",
                                              "firm": 3.0}, "all none none none"),
    "nominations.submit": ("POST", "/api/nominations", {"gas_day": D, "point": "G44",
                                                        "quantity": 4.0}, "none none none all"),
    "nominations.list": ("GET", f"/api/nominations?gas_day={D}", None, "all all all all"),
    "nominations.one": ("GET", lambda e, r, w: f"/api/nominations/{_nom(e, r, w)}", None,
                        "all all own own"),
    "nominations.confirm": ("POST", lambda e, r, w: f"/api/nominations/{_nom(e, r, w)}/confirm",
                            None, "none none own none"),
    "days.info": ("GET", f"/api/gas-days/{D}", None, "all all all all"),
    "days.allocations": ("GET", f"/api/gas-days/{D}/allocations", None, "all all all all"),
    "days.close": ("POST", f"/api/gas-days/{CLOSABLE}/close", None, "all none none none"),
    "days.check.run": ("POST", f"/api/gas-days/{D}/check", None, "all none none none"),
    "days.check.read": ("GET", f"/api/gas-days/{PAST}/check", None, "all all all none"),
    "measurements.upload": ("PUT", f"/api/gas-days/{PAST}/measurements/G47", {"quantity": 14.5},
                            "none none own none"),
    "measurements.list": ("GET", f"/api/gas-days/{PAST}/measurements", None,
                          "all all all none"),
    "imbalances": ("GET", f"/api/gas-days/{PAST}/imbalances", None, "all all all all"),
    "audit.list": ("GET", "/api/audit", None, "all all none none"),
    "audit.verify": ("GET", "/api/audit/verify", None, "all all none none"),
    "runs": ("GET", "/api/runs", None, "all all all none"),
}
PUBLIC = {("GET", "/api/health"), ("POST", "/api/auth/token")}
SEPARATE = {("POST", "/api/auth/logout")}  # revokes the token: tested on its own below


def _expect(spec: str, role: str, whose: str) -> bool:
    granted = dict(zip(["secretariat", "regulator", "operator", "shipper"], spec.split(),
                       strict=True))[role]
    return granted == "all" or (granted == "own" and whose == "own")


def _request(env: Env, name: str, role: str, whose: str):
    method, path, body, _ = CASES[name]
    path = path(env, role, whose) if callable(path) else path
    body = body(env, role, whose) if callable(body) else body
    return env.call(ACTOR[(role, whose)], method, path, body)


@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(CASES))
def test_matrix(world: Env, name: str, role: str, whose: str) -> None:
    r = _request(world, name, role, whose)
    assert r.status_code < 500, r.text
    if _expect(CASES[name][3], role, whose):
        assert r.status_code not in (401, 403), f"{name} {role}/{whose}: {r.text}"
        if CASES[name][0] == "GET":
            assert r.status_code == 200, r.text
    else:
        assert r.status_code == 403, f"{name} {role}/{whose} should be forbidden: {r.text}"
        assert r.json()["detail"]


def _template(path: str) -> str:
    """'/api/nominations/{nomination_id}' and '/api/nominations/7' compare equal."""
    return "/".join("{}" if part.startswith("{") or part.isdigit() or part[:1].isdigit()
                    or part.startswith("G4") else part
                    for part in path.split("?")[0].split("/"))


def test_every_endpoint_is_in_the_matrix(world: Env) -> None:
    routes = {(m, _template(p)) for m, p in iter_routes(world.app)}
    covered = {(method, _template(path(world, "shipper", "own") if callable(path) else path))
               for method, path, _, _ in CASES.values()}
    public = {(m, _template(p)) for m, p in PUBLIC | SEPARATE}
    assert routes - covered - public == set()


@pytest.mark.parametrize("name", list(CASES) + ["logout"])
def test_unauthenticated_gets_401(world: Env, name: str) -> None:
    if name == "logout":
        method, path, body = "POST", "/api/auth/logout", None
    else:
        method, path, body, _ = CASES[name]
        path = path(world, "shipper", "own") if callable(path) else path
        body = body(world, "shipper", "own") if callable(body) else body
    r = world.client.request(method, path, json=body)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == "Bearer"
    bad = world.client.request(method, path, json=body,
                               headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_health_and_login_need_no_token(world: Env) -> None:
    assert world.client.get("/api/health").status_code == 200
    r = world.client.post("/api/auth/token", data={"username": "regulator",
                                                    "password": "regulator-demo"})
    assert r.status_code == 200 and r.json()["role"] == "regulator"
    wrong = world.client.post("/api/auth/token", data={"username": "regulator",
                                                        "password": "nope"})
    assert wrong.status_code == 401
    unknown = world.client.post("/api/auth/token", data={"username": "nobody", "password": "x"})
    assert unknown.status_code == 401


def test_logout_revokes_the_token(world: Env) -> None:
    token = world.token("shipper-c", fresh=True)
    h = {"Authorization": f"Bearer {token}"}
    assert world.client.get("/api/me", headers=h).status_code == 200
    assert world.client.post("/api/auth/logout", headers=h).status_code == 200
    assert world.client.get("/api/me", headers=h).status_code == 401


def test_expired_token_is_refused(world: Env) -> None:
    token = world.token("shipper-c", fresh=True)
    h = {"Authorization": f"Bearer {token}"}
    world.clock.now = NOW + timedelta(hours=world.settings.token_ttl_hours + 1)
    try:
        assert world.client.get("/api/me", headers=h).status_code == 401
    finally:
        world.clock.now = NOW


# --- what each role sees ----------------------------------------------------------------------

def _get(env: Env, user: str, path: str) -> list | dict:
    r = env.call(user, "GET", path)
    assert r.status_code == 200, r.text
    return r.json()


def test_shipper_sees_only_its_own(world: Env) -> None:
    noms = _get(world, "shipper-a", f"/api/nominations?gas_day={D}&history=true")
    assert noms and {n["shipper"] for n in noms} == {"SHIPPER-A"}
    allocs = _get(world, "shipper-a", f"/api/gas-days/{PAST}/allocations")
    assert allocs and {a["shipper"] for a in allocs} == {"SHIPPER-A"}
    imb = _get(world, "shipper-a", f"/api/gas-days/{PAST}/imbalances")
    assert imb and {i["shipper"] for i in imb} == {"SHIPPER-A"}
    assert {b["shipper"] for b in _get(world, "shipper-a", "/api/bookings")} <= {"SHIPPER-A"}
    assert [p["code"] for p in _get(world, "shipper-a", "/api/parties")] == ["SHIPPER-A"]
    # point totals are the shipper's own quantities, not everyone's
    g47 = next(p for p in _get(world, "shipper-a", f"/api/points?gas_day={PAST}")
               if p["point"] == "G47")
    assert g47["nominated"] == pytest.approx(10.0)


def test_operator_sees_only_its_points(world: Env) -> None:
    uz_points = _get(world, "operator-uz", "/api/points")
    assert uz_points and all("UZ" in (p["from_country"], p["to_country"]) for p in uz_points)
    assert not any(n["point"] == "G47" for n in _get(
        world, "operator-uz", f"/api/nominations?gas_day={D}"))
    assert {n["shipper"] for n in _get(world, "operator-kz", f"/api/nominations?gas_day={D}")
            if n["point"] == "G47"} >= {"SHIPPER-A", "SHIPPER-B"}
    assert not _get(world, "operator-uz", f"/api/gas-days/{PAST}/measurements")
    assert _get(world, "operator-kz", f"/api/gas-days/{PAST}/measurements")
    check = _get(world, "operator-uz", f"/api/gas-days/{PAST}/check")
    assert all(p["point"] != "G47" for p in check["points"]) and "plan" not in check
    assert not _get(world, "operator-uz", f"/api/gas-days/{PAST}/imbalances")


def test_secretariat_and_regulator_see_all(world: Env) -> None:
    for user in ("secretariat", "regulator"):
        shippers = {n["shipper"] for n in _get(world, user, f"/api/nominations?gas_day={D}")}
        assert {"SHIPPER-A", "SHIPPER-B"} <= shippers
        assert len(_get(world, user, "/api/points")) == len(_get(world, "secretariat",
                                                                 "/api/points"))


def test_regulator_changes_nothing(world: Env) -> None:
    before = _get(world, "secretariat", "/api/audit/verify")["entries"]
    for name, (method, *_rest) in CASES.items():
        if method != "GET":
            assert _request(world, name, "regulator", "own").status_code == 403, name
    assert _get(world, "secretariat", "/api/audit/verify")["entries"] == before


def test_dashboard_needs_login_and_applies_the_same_rules(world: Env) -> None:
    c = world.client
    r = c.get("/dashboard", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = c.post(f"/web/confirm/{world.own['id']}", data={"gas_day": D}, follow_redirects=False)
    assert r.headers["location"] == "/login"
    # a shipper's session cookie cannot confirm: the dashboard answers with the cycle's refusal
    c.cookies.set("corridor_token", world.token("shipper-b"))
    try:
        r = c.post(f"/web/confirm/{world.own['id']}", data={"gas_day": D},
                   headers={"Origin": "http://127.0.0.1"}, follow_redirects=False)
        assert "error=" in r.headers["location"] and "may+not" in r.headers["location"]
        page = c.get("/dashboard").text
        assert "SHIPPER-A" not in page  # another shipper's nominations never reach the page
    finally:
        c.cookies.clear()

"""Hardening of the HTTP layer: the inputs that used to give 500 (calendar-limit gas days, ids
beyond 64 bits, unpaired surrogates, quantities that sum to infinity, `true` as a quantity) get a
4xx that says what to fix; cross-site cookie writes are refused; logins are throttled and failed
ones audited; security headers, the Host allow-list, Secure cookies over TLS; demo passwords only
on loopback; the OpenAPI document's errors and auth scheme."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from conftest import BASE_URL, OPEN_DAY, Env
from fastapi.testclient import TestClient

from corridor.service.api import csrf_token
from corridor.service.api.login import FREE_FAILURES, MAX_WAITING
from corridor.service.config import ServiceSettings
from corridor.service.web import script_json

D = OPEN_DAY.isoformat()
HUGE_ID = "99999999999999999999"
LIMIT_DAYS = ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"]


def _says(r: httpx.Response, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail
    for w in words:
        assert w.lower() in detail.lower(), detail


def _raw(env: Env, user: str, method: str, path: str, body: object) -> httpx.Response:
    """Send `body` as ASCII JSON, so a lone surrogate travels as the escape \\ud800."""
    return env.client.request(method, path, content=json.dumps(body).encode(),
                              headers=env.headers(user, **{"Content-Type": "application/json"}))


# --- 1. never a 500 for a client's mistake ----------------------------------------------------

@pytest.mark.parametrize("day", LIMIT_DAYS)
def test_gas_days_outside_the_window_are_422(env: Env, day: str) -> None:
    for user, method, path, body in [
        ("shipper-a", "POST", "/api/nominations", {"gas_day": day, "point": "G08",
                                                   "quantity": 1.0}),
        ("secretariat", "GET", f"/api/gas-days/{day}", None),
        ("secretariat", "GET", f"/api/gas-days/{day}/allocations", None),
        ("secretariat", "POST", f"/api/gas-days/{day}/close", None),
        ("secretariat", "POST", f"/api/gas-days/{day}/check", None),
        ("secretariat", "GET", f"/api/gas-days/{day}/check", None),
        ("operator-ru", "PUT", f"/api/gas-days/{day}/measurements/G08", {"quantity": 1.0}),
        ("secretariat", "GET", f"/api/gas-days/{day}/measurements", None),
        ("secretariat", "GET", f"/api/gas-days/{day}/imbalances", None),
        ("secretariat", "PUT", f"/api/points/G08/capacity/{day}", {"capacity": 1.0}),
        ("secretariat", "GET", f"/api/points?gas_day={day}", None),
        ("secretariat", "GET", f"/api/nominations?gas_day={day}", None),
    ]:
        r = env.call(user, method, path, body)
        _says(r, 422, "gas_day")
        assert "2000-01-01" in r.text or "2100-12-31" in r.text, (path, r.text)
    env.client.cookies.set("corridor_token", env.token("secretariat"))
    try:
        r = env.client.get(f"/dashboard?gas_day={day}")
        _says(r, 422, "gas_day")
    finally:
        env.client.cookies.clear()


def test_ids_beyond_64_bits_are_422(env: Env) -> None:
    _says(env.call("secretariat", "GET", f"/api/nominations/{HUGE_ID}"), 422,
          "nomination_id", "9223372036854775807")
    _says(env.call("operator-ru", "POST", f"/api/nominations/{HUGE_ID}/confirm"), 422,
          "nomination_id")
    _says(env.call("secretariat", "GET", f"/api/audit?before={HUGE_ID}"), 422, "before")
    _says(env.call("secretariat", "GET", "/api/nominations/0"), 422, "nomination_id")
    # the largest id is fine: it is simply not there (on PostgreSQL too, whose keys are int4)
    for big in (2**31, 2**63 - 1):
        _says(env.call("secretariat", "GET", f"/api/nominations/{big}"), 404, "no nomination")
        _says(env.call("operator-ru", "POST", f"/api/nominations/{big}/confirm"), 404)
    assert env.call("secretariat", "GET", f"/api/audit?before={2**63 - 1}").status_code == 200


@pytest.mark.parametrize("user, method, path, body", [
    ("secretariat", "PUT", "/api/bookings", {"shipper": "\ud800", "point": "G08", "firm": 1}),
    ("secretariat", "PUT", "/api/bookings", {"shipper": "SHIPPER-A", "point": "G\udfff",
                                             "firm": 1}),
    ("secretariat", "POST", "/api/users", {"username": "new-user", "password": "pass\ud800word",
                                           "party": "SHIPPER-A"}),
    ("secretariat", "POST", "/api/users", {"username": "new-user", "password": "a password",
                                           "party": "SHIPPER\ud800"}),
    ("secretariat", "POST", "/api/parties", {"code": "NEW", "name": "x\ud800", "kind": "shipper"}),
    ("shipper-a", "POST", "/api/nominations", {"gas_day": D, "point": "\ud800", "quantity": 1}),
])
def test_unpaired_surrogates_are_422(env: Env, user, method, path, body) -> None:
    _says(_raw(env, user, method, path, body), 422, "surrogate")


def test_control_characters_are_422(env: Env) -> None:
    r = env.call("secretariat", "PUT", "/api/bookings",
                 {"shipper": "SHIPPER-A\x00", "point": "G08", "firm": 1})
    _says(r, 422, "shipper", "pattern")


def test_quantities_finite_bounded_and_strictly_numbers(env: Env) -> None:
    def nominate(quantity: object) -> httpx.Response:
        return env.call("shipper-a", "POST", "/api/nominations",
                        {"gas_day": D, "point": "G08", "quantity": quantity})

    _says(nominate(1e308), 422, "quantity", "less than or equal to 100000")
    _says(nominate(True), 422, "quantity", "valid number")
    _says(nominate("5"), 422, "quantity", "valid number")
    # G08's technical capacity is 6 bcm/yr (16.4 mcm/d in 2024): ten times that is the ceiling
    _says(nominate(400.0), 422, "quantity 400", "technical capacity of point G08")
    assert nominate(150.0).status_code == 201  # renominating up to the ceiling is fine
    n = env.nominate("shipper-a", "G08", 5.0)
    _says(env.call("operator-ru", "POST", f"/api/nominations/{n['id']}/confirm",
                   {"quantity": 1e300}), 422, "quantity")
    _says(env.call("operator-ru", "POST", f"/api/nominations/{n['id']}/confirm",
                   {"quantity": 5000.0}), 422, "technical capacity")
    _says(env.call("secretariat", "PUT", f"/api/points/G08/capacity/{D}", {"capacity": 1e6}),
          422, "capacity")
    _says(env.call("secretariat", "PUT", "/api/bookings",
                   {"shipper": "SHIPPER-A", "point": "G08", "firm": 99_999.0}), 422,
          "technical capacity")
    r = env.client.put(f"/api/gas-days/{D}/measurements/G08",
                       content=b'{"quantity": 1.0, "by_shipper": {"SHIPPER-A": 1e400}}',
                       headers=env.headers("operator-ru", **{"Content-Type": "application/json"}))
    _says(r, 422, "by_shipper.SHIPPER-A")
    points = env.call("secretariat", "GET", f"/api/points?gas_day={D}").json()
    assert all(p["nominated"] < 1e6 for p in points)


def test_dashboard_json_is_always_finite(env: Env) -> None:
    """Even a non-finite value already in the database (from before the limits) becomes null
    in the dashboard's embedded JSON, which JSON.parse then reads."""
    from corridor.service.db import Point, PointCapacity

    with env.db.write() as s:
        g08 = s.query(Point).filter_by(code="G08").one()
        s.add(PointCapacity(point_id=g08.id, gas_day=OPEN_DAY, capacity=float("inf")))
    env.client.cookies.set("corridor_token", env.token("secretariat"))
    try:
        page = env.client.get(f"/dashboard?gas_day={D}")
    finally:
        env.client.cookies.clear()
    assert page.status_code == 200
    data = re.search(r'id="points-data">(.*?)</script>', page.text, re.S).group(1)

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in the dashboard's JSON")

    points = json.loads(data, parse_constant=refuse)
    assert next(p for p in points if p["point"] == "G08")["capacity"] is None
    assert script_json([float("nan"), "</script><b>&"]) == \
        '[null, "\\u003c/script\\u003e\\u003cb\\u003e\\u0026"]'


# --- 2. cross-site cookie writes --------------------------------------------------------------

def _cookie_post(env: Env, user: str, path: str, data: dict | None = None,
                 json_body: object = None, **headers: str) -> httpx.Response:
    c = env.client
    c.cookies.set("corridor_token", env.token(user))
    try:
        return c.post(path, data=data, json=json_body, headers=headers,
                      follow_redirects=False)
    finally:
        c.cookies.clear()


def test_cross_site_cookie_posts_are_403(env: Env) -> None:
    form = {"gas_day": D, "point": "G08", "quantity": "3", "idempotency_key": "k1"}
    for headers in ({"Origin": "http://127.0.0.1:9999"},  # a sibling port is same-site
                    {"Origin": "http://evil.example"},
                    {"Origin": "null"},
                    {"Referer": "http://sub.127.0.0.1.nip.io/page"},
                    {}):  # neither header and no token
        r = _cookie_post(env, "shipper-a", "/web/nominate", form, **headers)
        _says(r, 403, "refused")
    r = _cookie_post(env, "shipper-a", "/api/nominations",
                     json_body={"gas_day": D, "point": "G08", "quantity": 3.0},
                     Origin="http://evil.example")
    _says(r, 403, "cross-site")
    assert env.call("secretariat", "GET", f"/api/nominations?gas_day={D}").json() == []


def test_same_origin_cookie_posts_and_tokens_pass(env: Env) -> None:
    form = {"gas_day": D, "point": "G08", "quantity": "3", "idempotency_key": "k1"}
    r = _cookie_post(env, "shipper-a", "/web/nominate", form, Origin=BASE_URL)
    assert r.status_code == 303 and "msg=Nominated" in r.headers["location"], r.text
    r = _cookie_post(env, "shipper-a", "/web/nominate", {**form, "idempotency_key": "k2"},
                     Referer=BASE_URL + "/dashboard")
    assert r.status_code == 303 and "msg=" in r.headers["location"]
    token = env.token("shipper-a")
    r = _cookie_post(env, "shipper-a", "/web/nominate",
                     {**form, "idempotency_key": "k3", "csrf_token": csrf_token(token)})
    assert r.status_code == 303 and "msg=" in r.headers["location"]
    # a bearer token is not ambient authority: no Origin check
    r = env.call("shipper-a", "POST", "/api/nominations",
                 {"gas_day": D, "point": "G08", "quantity": 4.0}, Origin="http://evil.example")
    assert r.status_code == 201
    # every form on the dashboard carries the session's token
    env.client.cookies.set("corridor_token", token)
    try:
        page = env.client.get("/dashboard").text
    finally:
        env.client.cookies.clear()
    forms = page.count('<form method="post"')
    assert forms and page.count(f'name="csrf_token" value="{csrf_token(token)}"') == forms


# --- 3. login throttling and audit ------------------------------------------------------------

def _login(env: Env, username: str, password: str) -> httpx.Response:
    return env.client.post("/api/auth/token", data={"username": username, "password": password})


def test_failed_logins_are_throttled_per_username_with_backoff(env: Env) -> None:
    free = FREE_FAILURES["username"]
    for _ in range(free):
        _says(_login(env, "shipper-a", "wrong"), 401, "wrong username or password")
    _says(_login(env, "shipper-a", "wrong"), 401)  # this failure locks the username: 1 s
    r = _login(env, "shipper-a", "shipper-a-demo")  # even the right password must wait
    _says(r, 429, "too many failed logins for this username")
    assert r.headers["retry-after"] == "1"
    assert _login(env, "shipper-b", "shipper-b-demo").status_code == 200  # others unaffected
    env.clock.now += timedelta(seconds=1)
    _says(_login(env, "shipper-a", "wrong"), 401)  # the next failure doubles the lock
    assert _login(env, "shipper-a", "shipper-a-demo").headers["retry-after"] == "2"
    env.clock.now += timedelta(seconds=2)
    assert _login(env, "shipper-a", "shipper-a-demo").status_code == 200
    assert _login(env, "shipper-a", "wrong").status_code == 401  # success cleared the count


def test_failed_logins_are_throttled_per_client(env: Env) -> None:
    users = ["secretariat", "regulator", "operator-ru", "operator-kz", "operator-uz",
             "shipper-a", "shipper-b", "shipper-c"]
    for i in range(FREE_FAILURES["client"] + 1):
        assert _login(env, users[i % len(users)], "wrong").status_code == 401
    _says(_login(env, "shipper-c", "shipper-c-demo"), 429, "for this client")


def test_the_dashboard_login_is_throttled_too(env: Env) -> None:
    for _ in range(FREE_FAILURES["username"] + 1):
        r = env.client.post("/login", data={"username": "shipper-a", "password": "wrong"})
        assert r.status_code == 401 and "wrong username or password" in r.text
    r = env.client.post("/login", data={"username": "shipper-a", "password": "shipper-a-demo"},
                        follow_redirects=False)
    assert r.status_code == 429 and "retry in" in r.text and r.headers["retry-after"]


def test_failed_logins_are_audited(env: Env) -> None:
    _login(env, "operator-kz", "guess")
    _login(env, "nobody-here", "guess")
    env.client.post("/login", data={"username": "regulator", "password": "guess"})
    entries = env.call("regulator", "GET", "/api/audit?limit=20").json()
    failed = [e for e in entries if e["action"] == "auth.login_failed"]
    assert {e["entity_id"] for e in failed} == {"operator-kz", "nobody-here", "regulator"}
    assert {json.loads(e["after"])["via"] for e in failed} == {"api", "dashboard"}
    assert all(e["actor"] == "anonymous" for e in failed)
    assert "guess" not in json.dumps(entries)
    assert env.call("regulator", "GET", "/api/audit/verify").json()["ok"] is True


def test_password_checks_are_off_the_loop_and_bounded(env: Env, monkeypatch) -> None:
    """Concurrent logins check passwords one at a time in a worker thread (the event loop keeps
    answering); beyond MAX_WAITING waiting logins the service answers 503."""
    import threading

    from corridor.service import auth

    loop_threads, running, peak = set(), [0], [0]
    lock = threading.Lock()
    real = auth.authenticate

    def counting(session, username, password):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        loop_threads.add(threading.get_ident())
        try:
            return real(session, username, password)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(auth, "authenticate", counting)

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=env.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            async def one(i: int) -> int:
                r = await client.post("/api/auth/token", data={
                    "username": f"user-{i}", "password": "wrong"})
                return r.status_code

            return await asyncio.gather(*(one(i) for i in range(6)))

    statuses = asyncio.run(burst())
    assert statuses == [401] * 6 and peak[0] == 1
    assert threading.get_ident() not in loop_threads
    env.app.state.service.logins.waiting = MAX_WAITING
    _says(_login(env, "shipper-a", "shipper-a-demo"), 503, "retry")


@contextmanager
def _variant(env: Env, **settings: object) -> Iterator[TestClient]:
    """A client of the same database served with other settings."""
    from corridor.service.api import create_app

    changed = env.settings.model_copy(update=settings)
    with TestClient(create_app(changed, env.db, env.clock), base_url=BASE_URL) as client:
        yield client


# --- 4. headers, hosts, cookies, demo logins --------------------------------------------------

def test_security_headers(env: Env) -> None:
    for path in ("/api/health", "/login", "/docs", "/openapi.json", "/nope"):
        r = env.client.get(path)
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        inline = "'unsafe-inline'" in csp.split("script-src")[1].split(";")[0]
        assert inline == (path == "/docs"), path


def test_host_allow_list(env: Env, database_url: str) -> None:
    _says(env.client.get("/api/health", headers={"Host": "evil.example"}), 400,
          "evil.example", "allowed_hosts")
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert env.client.get("/api/health", headers={"Host": host}).status_code == 200, host
    with _variant(env, host="10.0.0.5", allowed_hosts=["corridor.example"]) as public:
        ok = public.get("/api/health", headers={"Host": "corridor.example:443"})
        assert ok.status_code == 200
        assert public.get("/api/health").status_code == 400  # not 127.0.0.1 now
    settings = ServiceSettings(database_url=database_url, host="10.0.0.5")
    assert "10.0.0.5" in settings.served_hosts and "localhost" in settings.served_hosts


def test_session_cookie_is_secure_over_tls(env: Env) -> None:
    form = {"username": "shipper-a", "password": "shipper-a-demo"}
    plain = env.client.post("/login", data=form, follow_redirects=False)
    assert "secure" not in plain.headers["set-cookie"].lower()
    with TestClient(env.app, base_url="https://127.0.0.1") as tls:
        r = tls.post("/login", data=form, follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert r.status_code == 303 and "secure" in cookie and "httponly" in cookie
    assert "samesite=strict" in cookie


def test_demo_passwords_only_on_loopback_or_explicit_demo(env: Env, database_url: str) -> None:
    with _variant(env, host="0.0.0.0", allowed_hosts=["*"]) as public:
        r = public.post("/api/auth/token", data={"username": "shipper-a",
                                                 "password": "shipper-a-demo"})
        _says(r, 403, "published passwords", "--demo")
        assert public.post("/login", data={"username": "shipper-a",
                                           "password": "shipper-a-demo"}).status_code == 403
    with _variant(env, host="0.0.0.0", allowed_hosts=["*"], demo=True) as explicit:
        r = explicit.post("/api/auth/token", data={"username": "shipper-a",
                                                   "password": "shipper-a-demo"})
        assert r.status_code == 200
    assert not ServiceSettings(database_url=database_url, host="0.0.0.0").seeds_demo
    explicit = ServiceSettings(database_url=database_url, host="0.0.0.0", demo=True)
    assert explicit.demo_logins and explicit.seeds_demo
    loopback = ServiceSettings(database_url=database_url)
    assert loopback.demo_logins and loopback.seeds_demo
    assert not ServiceSettings(database_url=database_url, demo=False).seeds_demo


# --- 5. the OpenAPI document ------------------------------------------------------------------

def test_openapi_documents_errors_and_auth(env: Env) -> None:
    doc = env.client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert schemas["Problem"]["properties"]["detail"]["type"] == "string"
    assert schemas["ValidationProblem"]["properties"]["detail"]["type"] == "string"
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "a token from POST /api/auth/token"}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert {"400", "503"} <= codes, (method, path)
            if path not in ("/api/health", "/api/auth/token"):
                assert {"bearer": []} in op["security"] and "401" in codes, (method, path)
            if "requestBody" in op:
                assert {"413", "422"} <= codes, (method, path)
            for code in codes - {"200", "201"}:
                ref = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("Problem"), (method, path, code)
    assert "429" in doc["paths"]["/api/auth/token"]["post"]["responses"]
    assert "404" in doc["paths"]["/api/nominations/{nomination_id}"]["get"]["responses"]

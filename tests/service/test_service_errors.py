"""Bad input gets a 4xx with a clear message, never a 500: negative quantity, unknown point,
after the cut-off, wrong gas day, malformed JSON, oversized body, and random bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from conftest import OPEN_DAY, Env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

D = OPEN_DAY.isoformat()


def _post(env: Env, body: object = None, raw: bytes | None = None, user: str = "shipper-a",
          path: str = "/api/nominations", **headers: str):
    h = env.headers(user, **headers)
    if raw is not None:
        h.setdefault("Content-Type", "application/json")
        return env.client.post(path, content=raw, headers=h)
    return env.client.post(path, json=body, headers=h)


def _says(r, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail
    for w in words:
        assert w.lower() in detail.lower(), detail


@pytest.mark.parametrize("body, words", [
    ({"gas_day": D, "point": "G08", "quantity": -5}, ["quantity", "greater than or equal to 0"]),
    ({"gas_day": D, "point": "G08", "quantity": "lots"}, ["quantity", "number"]),
    ({"gas_day": D, "point": "G08"}, ["quantity", "required"]),
    ({"gas_day": D, "point": "G08", "quantity": 1, "shipper": "SHIPPER-B"},
     ["shipper", "extra"]),
    ({"gas_day": "2030-13-01", "point": "G08", "quantity": 1}, ["gas_day", "date"]),
    ({"gas_day": "tomorrow", "point": "G08", "quantity": 1}, ["gas_day"]),
    ({"gas_day": D, "point": "", "quantity": 1}, ["point"]),
    ([1, 2, 3], ["valid dictionary"]),
])
def test_invalid_bodies_are_422(env: Env, body, words) -> None:
    _says(_post(env, body), 422, *words)


def test_semantic_errors(env: Env) -> None:
    _says(_post(env, {"gas_day": D, "point": "XX9", "quantity": 1}), 422,
          "unknown interconnection point 'XX9'", "G08")
    _says(_post(env, {"gas_day": "2030-03-10", "point": "G08", "quantity": 1}), 409,
          "closed", "cut-off", "next open gas day is 2030-03-11")
    _says(_post(env, {"gas_day": "2031-01-01", "point": "G08", "quantity": 1}), 422, "horizon")
    env.clock.now = datetime(2030, 3, 10, 14, 0, 1, tzinfo=UTC)
    _says(_post(env, {"gas_day": D, "point": "G08", "quantity": 1}), 409, "cut-off")


def test_non_finite_and_huge_numbers(env: Env) -> None:
    for raw in (b'{"gas_day": "%s", "point": "G08", "quantity": NaN}',
                b'{"gas_day": "%s", "point": "G08", "quantity": Infinity}',
                b'{"gas_day": "%s", "point": "G08", "quantity": 1e999}'):
        r = _post(env, raw=raw % D.encode())
        assert r.status_code == 422, r.text


def test_malformed_json_and_content_type(env: Env) -> None:
    _says(_post(env, raw=b'{"gas_day": "2030-03-11", "point": '), 422, "malformed JSON")
    _says(_post(env, raw=b"\xff\xfe not utf8"), 400, "parsing the body")
    r = _post(env, raw=b"gas_day=2030-03-11", **{"Content-Type": "text/plain"})
    assert r.status_code == 422


def test_oversized_body_is_413(env: Env) -> None:
    big = json.dumps({"gas_day": D, "point": "G08", "quantity": 1, "pad": "x" * 200_000})
    _says(_post(env, raw=big.encode()), 413, "too large", "65536")

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(100):
            yield b"x" * 10_000

    r = env.client.post("/api/nominations", content=chunks(),
                        headers=env.headers("shipper-a", **{"Content-Type": "application/json"}))
    _says(r, 413, "too large")


def test_idempotency_key_misuse(env: Env) -> None:
    body = {"gas_day": D, "point": "G08", "quantity": 3.0}
    first = _post(env, body, **{"Idempotency-Key": "abc"})
    assert first.status_code == 201
    again = _post(env, body, **{"Idempotency-Key": "abc"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["replayed"] is True
    _says(_post(env, {**body, "quantity": 4.0}, **{"Idempotency-Key": "abc"}), 409,
          "already used")
    _says(_post(env, body, **{"Idempotency-Key": "k" * 101}), 422, "Idempotency-Key")
    # another shipper may use the same key: keys are per shipper
    assert _post(env, body, user="shipper-b", **{"Idempotency-Key": "abc"}).status_code == 201


def test_other_endpoints(env: Env) -> None:
    _says(env.call("operator-ru", "POST", "/api/nominations/999999/confirm"), 404,
          "no nomination 999999")
    assert env.call("operator-ru", "POST", "/api/nominations/abc/confirm").status_code == 422
    n = env.nominate("shipper-a", "G08", 2.0)
    _says(env.call("operator-ru", "POST", f"/api/nominations/{n['id']}/confirm",
                   {"quantity": -1}), 422, "quantity")
    _says(env.call("secretariat", "PUT", f"/api/points/NOPE/capacity/{D}", {"capacity": 3}),
          422, "unknown interconnection point")
    _says(env.call("secretariat", "PUT", "/api/bookings",
                   {"shipper": "NOBODY", "point": "G08", "firm": 1}), 422, "unknown shipper")
    _says(env.call("secretariat", "GET", "/api/gas-days/2030-02-30/allocations"), 422,
          "gas_day")
    _says(env.call("secretariat", "GET", f"/api/gas-days/{D}/check"), 404, "not been checked")
    _says(env.call("secretariat", "POST", "/api/parties",
                   {"code": "X-OP", "name": "x", "kind": "operator"}), 422, "country")
    _says(env.call("secretariat", "POST", "/api/parties",
                   {"code": "SHIPPER-A", "name": "x", "kind": "shipper"}), 409, "exists")
    r = env.client.post("/api/auth/token", data={"username": "x"})
    assert r.status_code == 422


_json = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers()
                     | st.text(max_size=20),
                     lambda kids: st.lists(kids, max_size=4)
                     | st.dictionaries(st.text(max_size=10), kids, max_size=4), max_leaves=10)
_nomination = st.fixed_dictionaries({}, optional={
    "gas_day": st.one_of(st.dates().map(str), st.text(max_size=12), _json),
    "point": st.one_of(st.sampled_from(["G08", "G44", "G39-R", "", "x" * 50]), _json),
    "quantity": st.one_of(st.floats(), st.integers(), st.text(max_size=5), _json)})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(_nomination, _json))
def test_random_bodies_never_500(env: Env, body) -> None:
    raw = json.dumps(body).encode()  # NaN and Infinity reach the server as JSON tokens
    r = _post(env, raw=raw, **{"Idempotency-Key": "fuzz"})
    assert r.status_code < 500, r.text

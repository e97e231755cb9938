"""Reliability against a real server on loopback: 50 concurrent clients with idempotency keys
lose no nomination and create no duplicate; a server killed with SIGKILL mid-cycle restarts
with every acknowledged nomination intact."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from conftest import BACKENDS, Server, fresh_database, login, postgres_url

from corridor.service import demo
from corridor.service.config import ServiceSettings
from corridor.service.db import Database

CLIENTS = 50
PER_CLIENT = 2
SHIPPERS = ["shipper-a", "shipper-b", "shipper-c"]
POINTS = ["G08", "G44", "G47", "G05"]


@pytest.fixture(scope="module", params=BACKENDS)
def seeded_server(request, tmp_path_factory):
    """A server on a database seeded with the demo accounts and points (seeded here, so the
    server starts fast); shared by the tests of one backend (the SIGKILL test restarts it)."""
    tmp_path = tmp_path_factory.mktemp("server")
    if request.param == "postgresql":
        postgres_url()
    database_url = fresh_database(request.param, tmp_path)
    settings = ServiceSettings(database_url=database_url, demo=False)
    db = Database(settings.database_url)
    demo.seed_reference(db, settings, datetime.now(UTC))
    db.dispose()
    server = Server(database_url, tmp_path, demo=False).start()
    yield server
    server.stop()


def _open_day(base: str, headers: dict) -> str:
    return httpx.get(base + "/api/cycle", headers=headers, timeout=30).json()["next_open_gas_day"]


def test_concurrent_clients_lose_nothing_and_duplicate_nothing(seeded_server: Server) -> None:
    base = seeded_server.base
    tokens = {u: login(base, u) for u in SHIPPERS}
    day = _open_day(base, tokens["shipper-a"])
    barrier = threading.Barrier(CLIENTS)
    problems: list[str] = []

    def client(k: int) -> list[dict]:
        shipper = SHIPPERS[k % len(SHIPPERS)]
        acks = []
        with httpx.Client(base_url=base, headers=tokens[shipper], timeout=60) as http:
            barrier.wait(30)  # every client starts at once
            for i in range(PER_CLIENT):
                key = f"client{k}-sub{i}"
                body = {"gas_day": day, "point": POINTS[(k + i) % len(POINTS)],
                        "quantity": round(k + i / 10, 1)}
                first = http.post("/api/nominations", json=body,
                                  headers={"Idempotency-Key": key})
                # the client "lost" the answer and retries with the same key
                retry = http.post("/api/nominations", json=body,
                                  headers={"Idempotency-Key": key})
                if first.status_code != 201 or retry.status_code != 200:
                    problems.append(f"{key}: {first.status_code} {retry.status_code} "
                                    f"{first.text[:200]} {retry.text[:200]}")
                    continue
                if retry.json()["id"] != first.json()["id"]:
                    problems.append(f"{key}: retry created {retry.json()['id']}")
                acks.append({**first.json(), "shipper_user": shipper})
        return acks

    with ThreadPoolExecutor(CLIENTS) as pool:
        acks = [a for batch in pool.map(client, range(CLIENTS)) for a in batch]
    assert not problems, problems[:5]
    assert len(acks) == CLIENTS * PER_CLIENT

    sec = login(base, "secretariat")
    stored = httpx.get(f"{base}/api/nominations?gas_day={day}&history=true", headers=sec,
                       timeout=60).json()
    ours = [n for n in stored if (n["idempotency_key"] or "").startswith("client")]
    keys = [n["idempotency_key"] for n in ours]
    assert len(keys) == len(set(keys)) == CLIENTS * PER_CLIENT  # no loss, no duplicate
    assert {a["id"] for a in acks} == {n["id"] for n in ours}
    by_series: dict[tuple, list[int]] = {}
    for n in stored:
        by_series.setdefault((n["shipper"], n["point"]), []).append(n["version"])
    for versions in by_series.values():  # renominations got consecutive versions
        assert sorted(versions) == list(range(1, len(versions) + 1))
    verify = httpx.get(base + "/api/audit/verify", headers=sec, timeout=60).json()
    assert verify["ok"], verify["problems"]


def test_sigkill_mid_cycle_keeps_every_acknowledged_nomination(seeded_server: Server) -> None:
    base = seeded_server.base
    tokens = {u: login(base, u) for u in SHIPPERS + ["operator-ru", "operator-uz"]}
    day = _open_day(base, tokens["shipper-a"])
    acked: dict[str, dict] = {}  # idempotency key -> acknowledged nomination
    sent: dict[str, dict] = {}
    stop = threading.Event()

    def load(k: int) -> None:
        rng = random.Random(k)
        shipper = SHIPPERS[k % len(SHIPPERS)]
        with httpx.Client(base_url=base, headers=tokens[shipper], timeout=10) as http:
            for i in range(10_000):
                if stop.is_set():
                    return
                key = f"w{k}-{i}"
                body = {"gas_day": day, "point": rng.choice(POINTS),
                        "quantity": rng.randint(1, 30)}
                sent[key] = body
                try:
                    r = http.post("/api/nominations", json=body,
                                  headers={"Idempotency-Key": key})
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 201:
                    acked[key] = {**r.json(), "user": shipper}

    # mid-cycle: some nominations are confirmed, then the load runs while the server dies
    first = httpx.post(base + "/api/nominations", headers={**tokens["shipper-a"],
                       "Idempotency-Key": "confirmed-1"},
                       json={"gas_day": day, "point": "G08", "quantity": 7.0}, timeout=30).json()
    for op in ("operator-ru", "operator-uz"):
        assert httpx.post(f"{base}/api/nominations/{first['id']}/confirm", headers=tokens[op],
                          timeout=30).status_code == 200
    workers = [threading.Thread(target=load, args=(k,)) for k in range(8)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 20
    while len(acked) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    seeded_server.kill()  # SIGKILL while requests are in flight
    stop.set()
    for w in workers:
        w.join(30)
    assert len(acked) >= 30, "the load did not get going"

    seeded_server.start()  # same database, same port
    sec = login(base, "secretariat")
    stored = {n["idempotency_key"]: n for n in httpx.get(
        f"{base}/api/nominations?gas_day={day}&history=true", headers=sec, timeout=60).json()}
    lost = [k for k in acked if k not in stored]
    assert not lost, f"{len(lost)} acknowledged nominations lost, e.g. {lost[:3]}"
    for key, ack in acked.items():
        assert stored[key]["id"] == ack["id"] and stored[key]["quantity"] == ack["quantity"]
    alloc = {(a["point"], a["shipper"]): a for a in httpx.get(
        f"{base}/api/gas-days/{day}/allocations", headers=sec, timeout=30).json()}
    assert ("G08", "SHIPPER-A") in alloc
    # a retry of an in-flight submission after the restart never duplicates
    in_flight = [k for k in sent if k not in acked][:5]
    for key in in_flight:
        shipper = SHIPPERS[int(key[1:].split("-")[0]) % len(SHIPPERS)]
        r = httpx.post(base + "/api/nominations", json=sent[key],
                       headers={**login(base, shipper), "Idempotency-Key": key}, timeout=30)
        assert r.status_code in (200, 201), r.text
        assert (r.status_code == 200) == (key in stored)
    verify = httpx.get(base + "/api/audit/verify", headers=sec, timeout=60).json()
    assert verify["ok"], verify["problems"]

"""Load benchmark of the coordination service: nominations per second and p50/p99 latency.

Starts `python -m corridor.service serve` on 127.0.0.1 against a fresh SQLite file and, when a
PostgreSQL URL is given (--postgres or $CORRIDOR_TEST_POSTGRES_URL; THAT DATABASE IS WIPED), a
fresh PostgreSQL schema; then CLIENTS concurrent HTTP clients submit TOTAL nominations (each with
its own idempotency key) and the script prints a Markdown table. Bounded: it stops after TOTAL
requests or --max-seconds, whichever comes first. Not a unit test.

    python benchmarks/service_load.py --clients 20 --total 2000
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np

from corridor.service import demo
from corridor.service.config import ServiceSettings
from corridor.service.db import Database
from corridor.service.migrations import upgrade

SHIPPERS = ["shipper-a", "shipper-b", "shipper-c"]
POINTS = ["G08", "G44", "G47", "G05", "G03", "G38"]


def fresh(url: str) -> str:
    """Wipe and migrate the database; seed the demo accounts and points."""
    from sqlalchemy import create_engine, text

    settings = ServiceSettings(database_url=url, demo=False)
    if not settings.is_sqlite:
        engine = create_engine(settings.database_url)
        with engine.begin() as con:
            con.execute(text("DROP SCHEMA public CASCADE"))
            con.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    demo.seed_reference(db, settings, datetime.now(UTC))
    db.dispose()
    return settings.database_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "CORRIDOR_SERVICE_CONFIG": str(log.parent / "none.toml")}
    proc = subprocess.Popen([sys.executable, "-m", "corridor.service", "serve", "--db", url,
                             "--port", str(port), "--no-demo"],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


def run(base: str, clients: int, total: int, max_seconds: float) -> dict:
    """TOTAL nominations from CLIENTS threads; latency of every request."""
    tokens = {}
    for user in SHIPPERS:
        r = httpx.post(base + "/api/auth/token", timeout=30,
                       data={"username": user, "password": demo.password(user)})
        tokens[user] = {"Authorization": "Bearer " + r.json()["access_token"]}
    day = httpx.get(base + "/api/cycle", headers=tokens["shipper-a"],
                    timeout=30).json()["next_open_gas_day"]
    counter = iter(range(total))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[int] = []
    stop_at = time.monotonic() + max_seconds

    def client(k: int) -> None:
        shipper = SHIPPERS[k % len(SHIPPERS)]
        with httpx.Client(base_url=base, headers=tokens[shipper], timeout=30) as http:
            while time.monotonic() < stop_at:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                body = {"gas_day": day, "point": POINTS[i % len(POINTS)],
                        "quantity": float(i % 50)}
                t0 = time.perf_counter()
                r = http.post("/api/nominations", json=body,
                              headers={"Idempotency-Key": f"bench-{i}"})
                dt = time.perf_counter() - t0
                with lock:
                    (latencies if r.status_code == 201 else failures).append(
                        dt if r.status_code == 201 else r.status_code)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    wall = time.perf_counter() - start
    lat = np.array(latencies) * 1000
    return {"ok": len(latencies), "failed": len(failures), "seconds": wall,
            "rate": len(latencies) / wall, "p50": float(np.percentile(lat, 50)),
            "p99": float(np.percentile(lat, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--total", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=120)
    parser.add_argument("--postgres", default=os.environ.get("CORRIDOR_TEST_POSTGRES_URL"),
                        help="PostgreSQL URL of a scratch database (it is wiped)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("SQLite (WAL, synchronous=FULL)", f"sqlite:///{tmp}/bench.db")]
        if args.postgres:
            backends.append(("PostgreSQL", args.postgres))
        for name, url in backends:
            url = fresh(url)
            proc, base = serve(url, Path(tmp) / "server.log")
            try:
                result = run(base, args.clients, args.total, args.max_seconds)
            finally:
                proc.terminate()
                proc.wait(10)
            rows.append((name, result))
            print(f"{name}: {result}", file=sys.stderr)
    print(f"\n{args.clients} concurrent clients, {args.total} nominations, loopback, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| database | nominations/s | p50 latency (ms) | p99 latency (ms) | failed |")
    print("|---|---:|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['rate']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['failed']} |")


if __name__ == "__main__":
    main()

"""Service fixtures: a migrated database on SQLite (always) and PostgreSQL (when
CORRIDOR_TEST_POSTGRES_URL is set), the seeded reference data, an in-process app with a settable
clock, logins per demo account, and a real server process on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note on httpx in its test client
    from fastapi.testclient import TestClient

POSTGRES_ENV = "CORRIDOR_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
# A fixed instant: the next gas day open for nominations is 2030-03-11 (cut-off 2030-03-10 14:00)
NOW = datetime(2030, 3, 10, 12, 0, tzinfo=UTC)
OPEN_DAY = date(2030, 3, 11)
BASE_URL = "http://127.0.0.1"


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"set {POSTGRES_ENV} to run the tests on PostgreSQL")
    return url


def fresh_database(backend: str, folder: Path) -> str:
    """A migrated, empty database of that backend; returns its URL."""
    from sqlalchemy import create_engine, text

    from corridor.service.config import ServiceSettings
    from corridor.service.migrations import upgrade

    if backend == "sqlite":
        url = f"sqlite:///{folder / 'service.db'}"
    else:
        url = ServiceSettings(database_url=postgres_url()).database_url
        engine = create_engine(url)
        with engine.begin() as con:
            con.execute(text("DROP SCHEMA public CASCADE"))
            con.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    return url


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Env:
    """An in-process service: settings, database, app, client, clock and cached logins."""

    def __init__(self, url: str, **settings: object):
        from corridor.service import demo
        from corridor.service.api import create_app
        from corridor.service.config import ServiceSettings
        from corridor.service.db import Database

        self.url = url
        settings.setdefault("token_ttl_hours", 24 * 365.0)  # the tests move the clock by days
        self.settings = ServiceSettings(database_url=url, demo=False, **settings)
        self.db = Database(self.settings.database_url)
        self.clock = Clock()
        demo.seed_reference(self.db, self.settings, self.clock.now)
        self.app = create_app(self.settings, self.db, self.clock)
        # one event loop for all requests; a loopback Host, which the service answers by default
        self.client = TestClient(self.app, base_url=BASE_URL).__enter__()
        self._tokens: dict[str, str] = {}

    def token(self, username: str, fresh: bool = False) -> str:
        from corridor.service.demo import password

        if fresh or username not in self._tokens:
            r = self.client.post("/api/auth/token",
                                 data={"username": username, "password": password(username)})
            assert r.status_code == 200, r.text
            if fresh:
                return r.json()["access_token"]
            self._tokens[username] = r.json()["access_token"]
        return self._tokens[username]

    def headers(self, username: str | None, **extra: str) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.token(username)}"} if username else {}
        return {**h, **extra}

    def call(self, username: str | None, method: str, path: str, body: object = None,
             **headers: str) -> httpx.Response:
        return self.client.request(method, path, json=body,
                                   headers=self.headers(username, **headers))

    def nominate(self, username: str, point: str, quantity: float, day: date = OPEN_DAY,
                 key: str | None = None) -> dict:
        extra = {"Idempotency-Key": key} if key else {}
        r = self.call(username, "POST", "/api/nominations",
                      {"gas_day": day.isoformat(), "point": point, "quantity": quantity},
                      **extra)
        assert r.status_code in (200, 201), r.text
        return r.json()

    def confirm(self, username: str, nomination_id: int, quantity: float | None = None) -> None:
        r = self.call(username, "POST", f"/api/nominations/{nomination_id}/confirm",
                      {"quantity": quantity} if quantity is not None else None)
        assert r.status_code == 200, r.text

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.db.dispose()


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Argon2 is slow on purpose; the tests hash and check the same demo passwords over and over,
    so each (password, hash) outcome is computed once."""
    import functools

    from corridor.service import auth

    mp = pytest.MonkeyPatch()
    mp.setattr(auth, "hash_password", functools.cache(auth.hash_password))
    mp.setattr(auth, "verify_password", functools.cache(auth.verify_password))
    yield
    mp.undo()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        postgres_url()
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> str:
    return fresh_database(backend, tmp_path)


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    e = Env(database_url)
    yield e
    e.close()


# --- a real server on loopback ----------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m corridor.service serve` in a subprocess on 127.0.0.1."""

    def __init__(self, url: str, folder: Path, demo: bool = True):
        self.url, self.folder, self.demo = url, folder, demo
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Server:
        env = {**os.environ, "CORRIDOR_SERVICE_CONFIG": str(self.folder / "none.toml")}
        log = open(self.folder / f"server-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "corridor.service", "serve", "--db", self.url,
             "--port", str(self.port), "--demo" if self.demo else "--no-demo"],
            stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                if httpx.get(self.base + "/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start: {self.log()}")

    def log(self) -> str:
        return (self.folder / f"server-{self.port}.log").read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def login(base: str, username: str) -> dict[str, str]:
    from corridor.service.demo import password

    r = httpx.post(base + "/api/auth/token",
                   data={"username": username, "password": password(username)}, timeout=30)
    r.raise_for_status()
    return {"Authorization": "Bearer " + r.json()["access_token"]}


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    s = Server(database_url, tmp_path).start()
    yield s
    s.stop()


@pytest.fixture
def past_day() -> date:
    return NOW.date() - timedelta(days=2)

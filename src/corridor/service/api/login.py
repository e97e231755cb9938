"""Logging in, for the API and the dashboard alike: throttled, audited, and with password hashing
kept off the event loop and bounded.

Failed logins are counted per username and per client address. After `FREE_FAILURES` failures
for a key, each further failure locks that key for twice as long as the previous one (1 s, 2 s,
4 s, ... at most 15 minutes); a locked key is refused with 429 and `Retry-After` without checking
any password. A key is forgotten after 15 minutes without failures; a successful login clears
its username's count. Argon2 checks run in worker threads, at most `HASHING_AT_ONCE` at a time,
and at most `MAX_WAITING` logins may wait for one (more get 503): a burst of wrong passwords
cannot starve other requests. Every checked, failed login is an `auth.login_failed` audit entry.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool

from corridor.service import audit, auth

FREE_FAILURES = {"username": 5, "client": 20}
BASE_LOCK, MAX_LOCK = timedelta(seconds=1), timedelta(minutes=15)
FORGET_AFTER = timedelta(minutes=15)
HASHING_AT_ONCE, MAX_WAITING = 1, 16
MAX_KEYS = 10_000


class LoginRefused(Exception):
    """A login that is refused: `status` (401, 403, 429 or 503), message and headers."""

    def __init__(self, status: int, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.headers = ({"Retry-After": str(max(1, math.ceil(retry_after)))}
                        if retry_after is not None else {})
        if status == 401:
            self.headers["WWW-Authenticate"] = "Bearer"


@dataclass
class _Failures:
    count: int
    last: datetime
    locked_until: datetime


class Throttle:
    """Failure counts with exponential lockouts, per key, in memory (one service process)."""

    def __init__(self) -> None:
        self._keys: OrderedDict[str, _Failures] = OrderedDict()

    def _get(self, key: str, now: datetime) -> _Failures | None:
        entry = self._keys.get(key)
        if entry is not None and now - entry.last > FORGET_AFTER and now >= entry.locked_until:
            del self._keys[key]
            return None
        return entry

    def wait(self, key: str, now: datetime) -> float:
        """Seconds until `key` may try again (0 when it may now)."""
        entry = self._get(key, now)
        return max(0.0, (entry.locked_until - now).total_seconds()) if entry else 0.0

    def fail(self, key: str, free: int, now: datetime) -> float:
        """Count a failure; returns the seconds the key is now locked for (0: not locked)."""
        entry = self._get(key, now) or _Failures(0, now, now)
        entry.count, entry.last = entry.count + 1, now
        lock = timedelta(0)
        if entry.count > free:
            lock = min(MAX_LOCK, BASE_LOCK * 2 ** min(entry.count - free - 1, 20))
            entry.locked_until = now + lock
        self._keys[key] = entry
        self._keys.move_to_end(key)
        while len(self._keys) > MAX_KEYS:  # bounded memory: forget the oldest
            self._keys.popitem(last=False)
        return lock.total_seconds()

    def reset(self, key: str) -> None:
        self._keys.pop(key, None)


@dataclass
class LoginGate:
    """The throttle and the bound on concurrent password checks of one service."""

    throttle: Throttle = field(default_factory=Throttle)
    waiting: int = 0
    _limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(HASHING_AT_ONCE)
        return self._limiter


def _keys(username: str, client: str) -> dict[str, str]:
    return {"username": f"user:{username.lower()}", "client": f"client:{client}"}


async def log_in(svc: Any, username: str, password: str, client: str, via: str
                 ) -> tuple[str, datetime, Any]:
    """Check the credentials and issue a token: (token, expiry, user); raises LoginRefused."""
    from corridor.service import demo

    gate: LoginGate = svc.logins
    keys = _keys(username, client)
    now = svc.now()
    for what, key in keys.items():
        wait = gate.throttle.wait(key, now)
        if wait > 0:
            raise LoginRefused(429, f"too many failed logins for this {what}: retry in "
                                    f"{math.ceil(wait)} s", wait)
    if (username in demo.USERS and password == demo.password(username)
            and not svc.settings.demo_logins):
        raise LoginRefused(403, "the demo accounts' published passwords are refused on a "
                                "non-loopback bind; start with --demo to allow them")
    if gate.waiting >= MAX_WAITING:
        raise LoginRefused(503, "too many logins in progress: retry shortly", 1)
    gate.waiting += 1
    try:
        user = await anyio.to_thread.run_sync(_authenticate, svc, username, password,
                                              limiter=gate.limiter)
    finally:
        gate.waiting -= 1
    now = svc.now()
    if user is None:
        locked = {what: gate.throttle.fail(key, FREE_FAILURES[what], now)
                  for what, key in keys.items()}
        await run_in_threadpool(_record_failure, svc, username, client, via, locked, now)
        raise LoginRefused(401, "wrong username or password")
    gate.throttle.reset(keys["username"])
    token, expires = await run_in_threadpool(_issue, svc, user, via, now)
    return token, expires, user


def _authenticate(svc: Any, username: str, password: str) -> Any:
    with svc.db.read() as s:
        user = auth.authenticate(s, username, password)
        if user is not None:
            _ = user.party  # loaded while the session is open
        return user


def _record_failure(svc: Any, username: str, client: str, via: str,
                    locked: dict[str, float], now: datetime) -> None:
    after = {"client": client, "via": via,
             **{f"{what}_locked_seconds": s for what, s in locked.items() if s}}
    with svc.db.write() as s:
        audit.record(s, "anonymous", "auth.login_failed", "user", username, None, after, now)


def _issue(svc: Any, user: Any, via: str, now: datetime) -> tuple[str, datetime]:
    with svc.db.write() as s:
        token, expires = auth.issue_token(s, user, svc.settings.token_ttl_hours, now)
        audit.record(s, user.username, "auth.login", "user", user.username, None,
                     {"expires_at": expires.isoformat(), "via": via}, now)
    return token, expires

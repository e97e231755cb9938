"""What every route depends on: the running service and the user behind the request.

A request is authenticated by a bearer token (`Authorization: Bearer ...`, the API) or by the
dashboard's session cookie holding the same kind of token. Cookie-authenticated state changes are
also checked against cross-site requests by the middleware (see `middleware.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPBearer

from corridor.service import auth, cycle
from corridor.service.api.login import LoginGate
from corridor.service.config import ServiceSettings
from corridor.service.db import Database, User

COOKIE = "corridor_token"


@dataclass
class Service:
    """What every request needs: settings, database, gas-day convention, a clock and the login
    gate (throttling and bounded password hashing)."""

    settings: ServiceSettings
    db: Database
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    logins: LoginGate = field(default_factory=LoginGate)

    @property
    def conv(self) -> cycle.GasDayConvention:
        return cycle.GasDayConvention.from_settings(self.settings)

    @property
    def rule(self) -> str:
        return self.settings.allocation_rule

    def now(self) -> datetime:
        return self.clock()


def service(request: Request) -> Service:
    return request.app.state.service


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer` header, if any."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def request_token(request: Request) -> str | None:
    """The bearer token, else the session cookie's."""
    return bearer_token(request) or request.cookies.get(COOKIE)


def csrf_token(session_token: str) -> str:
    """The dashboard forms' anti-forgery token: derived from the HttpOnly session token, which a
    cross-site page can neither read nor guess, so it needs no storage of its own."""
    return hashlib.sha256(b"corridor-csrf\0" + session_token.encode()).hexdigest()


class Unauthenticated(Exception):
    """No valid token: answered with 401."""


# declared for the OpenAPI document (securitySchemes); the token is read by current_user
_bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                     description="a token from POST /api/auth/token")
_cookie = APIKeyCookie(name=COOKIE, auto_error=False, scheme_name="session-cookie",
                       description="the dashboard's session (same token; state changes also "
                                   "need a same-origin Origin/Referer or the CSRF token)")


def current_user(request: Request, svc: Annotated[Service, Depends(service)],
                 _b: Annotated[object, Depends(_bearer)] = None,
                 _c: Annotated[object, Depends(_cookie)] = None) -> User:
    """The user behind the bearer token or session cookie, else 401."""
    token = request_token(request)
    if not token or len(token) > 200:
        raise Unauthenticated("not authenticated: log in at POST /api/auth/token and send "
                              "'Authorization: Bearer <token>'")
    with svc.db.read() as s:
        user = auth.user_for_token(s, token, svc.now())
    if user is None:
        raise Unauthenticated("the token is invalid, expired or revoked: log in again")
    return user


Svc = Annotated[Service, Depends(service)]
CurrentUser = Annotated[User, Depends(current_user)]

"""ASGI middleware and error handlers: what every request goes through before and after a route.

- `BodyLimit`: bodies over `max_body_bytes` get 413 before anything parses them.
- `HostAllowList`: a Host header the service does not serve gets 400 (DNS rebinding).
- `CrossSiteGuard`: a state change that is not bearer-authenticated must come from the service's
  own origin (Origin, else Referer), or carry the CSRF token when a cookie-authenticated request
  has neither header; otherwise 403. SameSite alone would let a sibling port or subdomain in.
- `SecurityHeaders`: CSP, X-Frame-Options, nosniff and Referrer-Policy on every response.
- `install_error_handlers`: every error a client can cause is a 4xx `{"detail": "..."}`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from corridor.service import cycle
from corridor.service.api.dependencies import COOKIE, Unauthenticated, csrf_token
from corridor.service.permissions import Forbidden

log = logging.getLogger("corridor.service")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
CSRF_HEADER, CSRF_FIELD = "x-csrf-token", "csrf_token"
LOGIN_PATHS = {"/api/auth/token", "/login"}  # they do not act on the cookie's authority
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Swagger UI starts from an inline script, and a run's offline report is one self-contained
# page with inline scripts: only those two pages may run inline scripts
CSP_INLINE = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
INLINE_PATHS = ("/docs", "/runs/")


async def send_error(send: Callable, status: int, message: str) -> None:
    """Send `{"detail": message}` with `status` (for middleware, before any route runs)."""
    body = JSONResponse({"detail": message}).body
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _replay(messages: list[dict], then: Callable | None = None) -> Callable:
    """An ASGI receive that hands out `messages` first, then waits on `then` (disconnects)."""
    queue = list(messages)

    async def receive() -> dict:
        if queue:
            return queue.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, before parsing."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await send_error(send, 413, f"request body too large: at most {self.limit} bytes")
            return
        # read the body up to the limit before the app sees it (bodies here are small), so a
        # stream without Content-Length is refused too, with the same clear 413
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await send_error(send, 413, f"request body too large: at most {self.limit} "
                                            "bytes")
                return
        scope.setdefault("state", {})["body"] = body
        await self.app(scope, _replay([{"type": "http.request", "body": body,
                                        "more_body": False}], receive), send)


def _hostname(netloc: str) -> str | None:
    try:
        return urlsplit("//" + netloc).hostname
    except ValueError:
        return None


class HostAllowList:
    """Serve only requests whose Host header names an allowed host ("*": any)."""

    def __init__(self, app: Any, hosts: Iterable[str]):
        self.app = app
        self.hosts = {h.lower().strip("[]") for h in hosts}

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or "*" in self.hosts:
            await self.app(scope, receive, send)
            return
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        name = _hostname(host)
        if name is None or name.lower() not in self.hosts:
            await send_error(send, 400, f"this service does not answer to the host {host!r}; "
                                        "allowed hosts are set by `allowed_hosts`")
            return
        await self.app(scope, receive, send)


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL, default ports filled in; None if it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


class CrossSiteGuard:
    """Refuse cross-site state changes that a browser could make with the session cookie."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if request.headers.get("authorization", "").lower().startswith("bearer "):
            await self.app(scope, receive, send)  # a browser never adds this cross-site
            return
        own = _origin(f"{scope.get('scheme', 'http')}://{request.headers.get('host', '')}")
        claimed = request.headers.get("origin") or request.headers.get("referer")
        if claimed is not None:
            if own is None or _origin(claimed) != own:
                await send_error(send, 403, f"cross-site request refused: {claimed!r} is not "
                                            "this service's origin")
                return
        elif (COOKIE in request.cookies and scope["path"] not in LOGIN_PATHS
              and not self._token_ok(request, scope)):
            await send_error(send, 403, "cookie-authenticated change without Origin, Referer "
                                        "or CSRF token refused")
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _token_ok(request: Request, scope: dict) -> bool:
        expected = csrf_token(request.cookies[COOKIE])
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):
            form = parse_qs(scope.get("state", {}).get("body", b"").decode("latin-1"))
            sent = (form.get(CSRF_FIELD) or [None])[0]
        return sent == expected


class SecurityHeaders:
    """Add the security headers to every HTTP response (and `Secure`-only cookies over TLS)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = CSP_INLINE if path.startswith(INLINE_PATHS) else CSP

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                for name, value in ((b"content-security-policy", csp),
                                    (b"x-frame-options", "DENY"),
                                    (b"x-content-type-options", "nosniff"),
                                    (b"referrer-policy", "same-origin")):
                    if name not in names:
                        headers.append((name, value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
        msg = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            msg = f"malformed JSON ({err.get('ctx', {}).get('error', 'cannot parse')})"
            where = "body"
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """Every error a client can cause becomes a 4xx with one clear message."""

    def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
        return JSONResponse({"detail": message}, status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")}
                  for e in exc.errors()]
        return JSONResponse({"detail": _validation_message(exc), "errors": errors}, 422)

    @app.exception_handler(Unauthenticated)
    async def _unauth(_: Request, exc: Unauthenticated) -> JSONResponse:
        return error(401, str(exc), {"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return error(403, str(exc))

    @app.exception_handler(cycle.CycleError)
    async def _cycle(_: Request, exc: cycle.CycleError) -> JSONResponse:
        return error(exc.status, str(exc))

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error: %s", exc)
        return error(409, "the change conflicts with a concurrent one; retry the request")

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        log.warning("data error: %s", exc)  # the schema should have refused it first
        return error(422, "a value is out of the range the database can store")

    @app.exception_handler(OperationalError)
    async def _busy(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database error: %s", exc)
        return error(503, "the database is busy or unreachable; retry shortly",
                     {"Retry-After": "1"})

"""The HTTP API (FastAPI): authentication, the daily cycle, audit and scenario runs.

OpenAPI is served at /openapi.json and /docs. Every endpoint except /api/health and
/api/auth/token needs a bearer token (or the dashboard's session cookie). Errors are JSON
`{"detail": "..."}` with a 4xx status that says what to fix; a 500 means a bug.

Modules: `schemas` (types, bodies, errors), `dependencies` (service, current user), `login`
(throttled, audited logins), `routes`, `middleware` (body limit, Host allow-list, cross-site
guard, security headers, error handlers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from fastapi import FastAPI

from corridor.service.api.dependencies import (
    COOKIE,
    Service,
    Unauthenticated,
    csrf_token,
    current_user,
)
from corridor.service.api.middleware import (
    BodyLimit,
    CrossSiteGuard,
    HostAllowList,
    SecurityHeaders,
    install_error_handlers,
)
from corridor.service.api.routes import latest_check, public, router, run_check
from corridor.service.config import ServiceSettings, load_settings
from corridor.service.db import Database

__all__ = ["COOKIE", "Service", "Unauthenticated", "create_app", "csrf_token", "current_user",
           "iter_routes", "latest_check", "run_check"]


def create_app(settings: ServiceSettings | None = None, db: Database | None = None,
               clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The FastAPI application (API, dashboard and static files) for one database."""
    from corridor.service import web

    settings = settings or load_settings()
    svc = Service(settings, db or Database(settings.database_url))
    if clock is not None:
        svc.clock = clock
    app = FastAPI(docs_url=None, redoc_url=None,  # /docs is served locally by web.py
                  title="Corridor coordination service",
                  description="The trilateral gas union's daily cycle: nominations, "
                              "confirmation, matching, allocation, feasibility, imbalances. "
                              "Errors are `{\"detail\": \"...\"}`; gas days run from 2000-01-01 "
                              "to 2100-12-31.",
                  version=_version())
    app.state.service = svc
    install_error_handlers(app)
    app.include_router(public)
    app.include_router(router)
    web.install(app)
    # the last added runs first: headers on everything, then Host, size, cross-site checks
    app.add_middleware(CrossSiteGuard)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(HostAllowList, hosts=settings.served_hosts)
    app.add_middleware(SecurityHeaders)
    return app


def _version() -> str:
    import corridor

    return getattr(corridor, "__version__", "0")


def iter_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every API route, for the permission-matrix tests."""
    for route in app.routes:
        if getattr(route, "path", "").startswith("/api"):
            for method in sorted(getattr(route, "methods", ()) - {"HEAD", "OPTIONS"}):
                yield method, route.path

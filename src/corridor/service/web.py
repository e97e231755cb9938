"""The browser dashboard: server-rendered pages (Jinja2) with a little JavaScript for the map.

Every asset is served by the service itself: plotly.min.js from the installed plotly package and
the country borders from Corridor's package data, so the dashboard works with no internet. Forms
post to /web/* routes that call the same cycle functions as the API (and so the same permission
checks and input types), then redirect back to the dashboard with a message. Every form carries
the session's CSRF token; what the role may do comes from `permissions.can`.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from corridor.service import auth, cycle
from corridor.service.api import (
    COOKIE,
    Service,
    Unauthenticated,
    csrf_token,
    current_user,
    latest_check,
)
from corridor.service.api import schemas as sc
from corridor.service.api.login import LoginRefused, log_in
from corridor.service.api.routes import check_ceiling, client_address
from corridor.service.db import Nomination, User
from corridor.service.permissions import Forbidden, can, capabilities

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


GEO = HERE.parent / "data" / "geo" / "world_110m.json"
ASSETS = {"plotly.min.js": _plotly_js, "world_110m.json": lambda: GEO,
          "dashboard.js": lambda: HERE / "static" / "dashboard.js",
          "style.css": lambda: HERE / "static" / "style.css",
          "swagger-ui-bundle.js": lambda: HERE / "static" / "swagger" / "swagger-ui-bundle.js",
          "swagger-ui.css": lambda: HERE / "static" / "swagger" / "swagger-ui.css",
          "favicon-32x32.png": lambda: HERE / "static" / "swagger" / "favicon-32x32.png"}


def _svc(request: Request) -> Service:
    return request.app.state.service


def _user(request: Request) -> User | None:
    try:
        return current_user(request, _svc(request))
    except Unauthenticated:
        return None


def script_json(value: Any) -> str:
    """JSON for a <script type="application/json"> block: non-finite numbers become null (the
    browser's JSON.parse refuses Infinity and NaN), and <, >, & are escaped so the text cannot
    end the script element."""

    def finite(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: finite(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [finite(x) for x in v]
        return v

    text = json.dumps(finite(value), allow_nan=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _back(day: date | str | None = None, msg: str = "", error: str = "") -> RedirectResponse:
    query = {k: v for k, v in (("gas_day", str(day) if day else ""), ("msg", msg[:500]),
                               ("error", error[:500])) if v}
    return RedirectResponse("/dashboard" + ("?" + urlencode(query) if query else ""), 303)


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The dashboard's assets, all local."""
    if name not in ASSETS:
        return Response("not found", 404)
    media = "application/json" if name.endswith(".json") else None
    return FileResponse(ASSETS[name](), media_type=media,
                        headers={"Cache-Control": "public, max-age=3600"})


@router.get("/docs", include_in_schema=False)
def api_docs() -> Response:
    """Swagger UI for the OpenAPI document, with its script and styles served locally."""
    from fastapi.openapi.docs import get_swagger_ui_html

    return get_swagger_ui_html(openapi_url="/openapi.json", title="Corridor service API",
                               swagger_js_url="/static/swagger-ui-bundle.js",
                               swagger_css_url="/static/swagger-ui.css",
                               swagger_favicon_url="/static/favicon-32x32.png",
                               swagger_ui_parameters={"validatorUrl": None})  # no outside calls


@router.get("/")
def root(request: Request) -> RedirectResponse:
    return RedirectResponse("/dashboard" if _user(request) else "/login", 303)


Message = Annotated[str, Query(max_length=500)]


def _login_page(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"error": error},
                                      status_code=status)


@router.get("/login")
def login_page(request: Request, error: Message = "") -> HTMLResponse:
    return _login_page(request, error, 401 if error else 200)


@router.post("/login")
async def login(request: Request, username: Annotated[sc.Username, Form()],
                password: Annotated[sc.Password, Form()]) -> Response:
    """The dashboard's login: the API's throttled, audited login, then the session cookie."""
    svc = _svc(request)
    try:
        token, _, _ = await log_in(svc, username, password, client_address(request),
                                   "dashboard")
    except LoginRefused as exc:
        page = _login_page(request, str(exc), exc.status)
        page.headers.update(exc.headers)
        return page
    response = RedirectResponse("/dashboard", 303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                        secure=svc.settings.cookie_secure or request.url.scheme == "https",
                        max_age=int(svc.settings.token_ttl_hours * 3600))
    return response


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    svc = _svc(request)
    token = request.cookies.get(COOKIE)
    if token:
        with svc.db.write() as s:
            auth.revoke_token(s, token)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/dashboard")
def dashboard(request: Request, gas_day: sc.GasDayQuery = None, msg: Message = "",
              error: Message = "") -> Response:
    """The whole dashboard for the logged-in user's role."""
    user = _user(request)
    if user is None:
        return RedirectResponse("/login", 303)
    svc = _svc(request)
    now, conv = svc.now(), svc.conv
    day = gas_day or conv.next_open(now)
    role = user.role
    ctx: dict = {"user": user, "role": role, "day": day, "msg": msg, "error": error,
                 "info": conv.describe(day, now), "next_open": conv.next_open(now),
                 "current": conv.day_of(now), "rule": svc.rule, "can": capabilities(role),
                 "idempotency_key": uuid.uuid4().hex, "ended": now >= conv.end(day),
                 "csrf": csrf_token(request.cookies.get(COOKIE, ""))}
    with svc.db.read() as s:
        ctx["status"] = cycle.day_status(s, day)
        ctx["points"] = cycle.point_summary(s, user, day)
        ctx["nominations"] = (cycle.visible_nominations(s, user, day)
                              if ctx["can"]["nominations.read"] else [])
        ctx["allocations"] = {a.nomination_id: a for a in cycle.visible_allocations(s, user, day)}
        ctx["imbalances"] = cycle.imbalances(s, user, day)
        ctx["my_points"] = cycle.operator_points(s, user)
        ctx["sides"] = {p.id: ("from" if p.from_country == user.party.country else "to")
                        for p in ctx["my_points"]}
    ctx["check"] = latest_check(svc, user, day) if ctx["can"]["feasibility.read"] else None
    ctx["runs"] = _runs(svc) if ctx["can"]["runs.read"] else None
    ctx["points_json"] = script_json(ctx["points"])
    return templates.TemplateResponse(request, "dashboard.html", ctx)


def _runs(svc: Service) -> list[dict] | str:
    from corridor.store import Store, StoreError

    try:
        with Store(svc.settings.store) as store:
            df = store.runs().head(20)
    except (StoreError, OSError) as exc:
        return f"the results store cannot be read now: {exc}"
    return df.to_dict(orient="records")


@router.get("/runs/{run_id}/report")
def run_report(request: Request, run_id: sc.IdPath) -> Response:
    """The offline HTML report of a stored scenario run (analysts)."""
    from corridor.report.html import report_html
    from corridor.store import Store, StoreError

    user = _user(request)
    if user is None:
        return RedirectResponse("/login", 303)
    if not can(user.role, "runs.read"):
        return HTMLResponse("a shipper may not see scenario runs", 403)
    try:
        with Store(_svc(request).settings.store) as store:
            run = store.load(run_id)
    except StoreError as exc:
        return HTMLResponse(str(exc), 404)
    return HTMLResponse(report_html(run))


def _act(request: Request, day: object, action, done: str,
         ceiling: tuple[str, float | None] | None = None) -> RedirectResponse:
    """Run a state change for the dashboard; errors come back as a message, never a 500.
    `ceiling`: (point, quantity) to check against the point's technical capacity first."""
    user = _user(request)
    if user is None:
        return RedirectResponse("/login", 303)
    svc = _svc(request)
    try:
        if ceiling is not None:
            check_ceiling(svc, ceiling[0], {"quantity": ceiling[1]})
        with svc.db.write() as s:
            action(s, user, svc)
    except (cycle.CycleError, Forbidden) as exc:
        return _back(day, error=str(exc))
    return _back(day, msg=done)


FormDay = Annotated[sc.GasDay, Form()]


@router.post("/web/nominate")
def web_nominate(request: Request, gas_day: FormDay, point: Annotated[sc.Code, Form()],
                 quantity: Annotated[sc.FormQuantity, Form()],
                 idempotency_key: Annotated[sc.IdempotencyKey, Form()]) -> RedirectResponse:
    return _act(request, gas_day, lambda s, u, svc: cycle.submit_nomination(
        s, u, svc.conv, svc.rule, gas_day, point, quantity, idempotency_key, svc.now()),
        f"Nominated {quantity:g} mcm at {point} for gas day {gas_day}.", (point, quantity))


@router.post("/web/confirm/{nomination_id}")
def web_confirm(request: Request, nomination_id: sc.IdPath, gas_day: FormDay,
                quantity: Annotated[sc.FormQuantity | None, Form()] = None) -> RedirectResponse:
    if nomination_id > sc.STORED_MAX_ID:
        return _back(gas_day, error=f"no nomination {nomination_id}")
    point = None
    if quantity is not None:
        with _svc(request).db.read() as s:
            n = s.get(Nomination, nomination_id)
            point = n.point.code if n is not None else None
    return _act(request, gas_day, lambda s, u, svc: cycle.confirm(
        s, u, svc.rule, nomination_id, quantity, svc.now(), svc.conv),
        f"Confirmed nomination {nomination_id}.", (point, quantity) if point else None)


@router.post("/web/close")
def web_close(request: Request, gas_day: FormDay) -> RedirectResponse:
    response = _act(request, gas_day, lambda s, u, svc: cycle.close_day(
        s, u, svc.conv, svc.rule, gas_day, svc.now()), f"Gas day {gas_day} closed.")
    if "error=" not in response.headers["location"]:
        _check(request, gas_day)
    return response


def _check(request: Request, day: date) -> str | None:
    from corridor.service.api import run_check

    user = _user(request)
    try:
        run_check(_svc(request), user, day)
    except (cycle.CycleError, Forbidden) as exc:
        return str(exc)
    return None


@router.post("/web/check")
def web_check(request: Request, gas_day: FormDay) -> RedirectResponse:
    if _user(request) is None:
        return RedirectResponse("/login", 303)
    problem = _check(request, gas_day)
    return _back(gas_day, error=problem or "", msg="" if problem else "Plan checked.")


@router.post("/web/measure")
def web_measure(request: Request, gas_day: FormDay, point: Annotated[sc.Code, Form()],
                quantity: Annotated[sc.FormQuantity, Form()]) -> RedirectResponse:
    return _act(request, gas_day, lambda s, u, svc: cycle.upload_measurement(
        s, u, svc.conv, gas_day, point, quantity, None, svc.now()),
        f"Measured flow at {point} stored.", (point, quantity))


def install(app: FastAPI) -> None:
    """Add the dashboard's routes to the application."""
    app.include_router(router)

"""The HTTP API (FastAPI): authentication, the daily cycle, audit and scenario runs.

OpenAPI is served at /docs. Every endpoint except /api/health and /api/auth/token needs a bearer
token (or the dashboard's session cookie). Errors are JSON `{"detail": "..."}` with a 4xx status
that says what to fix; a 500 means a bug.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from corridor.service import audit, auth, cycle
from corridor.service.config import ServiceSettings, load_settings
from corridor.service.db import ROLES, Database, FeasibilityCheck, Measurement, Party, User
from corridor.service.permissions import Forbidden, allowed, require, scope, visible

log = logging.getLogger("corridor.service")
COOKIE = "corridor_token"


# --- the running service ----------------------------------------------------------------------

@dataclass
class Service:
    """What every request needs: settings, database, gas-day convention and a clock."""

    settings: ServiceSettings
    db: Database
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

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


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE)


class Unauthenticated(Exception):
    """No valid token: answered with 401."""


def current_user(request: Request, svc: Annotated[Service, Depends(service)]) -> User:
    """The user behind the bearer token or session cookie, else 401."""
    token = _token(request)
    if not token:
        raise Unauthenticated("not authenticated: log in at POST /api/auth/token and send "
                              "'Authorization: Bearer <token>'")
    with svc.db.read() as s:
        user = auth.user_for_token(s, token, svc.now())
    if user is None:
        raise Unauthenticated("the token is invalid, expired or revoked: log in again")
    return user


Svc = Annotated[Service, Depends(service)]
CurrentUser = Annotated[User, Depends(current_user)]


# --- request and response bodies --------------------------------------------------------------

class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NominationIn(Strict):
    gas_day: date = Field(description="the gas day (named by the date on which it starts)")
    point: str = Field(min_length=1, max_length=40, description="interconnection point code")
    quantity: float = Field(ge=0, allow_inf_nan=False, description="mcm per gas day")


class ConfirmIn(Strict):
    quantity: float | None = Field(None, ge=0, allow_inf_nan=False,
                                   description="confirmed mcm per gas day (default: as nominated)")


class CapacityIn(Strict):
    capacity: float = Field(ge=0, allow_inf_nan=False, description="mcm per gas day")


class BookingIn(Strict):
    shipper: str
    point: str
    firm: float = Field(ge=0, allow_inf_nan=False, description="booked firm mcm per gas day")


class MeasurementIn(Strict):
    quantity: float = Field(ge=0, allow_inf_nan=False, description="metered mcm over the day")
    by_shipper: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = None


class PartyIn(Strict):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(pattern="^(" + "|".join(ROLES) + ")$")
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")


class UserIn(Strict):
    username: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=200)
    party: str


def party_dict(p: Party) -> dict:
    return {"id": p.id, "code": p.code, "name": p.name, "kind": p.kind, "country": p.country}


# --- routers ----------------------------------------------------------------------------------

public = APIRouter(prefix="/api", tags=["public"])
router = APIRouter(prefix="/api")


@public.get("/health")
def health(svc: Svc) -> dict:
    """Liveness and database reachability; needs no token."""
    with svc.db.read() as s:
        s.execute(text("SELECT 1"))
    return {"status": "ok"}


@public.post("/auth/token")
def login(svc: Svc, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict:
    """Exchange username and password (form fields) for a bearer token."""
    with svc.db.read() as s:
        user = auth.authenticate(s, form.username, form.password)
    if user is None:
        raise Unauthenticated("wrong username or password")
    now = svc.now()
    with svc.db.write() as s:
        token, expires = auth.issue_token(s, user, svc.settings.token_ttl_hours, now)
        audit.record(s, user.username, "auth.login", "user", user.username, None,
                     {"expires_at": expires.isoformat()}, now)
    return {"access_token": token, "token_type": "bearer", "expires_at": expires.isoformat(),
            "role": user.role, "party": user.party.code}


@router.post("/auth/logout", tags=["auth"])
def logout(request: Request, svc: Svc, user: CurrentUser) -> dict:
    """Revoke the token used for this request."""
    with svc.db.write() as s:
        auth.revoke_token(s, _token(request) or "")
        audit.record(s, user.username, "auth.logout", "user", user.username, None, None,
                     svc.now())
    return {"status": "logged out"}


@router.get("/me", tags=["auth"])
def me(user: CurrentUser) -> dict:
    """Who the token belongs to."""
    return {"username": user.username, "role": user.role, "party": party_dict(user.party)}


@router.get("/cycle", tags=["gas days"])
def cycle_info(svc: Svc, user: CurrentUser) -> dict:
    """The gas-day convention, the current time and the next gas day open for nominations."""
    scope(user, "days.read")
    now, conv = svc.now(), svc.conv
    nxt = conv.next_open(now)
    return {"now": now.isoformat(), "timezone": conv.timezone, "start_hour": conv.start_hour,
            "cutoff_hours": conv.cutoff_hours, "horizon_days": conv.horizon_days,
            "allocation_rule": svc.rule, "current_gas_day": conv.day_of(now).isoformat(),
            "next_open_gas_day": nxt.isoformat(), **{"next": conv.describe(nxt, now)}}


@router.get("/parties", tags=["configuration"])
def parties(svc: Svc, user: CurrentUser) -> list[dict]:
    """Members, shippers, secretariat and regulators (a shipper sees only itself)."""
    scope(user, "parties.read")
    with svc.db.read() as s:
        rows = s.scalars(select(Party).order_by(Party.kind, Party.code)).all()
    return [party_dict(p) for p in rows if allowed(user, "parties.read", party_id=p.id)]


@router.post("/parties", tags=["configuration"], status_code=201)
def create_party(body: PartyIn, svc: Svc, user: CurrentUser) -> dict:
    """Add a member operator, shipper, secretariat or regulator party (secretariat only)."""
    require(user, "parties.write")
    if body.kind == "operator" and not body.country:
        raise cycle.Invalid("an operator party needs its country (ISO 3166 alpha-2)")
    with svc.db.write() as s:
        if s.scalar(select(Party).where(Party.code == body.code)):
            raise cycle.Conflict(f"party {body.code!r} exists already")
        party = Party(**body.model_dump())
        s.add(party)
        s.flush()
        audit.record(s, user.username, "party.create", "party", party.code, None,
                     party_dict(party), svc.now())
        return party_dict(party)


@router.post("/users", tags=["configuration"], status_code=201)
def create_user(body: UserIn, svc: Svc, user: CurrentUser) -> dict:
    """Add a login for a party (secretariat only); the password is stored as an Argon2 hash."""
    require(user, "users.write")
    hashed = auth.hash_password(body.password)
    with svc.db.write() as s:
        party = cycle.party_by_code(s, body.party)
        if s.scalar(select(User).where(User.username == body.username)):
            raise cycle.Conflict(f"user {body.username!r} exists already")
        new = User(username=body.username, password_hash=hashed, party_id=party.id, active=True)
        s.add(new)
        s.flush()
        audit.record(s, user.username, "user.create", "user", new.username, None,
                     {"username": new.username, "party": party.code}, svc.now())
        return {"username": new.username, "party": party.code, "role": party.kind}


@router.get("/points", tags=["points"])
def points(svc: Svc, user: CurrentUser,
           gas_day: Annotated[date | None, Query()] = None) -> list[dict]:
    """Interconnection points with capacity and the day's totals the user may see."""
    day = gas_day or svc.conv.next_open(svc.now())
    with svc.db.read() as s:
        return cycle.point_summary(s, user, day)


@router.get("/points/{code}", tags=["points"])
def point(code: str, svc: Svc, user: CurrentUser,
          gas_day: Annotated[date | None, Query()] = None) -> dict:
    """One point (an operator sees only its own)."""
    day = gas_day or svc.conv.next_open(svc.now())
    with svc.db.read() as s:
        p = cycle.point_by_code(s, code)
        require(user, "points.read", point=p, what=f"point {code}")
        return next(r for r in cycle.point_summary(s, user, day) if r["point"] == code)


@router.put("/points/{code}/capacity/{gas_day}", tags=["points"])
def put_capacity(code: str, gas_day: date, body: CapacityIn, svc: Svc,
                 user: CurrentUser) -> dict:
    """Set a point's technical capacity for one gas day (secretariat)."""
    require(user, "points.write")
    with svc.db.write() as s:
        value = cycle.set_capacity(s, user, svc.rule, code, gas_day, body.capacity, svc.now())
    return {"point": code, "gas_day": gas_day.isoformat(), "capacity": value}


@router.get("/bookings", tags=["points"])
def bookings(svc: Svc, user: CurrentUser) -> list[dict]:
    """Booked firm capacity (a shipper sees its own, an operator those at its points)."""
    from corridor.service.db import Booking

    scope(user, "bookings.read")
    with svc.db.read() as s:
        rows = s.scalars(select(Booking)).all()
        pts = {p.id: p for p in s.scalars(select(cycle.Point))}
        parties_ = {p.id: p for p in s.scalars(select(Party))}
    rows = visible(user, "bookings.read", rows, lambda b: pts[b.point_id],
                   lambda b: b.shipper_id)
    return [{"shipper": parties_[b.shipper_id].code, "point": pts[b.point_id].code,
             "firm": b.firm} for b in rows]


@router.put("/bookings", tags=["points"])
def put_booking(body: BookingIn, svc: Svc, user: CurrentUser) -> dict:
    """Record a shipper's booked firm capacity at a point (secretariat)."""
    require(user, "bookings.write")
    with svc.db.write() as s:
        cycle.set_booking(s, user, body.shipper, body.point, body.firm, svc.now())
    return body.model_dump()


@router.post("/nominations", tags=["nominations"], status_code=201)
def nominate(body: NominationIn, response: Response, svc: Svc, user: CurrentUser,
             idempotency_key: Annotated[str | None, Header(
                 description="one key per submission: a retry with the same key returns the "
                             "original nomination instead of creating a second")] = None) -> dict:
    """Nominate or renominate (shippers, until the cut-off); the latest version is in force."""
    require(user, "nominations.write", shipper_id=user.party_id)
    with svc.db.write() as s:
        nom, created = cycle.submit_nomination(s, user, svc.conv, svc.rule, body.gas_day,
                                               body.point, body.quantity, idempotency_key,
                                               svc.now())
        out = cycle.nomination_dict(nom)
    if not created:
        response.status_code = 200
    return {**out, "replayed": not created}


@router.get("/nominations", tags=["nominations"])
def nominations(svc: Svc, user: CurrentUser, gas_day: Annotated[date | None, Query()] = None,
                history: bool = False) -> list[dict]:
    """Nominations in force for a gas day (or every version with history=true) that the user
    may see, with each side's confirmation."""
    day = gas_day or svc.conv.next_open(svc.now())
    with svc.db.read() as s:
        rows = cycle.visible_nominations(s, user, day, history)
        allocs = {a.nomination_id: a for a in cycle.allocations(s, day)}
        out = []
        for n in rows:
            a = allocs.get(n.id)
            out.append({**cycle.nomination_dict(n),
                        "from_country": n.point.from_country, "to_country": n.point.to_country,
                        "confirmed_from": a.confirmed_from if a else None,
                        "confirmed_to": a.confirmed_to if a else None})
        return out


@router.get("/nominations/{nomination_id}", tags=["nominations"])
def nomination(nomination_id: int, svc: Svc, user: CurrentUser) -> dict:
    """One nomination version (only its shipper, the operators of its point, the secretariat
    and regulators may see it)."""
    scope(user, "nominations.read")
    with svc.db.read() as s:
        n = s.get(cycle.Nomination, nomination_id)
        if n is None:
            raise cycle.NotFound(f"no nomination {nomination_id}")
        require(user, "nominations.read", point=n.point, shipper_id=n.shipper_id,
                what=f"nomination {nomination_id}")
        return cycle.nomination_dict(n)


@router.post("/nominations/{nomination_id}/confirm", tags=["nominations"])
def confirm(nomination_id: int, svc: Svc, user: CurrentUser,
            body: ConfirmIn | None = None) -> dict:
    """Confirm a nomination for the caller's side of the point (operators of that point)."""
    scope(user, "confirmations.write")
    with svc.db.write() as s:
        row = cycle.confirm(s, user, svc.rule, nomination_id, body.quantity if body else None,
                            svc.now(), svc.conv)
        return {"nomination_id": nomination_id, "side": row.side, "quantity": row.quantity}


@router.get("/gas-days/{gas_day}", tags=["gas days"])
def gas_day_info(gas_day: date, svc: Svc, user: CurrentUser) -> dict:
    """A gas day's times (start, end, cut-off) and status."""
    scope(user, "days.read")
    with svc.db.read() as s:
        status = cycle.day_status(s, gas_day)
    return {**svc.conv.describe(gas_day, svc.now()), "status": status}


@router.get("/gas-days/{gas_day}/allocations", tags=["gas days"])
def allocations(gas_day: date, svc: Svc, user: CurrentUser) -> list[dict]:
    """Matched and allocated quantities the user may see."""
    with svc.db.read() as s:
        return [cycle.allocation_dict(a) for a in cycle.visible_allocations(s, user, gas_day)]


@router.post("/gas-days/{gas_day}/close", tags=["gas days"])
def close(gas_day: date, svc: Svc, user: CurrentUser) -> dict:
    """Finalise the day's allocation (secretariat, after the cut-off), then check the plan."""
    require(user, "days.close")
    with svc.db.write() as s:
        rows = cycle.close_day(s, user, svc.conv, svc.rule, gas_day, svc.now())
    check = run_check(svc, user, gas_day)
    return {"gas_day": gas_day.isoformat(), "status": "closed", "allocations": rows,
            "feasibility": check}


def run_check(svc: Service, user: User, day: date) -> dict:
    """Check the day plan on the whole network and store the outcome (one transaction)."""
    from corridor.service.feasibility import check_day_plan, load_network

    require(user, "feasibility.run")
    with svc.db.read() as s:
        flows = [{"point": p["point"], "link": p["link"], "direction": p["direction"],
                  "allocated": p["allocated"]} for p in cycle.point_summary(s, user, day)]
    try:
        result = check_day_plan(load_network(svc.settings.network), flows,
                                svc.settings.hydraulics)
    except Exception as exc:  # a network or solver failure is reported, not raised
        log.exception("feasibility check failed")
        result = {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
    with svc.db.write() as s:
        row = FeasibilityCheck(gas_day=day, created_at=svc.now(), created_by=user.id,
                               status=result["status"], result=result)
        s.add(row)
        s.flush()
        audit.record(s, user.username, "feasibility.check", "gas_day", day.isoformat(), None,
                     {"check_id": row.id, "status": result["status"],
                      "infeasible_points": result.get("infeasible_points", [])}, svc.now())
        return {"id": row.id, "gas_day": day.isoformat(), **result}


@router.post("/gas-days/{gas_day}/check", tags=["gas days"])
def check(gas_day: date, svc: Svc, user: CurrentUser) -> dict:
    """Check the day plan with the optimiser on the whole network (and hydraulics)."""
    return run_check(svc, user, gas_day)


def latest_check(svc: Service, user: User, day: date) -> dict | None:
    """The newest stored check of a day, reduced to the user's points for an operator."""
    scope(user, "feasibility.read")
    with svc.db.read() as s:
        row = s.scalar(select(FeasibilityCheck).where(FeasibilityCheck.gas_day == day)
                       .order_by(FeasibilityCheck.id.desc()).limit(1))
        if row is None:
            return None
        result = dict(row.result)
        own = {p.code for p in cycle.operator_points(s, user)}
    if scope(user, "feasibility.read") != "all":
        result["points"] = [p for p in result.get("points", []) if p["point"] in own]
        result["infeasible_points"] = [p for p in result.get("infeasible_points", [])
                                       if p in own]
        result.pop("plan", None)
        result.pop("unmet_demand", None)
    return {"id": row.id, "gas_day": day.isoformat(), **result}


@router.get("/gas-days/{gas_day}/check", tags=["gas days"])
def get_check(gas_day: date, svc: Svc, user: CurrentUser) -> dict:
    """The latest feasibility check of the day (an operator sees its own points)."""
    found = latest_check(svc, user, gas_day)
    if found is None:
        raise cycle.NotFound(f"gas day {gas_day} has not been checked yet")
    return found


@router.put("/gas-days/{gas_day}/measurements/{code}", tags=["after the day"])
def put_measurement(gas_day: date, code: str, body: MeasurementIn, svc: Svc,
                    user: CurrentUser) -> dict:
    """Upload the metered flow at a point after the day (operators of that point)."""
    scope(user, "measurements.write")
    with svc.db.write() as s:
        row = cycle.upload_measurement(s, user, svc.conv, gas_day, code, body.quantity,
                                       body.by_shipper, svc.now())
        return {"gas_day": gas_day.isoformat(), "point": code, "quantity": row.quantity,
                "by_shipper": row.by_shipper}


@router.get("/gas-days/{gas_day}/measurements", tags=["after the day"])
def measurements(gas_day: date, svc: Svc, user: CurrentUser) -> list[dict]:
    """Metered flows of the day at the points the user may see."""
    scope(user, "measurements.read")
    with svc.db.read() as s:
        rows = s.scalars(select(Measurement).where(Measurement.gas_day == gas_day)).all()
        rows = visible(user, "measurements.read", rows, lambda m: m.point)
        return [{"point": m.point.code, "quantity": m.quantity, "by_shipper": m.by_shipper}
                for m in rows]


@router.get("/gas-days/{gas_day}/imbalances", tags=["after the day"])
def imbalances(gas_day: date, svc: Svc, user: CurrentUser) -> list[dict]:
    """Measured minus allocated per shipper and point (a shipper sees its own)."""
    with svc.db.read() as s:
        return cycle.imbalances(s, user, gas_day)


@router.get("/audit", tags=["audit"])
def audit_entries(svc: Svc, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  before: int | None = None) -> list[dict]:
    """The audit chain, newest first (secretariat and regulators)."""
    require(user, "audit.read")
    with svc.db.read() as s:
        return [{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                 "entity": e.entity, "entity_id": e.entity_id, "before": e.before,
                 "after": e.after, "hash": e.hash} for e in audit.entries(s, limit, before)]


@router.get("/audit/verify", tags=["audit"])
def audit_verify(svc: Svc, user: CurrentUser) -> dict:
    """Recompute the whole hash chain (secretariat and regulators)."""
    require(user, "audit.read")
    with svc.db.read() as s:
        return audit.verify(s).to_dict()


def _store(svc: Service):
    from corridor.store import Store, StoreError

    try:
        return Store(svc.settings.store)
    except StoreError as exc:
        raise cycle.Conflict(f"the results store cannot be opened now: {exc}") from None


@router.get("/runs", tags=["scenario runs"])
def runs(svc: Svc, user: CurrentUser) -> list[dict]:
    """Stored scenario runs (analysts: secretariat, operators, regulators)."""
    require(user, "runs.read")
    with _store(svc) as store:
        df = store.runs()
    df["created"] = df["created"].astype(str)
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")


# --- the application --------------------------------------------------------------------------

class BodyLimit:
    """ASGI middleware: refuse request bodies over `limit` bytes with 413, before parsing."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope_: dict, receive: Callable, send: Callable) -> None:
        if scope_["type"] != "http":
            await self.app(scope_, receive, send)
            return
        headers = dict(scope_.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(self.limit, send)
            return
        # read the body up to the limit before the app sees it (bodies here are small), so a
        # stream without Content-Length is refused too, with the same clear 413
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope_, _replay([message]), send)
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await _too_large(self.limit, send)
                return
        await self.app(scope_, _replay([{"type": "http.request", "body": body,
                                          "more_body": False}], receive), send)


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


async def _too_large(limit: int, send: Callable) -> None:
    response = JSONResponse({"detail": f"request body too large: at most {limit} bytes"}, 413)
    body = response.body
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


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

    @app.exception_handler(OperationalError)
    async def _busy(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database error: %s", exc)
        return error(503, "the database is busy or unreachable; retry shortly",
                     {"Retry-After": "1"})


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
                              "confirmation, matching, allocation, feasibility, imbalances.",
                  version=_version())
    app.state.service = svc
    install_error_handlers(app)
    app.include_router(public)
    app.include_router(router)
    web.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
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

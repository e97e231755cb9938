"""The API's routes: authentication, configuration, the daily cycle, audit and scenario runs.

Each route declares the errors it can answer (`responses=`), so the OpenAPI document lists every
status a client can get. Quantities are also bounded here by a multiple of the point's technical
capacity (`quantity_limit_factor`), a read-only check before the cycle's transaction.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, text

from corridor.service import audit, auth, cycle
from corridor.service.api import schemas as sc
from corridor.service.api.dependencies import (
    CurrentUser,
    Service,
    Svc,
    request_token,
)
from corridor.service.api.login import LoginRefused, log_in
from corridor.service.api.schemas import errors
from corridor.service.db import (
    Booking,
    FeasibilityCheck,
    Measurement,
    Nomination,
    Party,
    Point,
    User,
)
from corridor.service.permissions import allowed, require, scope, visible

log = logging.getLogger("corridor.service")

# the errors every route of a kind can give (400: bad Host header or unparseable body)
_READ = (400, 401, 403, 422, 503)
_WRITE = (400, 401, 403, 409, 413, 422, 503)

public = APIRouter(prefix="/api", tags=["public"])
router = APIRouter(prefix="/api")


def party_dict(p: Party) -> dict:
    return {"id": p.id, "code": p.code, "name": p.name, "kind": p.kind, "country": p.country}


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_ceiling(svc: Service, point_code: str, values: dict[str, float | None]) -> None:
    """Refuse a quantity above `quantity_limit_factor` times the point's technical capacity
    (an unknown point is left to the cycle, which names the known ones)."""
    factor = svc.settings.quantity_limit_factor
    with svc.db.read() as s:
        cap = s.scalar(select(Point.capacity).where(Point.code == point_code))
    if cap is None:
        return
    for what, value in values.items():
        if value is not None and value > factor * cap:
            raise cycle.Invalid(f"{what} {value:g} mcm/d is more than {factor:g} times the "
                                f"technical capacity of point {point_code} ({cap:g} mcm/d)")


@public.get("/health", responses=errors(400, 503))
def health(svc: Svc) -> dict:
    """Liveness and database reachability; needs no token."""
    with svc.db.read() as s:
        s.execute(text("SELECT 1"))
    return {"status": "ok"}


class LoginForm(BaseModel):
    """OAuth2 password-flow fields (other OAuth2 fields such as grant_type are ignored)."""

    model_config = ConfigDict(extra="ignore")
    username: sc.Username
    password: sc.Password


@public.post("/auth/token", responses=errors(400, 401, 403, 413, 422, 429, 503))
async def login(request: Request, form: Annotated[LoginForm, Form()]) -> JSONResponse:
    """Exchange username and password (form fields) for a bearer token. Failed logins are
    throttled per username and per client (429 with Retry-After) and audited."""
    svc: Service = request.app.state.service
    try:
        token, expires, user = await log_in(svc, form.username, form.password,
                                            client_address(request), "api")
    except LoginRefused as exc:
        return JSONResponse({"detail": str(exc)}, exc.status, headers=exc.headers)
    return JSONResponse({"access_token": token, "token_type": "bearer",
                         "expires_at": expires.isoformat(), "role": user.role,
                         "party": user.party.code})


@router.post("/auth/logout", tags=["auth"], responses=errors(400, 401, 403, 503))
def logout(request: Request, svc: Svc, user: CurrentUser) -> dict:
    """Revoke the token used for this request."""
    with svc.db.write() as s:
        auth.revoke_token(s, request_token(request) or "")
        audit.record(s, user.username, "auth.logout", "user", user.username, None, None,
                     svc.now())
    return {"status": "logged out"}


@router.get("/me", tags=["auth"], responses=errors(400, 401, 503))
def me(user: CurrentUser) -> dict:
    """Who the token belongs to."""
    return {"username": user.username, "role": user.role, "party": party_dict(user.party)}


@router.get("/cycle", tags=["gas days"], responses=errors(400, 401, 403, 503))
def cycle_info(svc: Svc, user: CurrentUser) -> dict:
    """The gas-day convention, the current time and the next gas day open for nominations."""
    scope(user, "days.read")
    now, conv = svc.now(), svc.conv
    nxt = conv.next_open(now)
    return {"now": now.isoformat(), "timezone": conv.timezone, "start_hour": conv.start_hour,
            "cutoff_hours": conv.cutoff_hours, "horizon_days": conv.horizon_days,
            "allocation_rule": svc.rule, "current_gas_day": conv.day_of(now).isoformat(),
            "next_open_gas_day": nxt.isoformat(), "next": conv.describe(nxt, now)}


@router.get("/parties", tags=["configuration"], responses=errors(400, 401, 403, 503))
def parties(svc: Svc, user: CurrentUser) -> list[dict]:
    """Members, shippers, secretariat and regulators (a shipper sees only itself)."""
    scope(user, "parties.read")
    with svc.db.read() as s:
        rows = s.scalars(select(Party).order_by(Party.kind, Party.code)).all()
    return [party_dict(p) for p in rows if allowed(user, "parties.read", party_id=p.id)]


@router.post("/parties", tags=["configuration"], status_code=201, responses=errors(*_WRITE))
def create_party(body: sc.PartyIn, svc: Svc, user: CurrentUser) -> dict:
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


@router.post("/users", tags=["configuration"], status_code=201, responses=errors(*_WRITE))
def create_user(body: sc.UserIn, svc: Svc, user: CurrentUser) -> dict:
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


@router.get("/points", tags=["points"], responses=errors(*_READ))
def points(svc: Svc, user: CurrentUser, gas_day: sc.GasDayQuery = None) -> list[dict]:
    """Interconnection points with capacity and the day's totals the user may see."""
    day = gas_day or svc.conv.next_open(svc.now())
    with svc.db.read() as s:
        return cycle.point_summary(s, user, day)


@router.get("/points/{code}", tags=["points"], responses=errors(*_READ))
def point(code: sc.CodePath, svc: Svc, user: CurrentUser,
          gas_day: sc.GasDayQuery = None) -> dict:
    """One point (an operator sees only its own; an unknown code is 422)."""
    day = gas_day or svc.conv.next_open(svc.now())
    with svc.db.read() as s:
        p = cycle.point_by_code(s, code)
        require(user, "points.read", point=p, what=f"point {code}")
        return next(r for r in cycle.point_summary(s, user, day) if r["point"] == code)


@router.put("/points/{code}/capacity/{gas_day}", tags=["points"], responses=errors(*_WRITE))
def put_capacity(code: sc.CodePath, gas_day: sc.GasDayPath, body: sc.CapacityIn, svc: Svc,
                 user: CurrentUser) -> dict:
    """Set a point's technical capacity for one gas day (secretariat)."""
    require(user, "points.write")
    check_ceiling(svc, code, {"capacity": body.capacity})
    with svc.db.write() as s:
        value = cycle.set_capacity(s, user, svc.rule, code, gas_day, body.capacity, svc.now())
    return {"point": code, "gas_day": gas_day.isoformat(), "capacity": value}


@router.get("/bookings", tags=["points"], responses=errors(400, 401, 403, 503))
def bookings(svc: Svc, user: CurrentUser) -> list[dict]:
    """Booked firm capacity (a shipper sees its own, an operator those at its points)."""
    scope(user, "bookings.read")
    with svc.db.read() as s:
        rows = s.scalars(select(Booking)).all()
        pts = {p.id: p for p in s.scalars(select(Point))}
        parties_ = {p.id: p for p in s.scalars(select(Party))}
    rows = visible(user, "bookings.read", rows, lambda b: pts[b.point_id],
                   lambda b: b.shipper_id)
    return [{"shipper": parties_[b.shipper_id].code, "point": pts[b.point_id].code,
             "firm": b.firm} for b in rows]


@router.put("/bookings", tags=["points"], responses=errors(*_WRITE))
def put_booking(body: sc.BookingIn, svc: Svc, user: CurrentUser) -> dict:
    """Record a shipper's booked firm capacity at a point (secretariat)."""
    require(user, "bookings.write")
    check_ceiling(svc, body.point, {"firm capacity": body.firm})
    with svc.db.write() as s:
        cycle.set_booking(s, user, body.shipper, body.point, body.firm, svc.now())
    return body.model_dump()


@router.post("/nominations", tags=["nominations"], status_code=201, responses=errors(*_WRITE))
def nominate(body: sc.NominationIn, response: Response, svc: Svc, user: CurrentUser,
             idempotency_key: Annotated[sc.IdempotencyKey | None, Header(
                 description="one key per submission: a retry with the same key returns the "
                             "original nomination instead of creating a second")] = None) -> dict:
    """Nominate or renominate (shippers, until the cut-off); the latest version is in force."""
    require(user, "nominations.write", shipper_id=user.party_id)
    check_ceiling(svc, body.point, {"quantity": body.quantity})
    with svc.db.write() as s:
        nom, created = cycle.submit_nomination(s, user, svc.conv, svc.rule, body.gas_day,
                                               body.point, body.quantity, idempotency_key,
                                               svc.now())
        out = cycle.nomination_dict(nom)
    if not created:
        response.status_code = 200
    return {**out, "replayed": not created}


@router.get("/nominations", tags=["nominations"], responses=errors(*_READ))
def nominations(svc: Svc, user: CurrentUser, gas_day: sc.GasDayQuery = None,
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


@router.get("/nominations/{nomination_id}", tags=["nominations"],
            responses=errors(400, 401, 403, 404, 422, 503))
def nomination(nomination_id: sc.IdPath, svc: Svc, user: CurrentUser) -> dict:
    """One nomination version (only its shipper, the operators of its point, the secretariat
    and regulators may see it)."""
    scope(user, "nominations.read")
    with svc.db.read() as s:
        n = s.get(Nomination, nomination_id) if nomination_id <= sc.STORED_MAX_ID else None
        if n is None:
            raise cycle.NotFound(f"no nomination {nomination_id}")
        require(user, "nominations.read", point=n.point, shipper_id=n.shipper_id,
                what=f"nomination {nomination_id}")
        return cycle.nomination_dict(n)


@router.post("/nominations/{nomination_id}/confirm", tags=["nominations"],
             responses=errors(*_WRITE, 404))
def confirm(nomination_id: sc.IdPath, svc: Svc, user: CurrentUser,
            body: sc.ConfirmIn | None = None) -> dict:
    """Confirm a nomination for the caller's side of the point (operators of that point)."""
    scope(user, "confirmations.write")
    if nomination_id > sc.STORED_MAX_ID:
        raise cycle.NotFound(f"no nomination {nomination_id}")
    quantity = body.quantity if body else None
    if quantity is not None:
        with svc.db.read() as s:
            code = s.scalar(select(Point.code).join(Nomination,
                                                    Nomination.point_id == Point.id)
                            .where(Nomination.id == nomination_id))
        if code is not None:
            check_ceiling(svc, code, {"confirmed quantity": quantity})
    with svc.db.write() as s:
        row = cycle.confirm(s, user, svc.rule, nomination_id, quantity, svc.now(), svc.conv)
        return {"nomination_id": nomination_id, "side": row.side, "quantity": row.quantity}


@router.get("/gas-days/{gas_day}", tags=["gas days"], responses=errors(*_READ))
def gas_day_info(gas_day: sc.GasDayPath, svc: Svc, user: CurrentUser) -> dict:
    """A gas day's times (start, end, cut-off) and status."""
    scope(user, "days.read")
    with svc.db.read() as s:
        status = cycle.day_status(s, gas_day)
    return {**svc.conv.describe(gas_day, svc.now()), "status": status}


@router.get("/gas-days/{gas_day}/allocations", tags=["gas days"], responses=errors(*_READ))
def allocations(gas_day: sc.GasDayPath, svc: Svc, user: CurrentUser) -> list[dict]:
    """Matched and allocated quantities the user may see."""
    with svc.db.read() as s:
        return [cycle.allocation_dict(a) for a in cycle.visible_allocations(s, user, gas_day)]


@router.post("/gas-days/{gas_day}/close", tags=["gas days"], responses=errors(*_WRITE))
def close(gas_day: sc.GasDayPath, svc: Svc, user: CurrentUser) -> dict:
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


@router.post("/gas-days/{gas_day}/check", tags=["gas days"], responses=errors(*_WRITE))
def check(gas_day: sc.GasDayPath, svc: Svc, user: CurrentUser) -> dict:
    """Check the day plan with the optimiser on the whole network (and hydraulics)."""
    return run_check(svc, user, gas_day)


def latest_check(svc: Service, user: User, day: date) -> dict | None:
    """The newest stored check of a day, reduced to the user's points for an operator."""
    granted = scope(user, "feasibility.read")
    with svc.db.read() as s:
        row = s.scalar(select(FeasibilityCheck).where(FeasibilityCheck.gas_day == day)
                       .order_by(FeasibilityCheck.id.desc()).limit(1))
        if row is None:
            return None
        result = dict(row.result)
        own = {p.code for p in cycle.operator_points(s, user)}
    if granted != "all":
        result["points"] = [p for p in result.get("points", []) if p["point"] in own]
        result["infeasible_points"] = [p for p in result.get("infeasible_points", [])
                                       if p in own]
        result.pop("plan", None)
        result.pop("unmet_demand", None)
    return {"id": row.id, "gas_day": day.isoformat(), **result}


@router.get("/gas-days/{gas_day}/check", tags=["gas days"], responses=errors(*_READ, 404))
def get_check(gas_day: sc.GasDayPath, svc: Svc, user: CurrentUser) -> dict:
    """The latest feasibility check of the day (an operator sees its own points)."""
    found = latest_check(svc, user, gas_day)
    if found is None:
        raise cycle.NotFound(f"gas day {gas_day} has not been checked yet")
    return found


@router.put("/gas-days/{gas_day}/measurements/{code}", tags=["after the day"],
            responses=errors(*_WRITE))
def put_measurement(gas_day: sc.GasDayPath, code: sc.CodePath, body: sc.MeasurementIn,
                    svc: Svc, user: CurrentUser) -> dict:
    """Upload the metered flow at a point after the day (operators of that point)."""
    scope(user, "measurements.write")
    check_ceiling(svc, code, {"measured quantity": body.quantity})
    with svc.db.write() as s:
        row = cycle.upload_measurement(s, user, svc.conv, gas_day, code, body.quantity,
                                       body.by_shipper, svc.now())
        return {"gas_day": gas_day.isoformat(), "point": code, "quantity": row.quantity,
                "by_shipper": row.by_shipper}


@router.get("/gas-days/{gas_day}/measurements", tags=["after the day"], responses=errors(*_READ))
def measurements(gas_day: sc.GasDayPath, svc: Svc, user: CurrentUser) -> list[dict]:
    """Metered flows of the day at the points the user may see."""
    scope(user, "measurements.read")
    with svc.db.read() as s:
        rows = s.scalars(select(Measurement).where(Measurement.gas_day == gas_day)).all()
        rows = visible(user, "measurements.read", rows, lambda m: m.point)
        return [{"point": m.point.code, "quantity": m.quantity, "by_shipper": m.by_shipper}
                for m in rows]


@router.get("/gas-days/{gas_day}/imbalances", tags=["after the day"], responses=errors(*_READ))
def imbalances(gas_day: sc.GasDayPath, svc: Svc, user: CurrentUser) -> list[dict]:
    """Measured minus allocated per shipper and point (a shipper sees its own)."""
    with svc.db.read() as s:
        return cycle.imbalances(s, user, gas_day)


@router.get("/audit", tags=["audit"], responses=errors(*_READ))
def audit_entries(svc: Svc, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  before: Annotated[int | None, Query(ge=1, le=sc.MAX_ID, description=(
                      "only entries with a smaller sequence number"))] = None) -> list[dict]:
    """The audit chain, newest first (secretariat and regulators)."""
    require(user, "audit.read")
    if before is not None and before > sc.STORED_MAX_ID:
        before = None  # every stored entry comes before it
    with svc.db.read() as s:
        return [{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                 "entity": e.entity, "entity_id": e.entity_id, "before": e.before,
                 "after": e.after, "hash": e.hash} for e in audit.entries(s, limit, before)]


@router.get("/audit/verify", tags=["audit"], responses=errors(400, 401, 403, 503))
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


@router.get("/runs", tags=["scenario runs"], responses=errors(400, 401, 403, 409, 503))
def runs(svc: Svc, user: CurrentUser) -> list[dict]:
    """Stored scenario runs (analysts: secretariat, operators, regulators)."""
    require(user, "runs.read")
    with _store(svc) as store:
        df = store.runs()
    df["created"] = df["created"].astype(str)
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")


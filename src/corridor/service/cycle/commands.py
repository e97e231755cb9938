"""Changing the cycle: nominations, confirmations, capacities, bookings, closing a day and
measured flows.

Every function takes a session opened by `Database.write`, checks the user's permission, makes
the change, recomputes the allocation of the points it touches and appends audit entries (with a
digest of every row it wrote), all in that one transaction. Quantities are mcm per gas day.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date, datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corridor.service import audit
from corridor.service.cycle.allocation import allocate, match
from corridor.service.cycle.clock import GasDayConvention
from corridor.service.cycle.errors import Conflict, Invalid, NotFound
from corridor.service.cycle.views import (
    allocation_dict,
    allocations,
    capacity,
    confirmation_dict,
    current_nominations,
    day_status,
    nomination_dict,
    party_by_code,
    point_by_code,
)
from corridor.service.db import (
    SHIPPER,
    Allocation,
    Booking,
    Confirmation,
    GasDay,
    Measurement,
    Nomination,
    Point,
    PointCapacity,
    User,
)
from corridor.service.permissions import Forbidden, require, scope, side


def _ensure_day(session: Session, day: date) -> GasDay:
    row = session.get(GasDay, day)
    if row is None:
        row = GasDay(day=day, status="open")
        session.add(row)
        session.flush()
    return row


def _require_open(session: Session, day: date) -> None:
    if day_status(session, day) == "closed":
        raise Conflict(f"gas day {day} is closed: its allocation is final")


def _quantity(value: float, what: str = "quantity") -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise Invalid(f"{what} must be a finite number >= 0 (mcm per gas day), got {value}")
    return value


def recompute_point(session: Session, day: date, point: Point, rule: str, actor: str,
                    now: datetime) -> list[dict]:
    """Match (lesser rule) and allocate every shipper's nomination at one point for one day;
    write the changed allocations and one audit entry. Returns the new allocations."""
    noms = current_nominations(session, day, point.id)
    if not noms:
        return []
    confirmations = {(c.nomination_id, c.side): c.quantity for c in session.scalars(
        select(Confirmation).where(Confirmation.nomination_id.in_([n.id for n in noms])))}
    firm = {b.shipper_id: b.firm for b in session.scalars(
        select(Booking).where(Booking.point_id == point.id))}
    nominated = np.array([n.quantity for n in noms], dtype=float)
    conf_from = [confirmations.get((n.id, "from")) for n in noms]
    conf_to = [confirmations.get((n.id, "to")) for n in noms]
    matched = match(nominated, conf_from, conf_to)
    allocated, firm_alloc = allocate(matched, np.array([firm.get(n.shipper_id, 0.0)
                                                        for n in noms]),
                                     capacity(session, point, day), rule)
    existing = {a.shipper_id: a for a in session.scalars(
        select(Allocation).where(Allocation.gas_day == day, Allocation.point_id == point.id))}
    before, after, written = [], [], []
    for k, n in enumerate(noms):
        values = {"nomination_id": n.id, "nominated": float(nominated[k]),
                  "confirmed_from": conf_from[k], "confirmed_to": conf_to[k],
                  "matched": float(matched[k]), "firm": float(firm_alloc[k]),
                  "allocated": float(allocated[k]), "rule": rule}
        row = existing.get(n.shipper_id)
        if row is None:
            row = Allocation(gas_day=day, point_id=point.id, shipper_id=n.shipper_id, **values)
            session.add(row)
        elif any(getattr(row, key) != value for key, value in values.items()):
            before.append(allocation_dict(row))
            for key, value in values.items():
                setattr(row, key, value)
        else:
            continue
        session.flush()
        after.append(allocation_dict(row))
        written.append(row)
    if after:
        audit.record(session, actor, "allocation.update", "point_day",
                     f"{point.code}/{day}", before, after, now, rows=written)
    return after


def _request_hash(day: date, point: str, quantity: float) -> str:
    body = audit.canonical({"gas_day": day.isoformat(), "point": point, "quantity": quantity})
    return hashlib.sha256(body.encode()).hexdigest()


def submit_nomination(session: Session, user: User, conv: GasDayConvention, rule: str,
                      day: date, point_code: str, quantity: float, idempotency_key: str | None,
                      now: datetime) -> tuple[Nomination, bool]:
    """Nominate (or renominate) `quantity` at a point for a gas day as the user's shipper.

    Returns the nomination and whether it was created; a repeated idempotency key returns the
    original nomination (even after the cut-off) and refuses a different request under it.
    """
    scope(user, "nominations.write")
    if user.role != SHIPPER:  # pragma: no cover - the matrix already says so
        raise Forbidden("only shippers nominate")
    quantity = _quantity(quantity)
    request = _request_hash(day, point_code, quantity)
    if idempotency_key is not None:
        if not 1 <= len(idempotency_key) <= 100:
            raise Invalid("Idempotency-Key must have 1 to 100 characters")
        seen = session.scalar(select(Nomination).where(
            Nomination.shipper_id == user.party_id,
            Nomination.idempotency_key == idempotency_key))
        if seen is not None:
            if seen.request_hash != request:
                raise Conflict(f"Idempotency-Key {idempotency_key!r} was already used for a "
                               f"different nomination (id {seen.id}); use a new key per "
                               "submission")
            return seen, False
    point = point_by_code(session, point_code)
    conv.check_nominable(day, now)
    _require_open(session, day)
    gas_day = _ensure_day(session, day)
    previous = session.scalar(select(Nomination).where(
        Nomination.gas_day == day, Nomination.point_id == point.id,
        Nomination.shipper_id == user.party_id).order_by(Nomination.version.desc()).limit(1))
    nomination = Nomination(gas_day=day, point_id=point.id, shipper_id=user.party_id,
                            version=(previous.version + 1) if previous else 1,
                            quantity=quantity, idempotency_key=idempotency_key,
                            request_hash=request, created_at=now, created_by=user.id)
    session.add(nomination)
    session.flush()
    audit.record(session, user.username,
                 "nomination.renominate" if previous else "nomination.submit", "nomination",
                 nomination.id, nomination_dict(previous) if previous else None,
                 nomination_dict(nomination), now, rows=[nomination, gas_day])
    recompute_point(session, day, point, rule, user.username, now)
    return nomination, True


def confirm(session: Session, user: User, rule: str, nomination_id: int,
            quantity: float | None, now: datetime, conv: GasDayConvention) -> Confirmation:
    """Confirm a nomination for the operator's side of its point (default: the nominated
    quantity); the point's allocation is matched and allocated again."""
    scope(user, "confirmations.write")
    nomination = session.get(Nomination, nomination_id)
    if nomination is None:
        raise NotFound(f"no nomination {nomination_id}")
    point = nomination.point
    my_side = side(user, point)
    if my_side is None:
        raise Forbidden(f"the operator of {user.party.country} may not confirm at point "
                        f"{point.code} ({point.from_country}->{point.to_country})")
    latest = session.scalar(select(func.max(Nomination.version)).where(
        Nomination.gas_day == nomination.gas_day, Nomination.point_id == point.id,
        Nomination.shipper_id == nomination.shipper_id))
    if nomination.version != latest:
        raise Conflict(f"nomination {nomination_id} was replaced by version {latest} "
                       "(a renomination); confirm the nomination in force")
    _require_open(session, nomination.gas_day)
    if now >= conv.end(nomination.gas_day):
        raise Conflict(f"gas day {nomination.gas_day} has ended; it can no longer be confirmed")
    quantity = nomination.quantity if quantity is None else _quantity(quantity)
    row = session.scalar(select(Confirmation).where(Confirmation.nomination_id == nomination_id,
                                                    Confirmation.side == my_side))
    before = confirmation_dict(row) if row else None
    if row is None:
        row = Confirmation(nomination_id=nomination_id, side=my_side, operator_id=user.party_id,
                           quantity=quantity, created_at=now, created_by=user.id)
        session.add(row)
    else:
        row.quantity, row.created_at, row.created_by = quantity, now, user.id
    session.flush()
    audit.record(session, user.username, "nomination.confirm", "confirmation", row.id, before,
                 confirmation_dict(row), now, rows=[row])
    recompute_point(session, nomination.gas_day, point, rule, user.username, now)
    return row


def set_capacity(session: Session, user: User, rule: str, point_code: str, day: date,
                 value: float, now: datetime) -> float:
    """Set a point's technical capacity for one gas day (e.g. maintenance) and re-allocate."""
    require(user, "points.write")
    point = point_by_code(session, point_code)
    value = _quantity(value, "capacity")
    _require_open(session, day)
    row = session.get(PointCapacity, (point.id, day))
    before = {"capacity": capacity(session, point, day)}
    if row is None:
        row = PointCapacity(point_id=point.id, gas_day=day, capacity=value)
        session.add(row)
    else:
        row.capacity = value
    session.flush()
    audit.record(session, user.username, "point.capacity", "point_day", f"{point.code}/{day}",
                 before, {"capacity": value}, now, rows=[row])
    recompute_point(session, day, point, rule, user.username, now)
    return value


def set_booking(session: Session, user: User, shipper_code: str, point_code: str, firm: float,
                now: datetime) -> Booking:
    """Record a shipper's booked firm capacity at a point (used by the firm_first rule)."""
    require(user, "bookings.write")
    shipper = party_by_code(session, shipper_code, SHIPPER)
    point = point_by_code(session, point_code)
    firm = _quantity(firm, "firm capacity")
    row = session.scalar(select(Booking).where(Booking.shipper_id == shipper.id,
                                               Booking.point_id == point.id))
    before = {"firm": row.firm} if row else None
    if row is None:
        row = Booking(shipper_id=shipper.id, point_id=point.id, firm=firm)
        session.add(row)
    else:
        row.firm = firm
    session.flush()
    audit.record(session, user.username, "booking.set", "booking",
                 f"{shipper.code}/{point.code}", before, {"firm": firm}, now, rows=[row])
    return row


def close_day(session: Session, user: User, conv: GasDayConvention, rule: str, day: date,
              now: datetime) -> list[dict]:
    """Make a gas day's allocation final (after the cut-off): re-match and re-allocate every
    point once more and refuse further confirmations and capacity changes."""
    require(user, "days.close")
    if now < conv.cutoff(day):
        raise Conflict(f"gas day {day} cannot be closed before its cut-off "
                       f"({conv.cutoff(day):%Y-%m-%d %H:%M} UTC)")
    _require_open(session, day)
    row = _ensure_day(session, day)
    points = session.scalars(select(Point).where(Point.id.in_(
        select(Nomination.point_id).where(Nomination.gas_day == day)))).all()
    for point in points:
        recompute_point(session, day, point, rule, user.username, now)
    row.status, row.closed_at = "closed", now
    audit.record(session, user.username, "gas_day.close", "gas_day", day.isoformat(),
                 {"status": "open"}, {"status": "closed"}, now, rows=[row])
    return [allocation_dict(a) for a in allocations(session, day)]


def upload_measurement(session: Session, user: User, conv: GasDayConvention, day: date,
                       point_code: str, quantity: float, by_shipper: dict[str, float] | None,
                       now: datetime) -> Measurement:
    """Store the metered flow at a point for a finished, closed gas day (optionally split by
    shipper; otherwise it is shared pro rata to the allocations)."""
    scope(user, "measurements.write")
    point = point_by_code(session, point_code)
    require(user, "measurements.write", point=point, what=f"point {point.code}")
    quantity = _quantity(quantity, "measured quantity")
    if now < conv.end(day):
        ends = f"{conv.end(day):%Y-%m-%d %H:%M}"
        raise Conflict(f"gas day {day} has not ended yet (it ends {ends} UTC); measured flows "
                       "are uploaded after the day")
    if day_status(session, day) != "closed":
        raise Conflict(f"gas day {day} is not closed yet: the secretariat closes it (final "
                       "allocation) before measured flows are uploaded")
    if by_shipper is not None:
        for code, value in by_shipper.items():
            party_by_code(session, code, SHIPPER)
            _quantity(value, f"measured quantity of {code}")
        if abs(sum(by_shipper.values()) - quantity) > 1e-6 * max(1.0, quantity):
            raise Invalid(f"the shippers' measured quantities add up to "
                          f"{sum(by_shipper.values()):g}, not to the point's {quantity:g}")
    row = session.scalar(select(Measurement).where(Measurement.gas_day == day,
                                                   Measurement.point_id == point.id))
    before = {"quantity": row.quantity, "by_shipper": row.by_shipper} if row else None
    if row is None:
        row = Measurement(gas_day=day, point_id=point.id, quantity=quantity,
                          by_shipper=by_shipper, uploaded_at=now, uploaded_by=user.id)
        session.add(row)
    else:
        row.quantity, row.by_shipper = quantity, by_shipper
        row.uploaded_at, row.uploaded_by = now, user.id
    session.flush()
    audit.record(session, user.username, "measurement.upload", "point_day",
                 f"{point.code}/{day}", before, {"quantity": quantity,
                                                 "by_shipper": by_shipper}, now, rows=[row])
    return row

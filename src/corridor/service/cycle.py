"""The daily gas cycle: nominations, renomination until the cut-off, confirmation by the operators
on both sides, matching by the lesser rule, allocation of scarce capacity, closing the day, and,
after the day, measured flows and each shipper's imbalance.

Every public function that changes state takes a session opened by `Database.write`, checks the
user's permission, makes the change, recomputes the allocation of the points it touches and
appends audit entries, all in that one transaction. Quantities are mcm per gas day.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corridor.service import audit
from corridor.service.config import ServiceSettings
from corridor.service.db import (
    OPERATOR,
    SHIPPER,
    Allocation,
    Booking,
    Confirmation,
    GasDay,
    Measurement,
    Nomination,
    Party,
    Point,
    PointCapacity,
    User,
)
from corridor.service.permissions import Forbidden, require, scope, side, visible

TOLERANCE = 1e-9


class CycleError(Exception):
    """A request the cycle refuses; `status` is the HTTP status the API answers with."""

    status = 422


class Invalid(CycleError):
    """Bad input: unknown point, negative quantity, a gas day beyond the horizon."""

    status = 422


class NotFound(CycleError):
    status = 404


class Conflict(CycleError):
    """Valid input at the wrong time or state: after the cut-off, a closed day."""

    status = 409


# --- gas days ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class GasDayConvention:
    """Gas day D runs from `start_hour` on date D to `start_hour` on D+1 in `timezone`;
    nominations for D close `cutoff_hours` before it starts and open `horizon_days` ahead."""

    timezone: str = "UTC"
    start_hour: int = 5
    cutoff_hours: float = 15.0
    horizon_days: int = 31

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> GasDayConvention:
        return cls(settings.gas_day_timezone, settings.gas_day_start_hour,
                   settings.cutoff_hours, settings.horizon_days)

    def start(self, day: date) -> datetime:
        """When gas day `day` starts (UTC)."""
        local = datetime.combine(day, time(self.start_hour), tzinfo=ZoneInfo(self.timezone))
        return local.astimezone(UTC)

    def end(self, day: date) -> datetime:
        return self.start(day + timedelta(days=1))

    def cutoff(self, day: date) -> datetime:
        """The last moment nominations and renominations for `day` are accepted."""
        return self.start(day) - timedelta(hours=self.cutoff_hours)

    def day_of(self, instant: datetime) -> date:
        """The gas day in progress at `instant`."""
        local = instant.astimezone(ZoneInfo(self.timezone))
        day = local.date()
        return day - timedelta(days=1) if local.hour < self.start_hour else day

    def next_open(self, now: datetime) -> date:
        """The first gas day still open for nominations at `now`."""
        day = self.day_of(now)
        while self.cutoff(day) <= now:
            day += timedelta(days=1)
        return day

    def describe(self, day: date, now: datetime) -> dict:
        return {"gas_day": day.isoformat(), "starts": self.start(day).isoformat(),
                "ends": self.end(day).isoformat(), "cutoff": self.cutoff(day).isoformat(),
                "open_for_nominations": self.cutoff(day) > now
                and day <= self.next_open(now) + timedelta(days=self.horizon_days)}

    def check_nominable(self, day: date, now: datetime) -> None:
        """Raise unless nominations for `day` are accepted at `now`."""
        if now >= self.cutoff(day):
            raise Conflict(f"nominations for gas day {day} closed at "
                           f"{self.cutoff(day):%Y-%m-%d %H:%M} UTC (cut-off); the next open gas "
                           f"day is {self.next_open(now)}")
        last = self.next_open(now) + timedelta(days=self.horizon_days)
        if day > last:
            raise Invalid(f"gas day {day} is beyond the nomination horizon: gas days up to "
                          f"{last} may be nominated now")


# --- look-ups ---------------------------------------------------------------------------------

def point_by_code(session: Session, code: str) -> Point:
    point = session.scalar(select(Point).where(Point.code == code))
    if point is None:
        known = ", ".join(session.scalars(select(Point.code).order_by(Point.code)))
        raise Invalid(f"unknown interconnection point {code!r}; known points: {known}")
    return point


def party_by_code(session: Session, code: str, kind: str | None = None) -> Party:
    party = session.scalar(select(Party).where(Party.code == code))
    if party is None or (kind and party.kind != kind):
        raise Invalid(f"unknown {kind or 'party'} {code!r}")
    return party


def day_status(session: Session, day: date) -> str:
    row = session.get(GasDay, day)
    return row.status if row else "open"


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


def capacity(session: Session, point: Point, day: date) -> float:
    """Technical capacity of the point on that gas day."""
    override = session.get(PointCapacity, (point.id, day))
    return override.capacity if override else point.capacity


def _quantity(value: float, what: str = "quantity") -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise Invalid(f"{what} must be a finite number >= 0 (mcm per gas day), got {value}")
    return value


def current_nominations(session: Session, day: date, point_id: int | None = None
                        ) -> list[Nomination]:
    """The nomination in force (highest version) of every shipper at every point on `day`."""
    latest = (select(Nomination.point_id, Nomination.shipper_id,
                     func.max(Nomination.version).label("version"))
              .where(Nomination.gas_day == day).group_by(Nomination.point_id,
                                                         Nomination.shipper_id))
    if point_id is not None:
        latest = latest.where(Nomination.point_id == point_id)
    latest = latest.subquery()
    query = (select(Nomination).join(latest, (Nomination.point_id == latest.c.point_id)
                                     & (Nomination.shipper_id == latest.c.shipper_id)
                                     & (Nomination.version == latest.c.version))
             .where(Nomination.gas_day == day).order_by(Nomination.point_id, Nomination.shipper_id))
    return list(session.scalars(query))


def nomination_dict(n: Nomination) -> dict:
    return {"id": n.id, "gas_day": n.gas_day.isoformat(), "point": n.point.code,
            "shipper": n.shipper.code, "version": n.version, "quantity": n.quantity,
            "idempotency_key": n.idempotency_key, "created_at": _iso(n.created_at)}


def allocation_dict(a: Allocation) -> dict:
    return {"gas_day": a.gas_day.isoformat(), "point": a.point.code, "shipper": a.shipper.code,
            "nomination_id": a.nomination_id, "nominated": a.nominated,
            "confirmed_from": a.confirmed_from, "confirmed_to": a.confirmed_to,
            "matched": a.matched, "firm": a.firm, "allocated": a.allocated, "rule": a.rule}


def _iso(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


# --- matching and allocation ------------------------------------------------------------------

def allocate(matched: np.ndarray, firm: np.ndarray, cap: float, rule: str
             ) -> tuple[np.ndarray, np.ndarray]:
    """Allocated and firm-allocated quantity per shipper at one point.

    pro_rata: everyone gets the same share of what they matched when the total exceeds capacity.
    firm_first: matched quantities up to each shipper's booked firm capacity first (pro rata among
    firm if even that exceeds capacity), then the rest of the capacity pro rata to the
    interruptible remainder.
    """
    matched = np.maximum(np.asarray(matched, float), 0.0)
    cap = max(float(cap), 0.0)

    def share(q: np.ndarray, room: float) -> np.ndarray:
        total = q.sum()
        return q if total <= room + TOLERANCE else q * (room / total)

    if rule == "pro_rata":
        return share(matched, cap), np.zeros_like(matched)
    if rule != "firm_first":
        raise Invalid(f"unknown allocation rule {rule!r}; expected pro_rata or firm_first")
    firm_part = np.minimum(matched, np.maximum(np.asarray(firm, float), 0.0))
    firm_alloc = share(firm_part, cap)
    rest = max(cap - firm_alloc.sum(), 0.0)
    return firm_alloc + share(matched - firm_part, rest), firm_alloc


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
    nominated = np.array([n.quantity for n in noms])
    conf_from = [confirmations.get((n.id, "from")) for n in noms]
    conf_to = [confirmations.get((n.id, "to")) for n in noms]
    # the lesser rule: what both operators confirmed, never more than nominated;
    # a side that has not confirmed yet matches nothing
    matched = np.array([min(q, f if f is not None else 0.0, t if t is not None else 0.0)
                        for q, f, t in zip(nominated, conf_from, conf_to, strict=True)])
    allocated, firm_alloc = allocate(matched, np.array([firm.get(n.shipper_id, 0.0)
                                                        for n in noms]),
                                     capacity(session, point, day), rule)
    existing = {a.shipper_id: a for a in session.scalars(
        select(Allocation).where(Allocation.gas_day == day, Allocation.point_id == point.id))}
    before, after = [], []
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
    if after:
        audit.record(session, actor, "allocation.update", "point_day",
                     f"{point.code}/{day}", before, after, now)
    return after


# --- state changes ----------------------------------------------------------------------------

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
    _ensure_day(session, day)
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
                 nomination_dict(nomination), now)
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
    before = _confirmation_dict(row) if row else None
    if row is None:
        row = Confirmation(nomination_id=nomination_id, side=my_side, operator_id=user.party_id,
                           quantity=quantity, created_at=now, created_by=user.id)
        session.add(row)
    else:
        row.quantity, row.created_at, row.created_by = quantity, now, user.id
    session.flush()
    audit.record(session, user.username, "nomination.confirm", "confirmation", row.id, before,
                 _confirmation_dict(row), now)
    recompute_point(session, nomination.gas_day, point, rule, user.username, now)
    return row


def _confirmation_dict(c: Confirmation) -> dict:
    return {"id": c.id, "nomination_id": c.nomination_id, "side": c.side,
            "operator_id": c.operator_id, "quantity": c.quantity}


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
        session.add(PointCapacity(point_id=point.id, gas_day=day, capacity=value))
    else:
        row.capacity = value
    session.flush()
    audit.record(session, user.username, "point.capacity", "point_day", f"{point.code}/{day}",
                 before, {"capacity": value}, now)
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
                 f"{shipper.code}/{point.code}", before, {"firm": firm}, now)
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
                 {"status": "open"}, {"status": "closed"}, now)
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
                                                 "by_shipper": by_shipper}, now)
    return row


# --- reading ----------------------------------------------------------------------------------

def allocations(session: Session, day: date) -> list[Allocation]:
    return list(session.scalars(select(Allocation).where(Allocation.gas_day == day)
                                .order_by(Allocation.point_id, Allocation.shipper_id)))


def visible_nominations(session: Session, user: User, day: date, history: bool = False
                        ) -> list[Nomination]:
    """The nominations (in force, or every version) the user may see for a gas day."""
    rows = (session.scalars(select(Nomination).where(Nomination.gas_day == day)
                            .order_by(Nomination.id)).all()
            if history else current_nominations(session, day))
    return visible(user, "nominations.read", rows, lambda n: n.point, lambda n: n.shipper_id)


def visible_allocations(session: Session, user: User, day: date) -> list[Allocation]:
    return visible(user, "allocations.read", allocations(session, day), lambda a: a.point,
                   lambda a: a.shipper_id)


def point_summary(session: Session, user: User, day: date) -> list[dict]:
    """Per visible point: capacity, and what the user may see of nominated, matched and
    allocated totals (a shipper sees only its own quantities)."""
    scope(user, "points.read")
    points = visible(user, "points.read", session.scalars(select(Point).order_by(Point.code)),
                     lambda p: p)
    allocs: dict[int, list[Allocation]] = {}
    for a in visible_allocations(session, user, day):
        allocs.setdefault(a.point_id, []).append(a)
    out = []
    for p in points:
        rows = allocs.get(p.id, [])
        out.append({"point": p.code, "name": p.name, "link": p.link, "direction": p.direction,
                    "from_country": p.from_country, "to_country": p.to_country,
                    "from": [p.from_lat, p.from_lon], "to": [p.to_lat, p.to_lon],
                    "capacity": capacity(session, p, day),
                    "nominated": sum(a.nominated for a in rows),
                    "matched": sum(a.matched for a in rows),
                    "allocated": sum(a.allocated for a in rows)})
    return out


def imbalances(session: Session, user: User, day: date) -> list[dict]:
    """Each shipper's measured minus allocated quantity at each metered point it may see.

    Without a per-shipper split, a point's measured flow is shared pro rata to the allocations;
    flow with no allocation at all is reported against no shipper (the operators' imbalance).
    """
    scope(user, "imbalances.read")
    measured = {m.point_id: m for m in session.scalars(
        select(Measurement).where(Measurement.gas_day == day))}
    by_point: dict[int, list[Allocation]] = {}
    for a in allocations(session, day):
        by_point.setdefault(a.point_id, []).append(a)
    rows = []
    for point_id, m in measured.items():
        allocs = by_point.get(point_id, [])
        total = sum(a.allocated for a in allocs)
        for a in allocs:
            if m.by_shipper is not None:
                share = float(m.by_shipper.get(a.shipper.code, 0.0))
            else:
                share = m.quantity * a.allocated / total if total > 0 else 0.0
            rows.append({"point": m.point.code, "shipper": a.shipper.code,
                         "shipper_id": a.shipper_id, "allocated": a.allocated,
                         "measured": share, "imbalance": share - a.allocated, "_point": m.point})
        known = {a.shipper.code for a in allocs}
        rest = (m.quantity - sum(float(v) for v in (m.by_shipper or {}).values())
                if m.by_shipper is not None else (m.quantity if total <= 0 else 0.0))
        extra = {k: v for k, v in (m.by_shipper or {}).items() if k not in known}
        for code, value in extra.items():
            shipper = party_by_code(session, code, SHIPPER)
            rows.append({"point": m.point.code, "shipper": code, "shipper_id": shipper.id,
                         "allocated": 0.0, "measured": float(value), "imbalance": float(value),
                         "_point": m.point})
        if rest > TOLERANCE:
            rows.append({"point": m.point.code, "shipper": None, "shipper_id": None,
                         "allocated": 0.0, "measured": rest, "imbalance": rest,
                         "_point": m.point})
    rows = visible(user, "imbalances.read", rows, lambda r: r["_point"],
                   lambda r: r["shipper_id"])
    if user.role == SHIPPER:
        rows = [r for r in rows if r["shipper_id"] == user.party_id]
    return [{k: v for k, v in r.items() if not k.startswith("_") and k != "shipper_id"}
            for r in sorted(rows, key=lambda r: (r["point"], r["shipper"] or ""))]


def operator_points(session: Session, user: User) -> list[Point]:
    """The points an operator confirms at (empty for other roles)."""
    if user.role != OPERATOR:
        return []
    return [p for p in session.scalars(select(Point).order_by(Point.code))
            if side(user, p) is not None]

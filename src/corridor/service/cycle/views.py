"""Reading the cycle: look-ups, the nominations in force, allocations, point summaries and
imbalances, each filtered to what the user may see. Nothing here writes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corridor.service.cycle.allocation import TOLERANCE
from corridor.service.cycle.errors import Invalid
from corridor.service.db import (
    OPERATOR,
    SHIPPER,
    Allocation,
    Confirmation,
    GasDay,
    Measurement,
    Nomination,
    Party,
    Point,
    PointCapacity,
    User,
)
from corridor.service.permissions import scope, side, visible

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


def capacity(session: Session, point: Point, day: date) -> float:
    """Technical capacity of the point on that gas day."""
    override = session.get(PointCapacity, (point.id, day))
    return override.capacity if override else point.capacity


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


def allocations(session: Session, day: date) -> list[Allocation]:
    return list(session.scalars(select(Allocation).where(Allocation.gas_day == day)
                                .order_by(Allocation.point_id, Allocation.shipper_id)))


# --- records as JSON --------------------------------------------------------------------------

def nomination_dict(n: Nomination) -> dict:
    return {"id": n.id, "gas_day": n.gas_day.isoformat(), "point": n.point.code,
            "shipper": n.shipper.code, "version": n.version, "quantity": n.quantity,
            "idempotency_key": n.idempotency_key, "created_at": _iso(n.created_at)}


def allocation_dict(a: Allocation) -> dict:
    return {"gas_day": a.gas_day.isoformat(), "point": a.point.code, "shipper": a.shipper.code,
            "nomination_id": a.nomination_id, "nominated": a.nominated,
            "confirmed_from": a.confirmed_from, "confirmed_to": a.confirmed_to,
            "matched": a.matched, "firm": a.firm, "allocated": a.allocated, "rule": a.rule}


def confirmation_dict(c: Confirmation) -> dict:
    return {"id": c.id, "nomination_id": c.nomination_id, "side": c.side,
            "operator_id": c.operator_id, "quantity": c.quantity}


def _iso(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


# --- what a user may see ----------------------------------------------------------------------

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

"""Who may do what: the whole role matrix in one table, and what "own" means for each role.

Each action maps every role to a scope: ALL (any party's data), OWN (only the party's own data)
or NONE (forbidden). "Own" means, for an operator of country X, the interconnection points with X
on one side (and what happens there); for a shipper, its own nominations, allocations, bookings
and imbalances. The cycle checks these rules; the API and the dashboard never decide on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from corridor.service.db import OPERATOR, REGULATOR, SECRETARIAT, SHIPPER, Point, User

ALL, OWN, NONE = "all", "own", "none"
T = TypeVar("T")

#            action                 secretariat operator shipper regulator
_TABLE = """
parties.read                        all         all      own     all
parties.write                       all         none     none    none
users.write                         all         none     none    none
points.read                         all         own      all     all
points.write                        all         none     none    none
bookings.read                       all         own      own     all
bookings.write                      all         none     none    none
nominations.read                    all         own      own     all
nominations.write                   none        none     own     none
confirmations.write                 none        own      none    none
allocations.read                    all         own      own     all
days.read                           all         all      all     all
days.close                          all         none     none    none
feasibility.read                    all         own      none    all
feasibility.run                     all         none     none    none
measurements.read                   all         own      none    all
measurements.write                  none        own      none    none
imbalances.read                     all         own      own     all
audit.read                          all         none     none    all
runs.read                           all         all      none    all
"""
_ROLES = (SECRETARIAT, OPERATOR, SHIPPER, REGULATOR)
MATRIX: dict[str, dict[str, str]] = {
    line.split()[0]: dict(zip(_ROLES, line.split()[1:], strict=True))
    for line in _TABLE.strip().splitlines()
}


def can(role: str, action: str) -> bool:
    """Whether `role` may do `action` to at least its own records (what the dashboard shows)."""
    return MATRIX[action][role] != NONE


def capabilities(role: str) -> dict[str, bool]:
    """Every action and whether `role` may do it (to at least its own records)."""
    return {action: can(role, action) for action in MATRIX}


class Forbidden(Exception):
    """The user's role may not do this, or not to this party's data."""


def scope(user: User, action: str) -> str:
    """The user's scope for `action` (ALL or OWN); raises Forbidden when it is NONE."""
    granted = MATRIX[action][user.role]
    if granted == NONE:
        raise Forbidden(f"a {user.role} may not {_verb(action)}")
    return granted


def _verb(action: str) -> str:
    what, how = action.split(".")
    return {"read": "see", "write": "change", "run": "run", "close": "close"}[how] + " " + \
        what.replace("_", " ")


def side(user: User, point: Point) -> str | None:
    """'from' or 'to' if the user's party operates that side of the point, else None."""
    if user.role != OPERATOR:
        return None
    if user.party.country == point.from_country:
        return "from"
    if user.party.country == point.to_country:
        return "to"
    return None


def owns(user: User, point: Point | None = None, shipper_id: int | None = None,
         party_id: int | None = None) -> bool:
    """Whether the record (at `point`, of shipper `shipper_id`, or the party `party_id`) is the
    user's own."""
    if user.role == OPERATOR:
        if point is not None:
            return side(user, point) is not None
        return party_id == user.party_id
    if user.role == SHIPPER:
        if shipper_id is not None:
            return shipper_id == user.party_id
        return party_id == user.party_id
    return False


def allowed(user: User, action: str, point: Point | None = None, shipper_id: int | None = None,
            party_id: int | None = None) -> bool:
    """Whether the user may do `action` to this record."""
    granted = MATRIX[action][user.role]
    return granted == ALL or (granted == OWN and owns(user, point, shipper_id, party_id))


def require(user: User, action: str, point: Point | None = None,
            shipper_id: int | None = None, party_id: int | None = None,
            what: str = "this record") -> None:
    """Raise Forbidden unless the user may do `action` to this record."""
    scope(user, action)
    if not allowed(user, action, point, shipper_id, party_id):
        raise Forbidden(f"{user.username} ({_who(user)}) may not {_verb(action)} of {what}")


def _who(user: User) -> str:
    if user.role == OPERATOR:
        return f"operator of {user.party.country}"
    return f"{user.role} {user.party.code}"


def visible(user: User, action: str, rows: Iterable[T], point: Callable[[T], Point | None],
            shipper_id: Callable[[T], int | None] = lambda _: None) -> list[T]:
    """The rows the user may see under `action` (raises Forbidden if the role sees none)."""
    if scope(user, action) == ALL:
        return list(rows)
    return [r for r in rows if owns(user, point(r), shipper_id(r))]

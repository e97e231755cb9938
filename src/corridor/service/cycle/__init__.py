"""The daily gas cycle: nominations, renomination until the cut-off, confirmation by the operators
on both sides, matching by the lesser rule, allocation of scarce capacity, closing the day, and,
after the day, measured flows and each shipper's imbalance.

One concept per module: `errors` (what the cycle refuses), `clock` (the gas-day convention),
`allocation` (matching and allocation as pure functions), `commands` (every write, each in the
caller's write transaction with its audit entries) and `views` (reads, filtered by permission).
The cycle's functions and errors are re-exported here (`corridor.service.cycle.<name>`); the
database models are imported from `corridor.service.db`, where they live.
"""

from corridor.service.cycle import allocation, clock, commands, errors, views
from corridor.service.cycle.allocation import TOLERANCE, allocate, match
from corridor.service.cycle.clock import GasDayConvention
from corridor.service.cycle.commands import (
    close_day,
    confirm,
    recompute_point,
    set_booking,
    set_capacity,
    submit_nomination,
    upload_measurement,
)
from corridor.service.cycle.errors import Conflict, CycleError, Invalid, NotFound
from corridor.service.cycle.views import (
    allocation_dict,
    allocations,
    capacity,
    confirmation_dict,
    current_nominations,
    day_status,
    imbalances,
    nomination_dict,
    operator_points,
    party_by_code,
    point_by_code,
    point_summary,
    visible_allocations,
    visible_nominations,
)

__all__ = [
    "TOLERANCE", "Conflict", "CycleError", "GasDayConvention", "Invalid", "NotFound", "allocate",
    "allocation", "allocation_dict", "allocations", "capacity", "clock", "close_day", "commands",
    "confirm", "confirmation_dict", "current_nominations", "day_status", "errors", "imbalances",
    "match", "nomination_dict", "operator_points", "party_by_code", "point_by_code",
    "point_summary", "recompute_point", "set_booking", "set_capacity", "submit_nomination",
    "upload_measurement", "views", "visible_allocations", "visible_nominations",
]

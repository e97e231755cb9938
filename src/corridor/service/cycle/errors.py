"""The requests the gas-day cycle refuses, each with the HTTP status the API answers with."""

from __future__ import annotations


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

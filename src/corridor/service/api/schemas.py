"""The API's types: request bodies, the validated scalars they are built from, and error bodies.

Every limit a client can run into is declared here, so it is in the OpenAPI document and is
checked before any route code runs: gas days inside a fixed window, ids within 64 bits, text
without control characters or unpaired UTF-16 surrogates and of bounded length, quantities that
are finite, non-negative, bounded and strictly numbers (no `true`, no `"5"`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from corridor.service.db import ROLES

MIN_GAS_DAY, MAX_GAS_DAY = date(2000, 1, 1), date(2100, 12, 31)
MAX_ID = 2**63 - 1  # ids in the API: any positive 64-bit integer
STORED_MAX_ID = 2**31 - 1  # the tables' INTEGER keys: a larger id names no row
# mcm per gas day: about ten times the world's daily gas production; the route layer also
# bounds each quantity by a multiple of the point's technical capacity
MAX_QUANTITY = 100_000.0
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # no control characters (PostgreSQL refuses NUL)


def _no_surrogates(value: Any) -> Any:
    """Refuse unpaired UTF-16 surrogates (JSON "\\ud800"): no database can store them."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must not contain unpaired UTF-16 surrogates "
                             "(such as \\ud800)") from None
    return value


def text(max_length: int, min_length: int = 1, pattern: str = _PRINTABLE,
         description: str | None = None) -> Any:
    """A string type of bounded length, printable, without unpaired surrogates."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length, pattern=pattern,
                                description=description), BeforeValidator(_no_surrogates)]


_WINDOW = f"a date from {MIN_GAS_DAY} to {MAX_GAS_DAY}"
GAS_DAY_DOC = f"the gas day, named by the date on which it starts ({_WINDOW})"
GasDay = Annotated[date, Field(ge=MIN_GAS_DAY, le=MAX_GAS_DAY, description=GAS_DAY_DOC)]
GasDayPath = Annotated[date, Path(ge=MIN_GAS_DAY, le=MAX_GAS_DAY, description=GAS_DAY_DOC)]
GasDayQuery = Annotated[date | None, Query(
    ge=MIN_GAS_DAY, le=MAX_GAS_DAY, description=f"{GAS_DAY_DOC}; default: the next open day")]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="a positive 64-bit id")]
Code = text(40, description="a code (point, party)")
CodePath = Annotated[str, Path(min_length=1, max_length=40, pattern=_PRINTABLE,
                               description="an interconnection point code"),
                     BeforeValidator(_no_surrogates)]
IdempotencyKey = text(100)
Username = text(80)
Password = text(200, pattern=r"^[^\x00]*$")


def quantity(description: str, strict: bool = True) -> Any:
    """A finite quantity in mcm per gas day, 0..MAX_QUANTITY (strictly a JSON number)."""
    return Annotated[float, Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False, strict=strict,
                                  description=f"{description}, at most {MAX_QUANTITY:g}")]


Quantity = quantity("mcm per gas day")
FormQuantity = quantity("mcm per gas day", strict=False)  # form fields arrive as text
Confirmed = quantity("confirmed mcm per gas day (default: as nominated)")
Firm = quantity("booked firm mcm per gas day")
Metered = quantity("metered mcm over the day")
PartyCode = text(40, pattern=r"^[A-Za-z0-9_.-]+$")
PartyName = text(200)
NewUsername = text(80, min_length=2, pattern=r"^[A-Za-z0-9_.@-]+$")
NewPassword = text(200, min_length=8)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NominationIn(Strict):
    gas_day: GasDay
    point: Code
    quantity: Quantity


class ConfirmIn(Strict):
    quantity: Confirmed | None = None


class CapacityIn(Strict):
    capacity: Quantity


class BookingIn(Strict):
    shipper: Code
    point: Code
    firm: Firm


class MeasurementIn(Strict):
    quantity: Metered
    by_shipper: Annotated[dict[Code, Quantity], Field(max_length=100)] | None = None


class PartyIn(Strict):
    code: PartyCode
    name: PartyName
    kind: str = Field(pattern="^(" + "|".join(ROLES) + ")$")
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")


class UserIn(Strict):
    username: NewUsername
    password: NewPassword
    party: Code


class Problem(BaseModel):
    """Every error: one message that says what to fix."""

    detail: str = Field(description="what went wrong and what to fix")


class ValidationProblem(Problem):
    """Invalid input (422): the message, and each error's location."""

    errors: list[dict[str, Any]] = Field(default_factory=list,
                                         description="each error: loc, msg, type")


_MEANING = {
    400: "malformed request (unparseable body, or a Host header the service does not serve)",
    401: "no token, or an invalid, expired or revoked one",
    403: "the role or party may not do this (or a cross-site cookie request)",
    404: "no such record",
    409: "the right request at the wrong time (cut-off, closed day, reused key, conflict)",
    413: "request body too large",
    422: "invalid input",
    429: "too many failed logins: wait for Retry-After seconds",
    503: "the database is busy or unreachable: retry",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entry for these error statuses."""
    return {code: {"model": ValidationProblem if code == 422 else Problem,
                   "description": _MEANING[code]} for code in codes}

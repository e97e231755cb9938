"""Matching and allocation at one point, as pure functions of arrays (no database).

Matching follows the lesser rule: a shipper's matched quantity is the least of what it nominated
and what the operators on both sides confirmed (a side that has not confirmed matches nothing).
Allocation shares the point's capacity among the matched quantities by the configured rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from corridor.service.cycle.errors import Invalid

TOLERANCE = 1e-9


def match(nominated: Sequence[float], confirmed_from: Sequence[float | None],
          confirmed_to: Sequence[float | None]) -> np.ndarray:
    """The lesser rule, per shipper: min(nominated, confirmed from-side, confirmed to-side),
    where a missing confirmation counts as 0."""
    return np.array([min(q, f if f is not None else 0.0, t if t is not None else 0.0)
                     for q, f, t in zip(nominated, confirmed_from, confirmed_to, strict=True)],
                    dtype=float)


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

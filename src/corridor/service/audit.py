"""The audit trail: an append-only, hash-chained log of every change (who, what, when, before,
after).

Each entry's hash covers its own fields and the previous entry's hash, so editing an entry breaks
its hash, deleting one breaks the next entry's link (or the head), and reordering breaks both.
Entries are written inside the transaction of the change they describe: no change without its
entry, no entry without its change. `verify` walks the chain; `corridor audit verify` runs it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.service.db import AuditEntry, AuditHead

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces; dates and other objects as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str,
                      ensure_ascii=False)


def entry_hash(seq: int, at: str, actor: str, action: str, entity: str, entity_id: str,
               before: str, after: str, prev_hash: str) -> str:
    """SHA-256 over the entry's fields and the previous hash."""
    payload = canonical([seq, at, actor, action, entity, entity_id, before, after, prev_hash])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(session: Session, actor: str, action: str, entity: str, entity_id: object,
           before: Any, after: Any, now: datetime | None = None) -> AuditEntry:
    """Append one entry to the chain; call inside a `Database.write` transaction."""
    head = session.get(AuditHead, 1, with_for_update=True)
    if head is None:
        raise RuntimeError("the audit chain has no head row: run the migrations")
    at = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    fields = {"seq": head.seq + 1, "at": at, "actor": actor, "action": action,
              "entity": entity, "entity_id": str(entity_id), "before": canonical(before),
              "after": canonical(after), "prev_hash": head.hash}
    entry = AuditEntry(**fields, hash=entry_hash(**fields))
    session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    session.flush()
    return entry


@dataclass
class Verification:
    """What `verify` found: entries checked, the head, and every broken link."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "head_seq": self.head_seq,
                "head_hash": self.head_hash, "problems": self.problems}


def verify(session: Session, expect_head: str | None = None) -> Verification:
    """Recompute every hash and link; report edited, deleted, inserted or reordered entries.

    `expect_head` is a head hash published earlier (e.g. printed by a previous verify): if the
    chain no longer contains it, entries were removed from the end together with the head row.
    """
    report = Verification()
    prev_hash, expected_seq, seen = GENESIS, 1, set()
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
        report.entries += 1
        seen.add(entry.hash)
        if entry.seq != expected_seq:
            report.problems.append(f"entry {expected_seq}"
                                   + (f"..{entry.seq - 1}" if entry.seq - 1 > expected_seq else "")
                                   + f" missing (deleted?) before entry {entry.seq}")
        if entry.prev_hash != prev_hash:
            report.problems.append(f"entry {entry.seq} does not link to the entry before it "
                                   "(an entry before it was deleted or edited)")
        fields = {c: getattr(entry, c) for c in ("seq", "at", "actor", "action", "entity",
                                                  "entity_id", "before", "after", "prev_hash")}
        if entry_hash(**fields) != entry.hash:
            report.problems.append(f"entry {entry.seq} ({entry.action} {entry.entity} "
                                   f"{entry.entity_id}) was edited: its hash does not match "
                                   "its content")
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    head = session.get(AuditHead, 1)
    if head is None:
        report.problems.append("the chain's head row is missing")
    else:
        report.head_seq, report.head_hash = head.seq, head.hash
        if (head.seq, head.hash) != (expected_seq - 1, prev_hash):
            report.problems.append(f"the head says the chain ends at entry {head.seq} but it "
                                   f"ends at entry {expected_seq - 1} (entries deleted from the "
                                   "end, or the head was edited)")
    if expect_head and expect_head not in seen | {GENESIS}:
        report.problems.append(f"the published head {expect_head[:16]}... is not in the chain "
                               "(entries were removed or rewritten)")
    return report


def entries(session: Session, limit: int = 100, before_seq: int | None = None
            ) -> list[AuditEntry]:
    """The newest entries first, `limit` at a time."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    return list(session.scalars(query))

"""The audit trail: an append-only, hash-chained log of every change (who, what, when, before,
after, and a digest of every row the change wrote).

Each entry's hash covers its own fields and the previous entry's hash, so editing an entry breaks
its hash, deleting one breaks the next entry's link (or the head), and reordering breaks both.
Entries are written inside the transaction of the change they describe: no change without its
entry, no entry without its change.

The chain covers the log; the row digests extend it to the data: each entry names the rows of the
cycle's tables it wrote with a SHA-256 of their stored values, so `verify` can tell a row changed,
inserted or deleted behind the service's back (plain SQL) from one the service wrote. What the
chain cannot see by itself (the last entries cut together with the head, or the whole chain
rewritten with recomputed hashes) is caught against a signed checkpoint of an earlier head
(`corridor.service.checkpoint`). `corridor audit verify` runs it all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, inspect, select
from sqlalchemy.orm import Session

from corridor.service.db import AuditEntry, AuditHead, Base

GENESIS = "0" * 64
# the cycle's tables whose rows the log attests, row by row
TRACKED_TABLES = ("nominations", "confirmations", "allocations", "bookings", "measurements",
                  "gas_days", "point_capacities")


def canonical(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces; dates and other objects as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str,
                      ensure_ascii=False)


def entry_hash(seq: int, at: str, actor: str, action: str, entity: str, entity_id: str,
               before: str, after: str, prev_hash: str, row_digests: str | None = None) -> str:
    """SHA-256 over the entry's fields and the previous hash (and its row digests, for entries
    written since they exist: older entries keep their original hash)."""
    fields = [seq, at, actor, action, entity, entity_id, before, after, prev_hash]
    if row_digests is not None:
        fields.append(row_digests)
    return hashlib.sha256(canonical(fields).encode("utf-8")).hexdigest()


def row_key(table: Table, values: Mapping[str, Any]) -> str:
    """A row's name in the log: `table/primary key` (e.g. `nominations/12`)."""
    return "/".join([table.name, *(str(values[c.name]) for c in table.primary_key.columns)])


def row_digest(values: Mapping[str, Any]) -> str:
    """SHA-256 of a row's stored column values (times with a zone in UTC, so the digest does not
    depend on the reading connection's time zone)."""
    plain = {k: v.astimezone(UTC).isoformat() if isinstance(v, datetime) and v.tzinfo else v
             for k, v in values.items()}
    return hashlib.sha256(canonical(plain).encode("utf-8")).hexdigest()


def _digests(session: Session, rows: Iterable[object]) -> dict[str, str]:
    """Digest of each ORM row as the database stores it (read back in this transaction, so the
    digest is what a later `verify` reads, whatever the driver does to dates and numbers)."""
    out = {}
    for obj in rows:
        mapper = inspect(obj).mapper
        table = mapper.local_table
        if table.name not in TRACKED_TABLES:
            raise ValueError(f"the audit log does not attest rows of {table.name}")
        pk = mapper.primary_key_from_instance(obj)
        values = session.execute(select(table).where(
            *(c == v for c, v in zip(mapper.primary_key, pk, strict=True)))).mappings().one()
        out[row_key(table, values)] = row_digest(values)
    return out


def record(session: Session, actor: str, action: str, entity: str, entity_id: object,
           before: Any, after: Any, now: datetime | None = None,
           rows: Iterable[object] = ()) -> AuditEntry:
    """Append one entry to the chain; call inside a `Database.write` transaction.

    `rows` are the ORM rows of `TRACKED_TABLES` the change wrote: their digests go into the
    entry, so `verify` can check that the tables still hold what the log says.
    """
    head = session.get(AuditHead, 1, with_for_update=True)
    if head is None:
        raise RuntimeError("the audit chain has no head row: run the migrations")
    session.flush()
    at = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    fields = {"seq": head.seq + 1, "at": at, "actor": actor, "action": action,
              "entity": entity, "entity_id": str(entity_id), "before": canonical(before),
              "after": canonical(after), "prev_hash": head.hash,
              "row_digests": canonical(_digests(session, rows))}
    entry = AuditEntry(**fields, hash=entry_hash(**fields))
    session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    session.flush()
    return entry


@dataclass(frozen=True)
class Head:
    """A head of the chain as published earlier (e.g. a signed checkpoint): entry `seq` had
    `hash`; `at` is when that entry was written."""

    seq: int
    hash: str
    at: str | None = None


@dataclass
class Verification:
    """What `verify` found: entries and rows checked, the head, and every problem."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    rows: int = 0
    unattested_rows: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "head_seq": self.head_seq,
                "head_hash": self.head_hash, "rows": self.rows,
                "unattested_rows": self.unattested_rows, "checkpoints": self.checkpoints,
                "problems": self.problems}


def verify(session: Session, expect_head: str | None = None, heads: Sequence[Head] = (),
           rows: bool = True) -> Verification:
    """Recompute every hash and link; report edited, deleted, inserted or reordered entries,
    entries missing or rewritten up to a published head (`expect_head`, a hash, or `heads`,
    e.g. from signed checkpoints), and with `rows`, every row of the cycle's tables that differs
    from what the log last recorded for it.
    """
    _snapshot(session)
    report = Verification(checkpoints=len(heads))
    prev_hash, expected_seq, seen = GENESIS, 1, set()
    wanted = {h.seq for h in heads}
    hash_at: dict[int, str] = {}
    attested: dict[str, tuple[int, str | None, str]] = {}  # row -> (seq, digest, action)
    legacy = False  # entries from before row digests existed
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
        report.entries += 1
        seen.add(entry.hash)
        if entry.seq in wanted:
            hash_at[entry.seq] = entry.hash
        if entry.seq != expected_seq:
            report.problems.append(f"entry {expected_seq}"
                                   + (f"..{entry.seq - 1}" if entry.seq - 1 > expected_seq else "")
                                   + f" missing (deleted?) before entry {entry.seq}")
        if entry.prev_hash != prev_hash:
            report.problems.append(f"entry {entry.seq} does not link to the entry before it "
                                   "(an entry before it was deleted or edited)")
        fields = {c: getattr(entry, c) for c in ("seq", "at", "actor", "action", "entity",
                                                  "entity_id", "before", "after", "prev_hash",
                                                  "row_digests")}
        if entry_hash(**fields) != entry.hash:
            report.problems.append(f"entry {entry.seq} ({entry.action} {entry.entity} "
                                   f"{entry.entity_id}) was edited: its hash does not match "
                                   "its content")
        if entry.row_digests is None:
            legacy = True
        else:
            try:
                digests = json.loads(entry.row_digests)
            except ValueError:
                digests = None
            if not isinstance(digests, dict):
                digests = {}  # an edited entry: reported above
            for key, digest in digests.items():
                attested[key] = (entry.seq, digest, entry.action)
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    last = expected_seq - 1
    head = session.get(AuditHead, 1)
    if head is None:
        report.problems.append("the chain's head row is missing")
    else:
        report.head_seq, report.head_hash = head.seq, head.hash
        if (head.seq, head.hash) != (last, prev_hash):
            report.problems.append(f"the head says the chain ends at entry {head.seq} but it "
                                   f"ends at entry {last} (entries deleted from the "
                                   "end, or the head was edited)")
    if expect_head and expect_head not in seen | {GENESIS}:
        report.problems.append(f"the published head {expect_head[:16]}... is not in the chain "
                               "(entries were removed or rewritten)")
    for h in heads:
        report.problems.extend(_check_head(h, hash_at.get(h.seq), last))
    if rows:
        _check_rows(session, attested, legacy, report)
    return report


def _snapshot(session: Session) -> None:
    """Read the chain, the head and the rows from one snapshot, so that writes committed while
    `verify` runs cannot look like tampering (SQLite's read transactions are snapshots already)."""
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _check_head(head: Head, found: str | None, last: int) -> list[str]:
    """What is wrong with the chain compared with a head published earlier."""
    when = f" (written {head.at})" if head.at else ""
    if head.seq == 0:
        return []
    if head.seq > last:
        missing = f"entry {head.seq}" if head.seq == last + 1 else \
            f"entries {last + 1}..{head.seq}"
        return [f"{missing} missing: the checkpoint covers the chain up to entry "
                f"{head.seq}{when}, but the chain ends at entry {last} (entries cut from the "
                "end, with the head rewound)"]
    if found is None:
        return [f"entry {head.seq}, covered by the checkpoint{when}, is missing"]
    if found != head.hash:
        return [f"entry {head.seq} differs from the checkpoint{when}: its hash is "
                f"{found[:16]}..., the checkpoint says {head.hash[:16]}... (the chain up to "
                f"entry {head.seq} was rewritten)"]
    return []


def _check_rows(session: Session, attested: dict[str, tuple[int, str | None, str]],
                legacy: bool, report: Verification) -> None:
    """Compare every row of the tracked tables with the digest the log last recorded for it."""
    present = set()
    for name in TRACKED_TABLES:
        table = Base.metadata.tables[name]
        for values in session.execute(select(table)).mappings():
            report.rows += 1
            key = row_key(table, values)
            present.add(key)
            logged = attested.get(key)
            if logged is None:
                if legacy:  # may predate row digests: cannot tell
                    report.unattested_rows += 1
                else:
                    report.problems.append(f"row {key} is not in the audit trail (inserted "
                                           "behind the service's back)")
            elif logged[1] != row_digest(values):
                report.problems.append(f"row {key} was changed behind the service's back: it "
                                       f"differs from its state recorded in entry {logged[0]} "
                                       f"({logged[2]})")
    for key, (seq, digest, action) in attested.items():
        if digest is not None and key not in present:
            report.problems.append(f"row {key} was deleted behind the service's back (last "
                                   f"recorded in entry {seq}, {action})")


def entries(session: Session, limit: int = 100, before_seq: int | None = None
            ) -> list[AuditEntry]:
    """The newest entries first, `limit` at a time."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    return list(session.scalars(query))

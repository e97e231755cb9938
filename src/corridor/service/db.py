"""The service's tables (SQLAlchemy 2) and how to open short read and write transactions.

Every state change runs in one write transaction (`Database.write`) that also appends to the audit
chain. Writes are serialised: on SQLite by `BEGIN IMMEDIATE` (one writer at a time, WAL so readers
never wait), on PostgreSQL by locking the single audit-head row first. Serialising keeps the hash
chain linear and makes idempotency checks race-free, at the cost of write throughput (measured by
benchmarks/service_load.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

SECRETARIAT, OPERATOR, SHIPPER, REGULATOR = "secretariat", "operator", "shipper", "regulator"
ROLES = (SECRETARIAT, OPERATOR, SHIPPER, REGULATOR)


class Base(DeclarativeBase):
    """Declarative base; `metadata` is what the migrations create."""


class Party(Base):
    """A member operator (by country), a shipper, the secretariat or a regulator/auditor."""

    __tablename__ = "parties"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # one of ROLES
    country: Mapped[str | None] = mapped_column(String(2))  # operators: the country they run


class User(Base):
    """A person who logs in; acts with the role of the party it belongs to."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    party: Mapped[Party] = relationship(lazy="joined")

    @property
    def role(self) -> str:
        return self.party.kind


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals no token."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Point(Base):
    """An interconnection point: one direction of a border link, with its technical capacity."""

    __tablename__ = "points"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    link: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(8))  # forward (link from->to) or reverse
    from_node: Mapped[str] = mapped_column(String(80))
    to_node: Mapped[str] = mapped_column(String(80))
    from_country: Mapped[str] = mapped_column(String(2))
    to_country: Mapped[str] = mapped_column(String(2))
    capacity: Mapped[float] = mapped_column(Float)  # mcm per gas day
    from_lat: Mapped[float | None] = mapped_column(Float)
    from_lon: Mapped[float | None] = mapped_column(Float)
    to_lat: Mapped[float | None] = mapped_column(Float)
    to_lon: Mapped[float | None] = mapped_column(Float)


class PointCapacity(Base):
    """Technical capacity of a point on one gas day (maintenance), overriding the default."""

    __tablename__ = "point_capacities"
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id"), primary_key=True)
    gas_day: Mapped[date] = mapped_column(Date, primary_key=True)
    capacity: Mapped[float] = mapped_column(Float)


class Booking(Base):
    """Firm capacity a shipper has booked at a point (mcm per gas day)."""

    __tablename__ = "bookings"
    __table_args__ = (UniqueConstraint("shipper_id", "point_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    shipper_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id"))
    firm: Mapped[float] = mapped_column(Float)


class GasDay(Base):
    """A gas day that has activity; `closed` once the secretariat finalises its allocation."""

    __tablename__ = "gas_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Nomination(Base):
    """One version of a shipper's nomination at a point for a gas day; the highest version is
    in force. Rows are never updated: a renomination adds a version."""

    __tablename__ = "nominations"
    __table_args__ = (UniqueConstraint("gas_day", "point_id", "shipper_id", "version"),
                      UniqueConstraint("shipper_id", "idempotency_key"))
    id: Mapped[int] = mapped_column(primary_key=True)
    gas_day: Mapped[date] = mapped_column(Date, index=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id"))
    shipper_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    version: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[float] = mapped_column(Float)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    point: Mapped[Point] = relationship(lazy="joined")
    shipper: Mapped[Party] = relationship(lazy="joined")


class Confirmation(Base):
    """An operator's confirmed quantity for a nomination version, for its side of the point."""

    __tablename__ = "confirmations"
    __table_args__ = (UniqueConstraint("nomination_id", "side"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id"))
    side: Mapped[str] = mapped_column(String(4))  # "from" or "to"
    operator_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    quantity: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Allocation(Base):
    """Matched and allocated quantity of one shipper at one point on one gas day."""

    __tablename__ = "allocations"
    __table_args__ = (UniqueConstraint("gas_day", "point_id", "shipper_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    gas_day: Mapped[date] = mapped_column(Date, index=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id"))
    shipper_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id"))
    nominated: Mapped[float] = mapped_column(Float)
    confirmed_from: Mapped[float | None] = mapped_column(Float)
    confirmed_to: Mapped[float | None] = mapped_column(Float)
    matched: Mapped[float] = mapped_column(Float)
    firm: Mapped[float] = mapped_column(Float, default=0.0)
    allocated: Mapped[float] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(String(20))
    point: Mapped[Point] = relationship(lazy="joined")
    shipper: Mapped[Party] = relationship(lazy="joined")


class Measurement(Base):
    """Metered flow at a point over a gas day, optionally split by shipper."""

    __tablename__ = "measurements"
    __table_args__ = (UniqueConstraint("gas_day", "point_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    gas_day: Mapped[date] = mapped_column(Date, index=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id"))
    quantity: Mapped[float] = mapped_column(Float)
    by_shipper: Mapped[dict | None] = mapped_column(JSON)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    point: Mapped[Point] = relationship(lazy="joined")


class FeasibilityCheck(Base):
    """The outcome of checking a gas day's plan on the whole network."""

    __tablename__ = "feasibility_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    gas_day: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20))  # feasible, infeasible, error
    result: Mapped[dict] = mapped_column(JSON)


class AuditEntry(Base):
    """One link of the append-only audit chain; `hash` covers every other column.

    `row_digests` (canonical JSON, `{"table/key": sha256 of the row}`) attests the rows of the
    cycle's tables the change wrote; it is NULL in entries written before it existed."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, hashed exactly as stored
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80))
    before: Mapped[str] = mapped_column(Text)  # canonical JSON
    after: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    row_digests: Mapped[str | None] = mapped_column(Text)


class AuditHead(Base):
    """The chain's last entry (one row): locked by every write transaction to serialise them."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


def _sqlite_engine(url: str, begin: str) -> Engine:
    """A SQLite engine whose transactions start with `begin`, in WAL mode, durable commits."""
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False},
                           pool_size=20, max_overflow=40)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not pysqlite, issues BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql(begin)

    return engine


class Database:
    """Engines and transactions for one database URL."""

    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, "BEGIN")
            self.write_engine = _sqlite_engine(url, "BEGIN IMMEDIATE")
            # one writer at a time anyway: queue this process's writers on a lock (first come,
            # first served) instead of in SQLite's busy-wait, which starves some of them
            self._write_lock = threading.Lock()
        else:
            self.engine = create_engine(url, pool_size=20, max_overflow=40, pool_pre_ping=True)
            self.write_engine = self.engine
            self._write_lock = None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session; closing it ends the transaction and keeps loaded objects usable."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One serialised write transaction: committed if the block succeeds, else rolled back."""
        with self._write_lock or nullcontext(), \
                Session(self.write_engine, expire_on_commit=False) as session:
            with session.begin():
                session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update())
                yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()

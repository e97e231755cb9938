"""Signed checkpoints and row digests: what the hash chain alone cannot see.

A forger with database access can cut the last entries and rewind the head, rewrite the whole
chain with recomputed hashes, or change the cycle's tables with plain SQL. Each case is run
through `corridor audit` (CliRunner) and the Python API, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW, OPEN_DAY
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from corridor.cli.service_commands import app
from corridor.service import audit, checkpoint, cycle, demo
from corridor.service.config import ServiceSettings
from corridor.service.db import Base, Database, User

PAST_DAY = NOW.date() - timedelta(days=2)
TABLES = ("nominations", "confirmations", "allocations", "bookings", "measurements")


@dataclass
class Trail:
    """A service database with a finished gas day, an open one, and an audit key pair."""

    url: str
    db: Database
    key: Path
    pub: Path
    folder: Path

    def cli(self, *args: str):
        return CliRunner().invoke(app, ["audit", *args, "--db", self.url])

    def verify(self, *checkpoints: Path, key: Path | None = None):
        args = [a for cp in checkpoints for a in ("--checkpoint", str(cp))]
        return self.cli("verify", *args, "--key", str(key or self.pub))

    def take(self, name: str) -> Path:
        path = self.folder / name
        result = self.cli("checkpoint", "--out", str(path), "--key", str(self.key))
        assert result.exit_code == 0, result.output
        return path

    def api_verify(self, *checkpoints: Path) -> audit.Verification:
        with self.db.read() as s:
            return checkpoint.verify(s, [checkpoint.read(p) for p in checkpoints],
                                     checkpoint.load_public_key(self.pub))

    def sql(self, *statements: str, audit_log: bool = False) -> None:
        """What a database administrator could do behind the service's back."""
        engine = create_engine(self.url)
        with engine.begin() as con:
            if audit_log:
                _unguard(con)
            for statement in statements:
                con.execute(text(statement))
        engine.dispose()

    def scalar(self, sql: str):
        with self.db.read() as s:
            return s.execute(text(sql)).scalar_one()

    def user(self, username: str) -> User:
        with self.db.read() as s:
            return s.scalar(select(User).where(User.username == username))


def _unguard(con) -> None:
    """Switch off the append-only trigger of the audit log."""
    if con.dialect.name == "sqlite":
        con.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        con.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
    else:
        con.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))


def _activity(db: Database, settings: ServiceSettings) -> None:
    """A finished day at G08 (maintenance at G47, renomination, both sides confirm, closed,
    metered) and a nomination for the next open day: rows in every tracked table."""
    conv = cycle.GasDayConvention.from_settings(settings)
    with db.read() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        g08, g47 = cycle.point_by_code(s, "G08"), cycle.point_by_code(s, "G47")
    rule, t = settings.allocation_rule, conv.cutoff(PAST_DAY) - timedelta(hours=3)
    with db.write() as s:
        cycle.set_capacity(s, users["secretariat"], rule, "G47", PAST_DAY, 22.0, t)
    for username, quantity in (("shipper-a", 9.0), ("shipper-a", 10.0), ("shipper-b", 6.0)):
        with db.write() as s:
            nom, _ = cycle.submit_nomination(s, users[username], conv, rule, PAST_DAY, "G08",
                                             quantity, None, t)
            nom_id = nom.id
        for country in (g08.from_country, g08.to_country) if username != "shipper-a" or \
                quantity == 10.0 else ():
            with db.write() as s:
                cycle.confirm(s, users[f"operator-{country.lower()}"], rule, nom_id, None,
                              t + timedelta(hours=1), conv)
    with db.write() as s:
        cycle.close_day(s, users["secretariat"], conv, rule, PAST_DAY, conv.cutoff(PAST_DAY))
    with db.write() as s:
        cycle.upload_measurement(s, users[f"operator-{g08.to_country.lower()}"], conv, PAST_DAY,
                                 "G08", 15.5, {"SHIPPER-A": 9.8, "SHIPPER-B": 5.7},
                                 conv.end(PAST_DAY) + timedelta(hours=2))
    with db.write() as s:  # flow where nobody nominated
        cycle.upload_measurement(s, users[f"operator-{g47.to_country.lower()}"], conv, PAST_DAY,
                                 "G47", 1.5, None, conv.end(PAST_DAY) + timedelta(hours=2))
    with db.write() as s:
        cycle.submit_nomination(s, users["shipper-a"], conv, rule, OPEN_DAY, "G08", 7.0, None,
                                NOW)


@pytest.fixture
def trail(database_url: str, tmp_path: Path):
    settings = ServiceSettings(database_url=database_url, demo=False)
    db = Database(settings.database_url)
    demo.seed_reference(db, settings, NOW)
    _activity(db, settings)
    key = tmp_path / "audit.key"
    result = CliRunner().invoke(app, ["audit", "keygen", "--out", str(key)])
    assert result.exit_code == 0, result.output
    yield Trail(settings.database_url, db, key, tmp_path / "audit.key.pub", tmp_path)
    db.dispose()


def test_keygen_writes_a_private_key_only_its_owner_reads(trail: Trail) -> None:
    assert stat.S_IMODE(os.stat(trail.key).st_mode) == 0o600
    assert b"PRIVATE KEY" in trail.key.read_bytes()
    assert b"PUBLIC KEY" in trail.pub.read_bytes()
    again = CliRunner().invoke(app, ["audit", "keygen", "--out", str(trail.key)])
    assert again.exit_code == 2 and "exists already" in again.stderr


def test_intact_trail_verifies_against_its_checkpoint(trail: Trail) -> None:
    cp = trail.take("head.json")
    doc = json.loads(cp.read_text())
    assert doc["seq"] == trail.scalar("SELECT seq FROM audit_head") > 10
    assert doc["hash"] == trail.scalar("SELECT hash FROM audit_head")
    assert doc["at"].endswith("+00:00") and doc["signed_at"]
    result = trail.verify(cp)
    assert result.exit_code == 0, result.output
    assert "audit trail intact" in result.stdout and "1 checkpoint(s) hold" in result.stdout
    report = trail.api_verify(cp)
    assert report.ok and report.rows > 10 and report.unattested_rows == 0
    # the private key verifies too, and so does the key named in the settings
    assert trail.verify(cp, key=trail.key).exit_code == 0
    # ... from a connection in another time zone (PostgreSQL answers in the session's zone)
    env = {"CORRIDOR_SERVICE_AUDIT_KEY": str(trail.pub), "PGTZ": "Asia/Almaty"}
    result = CliRunner().invoke(app, ["audit", "verify", "--db", trail.url, "--checkpoint",
                                      str(cp)], env=env)
    assert result.exit_code == 0, result.output


def test_cut_tail_with_rewound_head_is_caught_by_the_checkpoint(trail: Trail) -> None:
    before = trail.take("before.json")
    # one more nomination (an entry for it and one for its allocation), then a checkpoint
    users = trail.user("shipper-b")
    conv = cycle.GasDayConvention()
    with trail.db.write() as s:
        nom, _ = cycle.submit_nomination(s, users, conv, "pro_rata", OPEN_DAY, "G44", 3.0,
                                         None, NOW)
        nom_id = nom.id
    after = trail.folder / "after.json"
    with trail.db.read() as s:
        checkpoint.write(after, checkpoint.take(s, checkpoint.load_private_key(trail.key), NOW))
    head = trail.scalar("SELECT seq FROM audit_head")
    # the forger removes the nomination, its allocation and their two entries, rewinds the head
    trail.sql(f"DELETE FROM allocations WHERE nomination_id = {nom_id}",
              f"DELETE FROM nominations WHERE id = {nom_id}",
              f"DELETE FROM audit_log WHERE seq > {head - 2}",
              f"""UPDATE audit_head SET seq = {head - 2},
                  hash = (SELECT hash FROM audit_log WHERE seq = {head - 2})""", audit_log=True)
    assert trail.verify().exit_code == 0  # consistent with itself: only a checkpoint sees it
    assert trail.verify(before).exit_code == 0
    result = trail.verify(before, after)
    assert result.exit_code == 1
    assert f"entries {head - 1}..{head} missing" in result.stdout
    assert f"covers the chain up to entry {head}" in result.stdout
    report = trail.api_verify(after)
    assert not report.ok and report.problems == [
        p for p in report.problems if f"entries {head - 1}..{head} missing" in p]


def _rewrite(trail: Trail, edit) -> None:
    """A full rewrite: `edit(entry, con)` changes entries, then every hash is recomputed."""
    fields = ("seq", "at", "actor", "action", "entity", "entity_id", "before", "after",
              "prev_hash", "row_digests")
    engine = create_engine(trail.url)
    with engine.begin() as con:
        _unguard(con)
        prev = audit.GENESIS
        for row in con.execute(text("SELECT * FROM audit_log ORDER BY seq")).mappings().all():
            entry = {f: row[f] for f in fields}
            edit(entry, con)
            entry["prev_hash"] = prev
            entry["hash"] = prev = audit.entry_hash(**entry)
            con.execute(text("UPDATE audit_log SET after = :after, row_digests = :row_digests, "
                             "prev_hash = :prev_hash, hash = :hash WHERE seq = :seq"), entry)
        con.execute(text("UPDATE audit_head SET seq = :seq, hash = :hash"),
                    {"seq": entry["seq"], "hash": prev})
    engine.dispose()


def test_full_rewrite_with_recomputed_hashes_is_caught(trail: Trail) -> None:
    cp = trail.take("head.json")
    bookings = Base.metadata.tables["bookings"]
    booking_id = trail.scalar("SELECT min(id) FROM bookings")

    def edit(entry: dict, con) -> None:
        """Raise the first booking to 99 and make its entry and digest say so."""
        if entry["action"] == "booking.set" and f'"bookings/{booking_id}"' in entry["row_digests"]:
            con.execute(text(f"UPDATE bookings SET firm = 99 WHERE id = {booking_id}"))
            values = con.execute(select(bookings).where(bookings.c.id == booking_id)
                                 ).mappings().one()
            entry["after"] = audit.canonical({"firm": 99.0})
            entry["row_digests"] = audit.canonical(
                {f"bookings/{booking_id}": audit.row_digest(values)})

    _rewrite(trail, edit)
    assert trail.scalar(f"SELECT firm FROM bookings WHERE id = {booking_id}") == 99
    assert trail.verify().exit_code == 0  # a perfect forgery of the chain and the rows
    result = trail.verify(cp)
    assert result.exit_code == 1
    seq = json.loads(cp.read_text())["seq"]
    assert f"entry {seq} differs from the checkpoint" in result.stdout
    assert "was rewritten" in result.stdout
    report = trail.api_verify(cp)
    assert not report.ok and "rewritten" in report.problems[0]


UPDATES = {"nominations": "quantity = quantity + 1", "confirmations": "quantity = 0",
           "allocations": "allocated = allocated + 1", "bookings": "firm = 1000",
           "measurements": "quantity = 1"}


@pytest.mark.parametrize("table", TABLES)
def test_direct_update_and_delete_are_named(trail: Trail, table: str) -> None:
    with trail.db.read() as s:
        ids = list(s.execute(text(f"SELECT id FROM {table} ORDER BY id")).scalars())
    if table == "nominations":  # a replaced version: nothing refers to it
        with trail.db.read() as s:
            ids = list(s.execute(text(
                "SELECT id FROM nominations WHERE id NOT IN (SELECT nomination_id FROM "
                "allocations) AND id NOT IN (SELECT nomination_id FROM confirmations) "
                "ORDER BY id")).scalars()) + ids
    changed = ids[-1]
    trail.sql(f"UPDATE {table} SET {UPDATES[table]} WHERE id = {changed}")
    result = trail.verify()
    assert result.exit_code == 1
    assert f"row {table}/{changed} was changed behind the service's back" in result.stdout
    report = trail.api_verify()
    assert report.problems == [p for p in report.problems if f"{table}/{changed}" in p]

    deleted = ids[0]
    assert deleted != changed
    trail.sql(f"DELETE FROM {table} WHERE id = {deleted}")
    result = trail.verify()
    assert result.exit_code == 1
    assert f"row {table}/{deleted} was deleted behind the service's back" in result.stdout
    assert f"row {table}/{changed} was changed" in result.stdout
    assert len(trail.api_verify().problems) == 2


def test_rows_inserted_behind_the_service_are_named(trail: Trail) -> None:
    trail.sql("INSERT INTO bookings (id, shipper_id, point_id, firm) VALUES (9999, "
              "(SELECT id FROM parties WHERE code = 'SHIPPER-B'), "
              "(SELECT id FROM points WHERE code = 'G08'), 5)")
    result = trail.verify()
    assert result.exit_code == 1
    assert "row bookings/9999 is not in the audit trail" in result.stdout


def test_tampered_checkpoint_is_rejected(trail: Trail) -> None:
    cp = trail.take("head.json")
    doc = json.loads(cp.read_text())
    forged = trail.folder / "forged.json"
    forged.write_text(json.dumps({**doc, "seq": doc["seq"] - 1}))
    result = trail.verify(forged)
    assert result.exit_code == 1 and "bad signature" in result.stdout
    sig = doc["signature"]
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    forged.write_text(json.dumps({**doc, "signature": flipped}))
    assert "bad signature" in trail.verify(forged).stdout
    forged.write_text(json.dumps({**doc, "signature": "not base64!"}))
    assert trail.verify(forged).exit_code == 1
    # signed with another key (or verified with the wrong one)
    other = trail.folder / "other.key"
    assert CliRunner().invoke(app, ["audit", "keygen", "--out", str(other)]).exit_code == 0
    result = trail.verify(cp, key=other)
    assert result.exit_code == 1 and "signed by another key" in result.stdout
    with trail.db.read() as s:
        report = checkpoint.verify(s, [checkpoint.read(cp)],
                                   checkpoint.load_public_key(other))
    assert not report.ok and "another key" in report.problems[0]


def test_missing_or_corrupt_files_are_clear_errors(trail: Trail) -> None:
    cp = trail.take("head.json")
    cases = {"missing checkpoint": (["verify", "--checkpoint", str(trail.folder / "none.json"),
                                     "--key", str(trail.pub)], "cannot read the checkpoint"),
             "not a checkpoint": (["verify", "--checkpoint", str(trail.pub), "--key",
                                   str(trail.pub)], "is not a Corridor audit checkpoint"),
             "no key": (["verify", "--checkpoint", str(cp)], "needs the audit public key"),
             "missing key": (["verify", "--checkpoint", str(cp), "--key",
                              str(trail.folder / "none.key")], "cannot read the audit key"),
             "corrupt key": (["verify", "--checkpoint", str(cp), "--key", str(cp)],
                             "neither an Ed25519 public key"),
             "public key signs": (["checkpoint", "--out", str(trail.folder / "x.json"),
                                   "--key", str(trail.pub)], "not an unencrypted Ed25519"),
             "no key to sign": (["checkpoint", "--out", str(trail.folder / "x.json")],
                                "needs the audit private key")}
    for case, (args, message) in cases.items():
        result = CliRunner().invoke(app, ["audit", *args, "--db", trail.url],
                                    env={"CORRIDOR_SERVICE_AUDIT_KEY": None})
        assert result.exit_code == 2, (case, result.output)
        assert message in result.stderr, (case, result.stderr)
        assert "Traceback" not in result.output
    doc = json.loads(cp.read_text())
    del doc["hash"]
    cp.write_text(json.dumps(doc))
    result = trail.verify(cp)
    assert result.exit_code == 2 and "corrupt (missing hash)" in result.stderr
    assert not (trail.folder / "x.json").exists()


def test_a_broken_trail_is_not_signed(trail: Trail) -> None:
    trail.sql("UPDATE bookings SET firm = 0")
    out = trail.folder / "head.json"
    result = trail.cli("checkpoint", "--out", str(out), "--key", str(trail.key))
    assert result.exit_code == 1 and "behind the service's back" in result.stdout
    assert not out.exists()


def test_entries_from_before_row_digests_stay_valid(trail: Trail) -> None:
    """A database migrated from 0002: its entries have no digests and keep their old hashes."""
    _rewrite(trail, lambda entry, con: entry.update(row_digests=None))
    with trail.db.read() as s:
        report = audit.verify(s)
    assert report.ok, report.problems
    assert report.unattested_rows == report.rows > 0
    # new changes are attested again, and a later direct change to them is named
    with trail.db.write() as s:
        nom, _ = cycle.submit_nomination(s, trail.user("shipper-c"), cycle.GasDayConvention(),
                                         "pro_rata", OPEN_DAY, "G44", 2.0, None, NOW)
        nom_id = nom.id
    with trail.db.read() as s:
        report = audit.verify(s)
    assert report.ok and report.unattested_rows < report.rows
    trail.sql(f"UPDATE nominations SET quantity = 50 WHERE id = {nom_id}")
    result = trail.verify()
    assert result.exit_code == 1 and f"row nominations/{nom_id} was changed" in result.stdout

"""The audit trail: every change leaves an entry with who, what, when, before and after; the
log refuses UPDATE and DELETE; `corridor audit verify` detects edited and deleted entries."""

from __future__ import annotations

import json

import pytest
from conftest import Env
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from corridor.cli.service_commands import app


def _verify(env: Env, *args: str):
    result = CliRunner().invoke(app, ["audit", "verify", "--db", env.url, *args])
    return result


def _tamper(env: Env, *statements: str) -> None:
    """What a database administrator could do: switch the guard off and change history."""
    engine = create_engine(env.settings.database_url)
    with engine.begin() as con:
        if env.db.is_sqlite:
            con.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            con.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        else:
            con.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        for sql in statements:
            con.execute(text(sql))
    engine.dispose()


@pytest.fixture
def busy(env: Env) -> Env:
    """Some activity: logins, nominations, a renomination, confirmations, re-allocation."""
    n = env.nominate("shipper-a", "G08", 10.0)
    env.nominate("shipper-a", "G08", 11.0)
    env.nominate("shipper-b", "G08", 4.0)
    env.confirm("operator-ru", n["id"] + 1)
    env.confirm("operator-uz", n["id"] + 1)
    return env


def test_every_change_is_recorded(busy: Env) -> None:
    entries = busy.call("regulator", "GET", "/api/audit?limit=1000").json()
    actions = [e["action"] for e in reversed(entries)]
    assert actions.count("nomination.submit") == 2 and "nomination.renominate" in actions
    assert actions.count("nomination.confirm") == 2 and "allocation.update" in actions
    assert "auth.login" in actions and "point.create" in actions
    renom = next(e for e in entries if e["action"] == "nomination.renominate")
    assert renom["actor"] == "shipper-a"
    assert json.loads(renom["before"])["quantity"] == 10.0
    assert json.loads(renom["after"])["quantity"] == 11.0
    assert renom["at"].endswith("+00:00")
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs, reverse=True) and seqs[-1] == 1


def test_intact_chain_verifies(busy: Env) -> None:
    result = _verify(busy)
    assert result.exit_code == 0, result.output
    assert "audit trail intact" in result.stdout
    as_json = json.loads(_verify(busy, "--json").stdout)
    assert as_json["ok"] and as_json["entries"] == as_json["head_seq"] > 10


def test_the_database_refuses_to_change_history(busy: Env) -> None:
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(busy.settings.database_url)
    for sql in ("UPDATE audit_log SET actor = 'x' WHERE seq = 3", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as con:
            con.execute(text(sql))
    engine.dispose()


def test_edited_entry_is_detected(busy: Env) -> None:
    _tamper(busy, """UPDATE audit_log SET after = replace(after, '11.0', '1100.0')
                     WHERE action = 'nomination.renominate'""")
    result = _verify(busy)
    assert result.exit_code == 1
    assert "was edited" in result.stdout and "nomination.renominate" in result.stdout


def test_deleted_entry_is_detected(busy: Env) -> None:
    _tamper(busy, "DELETE FROM audit_log WHERE seq = 5")
    result = _verify(busy)
    assert result.exit_code == 1
    assert "entry 5 missing" in result.stdout and "entry 6 does not link" in result.stdout


def test_deleted_tail_is_detected(busy: Env) -> None:
    head = json.loads(_verify(busy, "--json").stdout)
    last = head["head_seq"]
    _tamper(busy, f"DELETE FROM audit_log WHERE seq = {last}")
    result = _verify(busy)
    assert result.exit_code == 1 and "head says the chain ends" in result.stdout
    # a careful forger also rewinds the head row: the chain alone looks intact, but the
    # allocation the cut entry wrote no longer matches the log, and the published head is gone
    _tamper(busy, f"""UPDATE audit_head SET seq = {last - 1},
                      hash = (SELECT hash FROM audit_log WHERE seq = {last - 1})""")
    result = _verify(busy)
    assert result.exit_code == 1 and "head says" not in result.stdout
    assert "allocations/" in result.stdout and "behind the service's back" in result.stdout
    result = _verify(busy, "--expect-head", head["head_hash"])
    assert result.exit_code == 1 and "published head" in result.stdout


def test_verify_reports_an_unreachable_database(tmp_path) -> None:
    result = CliRunner().invoke(app, ["audit", "verify", "--db",
                                      f"sqlite:///{tmp_path}/missing/none.db"])
    assert result.exit_code == 2 and "cannot read the audit trail" in result.stderr


def test_the_api_names_rows_changed_behind_its_back(env: Env) -> None:
    n = env.nominate("shipper-a", "G08", 10.0)
    report = env.call("regulator", "GET", "/api/audit/verify").json()
    assert report["ok"] and report["rows"] > 0 and report["unattested_rows"] == 0
    _tamper(env, f"UPDATE nominations SET quantity = 99 WHERE id = {n['id']}")
    report = env.call("regulator", "GET", "/api/audit/verify").json()
    assert not report["ok"]
    [problem] = report["problems"]
    assert problem.startswith(f"row nominations/{n['id']} was changed behind the service's back")
    assert problem.endswith("(nomination.submit)")

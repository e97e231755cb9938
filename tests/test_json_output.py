"""Every `--json` command prints one JSON document on stdout and nothing else.

Run as real processes: a solver library printing from C code (HiGHS 1.16's banner) writes to the
process's stdout directly, which an in-process CLI runner would never see.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from corridor.data import bundled_path

TESTS = Path(__file__).parent
CORRIDOR = Path(sys.executable).with_name("corridor")  # the installed command
GASLIB_11 = TESTS / "data" / "gaslib" / "GasLib-11" / "GasLib-11.net"


def _reject(constant: str):
    raise ValueError(f"{constant} is not JSON")


def strict_json(text: str):
    """One document, nothing before or after it, and no NaN/Infinity (not JSON)."""
    return json.loads(text, parse_constant=_reject)


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("json")
    return {**os.environ, "CORRIDOR_STORE": str(home / "runs.duckdb"), "HOME": str(home),
            "COLUMNS": "80"}


def corridor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CORRIDOR), *args], env=env,
                          capture_output=True, text=True, timeout=300)


def json_of(env: dict[str, str], *args: str):
    done = corridor(env, *args, "--json")
    assert done.returncode == 0, done.stderr
    return strict_json(done.stdout)


@pytest.fixture(scope="module")
def planned(env, tmp_path_factory) -> Path:
    """A stored run of the bundled network (run 1), also written out as a folder."""
    out = tmp_path_factory.mktemp("planned") / "run"
    doc = json_of(env, "run", "--periods", "12", "--out", str(out))
    assert doc["status"] == "optimal"
    return out


def test_run(planned, env) -> None:
    doc = json_of(env, "run", "--no-store")
    assert {"status", "objective", "flows", "unmet", "prices"} <= set(doc)


def test_show_and_compare(planned, env) -> None:
    assert json_of(env, "show", "1")["run"]["run_id"] == 1
    doc = json_of(env, "compare", "1", "cpc-outage-month")
    assert [r["run_id"] for r in doc["runs"]][0] == 1


def test_coalition_and_security(env) -> None:
    doc = json_of(env, "coalition", "--players", "RU,KZ,UZ")
    assert doc["players"] == ["RU", "KZ", "UZ"] and {"values", "allocation", "core"} <= set(doc)
    assert "n_minus_one" in json_of(env, "security")


def test_hydraulics(planned, env) -> None:
    assert json_of(env, "hydraulics", "solve", str(GASLIB_11))["converged"] is True
    assert json_of(env, "hydraulics", "check", str(planned))


def test_sweep_and_its_report(env) -> None:
    sweep = bundled_path() / "sweeps" / "outages.yaml"
    doc = json_of(env, "sweep", str(sweep), "--draws", "3", "--workers", "0")
    assert doc["draws_requested"] == 3
    report = json_of(env, "sweep-report", str(doc["sweep_id"]))
    assert {"sweep", "statuses", "domestic"} <= set(report)

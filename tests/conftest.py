"""Shared fixtures (the tiny network folder, a scratch copy of it, a CLI runner), and a hook that
fails browser and PostgreSQL tests that skip in CI: there the skip means a missing dependency,
not an optional test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

TINY = Path(__file__).parent / "data" / "tiny"
MUST_RUN_IN_CI = ("browser", "postgres")  # markers of tests that may skip only outside CI


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Under CI=true, a skipped test marked `browser` or `postgres` is reported as failed."""
    report = yield
    marks = [m for m in MUST_RUN_IN_CI if item.get_closest_marker(m)]
    if (report.skipped and marks and not hasattr(report, "wasxfail")
            and os.environ.get("CI") == "true"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (f"{marks[0]} test skipped under CI=true, where it must run: "
                           f"{str(reason).removeprefix('Skipped: ')}")
    return report


@pytest.fixture(autouse=True)
def private_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test stores runs in its own throw-away database, never the user's."""
    path = tmp_path_factory.mktemp("store") / "runs.duckdb"
    monkeypatch.setenv("CORRIDOR_STORE", str(path))
    return path


@pytest.fixture
def tiny_dir() -> Path:
    """The pristine tiny network folder (read it, never write to it)."""
    return TINY


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A private copy of the tiny network that a test may damage."""
    return Path(shutil.copytree(TINY, tmp_path / "tiny"))


@pytest.fixture
def runner() -> CliRunner:
    """Click >= 8.2 keeps stderr apart: result.stdout, result.stderr, result.output (both).

    A fixed, wide terminal keeps Rich from wrapping the text that tests look for.
    """
    return CliRunner(env={"COLUMNS": "200", "CORRIDOR_STORE": os.environ["CORRIDOR_STORE"]})

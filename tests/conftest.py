"""Shared fixtures: the tiny network folder, a scratch copy of it, and a CLI runner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

TINY = Path(__file__).parent / "data" / "tiny"


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

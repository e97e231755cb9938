"""`corridor hydraulics solve` and `corridor hydraulics check` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corridor.cli import app

GASLIB = Path(__file__).parent / "data" / "gaslib"


def test_solve_json_document(runner) -> None:
    folder = GASLIB / "GasLib-11"
    result = runner.invoke(app, ["hydraulics", "solve", str(folder / "GasLib-11.net"),
                                 "--nominations", str(folder / "GasLib-11.scn"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["converged"] is True and doc["iterations"] > 0
    assert len(doc["pressure"]) == 11 and "exit01" in doc["pressure"]
    assert doc["flow"]["pipe01_entry01_entry03"] == pytest.approx(160.0, rel=1e-9)
    assert all(30 < p < 80 for p in doc["pressure"].values())


def test_solve_582_prints_a_result(runner) -> None:
    folder = GASLIB / "GasLib-582"
    result = runner.invoke(app, ["hydraulics", "solve", str(folder / "GasLib-582.net"),
                                 "--nominations", str(folder / "nomination_cold_8.scn")])
    assert result.exit_code == 0, result.output
    assert "GasLib-582: converged" in result.stdout
    assert "Pressure: min" in result.stdout and "Mass balance" in result.stdout


def test_solve_bad_file_is_one_clear_error(runner, tmp_path: Path) -> None:
    bad = tmp_path / "broken.net"
    bad.write_text("<network><nodes>")
    result = runner.invoke(app, ["hydraulics", "solve", str(bad)])
    assert result.exit_code == 2
    assert "broken.net: not well-formed XML" in result.stderr
    assert "Traceback" not in result.output


def test_check_planned_flows_of_the_bundled_network(runner, tmp_path: Path) -> None:
    run = tmp_path / "run"
    made = runner.invoke(app, ["run", "--periods", "12", "--out", str(run)])
    assert made.exit_code == 0, made.output
    result = runner.invoke(app, ["hydraulics", "check", str(run), "--period", "1"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "central-asia, period 1" in out
    assert "Compression needed" in out and "Assumptions" in out
    assert "intermediate compressor station" in out  # long lines need stations
    doc = json.loads(runner.invoke(app, ["hydraulics", "check", str(run), "--json"]).stdout)
    assert doc["converged"] and doc["stations"] > 0 and doc["total_power_mw"] > 0
    assert {s["id"] for s in doc["segments"]} >= {"G09", "G14", "G43"}
    assert "G08" in doc["skipped"]  # no diameter in the data


def test_check_without_flows_is_a_user_error(runner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["hydraulics", "check", str(tmp_path)])
    assert result.exit_code == 2
    assert "no flows.parquet" in result.stderr

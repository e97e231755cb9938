"""`corridor sweep` and `corridor sweep-report` through a Typer test runner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from corridor.cli.sweep_commands import app

SMALL = """\
network: central-asia
periods: 12
draws: 6
seed: 3
outages:
  - name: Druzhba
    links: [O08, O09]
    probability: 0.9
    duration_days: {distribution: uniform, low: 20, high: 90}
  - name: CPC
    links: [O01, O02, O03]
    rate: 1.0
    duration_days: 40
    availability: 0.3
"""


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


def test_json_has_one_entry_per_draw_and_is_reproducible(runner, sweep_file: Path) -> None:
    docs = []
    for _ in range(2):
        result = runner.invoke(app, ["sweep", str(sweep_file), "--workers", "0", "--json"])
        assert result.exit_code == 0, result.output
        docs.append(json.loads(result.stdout))
    doc = docs[0]
    assert [d["draw"] for d in doc["draws"]] == list(range(6))
    entry = doc["draws"][0]
    assert entry.keys() == {"draw", "status", "objective", "unmet"}
    assert entry["status"] == "optimal" and isinstance(entry["objective"], float)
    assert {"KZ", "UZ"} <= entry["unmet"]["domestic"].keys()
    # export markets are world-market buyers: what they do not get is unsold headroom, not
    # unmet demand, so the sweep counts none
    assert all(d["unmet"]["export"] == {} for d in doc["draws"])
    assert doc["statuses"] == {"optimal": 6} and doc["complete"]
    assert docs[1]["sweep_id"] == doc["sweep_id"] + 1
    assert docs[1]["draws"] == doc["draws"]
    objectives = [d["objective"] for d in doc["draws"]]
    assert max(objectives) > min(objectives)  # the outages change the outcome


def test_draws_and_seed_options(runner, sweep_file: Path) -> None:
    def draws(*options: str) -> list:
        result = runner.invoke(app, ["sweep", str(sweep_file), "-w", "0", "--json", *options])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["draws"]

    six, three, other = draws(), draws("--draws", "3"), draws("--seed", "4")
    assert three == six[:3]  # draw i does not depend on how many there are
    assert other != six


def test_sweep_prints_the_report_and_sweep_report_writes_an_offline_page(
        runner, sweep_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["sweep", str(sweep_file), "--workers", "0"])
    assert result.exit_code == 0, result.output
    for words in ("loss-of-load probability", "Transport revenue by country",
                  "Links whose flow varies most", "Stored as sweep #1"):
        assert words in result.stdout
    assert "draws/s" not in result.stderr  # no progress bar when stderr is not a terminal
    page = tmp_path / "page.html"
    result = runner.invoke(app, ["sweep-report", "1", "-o", str(page)])
    assert result.exit_code == 0, result.output
    assert "Domestic demand" in result.stdout and str(page) in result.stdout
    text = page.read_text()
    assert "plotly" in text.lower() and text.count("Plotly.newPlot") >= 5
    assert not re.search(r"<(script|link)[^>]+(src|href)=", text)  # plotly.js is embedded
    listing = runner.invoke(app, ["sweep-report"])
    assert listing.exit_code == 0 and "small" in listing.stdout
    report = runner.invoke(app, ["sweep-report", "latest", "--json"])
    figures = json.loads(report.stdout)
    assert figures["statuses"] == {"optimal": 6}
    assert figures["export"] == []  # no export market is a demand that can go short


def test_user_mistakes_end_in_one_clear_message(runner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("links: [O08, O09]", "links: [O08, XX]"))
    result = runner.invoke(app, ["sweep", str(bad), "-w", "0"])
    assert result.exit_code == 2
    assert f"{bad}, line 6: unknown links id(s): XX" in result.stderr
    assert "Traceback" not in result.output
    missing = runner.invoke(app, ["sweep-report", "99"])
    assert missing.exit_code == 2 and "sweep 99 is not in the store" in missing.stderr

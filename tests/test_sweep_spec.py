"""Sweep files: the bundled one reads, and mistakes are reported with the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from corridor.data import bundled_path
from corridor.sweep import SweepError, find_sweep, job_for, read_sweep_file
from corridor.sweep.resolve import Resolver

GOOD = """\
name: small
periods: 12
draws: 10
seed: 7
outages:
  - name: CPC
    links: [O01, O02, O03]
    rate: 0.5
    duration_days: {distribution: triangular, low: 5, mode: 20, high: 60}
multipliers:
  - table: demands
    where: {market: domestic}
    column: amount
    factor: {distribution: lognormal, median: 1.0, sigma: 0.05}
"""


def write(tmp_path: Path, text: str, name: str = "sweep") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_the_bundled_sweep_reads_and_resolves() -> None:
    path = find_sweep("outages")
    assert path == bundled_path() / "sweeps" / "outages.yaml"
    spec = read_sweep_file(path)
    assert spec.n_draws == 1000 and spec.periods == 12 and spec.description
    links = {link for o in spec.outages for link in o.links}
    assert {"O01", "O02", "O03", "O08", "O09", "G01", "G08"} <= links
    Resolver(job_for(spec, draws=3))  # every selection resolves against the network


def test_a_good_file_reads(tmp_path: Path) -> None:
    spec = read_sweep_file(write(tmp_path, GOOD))
    assert spec.name == "small" and spec.seed == 7 and spec.n_draws == 10
    assert spec.outages[0].line == 6
    assert spec.multipliers[0].factor.distribution == "lognormal"


@pytest.mark.parametrize("text, line, words", [
    (GOOD.replace("seed: 7", "seeds: 7"), 4, "seeds"),
    (GOOD.replace("rate: 0.5", "rate: 0.5\n    probability: 0.1"), 6, "either probability"),
    (GOOD.replace("mode: 20, ", ""), 9, "triangular distribution takes low, mode, high"),
    (GOOD.replace("mode: 20", "mode: 90"), 9, "low <= mode <= high"),
    (GOOD.replace("column: amount", "column: colour"), 11, "amount, value"),
    (GOOD.replace("sigma: 0.05", "sd: 0.05"), 14, "lognormal distribution takes median"),
    (GOOD + "grid:\n  - {table: links, ids: [O01], column: capacity, factors: [1, 0.5]}\n",
     1, "not both"),
    (GOOD.replace("draws: 10", "draws: -1"), 3, "greater than or equal to 1"),
])
def test_structural_mistakes_name_file_and_line(tmp_path: Path, text: str, line: int,
                                                words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SweepError) as info:
        read_sweep_file(path)
    message = str(info.value)
    assert str(path) in message and f"line {line}" in message and words in message, message


@pytest.mark.parametrize("old, new, line, words", [
    ("links: [O01, O02, O03]", "links: [O01, NOPE]", 6, "unknown links id(s): NOPE"),
    ("links: [O01, O02, O03]", "links: [O26]", 6, "not built"),
    ("where: {market: domestic}", "where: {colour: red}", 11, "no column 'colour'"),
    ("where: {market: domestic}", "where: {market: nowhere}", 11, "matches no demands row"),
])
def test_mistakes_against_the_network_name_file_and_line(tmp_path: Path, old: str, new: str,
                                                        line: int, words: str) -> None:
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(SweepError) as info:
        Resolver(job_for(read_sweep_file(path)))
    message = str(info.value)
    assert f"{path}, line {line}" in message and words in message, message


def test_invalid_yaml_and_unknown_names(tmp_path: Path) -> None:
    path = write(tmp_path, "outages: [\n  - {links: [O01]\n")
    with pytest.raises(SweepError, match=r"line \d+: not valid YAML"):
        read_sweep_file(path)
    with pytest.raises(SweepError, match="bundled: outages"):
        find_sweep("no-such-sweep")
    with pytest.raises(SweepError, match="nothing varies"):
        read_sweep_file(write(tmp_path, "draws: 3\n"))

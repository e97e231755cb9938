"""Damaged copies of the tiny network: every problem is named precisely, never a traceback.

Each kind of damage is checked twice: through the Python API (`read_network` raises a
`NetworkError` whose message names file, line, column/id and what is wrong) and through the CLI
(`corridor validate` exits 2 with one `error:` paragraph on stderr).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from corridor.cli import app
from corridor.io import read_network
from corridor.validation import NetworkError, NetworkWarning

# --- ways to damage a network folder -------------------------------------------------------------


def replace(file: str, old: str, new: str) -> Callable[[Path], None]:
    """Replace the first `old` in `file` by `new` (and fail loudly if the fixture changed)."""

    def damage(folder: Path) -> None:
        path = folder / file
        text = path.read_text()
        assert old in text, f"fixture {file} no longer contains {old!r}"
        path.write_text(text.replace(old, new, 1))

    return damage


def delete(file: str) -> Callable[[Path], None]:
    return lambda folder: (folder / file).unlink()


def overwrite(file: str, text: str) -> Callable[[Path], None]:
    return lambda folder: (folder / file).write_text(text)


def repeat_row(file: str, line: int) -> Callable[[Path], None]:
    """Append a copy of line `line` (1-based, header is line 1) at the end of `file`."""

    def damage(folder: Path) -> None:
        path = folder / file
        lines = path.read_text().splitlines()
        path.write_text("\n".join([*lines, lines[line - 1]]) + "\n")

    return damage


def combine(*damages: Callable[[Path], None]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        for d in damages:
            d(folder)

    return damage


@dataclass(frozen=True)
class Case:
    id: str
    damage: Callable[[Path], None]
    expected: tuple[str, ...]  # substrings the message must contain
    problems: int = 1  # exact number of problems reported


CPC = "cpc,KZ_TENGIZ,RU_NOVOROSSIYSK,72.5"

CASES = [
    Case("missing-links-file", delete("links.csv"), ("links.csv: file is missing",)),
    Case("missing-required-column",
         replace("links.csv", "id,from,to,capacity,unit", "id,from,to,cap,unit"),
         ("links.csv: required column(s) missing: capacity", "found: id, from, to, cap")),
    Case("duplicate-node-id", repeat_row("nodes.csv", 2),
         ("nodes.csv, line 12, column id (id RU_ORENBURG)", "duplicate id",
          "first defined on line 2")),
    Case("duplicate-demand-id", repeat_row("demands.csv", 3),
         ("demands.csv, line 6, column id (id shymkent_gas)", "duplicate id",
          "first defined on line 3")),
    Case("link-to-unknown-node",
         replace("links.csv", "KZ_BEINEU,UZ_TASHKENT", "KZ_BEINEU,UZ_SAMARKAND"),
         ("links.csv, line 3, column to (id cac_south)", "node 'UZ_SAMARKAND' does not exist")),
    Case("demand-at-unknown-node",
         replace("demands.csv", "tashkent_gas,UZ_TASHKENT", "tashkent_gas,UZ_NOWHERE"),
         ("demands.csv, line 4, column node (id tashkent_gas)",
          "node 'UZ_NOWHERE' does not exist")),
    Case("unknown-unit", replace("links.csv", "15,bcm/yr,0", "15,zorks/d,0"),
         ("links.csv, line 3, column unit (id cac_south)", "unknown unit 'zorks/d'")),
    Case("oil-unit-on-gas-link", replace("links.csv", "20,bcm/yr,5", "20,Mt/yr,5"),
         ("links.csv, line 2, column unit (id cac_north)", "unit 'Mt/yr' cannot measure gas",
          "bcm/yr")),
    Case("gas-unit-on-oil-demand",
         replace("demands.csv", "60,Mt/yr,700000", "60,bcm/yr,700000"),
         ("demands.csv, line 5, column unit (id novo_export)", "unit 'bcm/yr' cannot measure oil")),
    Case("negative-capacity", replace("links.csv", CPC, CPC.replace("72.5", "-72.5")),
         ("links.csv, line 7, column capacity (id cpc)", "-72.5 is below the minimum 0")),
    Case("non-numeric-capacity", replace("links.csv", CPC, CPC.replace("72.5", "lots")),
         ("links.csv, line 7, column capacity (id cpc)", "'lots' is not a number")),
    Case("infinite-capacity", replace("links.csv", CPC, CPC.replace("72.5", "inf")),
         ("links.csv, line 7, column capacity (id cpc)", "value is not finite")),
    Case("carrier-mismatch",
         replace("links.csv", "KZ_TENGIZ,KZ_ATYRAU", "KZ_TENGIZ,KZ_BEINEU"),
         ("links.csv, line 8, column carrier (id tengiz_atyrau)", "carrier mismatch",
          "node KZ_BEINEU is gas")),
    Case("unknown-node-carrier", replace("nodes.csv", "KZ_AKTAU,oil", "KZ_AKTAU,water"),
         ("nodes.csv, line 11, column carrier (id KZ_AKTAU)", "unknown carrier 'water'"),
         problems=2),  # and the link into KZ_AKTAU now mixes carriers
    Case("loss-equal-to-one", replace("links.csv", "0.01,operating", "1.0,operating"),
         ("links.csv, line 2, column loss (id cac_north)", "1 must be in [0, 1)")),
    Case("negative-loss", replace("links.csv", "0.01,operating", "-0.1,operating"),
         ("links.csv, line 2, column loss (id cac_north)", "-0.1 is below the minimum 0")),
    Case("unknown-status", replace("links.csv", "proposed,pipeline", "planned,pipeline"),
         ("links.csv, line 9, column status (id atyrau_aktau)", "unknown status 'planned'",
          "operating, proposed, under_construction")),
    Case("unknown-profile", replace("demands.csv", "KZ,winter", "KZ,summer"),
         ("demands.csv, line 2, column profile (id astana_gas)",
          "profile 'summer' is not a column of profiles.csv")),
    Case("profile-with-11-months",
         replace("profiles.csv", "12,1.433,1\n", ""),
         ("profiles.csv: has 11 rows", "12 (months) or 365 (days)")),
    Case("negative-profile-value", replace("profiles.csv", "\n7,0.500,1", "\n7,-0.5,1"),
         ("profiles.csv, line 8, column winter", "'-0.5' is not a non-negative number")),
    Case("malformed-yaml",
         overwrite("network.yaml", "name: tiny\nkey_nodes: [KZ_ASTANA\n  base: : :\n"),
         ("network.yaml: is not valid YAML", "line 2")),
    Case("yaml-is-a-list", overwrite("network.yaml", "- tiny\n- 2024\n"),
         ("network.yaml: expected a mapping",)),
    Case("yaml-wrong-type", overwrite("network.yaml", "name: tiny\nbase_year: soon\n"),
         ("network.yaml, key base_year", "integer")),
    Case("yaml-unknown-key-node", replace("network.yaml", "[KZ_ASTANA,", "[KZ_ASTANAA,"),
         ("network.yaml, key_nodes", "node 'KZ_ASTANAA' does not exist")),
    Case("empty-csv", overwrite("supplies.csv", ""), ("supplies.csv: file is empty",)),
    Case("unreadable-csv", overwrite("nodes.csv", 'id,carrier\n"KZ_X,gas\n'),
         ("nodes.csv: is not a readable CSV file",)),
    Case("target-names-unknown-link", replace("targets.csv", "cpc_min,cpc,", "cpc_min,btc,"),
         ("targets.csv, line 2, column links (id cpc_min)", "unknown link(s): btc")),
    Case("target-in-wrong-unit", replace("targets.csv", "50,Mt/yr", "50,bcm/yr"),
         ("targets.csv, line 2, column unit (id cpc_min)", "unit 'bcm/yr' cannot measure oil")),
    Case("storage-initial-above-one", replace("storages.csv", "0.5,1000", "1.5,1000"),
         ("storages.csv, line 2, column initial (id bozoi)", "1.5 must be at most 1")),
    Case("several-problems-at-once",
         combine(replace("links.csv", "0.01,operating", "1.0,operating"),
                 replace("links.csv", "proposed,pipeline", "planned,pipeline"),
                 replace("demands.csv", "tashkent_gas,UZ_TASHKENT", "tashkent_gas,UZ_NOWHERE"),
                 replace("supplies.csv", "uz_gas,UZ_FIELD,40", "uz_gas,UZ_FIELD,-40")),
         ("has 4 problems", "(id cac_north)", "must be in [0, 1)", "(id atyrau_aktau)",
          "unknown status 'planned'", "(id tashkent_gas)", "'UZ_NOWHERE' does not exist",
          "supplies.csv, line 3, column capacity (id uz_gas)", "-40 is below the minimum 0"),
         problems=4),
]

# Damage that once crashed the reader instead of being reported (kept as regression cases).
REGRESSION_CASES = [
    pytest.param(Case("duplicate-link-id", repeat_row("links.csv", 2),
                      ("links.csv, line 10, column id (id cac_north)", "duplicate id")),
                 id="duplicate-link-id"),
    pytest.param(Case("blank-required-number", replace("links.csv", CPC, CPC[:-4]),
                      ("links.csv, line 7, column capacity (id cpc)", "value is empty")),
                 id="blank-required-number"),
    pytest.param(Case("duplicate-profile-period", replace("profiles.csv", "\n3,", "\n2,"),
                      ("profiles.csv", "column period", "2")),
                 id="duplicate-profile-period"),
]

ALL_CASES = [pytest.param(c, id=c.id) for c in CASES] + REGRESSION_CASES


def test_enough_kinds_of_damage() -> None:
    assert len(CASES) >= 12


def test_tiny_fixture_is_valid_and_silent(tiny_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = read_network(tiny_dir)
    assert net.counts() == {"nodes": 10, "links": 8, "supplies": 3, "demands": 4,
                            "storages": 1, "targets": 1, "curves": 0, "contracts": 0,
                                "paths": 0, "groups": 0}


@pytest.mark.parametrize("case", ALL_CASES)
def test_api_names_the_problem(case: Case, tiny_copy: Path) -> None:
    case.damage(tiny_copy)
    with pytest.raises(NetworkError) as info:
        read_network(tiny_copy)
    message = str(info.value)
    assert message.startswith(f"{tiny_copy} has {case.problems} problem")
    assert len(info.value.problems) == case.problems
    for part in case.expected:
        assert part in message


@pytest.mark.parametrize("case", ALL_CASES)
def test_cli_validate_reports_one_paragraph(case: Case, tiny_copy: Path, runner) -> None:
    case.damage(tiny_copy)
    result = runner.invoke(app, ["validate", str(tiny_copy)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not an escaped exception
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "\n" not in result.stderr.strip()  # one paragraph, one line
    assert "Traceback" not in result.output
    for part in case.expected:
        assert part in result.stderr


def test_cli_debug_shows_the_exception(tiny_copy: Path, runner) -> None:
    delete("links.csv")(tiny_copy)
    result = runner.invoke(app, ["validate", str(tiny_copy), "--debug"])
    assert result.exit_code != 0
    assert isinstance(result.exception, NetworkError)


def test_many_problems_are_summarised(tiny_copy: Path) -> None:
    """More than MAX_REPORTED (12) problems: the first 12 are shown, then 'and N more'."""
    header = (tiny_copy / "links.csv").read_text().splitlines()[0]
    rows = [f"l{i},A,B,-1,zorks" + ",0" * (header.count(",") - 4) for i in range(6)]
    (tiny_copy / "links.csv").write_text("\n".join([header, *rows]) + "\n")
    with pytest.raises(NetworkError) as info:
        read_network(tiny_copy)
    n = len(info.value.problems)
    assert n > 12
    assert str(info.value).endswith(f"; and {n - 12} more.")


# --- a demand nothing can reach: a warning, then unmet demand ------------------------------------

UNREACHABLE = "aktau_oil,KZ_AKTAU,2,Mt/yr,800000,KZ,\n"  # only a *proposed* link leads to Aktau


def test_unreachable_demand_is_a_warning(tiny_copy: Path) -> None:
    with (tiny_copy / "demands.csv").open("a") as f:
        f.write(UNREACHABLE)
    with pytest.warns(NetworkWarning, match=r"no supply can reach demand\(s\) aktau_oil"):
        net = read_network(tiny_copy)
    assert "aktau_oil" in net.demands.index


def test_unreachable_demand_is_reported_unmet_by_run(tiny_copy: Path, runner) -> None:
    with (tiny_copy / "demands.csv").open("a") as f:
        f.write(UNREACHABLE)
    result = runner.invoke(app, ["run", str(tiny_copy), "--json"])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr and "aktau_oil" in result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "optimal"
    assert doc["unmet"]["aktau_oil"] == pytest.approx([2000 / 365])  # 2 Mt/yr in kt/d
    assert doc["unmet"]["novo_export"] == pytest.approx([0.0], abs=1e-6)
    human = runner.invoke(app, ["run", str(tiny_copy)])
    assert human.exit_code == 0
    assert "Shortages" in human.stdout and "aktau_oil" in human.stdout

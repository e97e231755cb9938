"""The `corridor` command end to end, on the tiny network and on the bundled default network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corridor.cli import app
from corridor.data import bundled_path
from corridor.io import read_network

CORRIDOR = Path(sys.executable).with_name("corridor")  # the venv's console script
SECTIONS = ("most utilised links", "Prices at key nodes", "Welfare by country")
JSON_KEYS = {"status", "objective", "flows", "unmet", "prices", "served", "supplied", "welfare"}
MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def network_args(which: str, tiny_dir: Path) -> list[str]:
    """CLI arguments naming the network: the tiny folder, or nothing for the bundled default."""
    return [str(tiny_dir)] if which == "tiny" else []


def network_of(which: str, tiny_dir: Path):
    return read_network(tiny_dir if which == "tiny" else bundled_path())


NETWORKS = ["tiny", "bundled"]


def tiny_csv(tiny_dir: Path, name: str) -> pd.DataFrame:
    """A table of the tiny network as written in its file (read by pandas, not by Corridor)."""
    return pd.read_csv(tiny_dir / f"{name}.csv", index_col="id")


def tiny_by_hand(tiny_dir: Path) -> dict:
    """The tiny network's least-cost dispatch over one period, worked out by hand from its files.

    Bukhara gas (the cheapest) fills uz_trunk; Russian gas serves the rest of Tashkent, Shymkent
    and Astana (1 % is lost on cac_north); Tengiz oil goes over CPC to Novorossiysk; nothing is
    unmet. Rates in mcm/d and kt/d (1 bcm/yr = 1 Mt/yr = 1000/365 per day); the objective is
    365 days x (supply cost x production + tariff x flow entering each link).
    """
    winter = pd.read_csv(tiny_dir / "profiles.csv")["winter"].to_numpy()
    astana = 1800 / 365 * (winter * MONTH_DAYS).sum() / 365  # 1.8 bcm/yr x mean profile
    tashkent, shymkent, bukhara, oil = 20000 / 365, 15.0, 30.0, 60000 / 365
    russian = (tashkent - bukhara + shymkent + astana) / 0.99
    flows = {"cac_north": russian, "cac_south": tashkent - bukhara, "bbs": shymkent + astana,
             "saryarka": astana, "uz_trunk": bukhara, "cpc": oil, "tengiz_atyrau": 0.0,
             "atyrau_aktau": 0.0}
    supply = {"ru_gas": russian, "uz_gas": bukhara, "tengiz_oil": oil}
    cost, tariff = tiny_csv(tiny_dir, "supplies")["cost"], tiny_csv(tiny_dir, "links")["tariff"]
    production = sum(cost[s] * v for s, v in supply.items())
    daily = production + sum(tariff[k] * v for k, v in flows.items())
    # every demand is fixed and served: its value is not welfare, and tariffs are the transit
    # countries' income, so welfare is minus the production cost
    return {"flows": flows, "supply": supply, "objective": 365 * daily,
            "welfare": -365 * production}


def check_document(doc: dict, net, periods: int) -> None:
    assert JSON_KEYS <= doc.keys()
    assert doc["status"] == "optimal"
    assert isinstance(doc["objective"], float)
    welfare = doc["welfare"]
    assert welfare["identity_gap"] < 1e-9
    assert welfare["total"] == pytest.approx(sum(r["welfare"] for r in
                                                 welfare["by_country"].values()), rel=1e-9)
    assert set(doc["served"]) == set(net.demands.index)
    assert set(doc["supplied"]) == set(net.supplies.index)
    assert set(doc["flows"]) == set(net.links.index)
    assert set(doc["unmet"]) == set(net.demands.index)
    assert set(doc["prices"]) == set(net.nodes.index)
    for table in ("flows", "unmet", "prices"):
        for key, values in doc[table].items():
            assert len(values) == periods, (table, key)
    # proposed links carry nothing without a scenario
    for lid in net.links.index[net.links["status"] != "operating"]:
        assert doc["flows"][lid] == [0.0] * periods


# --- run -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", NETWORKS)
def test_run_prints_summary(which: str, tiny_dir: Path, runner) -> None:
    result = runner.invoke(app, ["run", *network_args(which, tiny_dir)])
    assert result.exit_code == 0, result.output
    assert "status optimal" in result.stdout
    for section in SECTIONS:
        assert section in result.stdout
    assert "Traceback" not in result.output


def test_run_tiny_summary_figures(tiny_dir: Path, runner) -> None:
    result = runner.invoke(app, ["run", str(tiny_dir)])
    assert result.exit_code == 0
    assert result.stderr == ""  # a valid network runs without warnings
    nodes, links = tiny_csv(tiny_dir, "nodes"), tiny_csv(tiny_dir, "links")
    built = (links["status"] == "operating").sum()
    assert f"tiny: {len(nodes)} nodes, {built} of {len(links)} links built, 1 period(s)" \
        in result.stdout
    assert f"welfare {tiny_by_hand(tiny_dir)['welfare'] / 1e9:.2f} bn USD" in result.stdout
    assert "No shortage" in result.stdout
    assert "60.00 Mt/yr" in result.stdout  # CPC carries the Novorossiysk demand


def test_run_json_subprocess_stdout_is_only_json(tiny_dir: Path) -> None:
    proc = subprocess.run([str(CORRIDOR), "run", str(tiny_dir), "--json"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # fails on any extra text
    assert proc.stdout.count("\n") == 1
    assert proc.stderr == ""
    net = read_network(tiny_dir)
    check_document(doc, net, periods=1)
    hand = tiny_by_hand(tiny_dir)
    assert {k: v[0] for k, v in doc["flows"].items()} == pytest.approx(hand["flows"], rel=1e-9)
    assert {k: v[0] for k, v in doc["supply"].items()} == pytest.approx(hand["supply"], rel=1e-9)
    assert all(v == [0.0] for v in doc["unmet"].values())
    assert doc["objective"] == pytest.approx(hand["objective"], rel=1e-9)


@pytest.mark.parametrize("periods", [1, 12])
@pytest.mark.parametrize("which", NETWORKS)
def test_run_json(which: str, periods: int, tiny_dir: Path, runner) -> None:
    result = runner.invoke(app, ["run", *network_args(which, tiny_dir), "--json",
                                 "--periods", str(periods)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    check_document(doc, network_of(which, tiny_dir), periods=periods)
    assert sum(doc["days"]) == 365
    if periods == 12:
        assert doc["days"] == MONTH_DAYS.tolist()
    if which == "tiny" and periods == 12:
        # Saryarka (2.2 bcm/yr) cannot carry Astana's January peak (1.8 bcm/yr x 1.5)
        capacity, peak = 2200 / 365, 1800 / 365 * 1.5
        assert doc["flows"]["saryarka"][0] == pytest.approx(capacity)
        assert doc["unmet"]["astana_gas"][0] == pytest.approx(peak - capacity)
        assert doc["unmet"]["astana_gas"][6] == pytest.approx(0.0, abs=1e-9)  # July
        # the shortage prices Astana at its value of lost load in January only
        assert doc["prices"]["KZ_ASTANA"][0] == pytest.approx(600000)
        assert doc["prices"]["KZ_ASTANA"][6] < 600000


def test_run_out_writes_parquet_and_summary(tiny_dir: Path, tmp_path: Path, runner) -> None:
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", str(tiny_dir), "--periods", "12", "--out", str(out)])
    assert result.exit_code == 0, result.output
    # rich wraps long lines at spaces or inside the path: compare without any whitespace
    assert "".join(f"Results and report.html written to {out}".split()) in \
        "".join(result.stdout.split())
    assert (out / "report.html").stat().st_size > 1_000_000  # plotly.js and borders embedded
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["periods"] == 12
    assert summary["network"] == "tiny"
    assert len(summary["input_hash"]) == 64
    flows = pd.read_parquet(out / "flows.parquet")
    assert flows.shape == (12, 8)
    assert set(flows.columns) == set(read_network(tiny_dir).links.index)
    assert flows["cpc"].to_numpy() == pytest.approx(np.full(12, 60000 / 365))
    for name in ("unmet", "prices", "supply", "money_by_country"):
        assert (out / f"{name}.parquet").is_file(), name
    unmet = pd.read_parquet(out / "unmet.parquet")
    # January: Astana wants 1.8 bcm/yr x 1.5, Saryarka carries 2.2 bcm/yr
    assert unmet["astana_gas"].iloc[0] == pytest.approx((1800 * 1.5 - 2200) / 365)


def test_run_out_matches_json(tiny_dir: Path, tmp_path: Path, runner) -> None:
    result = runner.invoke(app, ["run", str(tiny_dir), "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # --out does not pollute the JSON on stdout
    flows = pd.read_parquet(tmp_path / "flows.parquet")
    for lid, values in doc["flows"].items():
        assert flows[lid].tolist() == pytest.approx(values)


def test_run_writes_mps(tiny_dir: Path, tmp_path: Path, runner) -> None:
    mps = tmp_path / "tiny.mps"
    result = runner.invoke(app, ["run", str(tiny_dir), "--mps", str(mps)])
    assert result.exit_code == 0, result.output
    lines = mps.read_text().splitlines()
    assert lines[0].startswith("NAME")
    assert lines[1].strip() == "ROWS"
    assert any(line.strip() == "COLUMNS" for line in lines)
    assert lines[-1].strip() == "ENDATA"
    assert any("balance(KZ_ASTANA" in line for line in lines)


# --- validate, info, units -----------------------------------------------------------------------


@pytest.mark.parametrize("which", NETWORKS)
def test_validate(which: str, tiny_dir: Path, runner) -> None:
    result = runner.invoke(app, ["validate", *network_args(which, tiny_dir)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout
    if which == "tiny":
        text = "".join(result.stdout.split())  # rich wraps where the folder path ends
        tables = ("nodes", "links", "supplies", "demands", "storages", "targets")
        counts = ", ".join(f"{len(tiny_csv(tiny_dir, t))} {t}" for t in tables)
        assert "".join(f"({counts}, 0 curves, 0 contracts, 0 paths, 0 groups)".split()) in text


@pytest.mark.parametrize("which", NETWORKS)
def test_info(which: str, tiny_dir: Path, runner) -> None:
    result = runner.invoke(app, ["info", *network_args(which, tiny_dir)])
    assert result.exit_code == 0, result.output
    assert "Assets by carrier" in result.stdout
    assert "Countries:" in result.stdout
    if which == "tiny":
        assert "Countries: KZ, RU, UZ" in result.stdout
        assert "Base year: 2024" in result.stdout
        assert "80.0 Mt/yr" in result.stdout  # Tengiz supply capacity


def test_units_prints_declared_factors(runner) -> None:
    result = runner.invoke(app, ["units"])
    assert result.exit_code == 0, result.output
    for name in ("crude_barrels_per_tonne", "crude_energy_per_tonne", "gas_energy_per_m3"):
        assert name in result.stdout
    assert "7.33" in result.stdout
    assert f"{1000 / 365:.6g}" in result.stdout  # 1 bcm/yr = 1000/365 mcm/d
    assert f"{1 / 7.33:.6g}" in result.stdout  # 1 kb/d = 1000 bbl / 7.33 bbl/t in kt/d


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "validate", "info"])
def test_unknown_network_path(command: str, tmp_path: Path, runner) -> None:
    missing = tmp_path / "no-such-network"
    result = runner.invoke(app, [command, str(missing)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert str(missing) in result.stderr
    assert "Traceback" not in result.output


def test_file_instead_of_folder(tiny_dir: Path, runner) -> None:
    result = runner.invoke(app, ["validate", str(tiny_dir / "nodes.csv")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "is not a folder" in result.stderr

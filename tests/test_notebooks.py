"""The example notebooks of examples/ run, say sane things, and are what their builder writes.

Each notebook is executed again in a fresh `python3` kernel (this interpreter, i.e. .venv's
python) with nbclient; any error in a cell fails the test. The headline numbers printed by the
last cell (tagged `key-figures`) are checked against what must hold whatever the data (Shapley
values add up to the union's value, outages do not raise the surplus, ...), and those that are
optimal values against the numbers stored in the committed notebook: a difference means the
notebook is stale, i.e. the data or the code changed after it was executed; rebuild with
`.venv/bin/python tools/build_notebooks.py`.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NAMES = ["01-base-year-and-scenarios.ipynb", "02-gas-union-game.ipynb", "03-outage-sweep.ipynb"]


def _builder():
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", ROOT / "tools" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _key_figures(nb) -> dict:
    cells = [c for c in nb.cells if "key-figures" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "one cell tagged key-figures"
    text = "".join(o.get("text", "") for o in cells[0].outputs if o.output_type == "stream")
    return json.loads(text)


def _errors(nb) -> list[str]:
    return [f"cell {i}: {o.ename}: {o.evalue}" for i, c in enumerate(nb.cells)
            if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]


@pytest.fixture(scope="module")
def executed() -> dict:
    """Every notebook executed once for this module (the builder's own execute step)."""
    builder = _builder()
    out = {}
    for name in NAMES:
        nb = nbformat.read(EXAMPLES / name, as_version=4)
        out[name] = builder.execute(copy.deepcopy(nb), timeout=240)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_built_executed_and_small(name):
    path = EXAMPLES / name
    assert path.stat().st_size < 2 * 1024 * 1024, f"{name} is over 2 MB"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert not _errors(nb), _errors(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), f"{name} has cells that were not executed"
    assert all(c.outputs for c in code[1:]), f"{name} has code cells without output"
    expected = [(c.cell_type, c.source) for c in _builder().NOTEBOOKS[name]]
    assert [(c.cell_type, c.source) for c in nb.cells] == expected, (
        f"{name} differs from tools/build_notebooks.py: rebuild it")
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{name} shows no figure"
    text = json.dumps(nb)
    # figures are PNG: no plotly.js (3.5 MB) embedded, nothing fetched from a CDN
    assert "application/vnd.plotly" not in text and "cdn.plot.ly" not in text
    assert not re.search(r"<script[^>]*src=\\?[\"']?https?:", text), "loads from the web"


# Figures that are optimal objective values (or made of them), so unique whatever optimum HiGHS
# picks on whatever machine: a change means the data or the model changed. Flows, prices and
# revenues can differ between alternative optima, so they are checked for sanity only.
UNIQUE = {"welfare_bn", "welfare_by_country_bn", "cpc_welfare_change_bn", "union_value_musd",
          "union_gain_musd", "shapley_musd", "nucleolus_musd", "gas_union_gain_musd",
          "draws", "optimal", "mean_loss_bn"}


def _same(fresh, stored, path: str = "") -> list[str]:
    """Where two key-figure documents differ beyond rounding."""
    if isinstance(fresh, dict):
        return [d for k in fresh for d in _same(fresh[k], stored.get(k), f"{path}.{k}")]
    if isinstance(fresh, float) and isinstance(stored, int | float):
        ok = math.isclose(fresh, stored, rel_tol=1e-6, abs_tol=1e-6)
        return [] if ok else [f"{path}: now {fresh}, stored {stored}"]
    return [] if fresh == stored else [f"{path}: now {fresh!r}, stored {stored!r}"]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_and_matches_its_stored_outputs(executed, name):
    nb = executed[name]
    assert not _errors(nb)
    fresh = _key_figures(nb)
    stored = _key_figures(nbformat.read(EXAMPLES / name, as_version=4))
    stale = _same({k: v for k, v in fresh.items() if k in UNIQUE}, stored)
    assert not stale, (f"{name}'s stored outputs are stale (rebuild: .venv/bin/python "
                       "tools/build_notebooks.py):\n" + "\n".join(stale))


def test_base_year_and_scenario_figures(executed):
    k = _key_figures(executed[NAMES[0]])
    assert 50 < k["welfare_bn"] < 500
    assert abs(k["identity_gap"]) < 1e-6
    # the welfare table by country adds up to the run's welfare
    assert math.isclose(k["welfare_by_country_bn"], k["welfare_bn"], rel_tol=1e-9)
    # a month without CPC costs the region welfare, but not more than a month of CPC's crude
    # at world prices (about 5.6 Mt x 610 USD/t = 3.4 bn USD)
    assert -3.5 < k["cpc_welfare_change_bn"] < 0
    assert 40 < k["cpc_terminal_mt"] < 90  # CPC shipped 63 Mt in 2024 (calibration data)
    assert 100 < k["mean_price_astana"] < 600  # USD/1000 m3
    assert k["report_written"] is True


def test_gas_union_game_figures(executed):
    k = _key_figures(executed[NAMES[1]])
    union = k["union_value_musd"]
    # efficiency: Shapley value and nucleolus split exactly the union's value
    assert math.isclose(sum(k["shapley_musd"].values()), union, rel_tol=1e-9)
    assert math.isclose(sum(k["nucleolus_musd"].values()), union, rel_tol=1e-9)
    assert k["shapley_check_max_abs"] < 1e-6  # the notebook's own Shapley by hand agrees
    assert k["union_gain_musd"] > 0 and k["shapley_in_core"] is True
    assert k["gas_union_gain_musd"] > 0
    assert set(k["shapley_musd"]) == {"RU", "KZ", "UZ"}


def test_outage_sweep_figures(executed):
    k = _key_figures(executed[NAMES[2]])
    assert k["draws"] == 200 and k["optimal"] == 200
    assert all(0 <= p <= 1 for p in k["lolp"].values())
    # outages only take capacity away, so no draw has more surplus than the base year
    assert k["mean_loss_bn"] >= -1e-9
    assert 40 < k["cpc_terminal_mean_mt"] < 90 and 40 < k["cpc_terminal_base_mt"] < 90
    assert 0 < k["ru_oil_revenue_mean_musd"] < 10_000  # M USD a year

"""Interchange with PyPSA and Excel (docs/interchange.md): round trips, equal objectives in both
tools, workbook errors that name the sheet, row and column, units in result headers, the CLI."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.cli import app
from corridor.data import bundled_path
from corridor.interchange import (
    InterchangeError,
    corridor_constraints,
    from_pypsa,
    read_network_xlsx,
    to_pypsa,
    write_network_xlsx,
    write_results_xlsx,
)
from corridor.io import read_network, write_network
from corridor.network import NetworkMeta
from corridor.optimize import optimize
from corridor.validation import NetworkError, build_network

from builders import gas_network, monthly_profile

pypsa = pytest.importorskip("pypsa")
for _name in ("pypsa", "linopy"):
    logging.getLogger(_name).setLevel(logging.ERROR)

TABLE_NAMES = ("nodes", "links", "supplies", "demands", "storages", "targets", "curves",
               "contracts", "paths", "groups")
HIGHS = {"output_flag": False, "threads": 1, "random_seed": 0}


def assert_same_network(a, b, exact: bool = False) -> None:
    """Every table, the profiles and network.yaml equal (floats to 1e-12 unless exact)."""
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_dtype=False,
                                      check_exact=exact, rtol=1e-12, obj=name)
    pd.testing.assert_frame_equal(a.profiles, b.profiles, check_exact=exact, rtol=1e-12,
                                  obj="profiles")
    assert a.meta == b.meta


def pypsa_objective(n) -> float:
    """PyPSA's optimum with Corridor's targets and contracts, plus the build-cost constant."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        status, condition = n.optimize(solver_name="highs", solver_options=HIGHS,
                                       extra_functionality=corridor_constraints, progress=False)
    assert (status, condition) == ("ok", "optimal")
    return float(n.objective) + n.meta["corridor"]["objective_constant"]


def rich_network():
    """Gas and oil, losses both ways, a link profile, supply bands, a linear demand curve, an
    export market, a fixed demand, storage with a final level, a target and two contracts."""
    t = {
        "nodes": pd.DataFrame({"id": ["A", "B", "C", "P", "Q"],
                               "carrier": ["gas", "gas", "gas", "oil", "oil"],
                               "country": ["X", "Y", "Z", "X", "Y"],
                               "lat": [40.0, 41.5, np.nan, 44.0, 45.0],
                               "lon": [60.0, 61.0, 62.0, 50.0, np.nan]}),
        "links": pd.DataFrame({
            "id": ["AB", "BC", "AC", "PQ", "NEW"], "from": ["A", "B", "A", "P", "A"],
            "to": ["B", "C", "C", "Q", "C"], "capacity": [30.0, 20.0, 5.0, 10.0, 50.0],
            "unit": ["mcm/d", "mcm/d", "bcm/yr", "Mt/yr", "mcm/d"],
            "reverse_capacity": [10.0, 0.0, 0.0, 0.0, 0.0], "tariff": [3.0, 2.0, 9.0, 4.0, 1.0],
            "loss": [0.02, 0.01, 0.0, 0.003, 0.0], "profile": ["", "winter", "", "", ""],
            "status": ["operating"] * 4 + ["proposed"], "owner": ["op1", "", "", "op2", ""],
            "build_cost": [1e6, 0.0, 0.0, 0.0, 0.0]}),
        "supplies": pd.DataFrame({
            "id": ["SA", "SB", "SP"], "node": ["A", "B", "P"], "capacity": [40.0, 8.0, 12.0],
            "unit": ["mcm/d", "mcm/d", "kt/d"], "cost": [50.0, 120.0, 300.0],
            "profile": ["flat", "", ""], "country": ["", "Y2", ""]}),
        "demands": pd.DataFrame({
            "id": ["DB", "DC", "EX", "DQ"], "node": ["B", "C", "C", "Q"],
            "amount": [12.0, 15.0, 6.0, 9.0], "unit": ["mcm/d", "mcm/d", "mcm/d", "kt/d"],
            "value": [np.nan, np.nan, 260.0, 900.0], "price": [np.nan, 200.0, np.nan, np.nan],
            "elasticity": [np.nan, -0.3, np.nan, np.nan],
            "market": ["domestic", "domestic", "export", "domestic"],
            "profile": ["winter", "", "", ""]}),
        "storages": pd.DataFrame({
            "id": ["UB", "UC"], "node": ["B", "C"], "volume": [300.0, 50.0],
            "volume_unit": ["mcm", "mcm"], "rate": [5.0, 2.0], "rate_unit": ["mcm/d", "mcm/d"],
            "initial": [0.4, 0.5], "final": [0.6, np.nan], "cost": [1.5, 0.5]}),
        "targets": pd.DataFrame({"id": ["T1"], "links": ["AC"], "minimum": [1.0],
                                 "unit": ["mcm/d"]}),
        "curves": pd.DataFrame({"id": ["SB", "SB"], "band": [1, 2], "quantity": [5.0, 3.0],
                                "unit": ["mcm/d", "mcm/d"], "price": [110.0, 140.0]}),
        "contracts": pd.DataFrame({
            "id": ["K1", "K2"], "seller": ["SA", "SA"], "buyer": ["DC", "DB"],
            "price": [150.0, 170.0], "min": [3.0, 1.0], "max": [10.0, 4.0],
            "unit": ["mcm/d", "mcm/d"], "links": ["AB BC", "AB"], "per": ["year", "period"]}),
    }
    winter = 1.0 + 0.3 * np.cos(2 * np.pi * (np.arange(12) - 0.5) / 12)
    profiles = monthly_profile("winter", winter.round(6)).assign(flat=1.0)
    meta = NetworkMeta(name="rich", value_of_lost_load={"gas": 5000.0, "oil": 8000.0})
    return build_network(t, profiles, meta)


def small_network(loss=0.01, reverse=5.0, storage_final=None):
    """Three gas nodes from tests/builders.py, with a profile, a target and a storage."""
    return gas_network(
        ["N1", "N2", "N3"],
        links=[("L1", "N1", "N2", 20.0, 1.0, loss, reverse), ("L2", "N2", "N3", 10.0, 2.0, 0.0,
                                                               0.0),
               ("L3", "N1", "N3", 4.0, 5.0, 0.0, 0.0)],
        supplies=[("S1", "N1", 25.0, 40.0, "season"), ("S3", "N3", 3.0, 300.0)],
        demands=[("D2", "N2", 8.0, 900.0, "season"), ("D3", "N3", 12.0)],
        storages=[("U2", "N2", 100.0, 4.0, 0.5, storage_final, 0.5)],
        targets=[("T", "L3", 1.0)],
        profiles=monthly_profile("season", [1.2, 1.1, 1.0, 0.9, 0.8, 0.7, 0.7, 0.8, 0.9, 1.0,
                                            1.1, 1.2]),
    )


@pytest.fixture(scope="module")
def bundled():
    return read_network(bundled_path())


# ----------------------------------------------------------------------------- PyPSA


@pytest.mark.parametrize("make", [small_network, rich_network], ids=["small", "rich"])
def test_round_trip_pypsa(make) -> None:
    net = make()
    assert_same_network(net, from_pypsa(to_pypsa(net, 12)))


@pytest.mark.parametrize("periods", [1, 12])
@pytest.mark.parametrize("make", [small_network, rich_network], ids=["small", "rich"])
def test_pypsa_objective_equals_corridor(make, periods: int) -> None:
    net = make()
    corridor = optimize(net, periods).objective
    assert pypsa_objective(to_pypsa(net, periods)) == pytest.approx(corridor, rel=1e-8)


def test_objective_moves_with_the_constraints() -> None:
    """The check can fail: with a binding target and contract, PyPSA without Corridor's rows
    finds a better optimum, and with them the same one as Corridor."""
    net = rich_network()
    targets, contracts = net.targets.copy(), net.contracts.copy()
    targets["minimum"] = 9.0  # on AC, the dearest route
    contracts.loc["K1", ["min", "max"]] = 7.0
    net = net.replace(targets=targets, contracts=contracts)
    n = to_pypsa(net, 12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        n.optimize(solver_name="highs", solver_options=HIGHS, progress=False)
    loose = float(n.objective) + n.meta["corridor"]["objective_constant"]
    corridor = optimize(net, 12).objective
    assert loose < corridor - 1e3
    assert pypsa_objective(to_pypsa(net, 12)) == pytest.approx(corridor, rel=1e-8)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loss=st.floats(0.0, 0.2), reverse=st.floats(0.0, 30.0),
       final=st.one_of(st.none(), st.floats(0.0, 1.0)))
def test_round_trip_pypsa_generated(loss: float, reverse: float, final) -> None:
    net = small_network(loss, reverse, final)
    assert_same_network(net, from_pypsa(to_pypsa(net, 12)))


def test_round_trip_bundled_through_netcdf(bundled, tmp_path: Path) -> None:
    n = to_pypsa(bundled, 12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n.export_to_netcdf(tmp_path / "net.nc")
        back = pypsa.Network(tmp_path / "net.nc")
    assert_same_network(bundled, from_pypsa(back))


def test_bundled_objective_equals_corridor(bundled) -> None:
    """The bundled network month by month, contracts included, in both tools."""
    corridor = optimize(bundled, 12).objective
    assert pypsa_objective(to_pypsa(bundled, 12)) == pytest.approx(corridor, rel=1e-7)


def _plain_pypsa():
    """A PyPSA user's gas network: no corridor_ columns."""
    n = pypsa.Network()
    n.set_snapshots(pd.Index([1], name="snapshot"))
    n.snapshot_weightings.loc[:, :] = 365.0
    n.add("Carrier", "gas")
    n.add("Bus", ["a", "b"], carrier="gas")
    n.add("Generator", "g", bus="a", p_nom=10.0, marginal_cost=20.0)
    n.add("Link", "ab", bus0="a", bus1="b", p_nom=8.0, p_min_pu=-0.5, efficiency=1.0,
          marginal_cost=1.0)
    n.add("Load", "l", bus="b", p_set=6.0)
    n.add("Generator", "market", bus="b", sign=-1.0, p_nom=3.0, marginal_cost=-35.0)
    return n


def test_from_plain_pypsa_network() -> None:
    net = from_pypsa(_plain_pypsa())
    assert net.links.loc["ab", ["capacity", "reverse_capacity", "tariff", "loss"]].tolist() == \
        [8.0, 4.0, 1.0, 0.0]
    assert net.demands.loc["l", "amount"] == 6.0
    assert net.demands.loc["market", ["amount", "value", "market"]].tolist() == \
        [3.0, 35.0, "export"]
    # link full (8): the load takes 6, the market the other 2 at 35
    assert optimize(net, 1).objective == pytest.approx(365 * (8 * 20 + 8 * 1 - 2 * 35))


def _set_static(n, component: str, attr: str, value) -> None:
    n.components[component].static.loc[:, attr] = value


@pytest.mark.parametrize("damage, named", [
    (lambda n: n.add("Line", "x", bus0="a", bus1="b", x=0.1), "Line x"),
    (lambda n: n.add("Store", "s", bus="a", e_nom=5.0), "Store s"),
    (lambda n: _set_static(n, "Link", "efficiency", 0.9), "Link ab"),
    (lambda n: _set_static(n, "Bus", "carrier", "AC"), "Bus a, b"),
    (lambda n: n.snapshot_weightings.__setitem__("objective", 1.0), "snapshot_weightings"),
])
def test_unmappable_components_are_named(damage, named: str) -> None:
    n = _plain_pypsa()
    damage(n)
    with pytest.raises(InterchangeError, match=named):
        from_pypsa(n)


# ----------------------------------------------------------------------------- Excel


def test_xlsx_round_trip_is_exact(bundled, tmp_path: Path) -> None:
    """CSV folder -> workbook -> Network, bit for bit; and back to a folder, the same again."""
    path = write_network_xlsx(bundled, tmp_path / "net.xlsx")
    again = read_network(path)  # corridor.io accepts a workbook
    assert_same_network(bundled, again, exact=True)
    write_network(again, tmp_path / "folder")
    assert_same_network(bundled, read_network(tmp_path / "folder"), exact=True)


def test_xlsx_round_trip_rich(tmp_path: Path) -> None:
    net = rich_network()
    assert_same_network(net, read_network_xlsx(write_network_xlsx(net, tmp_path / "r.xlsx")),
                        exact=True)


def _damaged(tmp_path: Path, edit) -> Path:
    path = write_network_xlsx(read_network(bundled_path()), tmp_path / "net.xlsx")
    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)
    return path


def _set(wb, sheet: str, column: str, row: int, value) -> None:
    ws = wb[sheet]
    col = [c.value for c in ws[1]].index(column) + 1
    ws.cell(row=row, column=col, value=value)


@pytest.mark.parametrize("edit, message", [
    (lambda wb: wb.remove(wb["nodes"]), "sheet nodes: sheet is missing"),
    (lambda wb: _set(wb, "links", "capacity", 5, "lots"), "sheet links, row 5, column capacity"),
    (lambda wb: _set(wb, "links", "capacity", 1, "capa"),
     "sheet links: required column(s) missing: capacity"),
    (lambda wb: _set(wb, "supplies", "node", 3, "NOWHERE"), "sheet supplies, row 3, column node"),
    (lambda wb: _set(wb, "network", "value", 3, "{gas: [1, 2]}"), "sheet network, key"),
    (lambda wb: _set(wb, "profiles", "gas_heating", 4, -1.0),
     "sheet profiles, row 4, column gas_heating"),
])
def test_xlsx_errors_name_sheet_row_column(tmp_path: Path, edit, message: str) -> None:
    path = _damaged(tmp_path, edit)
    with pytest.raises(NetworkError) as caught:
        read_network(path)
    assert message in str(caught.value)
    assert ".csv" not in str(caught.value)


def test_results_xlsx_has_units_in_headers(tmp_path: Path) -> None:
    results = optimize(rich_network(), 12)
    path = write_results_xlsx(results, tmp_path / "results.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    headers = {ws.title: [c.value for c in next(ws.iter_rows(max_row=1))] for ws in wb}
    assert {"summary", "flows", "prices", "served", "unmet", "storage_level",
            "welfare_by_country", "contracts"} <= set(headers)
    assert "AB [mcm/d]" in headers["flows"] and "PQ [kt/d]" in headers["flows"]
    assert "B [USD/mcm]" in headers["prices"] and "P [USD/kt]" in headers["prices"]
    assert "UB [mcm]" in headers["storage_level"]
    assert "welfare [USD]" in headers["welfare_by_country"]
    for title, cells in headers.items():
        if title not in ("summary",):
            assert all("[" in str(c) for c in cells if c not in (
                "period", "link", "carrier", "country", "owner", "id", "seller", "buyer",
                "unit")), title
    flows = pd.read_excel(path, sheet_name="flows")
    assert np.allclose(flows["AB [mcm/d]"], results.flows["AB"])


# ----------------------------------------------------------------------------- CLI


def test_cli_export_and_import(runner, tiny_dir: Path, tmp_path: Path) -> None:
    xlsx = tmp_path / "tiny.xlsx"
    assert runner.invoke(app, ["export", str(tiny_dir), "--to", "xlsx", str(xlsx)]).exit_code == 0
    assert_same_network(read_network(tiny_dir), read_network(xlsx), exact=True)
    folder = tmp_path / "pypsa_csv"
    result = runner.invoke(app, ["export", str(xlsx), "--to", "pypsa", str(folder)])
    assert result.exit_code == 0, result.output
    back = tmp_path / "back"
    result = runner.invoke(app, ["import-pypsa", str(folder), str(back)])
    assert result.exit_code == 0, result.output
    assert_same_network(read_network(tiny_dir), read_network(back))
    result = runner.invoke(app, ["run", str(tiny_dir), "--no-store", "--excel",
                                 str(tmp_path / "run.xlsx")])
    assert result.exit_code == 0, result.output
    assert "flows" in openpyxl.load_workbook(tmp_path / "run.xlsx", read_only=True).sheetnames


def test_cli_errors_exit_2(runner, tiny_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(tiny_dir), "--to", "csv", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--to must be" in result.output
    broken = tmp_path / "broken.xlsx"
    write_network_xlsx(read_network(tiny_dir), broken)
    wb = openpyxl.load_workbook(broken)
    wb.remove(wb["links"])
    wb.save(broken)
    result = runner.invoke(app, ["validate", str(broken)])
    assert result.exit_code == 2 and "sheet links: sheet is missing" in result.output
    result = runner.invoke(app, ["import-pypsa", str(tmp_path / "none.nc"), str(tmp_path / "o")])
    assert result.exit_code == 2 and "none.nc" in result.output
    assert "Traceback" not in result.output

"""The public Python API (`import corridor as cr`): what a notebook sees, checked against the
`corridor` command's JSON on the bundled network and against hand-solved values on a tiny
network generated in Python."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import corridor as cr
from corridor.cli import app
from corridor.io import write_network

from builders import gas_network

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "api-example.py"
GASLIB_11 = ROOT / "tests" / "data" / "gaslib" / "GasLib-11"
runner = CliRunner()


def cli_json(*args: str) -> dict:
    """One `corridor` command's --json document (run in this process, nothing stored)."""
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def wide(long: pd.DataFrame, id_name: str, value: str) -> pd.DataFrame:
    """A long API table back as (periods x ids)."""
    return long.pivot(index="period", columns=id_name, values=value)


# -- the package namespace -------------------------------------------------------------------------

def fresh_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    return done.stdout


def test_import_corridor_exposes_only_its_public_names_and_loads_no_engine():
    code = ("import sys, corridor\n"
            "print(sorted(n for n in vars(corridor) if not n.startswith('_')))\n"
            "print(sorted(m for m in ('pandas', 'numpy', 'highspy', 'corridor.optimize') "
            "if m in sys.modules))\n"
            "ns = {}\nexec('from corridor import *', ns)\n"
            "print(sorted(n for n in ns if n != '__builtins__'))\n")
    public, engine, star = fresh_python(code).splitlines()
    assert eval(public) == []  # every public name is loaded on first use
    assert eval(engine) == []  # `import corridor` (and the CLI) stays cheap
    assert eval(star) == sorted(cr.__all__)
    assert dir(cr) == sorted([*cr.__all__, "__version__"])
    assert len(set(cr.__all__)) == len(cr.__all__)
    for name in cr.__all__:
        assert getattr(cr, name).__doc__, f"corridor.{name} has no docstring"
    with pytest.raises(AttributeError, match="no attribute 'solve_everything'"):
        cr.solve_everything  # noqa: B018


def test_public_functions_survive_importing_submodules_of_the_same_name():
    # corridor.optimize, .plan, .compare, .hydraulics and .sweep are also engine modules; the
    # import system binds a submodule on its package, which must not replace the function.
    import corridor.compare
    import corridor.hydraulics
    import corridor.optimize
    import corridor.plan
    import corridor.sweep  # noqa: F401

    for name in ("optimize", "plan", "compare", "hydraulics", "sweep"):
        assert callable(getattr(cr, name)) and getattr(cr, name).__module__ == "corridor.api"
    from corridor.optimize import Results

    assert Results is cr.Results


# -- the bundled network, against `corridor run --json` --------------------------------------------

@pytest.fixture(scope="module")
def bundled() -> cr.Network:
    return cr.read_network("central-asia")


@pytest.fixture(scope="module")
def base_run(bundled) -> cr.Run:
    return cr.optimize(bundled, periods=12)


@pytest.fixture(scope="module")
def base_cli() -> dict:
    return cli_json("run", "--periods", "12", "--no-store")


def test_welfare_by_country_equals_the_command_line(base_run, base_cli):
    table = base_run.welfare(by="country")
    cli = pd.DataFrame(base_cli["welfare"]["by_country"]).T.astype(float)
    assert sorted(table.index) == sorted(cli.index)
    assert list(table.columns) == [f"{c}_usd" for c in cli.columns]
    np.testing.assert_allclose(table.loc[cli.index].to_numpy(), cli.to_numpy(), rtol=1e-9,
                               atol=1e-3)
    # the rows add up to the run's total welfare, and to the command line's
    assert table["welfare_usd"].sum() == pytest.approx(base_run.total_welfare, rel=1e-9)
    assert base_run.total_welfare == pytest.approx(base_cli["welfare"]["total"], rel=1e-9)
    owners = base_run.welfare(by="owner")
    assert owners["welfare_usd"].sum() == pytest.approx(base_run.total_welfare, rel=1e-9)


def test_flows_prices_and_served_equal_the_command_line(base_run, base_cli):
    for table, id_name, value, key in ((base_run.flows(), "link", "flow", "flows"),
                                       (base_run.prices(), "node", "price", "prices"),
                                       (base_run.served(), "demand", "served", "served"),
                                       (base_run.served(), "demand", "unmet", "unmet"),
                                       (base_run.supplied(), "supply", "produced", "supplied")):
        cli = pd.DataFrame(base_cli[key]).astype(float)
        mine = wide(table, id_name, value)
        assert sorted(mine.columns) == sorted(cli.columns), key
        np.testing.assert_allclose(mine[cli.columns].to_numpy(), cli.to_numpy(), rtol=1e-9,
                                   atol=1e-9, err_msg=key)
    assert base_run.to_dict()["welfare"] == base_cli["welfare"]


def test_long_tables_carry_days_context_and_units(base_run, bundled):
    flows = base_run.flows()
    assert list(flows.columns) == ["period", "days", "link", "from", "to", "carrier", "flow",
                                   "unit", "utilisation"]
    assert len(flows) == 12 * len(bundled.links)
    assert flows.groupby("period")["days"].first().sum() == 365
    gas = flows["carrier"] == "gas"
    assert set(flows.loc[gas, "unit"]) == {"mcm/d"} and set(flows.loc[~gas, "unit"]) == {"kt/d"}
    assert (flows["from"] == flows["link"].map(bundled.links["from"])).all()
    # display units: 1 mcm/d = 0.365 bcm/yr; 1 USD/mcm = 0.001 USD per 1000 m3
    shown = base_run.flows(units="display")
    np.testing.assert_allclose(shown["flow"], flows["flow"] * 0.365)
    assert set(shown.loc[gas, "unit"]) == {"bcm/yr"} and set(shown.loc[~gas, "unit"]) == {"Mt/yr"}
    prices = base_run.prices(units="display")
    np.testing.assert_allclose(prices["price"], base_run.prices()["price"] / 1000)
    assert set(prices["unit"]) == {"USD/1000 m3", "USD/t"}
    served = base_run.served()
    # a demand that answers to price may take more or less than its amount without going short
    assert ((served["unmet"] >= 0) & (served["unmet"] <= served["amount"] + 1e-9)).all()
    assert (served["served"] - served["amount"]).abs().max() > 1e-3
    storage = base_run.storage()
    assert set(storage["level_unit"]) <= {"mcm", "kt"} and set(storage["unit"]) <= {"mcm/d",
                                                                                  "kt/d"}
    with pytest.raises(ValueError, match="units must be 'base' or 'display'"):
        base_run.flows(units="bcm")  # type: ignore[arg-type]


def test_summary_bottlenecks_and_contracts(base_run, base_cli):
    summary = base_run.summary()
    assert summary.loc["status", "value"] == "optimal"
    assert summary.loc["periods", "value"] == 12
    assert summary.loc["welfare", "unit"] == "USD"
    assert summary.loc["welfare", "value"] == pytest.approx(base_cli["welfare"]["total"])
    top = base_run.bottlenecks(5)
    assert len(top) == 5 and top["mean_utilisation"].is_monotonic_decreasing
    rent = base_run.results.congestion_rent()
    np.testing.assert_allclose(top["congestion_rent_usd"], rent[top.index])
    contracts = base_run.contracts()
    assert set(contracts.index) == set(base_cli["contracts"])
    for cid, doc in base_cli["contracts"].items():
        assert contracts.at[cid, "transfer_usd"] == pytest.approx(doc["transfer"], abs=1e-3)


def test_a_scenario_runs_over_its_own_periods_like_the_command_line(bundled, base_run):
    line_d = cr.apply_scenario(bundled, "line-d")
    run = cr.optimize(line_d)  # no periods: the scenario's, as `corridor run --scenario`
    cli = cli_json("run", "--scenario", "line-d", "--no-store")
    assert run.scenario == cli["scenario"] == "line-d"
    assert run.periods == cli["periods"]
    assert run.total_welfare == pytest.approx(cli["welfare"]["total"], rel=1e-9)
    comparison = cr.compare(base_run, run)
    head = comparison.headline()
    assert list(head.index) == ["base", "line-d"]
    assert head.loc["line-d", "welfare_change_bn"] == pytest.approx(
        (run.total_welfare - base_run.total_welfare) / 1e9, rel=1e-9)
    assert cr.compare(base_run, base_run).labels == ["base", "base (2)"]
    assert "line-d" in cr.list_scenarios(bundled).index


def test_stored_runs_compare_by_id(base_run, tmp_path):
    store = tmp_path / "runs.duckdb"
    first = base_run.save(store)
    assert cr.compare(first, base_run, store=store).headline()["welfare_change_bn"].iloc[1] \
        == pytest.approx(0.0, abs=1e-9)


def test_clear_errors(bundled, tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a file or folder nor a bundled "
                                                 "network.*central-asia"):
        cr.read_network(tmp_path / "nowhere")
    with pytest.raises(cr.ScenarioError, match="no-such-scenario"):
        cr.apply_scenario(bundled, "no-such-scenario")
    with pytest.raises(ValueError, match="at least two runs"):
        cr.compare()


# -- a tiny generated network, solved by hand ------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> cr.Run:
    """A -> B, 6 mcm/d at 2 USD/mcm; 10 mcm/d of supply at A at 50 USD/mcm; 8 mcm/d demanded
    at B, worth 500 USD/mcm. Written to a folder and read back, as a user's data would be."""
    net = gas_network(["A", "B"], links=[("L", "A", "B", 6, 2.0, 0.0)],
                      supplies=[("S", "A", 10, 50.0)], demands=[("D", "B", 8, 500.0)])
    folder = write_network(net, tmp_path_factory.mktemp("tiny") / "net")
    return cr.optimize(cr.read_network(folder))


def test_tiny_network_by_hand(tiny_run):
    # The pipe is full: 6 flows, 2 of the 8 go short at 500; A's price is the supply cost,
    # B's the value of lost load; the pipe's congestion rent is 6 x (500 - 50 - 2) a day.
    run = tiny_run
    assert run.optimal and run.periods == 1
    flows = run.flows()
    assert flows.loc[0, ["link", "flow", "unit", "utilisation", "days"]].tolist() == \
        ["L", pytest.approx(6.0), "mcm/d", pytest.approx(1.0), 365.0]
    assert run.flows("display").loc[0, "flow"] == pytest.approx(6 * 365 / 1000)
    prices = run.prices().set_index("node")["price"]
    assert prices["A"] == pytest.approx(50.0) and prices["B"] == pytest.approx(500.0)
    served = run.served().iloc[0]
    assert (served["amount"], served["served"], served["unmet"]) == pytest.approx((8, 6, 2))
    assert run.supplied().loc[0, "produced"] == pytest.approx(6.0)
    assert run.objective == pytest.approx(365 * (6 * 50 + 6 * 2 + 2 * 500))
    welfare = run.welfare()
    assert welfare["welfare_usd"].sum() == pytest.approx(run.total_welfare)
    assert run.total_welfare == pytest.approx(365 * 6 * 2 - run.objective)
    assert welfare.at["CA", "transport_revenue_usd"] == pytest.approx(365 * 6 * 2)
    assert welfare["congestion_rent_usd"].sum() == pytest.approx(365 * 6 * 448)
    assert welfare["shortage_cost_usd"].sum() == pytest.approx(365 * 2 * 500)
    assert run.bottlenecks().loc["L", "congestion_rent_usd"] == pytest.approx(365 * 6 * 448)
    assert run.summary().loc["unmet_gas", "value"] == pytest.approx(2 * 365)


def test_an_infeasible_run_says_why():
    net = gas_network(["A", "B"], links=[("L", "A", "B", 6, 2.0, 0.0)],
                      supplies=[("S", "A", 10, 50.0)], demands=[("D", "B", 8, 500.0)],
                      targets=[("TOO_MUCH", "L", 7)])
    run = cr.optimize(net)
    assert run.status == "infeasible" and not run.optimal
    assert any("TOO_MUCH" in line for line in run.diagnosis())
    assert run.summary().loc["status", "value"] == "infeasible"
    with pytest.raises(ValueError, match="infeasible, not optimal; run.diagnosis"):
        run.welfare()


def test_tiny_network_write_folder(tiny_run, tmp_path):
    out = tiny_run.write(tmp_path / "out")
    assert (out / "flows.parquet").is_file() and (out / "report.html").is_file()
    assert pd.read_parquet(out / "flows.parquet").loc[1, "L"] == pytest.approx(6.0)


def test_spreadsheets_and_pypsa_from_the_top_level(tiny_run, tmp_path):
    """A ministry's workbook in, results out, and the same LP in PyPSA, without a submodule."""
    book = cr.write_network_xlsx(tiny_run.network, tmp_path / "net.xlsx")
    run = cr.optimize(cr.read_network(book))
    assert run.objective == pytest.approx(tiny_run.objective, rel=1e-12)
    sheets = pd.read_excel(run.to_excel(tmp_path / "run.xlsx"), sheet_name=None)
    assert "L [mcm/d]" in sheets["flows"].columns
    n = cr.to_pypsa(tiny_run.network, periods=1)
    n.optimize(solver_name="highs", solver_options={"output_flag": False}, progress=False,
               include_objective_constant=False)
    constant = n.meta["corridor"]["objective_constant"]
    assert n.objective + constant == pytest.approx(tiny_run.objective, rel=1e-8)
    back = cr.from_pypsa(n)
    assert cr.optimize(back).objective == pytest.approx(tiny_run.objective, rel=1e-12)


# -- games, security, physics, plans, sweeps: the same documents as the command line ---------------

def test_coalition_equals_the_command_line(bundled):
    summary = cr.coalition(bundled, ["RU", "KZ", "UZ"])
    assert summary.to_dict()["values"] == pytest.approx(
        cli_json("coalition", "--players", "RU,KZ,UZ")["values"], rel=1e-9)
    shapley = summary.table["shapley"]
    assert shapley.sum() == pytest.approx(summary.coalitions["value"].max(), rel=1e-9)


def test_coalition_options_equal_the_command_line(bundled):
    table = cr.coalition_options(bundled, "RU,KZ,CN,MN", ["G30+G31"])
    doc = cli_json("coalition", "--players", "RU,KZ,CN,MN", "--options", "G30+G31")
    cli = pd.DataFrame(doc["options"])
    assert list(table["player"]) == list(cli["player"])
    np.testing.assert_allclose(table["shapley_change"], cli["shapley_change"], rtol=1e-9,
                               atol=1e-3)


def test_security_equals_the_command_line(bundled):
    report = cr.security(bundled, top=1)
    doc = cli_json("security", "--top", "1")
    assert report.units == doc["units"] == "mcm/d"
    cli = pd.DataFrame(doc["n_minus_one"]).T
    assert report.n_minus_one["N-1"].to_dict() == pytest.approx(cli["N-1"].astype(float)
                                                                .to_dict())
    assert report.disruptions["unserved"].tolist() == pytest.approx(
        [d["unserved"] for d in doc["disruptions"]])


def test_hydraulics_equals_the_command_line():
    net, scn = GASLIB_11 / "GasLib-11.net", GASLIB_11 / "GasLib-11.scn"
    result = cr.hydraulics(net, nominations=scn)
    doc = cli_json("hydraulics", "solve", str(net), "--nominations", str(scn))
    assert result.converged and doc["converged"]
    assert result.to_dict()["pressure"] == pytest.approx(doc["pressure"], rel=1e-12)


def test_hydraulic_check_equals_the_command_line(bundled, tmp_path):
    run = cr.optimize(bundled)
    run.write(tmp_path / "run")
    check = cr.hydraulic_check(run)
    doc = cli_json("hydraulics", "check", str(tmp_path / "run"), "--network", "central-asia")
    mine = check.to_dict()
    assert mine["period"] == doc["period"] == 1
    assert json.loads(json.dumps(mine)) == doc


def test_plan_equals_the_command_line():
    result = cr.plan(cr.read_network(), years="2025:2030:5", periods=1)
    doc = cli_json("plan", "--years", "2025:2030:5", "--periods", "1", "--no-store")
    assert result.builds() == doc["builds"]
    assert result.welfare() == pytest.approx(doc["welfare"]["total"], rel=1e-9)


def test_sweep_equals_the_command_line(tmp_path):
    report = cr.sweep("outages", draws=2, workers=0, store=tmp_path / "api.duckdb")
    doc = cli_json("sweep", "outages", "--draws", "2", "--workers", "0", "--store",
                   str(tmp_path / "cli.duckdb"))
    assert report.objectives.tolist() == pytest.approx([d["objective"] for d in doc["draws"]],
                                                       rel=1e-9)


# -- the README example ----------------------------------------------------------------------------

def test_the_readme_example_runs_as_pasted(tmp_path):
    lines = [line for line in EXAMPLE.read_text().splitlines() if line.strip()]
    assert len(lines) == 5  # "a five-line Python example"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert EXAMPLE.read_text().rstrip("\n") in readme  # the README shows exactly this file
    done = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "optimal" in done.stdout and "line-d" in done.stdout and "KZ" in done.stdout

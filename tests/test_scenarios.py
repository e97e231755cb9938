"""Scenario files: every bundled scenario solves (or names what cannot be met), each kind of
change does what it says, and mistakes are reported with the file, line and name."""

from pathlib import Path

import numpy as np
import pytest

from corridor.data import bundled_path
from corridor.io import read_network
from corridor.optimize import optimize
from corridor.periods import MONTH_DAYS
from corridor.scenario import ScenarioError, apply, list_scenarios, read_scenario_file
from corridor.scenario.apply import scenario_periods

MT_PER_YEAR = 1000 / 365  # kt/d in 1 Mt/yr


@pytest.fixture(scope="module")
def central_asia():
    return read_network(bundled_path())


def scenario(tmp_path: Path, text: str, name: str = "s") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


# What each bundled scenario is compared with: the run with the same demand, supply and barrels
# but without the question's change (README, "Scenarios").
REFERENCE = {"line-d": "galkynysh-2", "tcp-europe": "galkynysh-2",
             "trans-caspian-20mt": "new-barrels", "trans-caspian-20mt-kcts": "new-barrels",
             "plan-caspian-20mt": None, "plan-no-bypass": None}


def test_every_bundled_scenario_solves_or_names_the_unmet_target(central_asia):
    found = list_scenarios(central_asia)
    assert len(found) >= 12
    assert all(s.description for s in found)
    runs = {}
    for spec in found:
        net = apply(central_asia, spec)
        r = runs[spec.name] = optimize(net, scenario_periods(spec, central_asia) or 1)
        if spec.name == "trans-caspian-20mt":  # infeasible by design: the feeders to Aktau
            assert r.status == "infeasible"
            assert [(v.block, v.element) for v in r.violations] == [
                ("target", "TRANS_CASPIAN_20MT")]
            assert "short by" in r.explain_violations()[0]
        else:
            assert r.status == "optimal", spec.name
            assert r.identity_gap() < 1e-6, spec.name
    print("\nheadline welfare change of each bundled scenario against its reference (bn USD):")
    for name, r in runs.items():
        ref = REFERENCE.get(name, "base")
        if ref is None or name == ref or name.startswith("base"):  # base-YEAR: other years
            continue
        if not (r.optimal and runs[ref].optimal):
            print(f"  {name:26s} vs {ref:12s}: {r.status}; {' '.join(r.explain_violations())}")
            continue
        change = (r.welfare() - runs[ref].welfare()) / 1e9
        print(f"  {name:26s} vs {ref:12s}: {change:+8.2f}")


def test_one_month_outage_is_exact_at_any_resolution(central_asia, tmp_path):
    path = scenario(tmp_path, "outages:\n  - links: [O01, O02, O03]\n    months: [3]\n")
    net = apply(central_asia, read_scenario_file(path))
    monthly = optimize(net, 12)
    assert monthly.flows.loc[3, ["O01", "O02", "O03"]].abs().max() == pytest.approx(0, abs=1e-9)
    assert monthly.flows.loc[4, "O03"] > 0
    daily = optimize(net, 365)
    march = slice(MONTH_DAYS[:2].sum() + 1, MONTH_DAYS[:3].sum())
    assert daily.flows.loc[march, "O03"].abs().max() == pytest.approx(0, abs=1e-9)
    annual = optimize(net, 1)  # one period: the capacity is the year's average
    cap = net.links.at["O03", "capacity"]
    assert annual.flows.loc[1, "O03"] <= cap * (365 - 31) / 365 + 1e-6


def test_block_a_country_closes_every_link_touching_it(central_asia, tmp_path):
    path = scenario(tmp_path, "block:\n  countries: [RU]\n")
    net = apply(central_asia, read_scenario_file(path))
    country = net.nodes["country"]
    touching = (net.links["from"].map(country) == "RU") | (net.links["to"].map(country) == "RU")
    assert touching.sum() > 5
    assert (net.links.loc[touching, ["capacity", "reverse_capacity"]] == 0).all().all()
    r = optimize(net)
    assert r.flows.loc[1, touching[touching].index].abs().max() == pytest.approx(0, abs=1e-9)


def test_set_with_unit_scale_build_add_and_target(central_asia, tmp_path):
    path = scenario(tmp_path, """
build: [O26]
set:
  - {table: links, ids: [O23], column: capacity, value: 7.5, unit: Mt/yr}
scale:
  - {table: supplies, where: {country: RU}, column: cost, factor: 2}
add:
  demands:
    - {id: D_NEW, node: KZ_ASTANA, amount: 1, unit: bcm/yr, market: domestic}
targets:
  - {id: T, links: [O23, O26], minimum: 8, unit: Mt/yr}
""")
    net = apply(central_asia, read_scenario_file(path))
    assert net.links.at["O26", "status"] == "operating"
    assert net.links.at["O23", "capacity"] == pytest.approx(7.5 * MT_PER_YEAR)
    ru = central_asia.supplies["country"] == "RU"
    np.testing.assert_allclose(net.supplies.loc[ru, "cost"], 2 * central_asia.supplies.loc[
        ru, "cost"])
    assert net.demands.at["D_NEW", "amount"] == pytest.approx(1000 / 365)
    assert net.demands.at["D_NEW", "value"] != net.demands.at["D_NEW", "value"]  # NaN: VOLL
    r = optimize(net)
    assert r.flows.loc[1, ["O23", "O26"]].sum() >= 8 * MT_PER_YEAR - 1e-6
    assert net.scenarios == (str(path),)


def test_winter_scaling_changes_only_the_window(central_asia, tmp_path):
    path = scenario(tmp_path, """
scale:
  - {table: demands, ids: [D_KZ_ASTANA], column: amount, factor: 1.5, months: [1]}
""")
    before = optimize(central_asia, 12).demand_amount()["D_KZ_ASTANA"]
    after = optimize(apply(central_asia, read_scenario_file(path)), 12).demand_amount()[
        "D_KZ_ASTANA"]
    assert after[1] == pytest.approx(1.5 * before[1])
    np.testing.assert_allclose(after[2:], before[2:])


def test_extends_applies_the_parent_first(central_asia, tmp_path):
    scenario(tmp_path, "periods: 12\nbuild: [G33]\n", "parent")
    child = scenario(tmp_path, "extends: parent\nbuild: [O26]\n", "child")
    spec = read_scenario_file(child)
    net = apply(central_asia, spec)
    assert net.links.loc[["G33", "O26"], "status"].eq("operating").all()
    assert scenario_periods(spec, central_asia) == 12


@pytest.mark.parametrize(("text", "expected"), [
    ("build: [NOPE]\n", "unknown links id(s): NOPE"),
    ("set:\n  - table: links\n    ids: [O23]\n    column: colour\n    value: 1\n",
     "line 2: links has no settable column 'colour'"),
    ("scale:\n  - table: demands\n    where: {galaxy: far}\n    column: amount\n    factor: 2\n",
     "line 2: demands has no column 'galaxy'"),
    ("outages:\n  - links: [O01]\n    months: [13]\n", "line 2, outages.0"),
    ("set:\n  - {table: links, ids: [O23], column: capacity, value: 3}\n", "needs a unit"),
    ("set:\n  - {table: links, ids: [O23], column: capacity, value: 3, unit: bcm/yr}\n",
     "cannot measure oil"),
    ("blok:\n  countries: [RU]\n", "blok: Extra inputs are not permitted"),
    ("block:\n  countries: [XX]\n", "line 2: unknown country(ies): XX"),
    ("targets:\n  - {id: T, links: [O23, G01], minimum: 1, unit: Mt/yr}\n",
     "mixes gas and oil links"),
    ("extends: nowhere\n", "scenario 'nowhere' is neither a file nor a scenario"),
    ("build: [O26\n", "not valid YAML"),
    ("scale:\n  - {table: links, ids: [O23], column: tariff, factor: 2, months: [1]}\n",
     "a time window applies only to"),
])
def test_mistakes_name_file_line_and_culprit(central_asia, tmp_path, text, expected):
    path = scenario(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        apply(central_asia, read_scenario_file(path))
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_an_extends_cycle_is_reported(central_asia, tmp_path):
    scenario(tmp_path, "extends: b\n", "a")
    b = scenario(tmp_path, "extends: a\n", "b")
    with pytest.raises(ScenarioError, match="extends itself"):
        apply(central_asia, read_scenario_file(b))

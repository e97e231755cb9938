"""Draws are a function of (seed, draw id) only, and a warm-started re-solve of a draw gives what
a from-scratch `optimize` of the same draw, written as a scenario, gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corridor.data import bundled_path
from corridor.io import read_network
from corridor.optimize import optimize
from corridor.scenario import apply
from corridor.sweep import Job, Resolver, SweepFile

EVERYTHING = {
    "seed": 11, "draws": 40,
    "outages": [
        {"name": "CPC", "links": ["O01", "O02", "O03"], "rate": 1.5,
         "duration_days": {"distribution": "triangular", "low": 10, "mode": 40, "high": 120}},
        {"name": "CAC", "links": ["G01", "G02", "G03", "G04", "G05"], "independent": True,
         "probability": 0.5, "duration_months": {"distribution": "uniform", "low": 0.5,
                                                 "high": 3}, "availability": 0.4},
    ],
    "multipliers": [
        {"table": "demands", "where": {"market": "domestic", "carrier": "gas"},
         "column": "amount", "factor": {"distribution": "normal", "mean": 1.1, "sd": 0.15}},
        {"table": "demands", "where": {"market": "export"}, "column": "value",
         "independent": True, "factor": {"distribution": "uniform", "low": 0.7, "high": 1.3}},
        {"table": "supplies", "where": {"country": "UZ"}, "column": "capacity",
         "factor": {"distribution": "triangular", "low": 0.7, "mode": 0.9, "high": 1.0}},
        {"table": "supplies", "ids": ["S_KZ_TENGIZ_GAS"], "column": "cost",
         "factor": {"distribution": "lognormal", "median": 1.0, "sigma": 0.3}},
        {"table": "links", "ids": ["G08", "G14"], "column": "capacity", "factor": 0.8},
        {"table": "links", "where": {"carrier": "oil", "country": "KZ"}, "column": "tariff",
         "factor": {"distribution": "uniform", "low": 0.8, "high": 1.5}},
    ],
}


@pytest.fixture(scope="module")
def central_asia():
    return read_network(bundled_path())


@pytest.fixture(scope="module")
def resolver(central_asia) -> Resolver:
    return Resolver(Job(central_asia, SweepFile.model_validate(EVERYTHING), periods=12))


def test_draws_depend_only_on_seed_and_id(central_asia, resolver) -> None:
    again = Resolver(Job(central_asia, SweepFile.model_validate({**EVERYTHING, "draws": 5}),
                         periods=12))
    for i in (3, 0, 17):
        a, b = resolver.sampler.draw(i), again.sampler.draw(i)
        assert a.describe() == b.describe()
        assert a.factors.keys() == b.factors.keys()
        assert all(np.array_equal(a.factors[k], b.factors[k]) for k in a.factors)
    other = Resolver(Job(central_asia, SweepFile.model_validate({**EVERYTHING, "seed": 12}),
                         periods=12))
    assert other.sampler.draw(3).describe() != resolver.sampler.draw(3).describe()
    assert resolver.sampler.draw(3).describe() != resolver.sampler.draw(4).describe()


def test_outage_events_stay_in_the_year_and_wrap(resolver) -> None:
    events = [e for i in range(40) for e in resolver.sampler.draw(i).events]
    assert events, "rate 1.5/yr must produce outages"
    for e in events:
        assert 1 <= e.start <= 365 and 1 <= e.days <= 365
        days = sorted(d for a, b in e.windows() for d in range(a, b + 1))
        assert days == sorted(e.day_index() + 1)
    cac = [e for e in events if e.name == "CAC"]
    assert cac and all(len(e.links) == 1 for e in cac)  # independent: one section at a time


def test_results_do_not_depend_on_the_order_of_draws(resolver) -> None:
    forward = [resolver.solve(i) for i in range(8)]
    backward = [resolver.solve(i) for i in reversed(range(8))][::-1]
    for a, b in zip(forward, backward, strict=True):
        assert a.status == b.status and a.objective == b.objective
        assert np.array_equal(a.values, b.values)


def _scratch_quantities(resolver, results) -> pd.Series:
    """Unmet volume per (market, country, carrier) from a Results, like the sweep's labels:
    what the core units (fixed demand, and bands priced at or above a curve's reference price)
    did not take."""
    units = results.demand_units[results.demand_units["core"]]
    untaken = results.volume(results.unit_amount()[units.index] - results.unit_served[units.index])
    d = results.network.demands.loc[units["demand"]]
    keys = ["unmet_" + d["market"].to_numpy(), d["country"].to_numpy(), d["carrier"].to_numpy()]
    return untaken.groupby(keys).sum()


@pytest.mark.parametrize("draw_id", [0, 5, 13, 21])
def test_a_warm_draw_equals_a_cold_optimize_of_the_same_draw(central_asia, resolver,
                                                             draw_id: int) -> None:
    warm = resolver.solve(draw_id)
    scenario = resolver.sampler.scenario(resolver.sampler.draw(draw_id))
    cold = optimize(apply(central_asia, scenario), 12)
    assert warm.status == cold.status == "optimal"
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    labels = pd.MultiIndex.from_frame(resolver.quantities.labels)
    values = pd.Series(warm.values, index=labels)
    expected = _scratch_quantities(resolver, cold)
    got = values.loc[expected.index]
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-6, atol=1e-3)
    demand = values[labels.get_level_values(0).str.startswith("demand_")]
    core = cold.demand_units.index[cold.demand_units["core"]]
    assert demand.sum() == pytest.approx(cold.volume(cold.unit_amount()[core]).sum(), rel=1e-9)


def test_a_grid_is_a_full_factorial(central_asia) -> None:
    spec = SweepFile.model_validate({"grid": [
        {"name": "astana", "table": "demands", "ids": ["D_KZ_ASTANA"], "column": "amount",
         "factors": [1.0, 1.5, 2.0]},
        {"name": "cpc", "table": "links", "ids": ["O02"], "column": "capacity",
         "factors": [1.0, 0.5]}]})
    assert spec.n_draws == 6
    r = Resolver(Job(central_asia, spec, periods=1))
    points = [r.sampler.draw(i).values for i in range(6)]
    assert points == [{"astana": a, "cpc": c} for a in (1.0, 1.5, 2.0) for c in (1.0, 0.5)]
    results = [r.solve(i) for i in range(6)]
    assert all(x.status == "optimal" for x in results)
    assert results[1].objective > results[0].objective  # CPC at half capacity costs more


def test_an_infeasible_draw_is_kept_with_its_unmet_demand(tiny_dir: Path) -> None:
    """The tiny network's route target (50 Mt/yr through CPC) cannot be met with CPC out for
    250 days: the draw is `infeasible`, and its unmet demand is what the network can still
    serve once the target is relaxed."""
    net = read_network(tiny_dir)
    spec = SweepFile.model_validate({"draws": 2, "outages": [
        {"links": ["cpc"], "probability": 1.0, "duration_days": 250}]})
    r = Resolver(Job(net, spec, periods=12))
    result = r.solve(0)
    assert result.status == "infeasible" and np.isnan(result.objective)
    assert "nfeasible" in result.message
    values = pd.Series(result.values, index=pd.MultiIndex.from_frame(r.quantities.labels))
    assert values[("unmet_domestic", "RU", "oil")] > 1000  # Novorossiysk short of crude
    assert r.solve_base().status == "optimal"  # the next solve starts clean again


def test_warm_draws_solve_whatever_thread_count_the_process_used_before(central_asia) -> None:
    """HiGHS sizes one thread scheduler per process; a run with another thread count before a
    sweep's one-thread workers must not leave their solves in status 'error'."""
    from corridor.optimize.model import build_flow_model
    from corridor.optimize.resolvable import solve

    lp = build_flow_model(central_asia, 1).lp
    assert solve(lp, {"threads": 2}).status == "optimal"
    r = Resolver(Job(central_asia, SweepFile.model_validate({**EVERYTHING, "draws": 2}),
                     periods=12))
    assert r.base_status == "optimal"
    assert [r.solve(i).status for i in range(2)] == ["optimal", "optimal"]
    assert solve(lp, {"threads": 2}).status == "optimal"

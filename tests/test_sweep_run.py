"""Running sweeps: the same answers in this process, on 1 or 2 local worker processes and on a
Dask LocalCluster; a worker that dies loses no draw and duplicates none; results go to the store
and rerunning with the same seed stores identical results."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from corridor.sweep import DaskExecutor, InlineExecutor, LocalPool, load_job, run
from corridor.sweep.results import SweepStore
from corridor.sweep.run import executor_for, in_order, run_and_store

DRAWS = 24


class KillOnce:
    """Test hook: the worker that meets `draw` first dies (os._exit), once (a marker file)."""

    def __init__(self, marker: Path, draw: int):
        self.marker, self.draw = marker, draw

    def __call__(self, draw_id: int) -> None:
        if draw_id == self.draw and not self.marker.exists():
            self.marker.touch()
            os._exit(17)


class KillAlways:
    """Test hook: every worker that meets `draw` dies."""

    def __init__(self, draw: int):
        self.draw = draw

    def __call__(self, draw_id: int) -> None:
        if draw_id == self.draw:
            os._exit(17)


def results_of(executor, job) -> list:
    got = []
    outcome = run(job, executor, got.append)
    assert outcome.complete and outcome.draws == len(got)
    return got


def same(a: list, b: list) -> None:
    assert [r.draw for r in a] == [r.draw for r in b] == list(range(len(a)))
    for x, y in zip(a, b, strict=True):
        assert x.status == y.status and x.objective == y.objective
        assert np.array_equal(x.values, y.values)


@pytest.fixture(scope="module")
def job():
    return load_job("outages", draws=DRAWS)


@pytest.fixture(scope="module")
def reference(job) -> list:
    return results_of(InlineExecutor(), job)


def test_local_pools_of_one_and_two_workers_agree_with_this_process(job, reference) -> None:
    same(reference, results_of(LocalPool(1), job))
    same(reference, results_of(LocalPool(2), job))


def test_a_killed_worker_loses_and_duplicates_nothing(job, reference, tmp_path) -> None:
    hooked = load_job("outages", draws=DRAWS)
    hooked.hook = KillOnce(tmp_path / "killed", draw=5)
    pool = LocalPool(2)
    got = results_of(pool, hooked)
    assert (tmp_path / "killed").exists()
    same(reference, got)
    assert pool.restarted == 1 and pool.retried == 1
    assert got[5].attempts == 2 and all(r.attempts == 1 for r in got if r.draw != 5)


def test_a_draw_that_always_kills_its_worker_is_recorded_as_failed(job) -> None:
    hooked = load_job("outages", draws=4)
    hooked.hook = KillAlways(draw=2)
    got = results_of(LocalPool(2, max_attempts=2), hooked)
    assert [r.draw for r in got] == [0, 1, 2, 3]
    assert [r.status for r in got] == ["optimal", "optimal", "failed", "optimal"]
    assert got[2].values is None and "died 2 times" in got[2].message


def test_dask_local_cluster_gives_the_same_answers_and_survives_a_death(job, reference,
                                                                        tmp_path) -> None:
    from distributed import Client

    from corridor.sweep.cluster import local_cluster

    with local_cluster(2) as cluster, Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        same(reference, results_of(DaskExecutor(client=client, batch=3), job))
        hooked = load_job("outages", draws=DRAWS)
        hooked.hook = KillOnce(tmp_path / "killed", draw=7)
        same(reference, results_of(DaskExecutor(client=client, batch=1), hooked))
        assert (tmp_path / "killed").exists()


def test_the_executor_follows_options_and_dask_config(monkeypatch) -> None:
    import dask

    assert isinstance(executor_for(0), InlineExecutor)
    assert isinstance(executor_for(2), LocalPool) and executor_for(2).workers == 2
    assert executor_for(None, "local:2").describe() == "Dask LocalCluster of 2 worker(s)"
    with dask.config.set({"scheduler-address": "tcp://127.0.0.1:1"}):
        assert isinstance(executor_for(2), DaskExecutor)


def test_results_come_out_in_order_once(reference) -> None:
    shuffled = [reference[i] for i in (2, 0, 1, 1, 3)]
    assert [r.draw for r in in_order(shuffled, [0, 1, 2, 3])] == [0, 1, 2, 3]


def test_a_stored_sweep_reruns_identically(private_store: Path) -> None:
    tables = []
    for seed in (5, 5, 6):
        sweep_id, outcome = run_and_store(load_job("outages", draws=DRAWS, seed=seed,
                                                   flows=True))
        assert outcome.complete
        with SweepStore() as db:
            meta = db.meta(sweep_id)
            draws = db.draws(sweep_id)
            outcomes = db.outcomes(sweep_id).drop(columns=["seconds"])
            n_flows = db.con.execute("SELECT count(*) FROM sweep_flows WHERE sweep_id = ?",
                                     [sweep_id]).fetchone()[0]
        assert meta["state"] == "complete" and meta["completed"] == DRAWS
        assert sorted(outcomes["draw"]) == list(range(-1, DRAWS))
        # export markets buy at their price: they are not demand that can go unmet
        assert set(draws["quantity"]) == {"unmet_domestic", "demand_domestic",
                                          "transit_revenue", "flow"}
        n_links = draws.loc[draws["quantity"] == "flow", "item"].nunique()
        assert n_flows == (DRAWS + 1) * 12 * n_links
        tables.append((draws, outcomes))
    assert tables[0][0].equals(tables[1][0]) and tables[0][1].equals(tables[1][1])
    assert not tables[0][1]["objective"].equals(tables[2][1]["objective"])


def test_a_dask_batch_whose_workers_keep_dying_is_recorded_as_failed() -> None:
    class Killed:
        def result(self):
            raise RuntimeError("KilledWorker: attempted to run task 3 times")

    results = DaskExecutor._batch_results(Killed(), [4, 5])
    assert [(r.draw, r.status, r.values) for r in results] == [(4, "failed", None),
                                                               (5, "failed", None)]
    assert "KilledWorker" in results[0].message

"""Sweeps: thousands of draws of one network (outages, demand and price multipliers, or a grid),
solved by warm-started HiGHS re-solves on local processes or a Dask cluster, stored in DuckDB.

    from corridor.sweep import LocalPool, load_job, run_and_store
    job = load_job("outages", draws=200)            # a sweep file or a bundled sweep's name
    sweep_id, outcome = run_and_store(job, LocalPool(2))

`corridor sweep FILE` and `corridor sweep-report ID` do the same from the command line; see
docs/sweeps.md.
"""

from corridor.sweep.cluster import DaskExecutor
from corridor.sweep.draws import Draw, OutageEvent, Sampler
from corridor.sweep.pool import LocalPool
from corridor.sweep.resolve import DrawResult, Job, Resolver
from corridor.sweep.results import SweepStore
from corridor.sweep.run import (
    InlineExecutor,
    executor_for,
    job_for,
    load_job,
    run,
    run_and_store,
)
from corridor.sweep.spec import SweepError, SweepFile, find_sweep, read_sweep_file

__all__ = ["DaskExecutor", "Draw", "DrawResult", "InlineExecutor", "Job", "LocalPool",
           "OutageEvent", "Resolver", "Sampler", "SweepError", "SweepFile", "SweepStore",
           "executor_for", "find_sweep", "job_for", "load_job", "read_sweep_file", "run",
           "run_and_store"]

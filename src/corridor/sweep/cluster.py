"""Dask distributed execution: the same worker code, scheduled by a Dask cluster.

The job (network, sweep, options) is scattered to every worker once; each task solves a small
batch of draws with the worker's cached Resolver (built on its first task). At most `window`
tasks are in flight, so the client's memory stays bounded whatever the number of draws, and
results stream back as tasks finish.

Worker deaths are Dask's business: the scheduler reschedules the tasks a dead worker held (its
nanny restarts it) and gives up on a task after `distributed.scheduler.allowed-failures` deaths;
such a batch is recorded as `failed`, not dropped. Each task has a unique key, so a task that is
re-run after a death is still reported once.

`address` is a scheduler address (`tcp://host:8786`), or `local` / `local:N` for a LocalCluster
of N single-threaded worker processes on 127.0.0.1 with no dashboard.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from corridor.sweep.resolve import DrawResult, Job, error_result, solve_draws
from corridor.sweep.spec import SweepError


def configured_scheduler() -> str | None:
    """Dask's own configured scheduler address (`scheduler-address`, e.g. from
    DASK_SCHEDULER_ADDRESS or a Dask config file), if any."""
    try:
        import dask.config
    except ImportError:
        return None
    return dask.config.get("scheduler-address", default=None) or None


def local_cluster(workers: int):
    """A LocalCluster of single-threaded worker processes, loopback only, no dashboard.

    The scheduler still serves its health and metrics routes over HTTP; they go to a free
    loopback port instead of the fixed 8787, so concurrent sweeps never compete for it."""
    from distributed import LocalCluster

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address=None, silence_logs=40,
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})


class DaskExecutor:
    """Runs draws on a Dask cluster: an existing client, a scheduler address, or `local[:N]`."""

    def __init__(self, address: str | None = None, client=None, workers: int = 2,
                 batch: int = 4, window: int | None = None):
        self.address = address
        self.client = client
        self.workers = workers
        self.batch = batch
        self.window = window

    def describe(self) -> str:
        if self.client is not None:
            return f"Dask cluster {self.client.scheduler.address}"
        if self.address and self.address.startswith("local"):
            return f"Dask LocalCluster of {self._local_workers()} worker(s)"
        return f"Dask scheduler {self.address}"

    def _local_workers(self) -> int:
        _, _, n = (self.address or "").partition(":")
        return int(n) if n.isdigit() else self.workers

    def _connect(self):
        """The client to use and what to close afterwards."""
        try:
            from distributed import Client
        except ImportError:
            raise SweepError("running on a Dask cluster needs the 'distributed' package "
                             "(pip install 'dask[distributed]')") from None
        if self.client is not None:
            return self.client, []
        if self.address and self.address.startswith("local"):
            cluster = local_cluster(self._local_workers())
            client = Client(cluster)
            return client, [client, cluster]
        try:
            client = Client(self.address, timeout=10)
        except OSError as exc:
            raise SweepError(f"cannot reach the Dask scheduler at {self.address}: {exc}"
                             ) from None
        return client, [client]

    def results(self, job: Job, draw_ids: Iterable[int]) -> Iterator[DrawResult]:
        from distributed import as_completed

        client, owned = self._connect()
        try:
            workers = max(sum(client.nthreads().values()), 1)
            window = self.window or 4 * workers
            shared = client.scatter(job, broadcast=True, hash=False)
            ids = [int(i) for i in draw_ids]
            batches = iter([ids[k:k + self.batch] for k in range(0, len(ids), self.batch)])
            pending = {}
            running = as_completed()
            for _ in range(window):
                self._submit(client, shared, job, batches, pending, running)
            for future in running:
                batch = pending.pop(future.key)
                yield from self._batch_results(future, batch)
                future.release()
                self._submit(client, shared, job, batches, pending, running)
        finally:
            for thing in owned:
                thing.close()

    @staticmethod
    def _submit(client, shared, job: Job, batches, pending: dict, running) -> None:
        batch = next(batches, None)
        if batch is None:
            return
        key = f"corridor-sweep-{job.token}-{batch[0]}"
        future = client.submit(solve_draws, shared, batch, key=key, pure=False)
        pending[future.key] = batch
        running.add(future)

    @staticmethod
    def _batch_results(future, batch: list[int]) -> list[DrawResult]:
        """The batch's results; a batch whose workers kept dying is recorded as failed.

        `result()` waits when the finished result was lost with its worker before it reached
        us (Dask recomputes it elsewhere)."""
        try:
            return future.result()
        except Exception as error:  # KilledWorker: the allowed failures are used up
            return [error_result(i, "failed", f"{type(error).__name__}: {error}")
                    for i in batch]

"""Local execution: worker processes that each build the LP once and solve the draws sent to them.

The parent keeps, for every worker, the draws it has handed it (at most `depth`, in order), so
when a worker process dies it knows exactly which draw was being solved (the oldest) and which
were only queued. The queued ones go back to the front of the queue untouched; the one being
solved is retried on another worker, up to `max_attempts` times, then recorded as `failed`.
Every draw is thus reported exactly once. A fresh worker replaces the dead one.

Workers are started with the `spawn` method (no state inherited from the parent, safe with the
threads of a progress bar) and get the job once, at start. Draw ids go out and results come back
over one pipe per worker, so no lock is shared that a dying process could leave held.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

from corridor.sweep.resolve import DrawResult, Job, cached_resolver, error_result, solve_safely
from corridor.sweep.spec import SweepError

STOP = None


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _serve(conn: Connection, job: Job) -> None:
    """A worker process: build the Resolver, then answer draw ids until told to stop."""
    try:
        resolver = cached_resolver(job)
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        return
    conn.send(("ready", None))
    try:
        while (draw_id := conn.recv()) is not STOP:
            conn.send(("result", solve_safely(resolver, draw_id)))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        return  # the parent is gone or stopping (Ctrl-C reaches the whole process group)


@dataclass
class _Worker:
    process: mp.process.BaseProcess
    conn: Connection
    assigned: deque = field(default_factory=deque)
    ready: bool = False


class LocalPool:
    """`workers` local processes; `results(job, ids)` yields each draw's result once, unordered."""

    def __init__(self, workers: int | None = None, max_attempts: int = 3, depth: int = 2):
        self.workers = workers or default_workers()
        self.max_attempts = max_attempts
        self.depth = depth
        self.retried = 0  # draws re-run because their worker died
        self.restarted = 0  # workers started to replace dead ones

    def describe(self) -> str:
        return f"local pool of {self.workers} process(es)"

    def results(self, job: Job, draw_ids: Iterable[int]) -> Iterator[DrawResult]:
        self._ctx = mp.get_context("spawn")
        self._job = job
        self._todo = deque(int(i) for i in draw_ids)
        self._attempts: dict[int, int] = {}
        self._startup_failures = 0
        pool = [self._start() for _ in range(min(self.workers, max(len(self._todo), 1)))]
        try:
            while self._todo or any(w.assigned for w in pool):
                self._feed(pool)
                yield from self._collect(pool)
        finally:
            self._stop(pool)

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_serve, args=(child, self._job), daemon=True,
                                    name="corridor-sweep-worker")
        process.start()
        child.close()
        return _Worker(process, parent)

    def _feed(self, pool: list[_Worker]) -> None:
        for w in pool:
            while w.ready and self._todo and len(w.assigned) < self.depth:
                draw_id = self._todo.popleft()
                w.assigned.append(draw_id)
                try:
                    w.conn.send(draw_id)
                except OSError:  # it just died: `_collect` sees it and requeues the draw
                    break

    def _collect(self, pool: list[_Worker]) -> Iterator[DrawResult]:
        """Wait for any worker to answer or die; yield finished draws."""
        ready = wait([w.conn for w in pool] + [w.process.sentinel for w in pool])
        for k, w in enumerate(list(pool)):
            if w.conn not in ready and w.process.sentinel not in ready:
                continue
            try:
                while w.conn.poll():  # read what it sent before it stopped
                    yield from self._message(w, *w.conn.recv())
                if not w.process.is_alive():
                    raise EOFError
            except (EOFError, OSError):
                yield from self._replace(pool, k, w)

    def _message(self, w: _Worker, kind: str, payload) -> Iterator[DrawResult]:
        if kind == "error":
            raise SweepError(f"a sweep worker could not build the model:\n{payload}")
        if kind == "ready":
            w.ready = True
            return
        draw_id = w.assigned.popleft()
        payload.attempts = self._attempts.get(draw_id, 0) + 1
        yield payload

    def _replace(self, pool: list[_Worker], k: int, dead: _Worker) -> Iterator[DrawResult]:
        """A worker died: retry its current draw, requeue the rest, start a new worker."""
        dead.conn.close()
        dead.process.join(timeout=1)
        if not dead.ready:
            self._startup_failures += 1
            if self._startup_failures >= self.max_attempts:
                raise SweepError(f"sweep workers die while starting (exit code "
                                 f"{dead.process.exitcode})")
        if dead.assigned:
            current = dead.assigned.popleft()
            self._attempts[current] = self._attempts.get(current, 0) + 1
            self._todo.extendleft(reversed(dead.assigned))
            if self._attempts[current] >= self.max_attempts:
                result = error_result(current, "failed", f"its worker died "
                                      f"{self._attempts[current]} times (exit code "
                                      f"{dead.process.exitcode})")
                result.attempts = self._attempts[current]
                yield result
            else:
                self.retried += 1
                self._todo.appendleft(current)
        pool[k] = self._start()
        self.restarted += 1

    def _stop(self, pool: list[_Worker]) -> None:
        for w in pool:
            try:
                w.conn.send(STOP)
            except (OSError, ValueError):
                pass
        for w in pool:
            w.process.join(timeout=5)
            if w.process.is_alive():
                w.process.terminate()
                w.process.join(timeout=5)
            w.conn.close()

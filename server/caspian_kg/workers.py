"""A pool of forked worker processes that run jobs under a hard deadline.

rdflib cannot cancel a running query, and a Python thread cannot be killed, so every query runs
in a child process forked *after* the graph is loaded: the children share the graph
copy-on-write and never re-read files. A job that misses its deadline gets its worker killed
(SIGKILL) and a fresh one forked in its place; the other workers keep serving. Jobs and answers
cross a pipe, so they must be small picklable values (query text in, serialised bytes out);
errors come back as (class name, status, message) and are rebuilt as `CaspianError`s.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from . import errors
from .errors import CaspianError, QueryTimeout, one_line

log = logging.getLogger(__name__)

_FORK = multiprocessing.get_context("fork")
_PARENT_CHECK_SECONDS = 1.0


class WorkerCrashed(CaspianError):
    """A worker process died while running a job (killed by the OS, out of memory...)."""

    status = 503


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection


class WorkerPool:
    """`size` forked processes, each running `handler(job)` for one job at a time.

    `submit()` is thread-safe: it blocks until a worker is free (at most `timeout` seconds,
    then QueryTimeout "busy"), and raises QueryTimeout when the job itself runs longer than
    `timeout`. `initializer()` runs once in every child before its first job.
    """

    def __init__(
        self,
        handler: Callable[[Any], Any],
        size: int,
        timeout: float,
        initializer: Callable[[], None] | None = None,
    ) -> None:
        self.handler, self.size, self.timeout, self.initializer = handler, max(1, size), timeout, initializer
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._started = self._closed = False
        self.restarts = 0  # workers replaced after a deadline or a crash (for /health and tests)

    def start(self) -> None:
        """Fork the workers now (idempotent). Call it before starting server threads when you
        can: forking a single-threaded process is the safest; `submit()` starts lazily too."""
        with self._lock:
            if self._closed:
                raise WorkerCrashed("the query worker pool is shut down")
            if self._started:
                return
            for _ in range(self.size):
                self._idle.put(self._spawn())
            self._started = True

    def submit(self, job: Any) -> Any:
        """Run `job` in a free worker and return the handler's value (or raise its error)."""
        self.start()
        worker = self._checkout()
        try:
            worker.conn.send(job)
            if not worker.conn.poll(self.timeout):
                self._replace(worker)
                raise QueryTimeout(
                    f"query stopped: it ran longer than the {self.timeout:g} s limit "
                    "(make it more selective or add a LIMIT)"
                )
            outcome = worker.conn.recv()
        except (EOFError, OSError) as exc:
            self._replace(worker)
            raise WorkerCrashed(f"the query worker died while running the query ({type(exc).__name__})") from None
        self._idle.put(worker)
        if outcome[0] == "ok":
            return outcome[1]
        _, name, status, message = outcome
        raise _rebuild(name, status, message)

    def _checkout(self) -> _Worker:
        """A free, live worker (one found dead since its last job is replaced on the spot)."""
        while True:
            try:
                worker = self._idle.get(timeout=self.timeout)
            except queue.Empty:
                raise QueryTimeout(
                    f"all {self.size} query workers stayed busy for {self.timeout:g} s; try again later"
                ) from None
            if worker.process.is_alive():
                return worker
            self._replace(worker)

    def close(self) -> None:
        """Stop every worker (closing its pipe ends its loop; stragglers are killed)."""
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.conn.close()
        for worker in workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]

    def _spawn(self) -> _Worker:
        """Fork one worker (caller holds the lock). The child closes its copies of the other
        workers' pipes, so a parent's death reaches every child as EOF."""
        parent_conn, child_conn = _FORK.Pipe()
        inherited = [w.conn for w in self._workers] + [parent_conn]
        process = _FORK.Process(
            target=_child_main,
            args=(child_conn, self.handler, self.initializer, os.getpid(), inherited),
            name="caspian-kg-query",
            daemon=True,
        )
        process.start()
        child_conn.close()
        worker = _Worker(process, parent_conn)
        self._workers.append(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker that missed its deadline (or died) and put a fresh one in the pool."""
        worker.process.kill()
        worker.process.join()
        worker.conn.close()
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
            self.restarts += 1
            if self._closed:
                return
            self._idle.put(self._spawn())
        log.warning("query worker %s killed and replaced", worker.process.pid)


def _child_main(
    conn: Connection,
    handler: Callable[[Any], Any],
    initializer: Callable[[], None] | None,
    parent_pid: int,
    inherited: list[Connection],
) -> None:
    """The worker loop: one job at a time until the pipe closes or the parent goes away."""
    for other in inherited:
        other.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    for signum in (signal.SIGTERM, signal.SIGHUP):  # a server's handlers are not ours: SIGTERM ends us
        signal.signal(signum, signal.SIG_DFL)
    if initializer is not None:
        initializer()
    while True:
        try:
            if not conn.poll(_PARENT_CHECK_SECONDS):
                if os.getppid() != parent_pid:
                    return
                continue
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            outcome: tuple[Any, ...] = ("ok", handler(job))
        except CaspianError as exc:
            outcome = ("error", type(exc).__name__, exc.status, exc.message)
        except Exception as exc:  # noqa: BLE001 - a bug or an rdflib failure: one line, never a traceback
            outcome = ("error", "CaspianError", 500, one_line(f"query failed: {type(exc).__name__}: {exc}"))
        try:
            conn.send(outcome)
        except (EOFError, OSError):
            return


def _rebuild(name: str, status: int, message: str) -> CaspianError:
    """The parent-side copy of an error raised in a worker, with the same class when known."""
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, CaspianError) and cls not in (errors.LoadError, errors.ValidationError):
        exc: CaspianError = cls(message)
    else:
        exc = CaspianError(message)
    exc.status = status
    return exc

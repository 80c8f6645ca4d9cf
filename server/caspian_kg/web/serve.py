"""Run the web application on Granian (a WSGI server whose HTTP side is Rust, not Flask's dev server).

Order matters. This process loads the graph (so a broken file is reported here, in one line,
before anything listens), then Granian forks its HTTP worker, which inherits the loaded graph.
In that worker `load_app` reopens the store handle, builds the app and forks the query workers
*before* Granian starts its runtime and its Python threads: forking a single-threaded process is
the safe way, and the children inherit a clean copy of the graph. `python -m caspian_kg.web.serve`
does the same as `caspian-kg serve` with settings from the environment.

Why Granian: on the same app, store and machine (2 cores, 4 local clients, uncached), waitress
answered 375 analytical queries/s and 600 trivial ones, Granian 697 and 1,243: waitress's
request handling cost the web process 1.85 ms of CPU per query, Granian's 0.79 ms
(`caspian-kg bench` measures the whole server; the figures are in the README).
"""

from __future__ import annotations

import errno
import functools
import logging
import socket
import sys
import time
from typing import Any

from granian.constants import Interfaces
from granian.log import LOGGING_CONFIG
from granian.server.mp import MPServer

from ..config import Config
from ..errors import CannotListen, CaspianError, one_line
from ..graph import KnowledgeGraph
from ..open import open_graph
from . import create_app
from .state import of

# A worker that has not stopped this long after Ctrl-C / SIGTERM is killed (its query workers then
# exit within a second, seeing their parent gone): once, a worker never began to stop and Granian
# waited for it forever.
WORKER_STOP_SECONDS = 5

# The graph this process loaded; Granian's worker is forked from it and inherits it.
_loaded: KnowledgeGraph | None = None


def run(config: Config) -> None:
    """Load, then serve on config.host:config.port until interrupted (Ctrl-C, SIGTERM)."""
    global _loaded
    check_address(config.host, config.port)  # before a load that may take seconds
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    started = time.perf_counter()
    _loaded = kg = open_graph(config)
    elapsed = time.perf_counter() - started
    inferred = len(kg.dataset.get_context(kg.inferred_graph))
    print(
        f"loaded {len(kg.dataset)} triples ({inferred} inferred) in {elapsed:.2f} s "
        f"(closure {kg.timings.get('closure', 0.0):.2f} s)",
        file=sys.stderr,
        flush=True,
    )
    print(
        f"serving http://{config.host}:{config.port}/sparql with {config.workers} query workers "
        f"({config.query_timeout:g} s deadline) and {config.threads} threads",
        file=sys.stderr,
        flush=True,
    )
    try:
        server(config).serve(target_loader=functools.partial(load_app, config), wrap_loader=False)
    except RuntimeError as exc:  # Granian's own start failure (a bind lost to a race), in one line
        first = one_line(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise CannotListen(f"the HTTP server could not start on {config.host}:{config.port}: {first}") from None


def check_address(host: str, port: int) -> None:
    """Fail in one line, before Granian starts, when the address cannot be bound (Granian would
    report it as an internal error with a Rust backtrace)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Granian binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            hint = " (another server is on that port: choose one with --port)" if exc.errno == errno.EADDRINUSE else ""
            raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror}{hint}") from None


def server(config: Config) -> MPServer:
    """Granian with one HTTP worker process running the app on `config.threads` Python threads
    (the query workers are the parallelism); a worker that dies is started again. Its
    multiprocess server on every Python build, free-threaded too: the query pool must fork from
    a process that has one thread."""
    return MPServer(
        "caspian_kg",  # a name for logs: the app itself comes from load_app
        address=config.host,
        port=config.port,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=config.threads,
        respawn_failed_workers=True,
        workers_kill_timeout=WORKER_STOP_SECONDS,
        websockets=False,
        log_dictconfig=_log_config(),
    )


def load_app(config: Config) -> Any:
    """In Granian's worker, before its runtime starts: the app and its forked query workers."""
    kg = _loaded if _loaded is not None else open_graph(config)  # a spawned worker loads its own
    kg.engine.after_fork()
    app = create_app(config, kg)
    of(app).pool.start()  # fork every query worker now, while this process has a single thread
    return app


def _log_config() -> dict[str, Any]:
    """Granian's logging as it ships, on stderr beside ours (stdout stays free), without its
    advice to cap Python threads below 2 per core: ours mostly wait on the query workers."""
    shipped: dict[str, dict[str, Any]] = LOGGING_CONFIG["handlers"]  # type: ignore[assignment]
    handlers = {name: {**handler, "stream": "ext://sys.stderr"} for name, handler in shipped.items()}
    return {"handlers": handlers, "filters": {"threads": {"()": _ThreadAdvice}},
            "loggers": {"_granian": {"handlers": ["console"], "level": "INFO", "propagate": False,
                                     "filters": ["threads"]},
                        "granian.access": {"handlers": ["access"], "level": "INFO", "propagate": False}}}


class _ThreadAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "compared to the number of CPU cores" not in record.getMessage()


if __name__ == "__main__":  # settings from the environment; errors as `caspian-kg serve` gives them
    try:
        run(Config())
    except CaspianError as exc:
        print(f"caspian-kg: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)

"""Run the web application on waitress (a production WSGI server, not Flask's dev server).

Order matters: load the graph, fork the query workers (while the process is still
single-threaded, so the children inherit a clean copy of the graph), then start the server's
threads. `python -m caspian_kg.web.serve` does the same as `caspian-kg serve` with settings from the
environment.
"""

from __future__ import annotations

import logging
import signal
import sys
import time

import waitress

from ..config import Config
from ..errors import CaspianError
from ..open import open_graph
from . import create_app
from .state import of


def run(config: Config) -> None:
    """Load, start the worker pool, and serve on config.host:config.port until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    started = time.perf_counter()
    kg = open_graph(config)
    elapsed = time.perf_counter() - started
    inferred = len(kg.dataset.get_context(kg.inferred_graph))
    print(
        f"loaded {len(kg.dataset)} triples ({inferred} inferred) in {elapsed:.2f} s "
        f"(closure {kg.timings.get('closure', 0.0):.2f} s)",
        file=sys.stderr,
        flush=True,
    )
    app = create_app(config, kg)
    pool = of(app).pool
    pool.start()  # fork every worker now, while this process has a single thread
    print(
        f"serving http://{config.host}:{config.port}/sparql with {pool.size} query workers "
        f"({config.query_timeout:g} s deadline) and {config.threads} threads",
        file=sys.stderr,
        flush=True,
    )
    # Ctrl-C, `kill` and service managers all shut down cleanly (workers included), even when
    # the process was started in the background by a shell that set SIGINT to "ignore"
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        waitress.serve(app, host=config.host, port=config.port, threads=config.threads, ident="caspian-kg")
    finally:
        pool.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":  # settings from the environment; errors as `caspian-kg serve` gives them
    try:
        run(Config())
    except CaspianError as exc:
        print(f"caspian-kg: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)

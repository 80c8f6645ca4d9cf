"""serve.run: the order of start-up (load, fork the HTTP worker, fork every query worker pool in it, then\nstart threads)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import make_root

from caspian_kg.config import Config
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.web import serve
from caspian_kg.web.state import of


def test_every_pool_is_forked_in_the_http_worker_before_the_server_starts(
    monkeypatch: pytest.MonkeyPatch, config: Config, kg: KnowledgeGraph
) -> None:
    """Forking from a threaded server is unsafe, so the query worker pool (one for every door)
    is forked by the app loader that Granian calls in its HTTP worker before its runtime and
    threads start; the serving process itself loads the graph and forks no query worker."""
    seen: dict[str, object] = {}

    class FakeServer:
        def serve(self, target_loader, wrap_loader: bool) -> None:  # type: ignore[no-untyped-def]
            seen["loaded"] = serve._loaded is kg
            app = target_loader()
            seen["pids"] = of(app).pool.pids()
            seen["app"] = app

    monkeypatch.setattr(serve, "open_graph", lambda _config: kg)
    monkeypatch.setattr(serve, "server", lambda _config: FakeServer())
    serve.run(config.with_(workers=1, port=0))
    try:
        assert seen["loaded"] is True  # the loaded graph is handed down, not loaded again
        assert len(seen["pids"]) == 1  # type: ignore[arg-type]
    finally:
        of(seen["app"]).pool.close()  # type: ignore[arg-type]


def test_the_server_is_granian_on_the_configured_threads(config: Config) -> None:
    built = serve.server(config.with_(threads=5, host="127.0.0.1", port=0))
    assert (built.workers, built.blocking_threads, built.respawn_failed_workers) == (1, 5, True)
    assert built.workers_kill_timeout == serve.WORKER_STOP_SECONDS  # a stop never waits forever


def test_the_module_entry_point_reports_errors_in_one_line(tmp_path: Path) -> None:
    """`python -m caspian_kg.web.serve` (settings from the environment) fails as `caspian-kg
    serve` does: one line naming file and line, exit 2, no traceback."""
    root = make_root(tmp_path, {"broken.ttl": "@prefix ck: <https://w3id.org/caspian-kg/ontology#> .\nck:a ck:b .\n"})
    done = subprocess.run([sys.executable, "-m", "caspian_kg.web.serve"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CASPIAN_KG_ROOT": str(root), "CASPIAN_KG_PORT": "0"}, check=False)
    assert done.returncode == 2, done.stderr[-500:]
    assert f"caspian-kg: {root / 'data' / 'broken.ttl'}:2: Turtle syntax error" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_in_use_is_one_line_before_loading() -> None:
    """Granian would call it an internal error, with a Rust backtrace, after the load."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "caspian_kg.web.serve"], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "CASPIAN_KG_PORT": str(port)}, check=False)
    assert done.returncode == 2, done.stderr[-500:]
    expected = (f"caspian-kg: cannot listen on 127.0.0.1:{port}: Address already in use "
                "(another server is on that port: choose one with --port)")
    assert done.stderr.strip().splitlines() == [expected]

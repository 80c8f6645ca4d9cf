"""serve.run: the order of start-up (load, fork every worker pool, then start threads)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import make_root

from caspian_kg.config import Config
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.web import serve
from caspian_kg.web.state import of


def test_every_pool_is_forked_before_the_server_starts(
    monkeypatch: pytest.MonkeyPatch, config: Config, kg: KnowledgeGraph
) -> None:
    """Forking from a threaded server is unsafe, so the query worker pool (one for every door)
    must have its workers before waitress starts its threads."""
    seen: dict[str, list[list[int]]] = {}

    def fake_serve(app, **_: object) -> None:  # type: ignore[no-untyped-def]
        seen["pids"] = [pool.pids() for pool in [of(app).pool]]

    monkeypatch.setattr(serve, "open_graph", lambda _config: kg)
    monkeypatch.setattr(serve.waitress, "serve", fake_serve)
    monkeypatch.setattr(serve.signal, "signal", lambda *_: None)
    serve.run(config.with_(workers=1, port=0))
    assert seen["pids"] == [seen["pids"][0]] and len(seen["pids"][0]) == 1


def test_the_module_entry_point_reports_errors_in_one_line(tmp_path: Path) -> None:
    """`python -m caspian_kg.web.serve` (settings from the environment) fails as `caspian-kg
    serve` does: one line naming file and line, exit 2, no traceback."""
    root = make_root(tmp_path, {"broken.ttl": "@prefix ck: <https://w3id.org/caspian-kg/ontology#> .\nck:a ck:b .\n"})
    done = subprocess.run([sys.executable, "-m", "caspian_kg.web.serve"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CASPIAN_KG_ROOT": str(root), "CASPIAN_KG_PORT": "0"}, check=False)
    assert done.returncode == 2, done.stderr[-500:]
    assert f"caspian-kg: {root / 'data' / 'broken.ttl'}:2: Turtle syntax error" in done.stderr
    assert "Traceback" not in done.stderr

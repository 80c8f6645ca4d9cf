"""serve.run: the order of start-up (load, fork every worker pool, then start threads)."""

from __future__ import annotations

import pytest

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

"""Shared fixtures: the project's configuration and the graph loaded once per test session."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caspian_kg.config import Config
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.open import open_graph
from caspian_kg.web import create_app
from caspian_kg.web.state import of

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The default store keeps one Oxigraph store per dataset version in the cache directory. The suite
# builds dozens of versions (each test root is one): a private cache, for this process and the
# servers it starts, removed at the end, so the user's ~/.cache is never touched.
CACHE = Path(tempfile.mkdtemp(prefix="caspian-kg-test-cache-"))
os.environ["CASPIAN_KG_CACHE_DIR"] = str(CACHE)

STORES = ["oxigraph", "memory"]  # the default (cached Oxigraph) first, then rdflib in memory


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(CACHE, ignore_errors=True)


@pytest.fixture(scope="session", params=STORES)
def config(request: pytest.FixtureRequest) -> Config:
    """The shipped project, once on every store: every test that uses the shipped graph runs on the
    default store and on the memory store. Per-client limits are off: one test client sends
    hundreds of queries a minute from one address (test_admission.py and the load test prove them)."""
    return Config(root=ROOT, client_rate="none", client_queries=1000, store=request.param)


@pytest.fixture(scope="session")
def kg(config: Config) -> KnowledgeGraph:
    """The shipped graph, validated and with its closure (loaded once: it is read-only)."""
    return open_graph(config)


@pytest.fixture(scope="module")
def app(config: Config, kg: KnowledgeGraph) -> Iterator[Flask]:
    """The whole web application around the shipped graph; its worker pools fork lazily and
    are closed when the module's tests are done."""
    app = create_app(config, kg)
    app.testing = True
    yield app
    for pool in [of(app).pool]:
        pool.close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def listener() -> Iterator[socket.socket]:
    """A local TCP server standing in for an internal service an attacker wants reached."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.2)
    yield sock
    sock.close()


@pytest.fixture(scope="session")
def oxigraph_kg(tmp_path_factory: pytest.TempPathFactory, config: Config) -> KnowledgeGraph:
    """The shipped graph in the on-disk Oxigraph store (built once; this process holds its lock)."""
    return open_graph(config.with_(store=str(tmp_path_factory.mktemp("ox") / "store")))


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `oxigraph serve` (pip package `oxigraph`, a test dependency) on a free local port:
    the remote SPARQL 1.1 / Graph Store Protocol engine of the remote-store tests."""
    import subprocess
    import time
    import urllib.request

    from helpers import free_port

    from caspian_kg.scale.peers import oxigraph_binary

    port = free_port()
    location = tmp_path_factory.mktemp("oxserver")
    process = subprocess.Popen([oxigraph_binary(), "serve", "--location", str(location), "--bind",
                                f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- browser tests (tests/browsing.py) ----------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real server (`python -m caspian_kg.web.serve`), as a user would start it; modules that
    need another server (an in-process one, a different store) override this fixture."""
    from helpers import start_server, stop_server

    proc, url, _ = start_server(tmp_path_factory.mktemp("server"), workers="1", threads="4")
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, through Playwright (imported here: only browser tests pay for it)."""
    from browsing import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()

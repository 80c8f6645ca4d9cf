"""Limits and safety: query and result size, malformed input, no outbound request ever
(SERVICE, FROM, default-graph-uri, LOAD), and the per-query deadline that really stops the work."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import SERVICE_QUERIES, assert_service_refused, connections

from caspian_kg.config import Config
from caspian_kg.errors import BadRequest, QueryTimeout
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.query import forbid_network, parse_query, uses_service
from caspian_kg.web import create_app
from caspian_kg.web.state import of
from caspian_kg.workers import WorkerCrashed, WorkerPool

CROSS_JOIN_4 = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def _app(config: Config, kg: KnowledgeGraph, **changes: Any) -> Iterator[Flask]:
    app = create_app(config.with_(**changes), kg)
    yield app
    of(app).pool.close()


@pytest.fixture(scope="module")
def small_app(config: Config, kg: KnowledgeGraph) -> Iterator[Flask]:
    yield from _app(config, kg, max_query_bytes=300, max_results=5)


@pytest.fixture()
def client(small_app: Flask) -> FlaskClient:
    return small_app.test_client()


# --- sizes -----------------------------------------------------------------------------------

LONG_QUERY = "ASK { " + " ".join(f"?s{i} ?p ?o ." for i in range(40)) + " }"


def test_query_too_large_is_413_on_every_route(client: FlaskClient) -> None:
    assert len(LONG_QUERY) > 300
    assert client.get("/sparql", query_string={"query": LONG_QUERY}).status_code == 413
    assert client.post("/sparql", data={"query": LONG_QUERY}).status_code == 413
    assert client.post("/sparql", data=LONG_QUERY, content_type="application/sparql-query").status_code == 413
    huge = client.post("/sparql", data=b"x" * 100_000, content_type="application/sparql-query")
    assert huge.status_code == 413 and "Traceback" not in huge.get_data(as_text=True)


def test_result_too_large_is_413(client: FlaskClient) -> None:
    too_many = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }"})
    assert too_many.status_code == 413 and "5 rows" in too_many.get_data(as_text=True)
    assert client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o } LIMIT 5"}).status_code == 200
    graph = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
    assert graph.status_code == 413 and "triples" in graph.get_data(as_text=True)


# --- malformed input ---------------------------------------------------------------------------

MALFORMED = [
    "SELECT", "SELECT * WHERE { ?s ?p }", "ASK { FILTER( }", "PREFIX : <x SELECT * {}", "{}",
    "SELECT ?x { ?x <http://e/p> \"unterminated }", "SELECT (COUNT(*) ?n) {}", "\x00\x01\x02",
    "SELECT * { ?s ?p ?o } LIMIT -1", "DESCRIBE", "SELECT * { " + "{ " * 400 + "}" * 400 + " }",
]


@pytest.mark.parametrize("query", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_queries_are_400_with_one_line(app_default: Flask, query: str) -> None:
    response = app_default.test_client().post("/sparql", data={"query": query})
    body = response.get_data(as_text=True)
    assert response.status_code in (400, 413), body
    assert body.count("\n") == 1 and "Traceback" not in body


@pytest.fixture(scope="module")
def app_default(config: Config, kg: KnowledgeGraph) -> Iterator[Flask]:
    yield from _app(config, kg)


# --- no outbound request, ever -----------------------------------------------------------------


@pytest.mark.parametrize("template", SERVICE_QUERIES, ids=range(len(SERVICE_QUERIES)))
def test_service_is_refused_and_never_called(app_default: Flask, listener: socket.socket, template: str) -> None:
    assert_service_refused(app_default.test_client(), listener, template)


def test_remote_graph_iris_select_nothing_and_fetch_nothing(app_default: Flask, kg: KnowledgeGraph,
                                                            listener: socket.socket) -> None:
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/data.ttl"
    client = app_default.test_client()
    graphs_before = sorted(str(g.identifier) for g in kg.dataset.graphs())
    checks = [
        ({"query": f"ASK FROM <{url}> {{ ?s ?p ?o }}"}, False),
        ({"query": f"ASK FROM NAMED <{url}> {{ GRAPH ?g {{ ?s ?p ?o }} }}"}, False),
        ({"query": f"ASK {{ GRAPH <{url}> {{ ?s ?p ?o }} }}"}, False),
        ({"query": "ASK { ?s ?p ?o }", "default-graph-uri": url}, False),
        ({"query": "ASK { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": url}, False),
        ({"query": "ASK { ?s ?p ?o }"}, True),  # and the real data is still all there
    ]
    for params, expected in checks:
        response = client.get("/sparql", query_string=params)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["boolean"] is expected, params
    load = client.post("/sparql", data={"query": f"LOAD <{url}>"})
    assert load.status_code == 400
    assert connections(listener) == 0
    assert sorted(str(g.identifier) for g in kg.dataset.graphs()) == graphs_before


@pytest.mark.parametrize("query,expected", [
    ("SELECT * { ?s ?p ?o }", False),
    ("SELECT * { ?s ?p ?o MINUS { SERVICE <http://e/> { ?s ?p ?o } } }", True),
    ("SELECT * { ?s ?p ?o FILTER NOT EXISTS { SERVICE <http://e/> { ?s ?p ?o } } }", True),
    ("SELECT * { { ?s ?p ?o } UNION { SERVICE <http://e/> { ?s ?p ?o } } }", True),
])
def test_uses_service_finds_it_anywhere(query: str, expected: bool) -> None:
    if expected:
        with pytest.raises(BadRequest):
            parse_query(query)
    else:
        assert not uses_service(parse_query(query).algebra)


def _try_to_connect(port: int) -> str:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except PermissionError as exc:
        return f"blocked: {exc}"
    return "connected"


def test_workers_cannot_open_sockets(listener: socket.socket) -> None:
    """Defence in depth: even a path to the network we did not foresee fails inside a worker."""
    pool = WorkerPool(_try_to_connect, size=1, timeout=10, initializer=partial(forbid_network, set()))
    try:
        assert pool.submit(listener.getsockname()[1]).startswith("blocked")
    finally:
        pool.close()
    assert connections(listener) == 0


# --- the deadline ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_deadline_app(config: Config, kg: KnowledgeGraph) -> Iterator[Flask]:
    yield from _app(config, kg, query_timeout=2.0, workers=2)


@pytest.mark.slow
def test_pathological_query_is_cut_off_while_others_are_served(short_deadline_app: Flask) -> None:
    pool = of(short_deadline_app).pool
    pool.start()
    pids_before = set(pool.pids())
    slow: dict[str, Any] = {}

    def run_slow() -> None:
        response = short_deadline_app.test_client().get("/sparql", query_string={"query": CROSS_JOIN_4})
        slow["status"], slow["body"] = response.status_code, response.get_data(as_text=True)
        slow["retry"] = response.headers.get("Retry-After")

    thread = threading.Thread(target=run_slow)
    thread.start()
    _wait_until(lambda: pool._idle.qsize() < pool.size)  # the slow query holds one worker
    cheap = short_deadline_app.test_client().get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert cheap.status_code == 200 and cheap.get_json()["boolean"] is True
    assert thread.is_alive(), "the cheap query was answered while the slow one still ran"
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert slow["status"] == 503 and "2 s limit" in slow["body"] and int(slow["retry"]) > 0
    # the worker that ran it is gone (really killed) and was replaced; service continues
    assert pool.restarts >= 1
    killed = pids_before - set(pool.pids())
    assert killed and all(not _alive(pid) for pid in killed)
    again = short_deadline_app.test_client().get("/sparql", query_string={"query": "ASK {}"})
    assert again.status_code == 200


@pytest.mark.slow
def test_dead_worker_is_replaced(short_deadline_app: Flask) -> None:
    pool = of(short_deadline_app).pool
    pool.start()
    for pid in pool.pids():
        os.kill(pid, signal.SIGKILL)
    _wait_until(lambda: all(not _alive(pid) for pid in pool.pids()))
    client = short_deadline_app.test_client()
    statuses = [client.get("/sparql", query_string={"query": "ASK {}"}).status_code for _ in range(4)]
    assert statuses == [200] * 4


def test_pool_errors_keep_their_class() -> None:
    pool = WorkerPool(_raise_bad_request, size=1, timeout=10)
    try:
        with pytest.raises(BadRequest, match="no good"):
            pool.submit("no good")
        assert pool.submit("fine") == "fine"
    finally:
        pool.close()
    with pytest.raises(WorkerCrashed):
        pool.submit("closed")


def _raise_bad_request(job: str) -> str:
    if job == "no good":
        raise BadRequest(job)
    return job


@pytest.mark.slow
def test_pool_deadline_directly() -> None:
    pool = WorkerPool(_sleep_forever, size=1, timeout=1.0)
    try:
        with pytest.raises(QueryTimeout):
            pool.submit(None)
        assert pool.restarts == 1
    finally:
        pool.close()


def _sleep_forever(job: Any) -> None:
    threading.Event().wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers kill(0): look at its state
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_until(condition: Any, limit: float = 30.0) -> None:
    import time

    end = time.monotonic() + limit
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition never became true")
        time.sleep(0.05)

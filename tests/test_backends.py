"""Every store answers every saved query identically: rdflib in memory, Oxigraph on disk, and
(slow) a remote `oxigraph serve` fed by `caspian-kg publish`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import SERVICE_QUERIES, ask, assert_service_refused, run_saved, service
from rdflib import Variable

from caspian_kg.config import Config
from caspian_kg.errors import BadRequest
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.open import open_graph
from caspian_kg.query import QueryRequest
from caspian_kg.saved_queries import QueryLibrary
from caspian_kg.stores import native, remote
from caspian_kg.web.state import of

ROOT = Path(__file__).resolve().parents[1]


def rows(result: Any) -> list[tuple[str, ...]]:
    """A result as sorted rows of N3 terms (plain and xsd:string literals are the same term)."""
    if result.type == "ASK":
        return [(str(result.askAnswer),)]
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        return sorted(tuple(_n3(t) for t in triple) for triple in result.graph)
    names = [str(v) for v in result.vars]
    return sorted(tuple(_n3(row.get(v) if hasattr(row, "get") else row[v]) for v in names) for row in
                  (r.asdict() if hasattr(r, "asdict") else r for r in result))


def _n3(term: Any) -> str:
    if term is None:
        return ""
    text = term.n3().removesuffix("^^<http://www.w3.org/2001/XMLSchema#string>")
    if text.startswith('"') and text.endswith('"') and ", " in text:  # GROUP_CONCAT order: unspecified
        text = '"' + ", ".join(sorted(text[1:-1].split(", "))) + '"'

    return text


def sample_values(query: Any) -> dict[str, str]:
    """Values for required parameters that have no default (the others use their defaults)."""
    values = {}
    for param in query.parameters:
        if param.required and param.default is None:
            label = param.type_label.lower()
            values[param.name] = (f"{STATE}azerbaijan" if "iri" in label else
                                  "2020" if "year" in label or "integer" in label else
                                  "2020-01-01" if "date" in label else "Azerbaijan")
    return values


STATE = "https://w3id.org/caspian-kg/id/state/"


def answers(kg: KnowledgeGraph, config: Config, binder: KnowledgeGraph | None = None) -> dict[str, list[tuple[str, ...]]]:
    """Every saved query's rows, with and without the closure. `binder`: the graph that checks
    parameter values against enumerations (rdflib-side; a remote store answers the query only)."""
    library = QueryLibrary.load(config)
    out = {}
    for query in library:
        bindings = library.bind(service(binder or kg, library), query, sample_values(query))
        for inference in (True, False):
            out[f"{query.name} inference={inference}"] = rows(run_saved(kg, library, query, bindings, inference))
    return out


@pytest.fixture(scope="module")
def memory_answers(kg: KnowledgeGraph, config: Config) -> dict[str, list[tuple[str, ...]]]:
    return answers(kg, config)


def test_oxigraph_store_answers_every_saved_query_like_memory(
        oxigraph_kg: KnowledgeGraph, config: Config, memory_answers: dict[str, list[tuple[str, ...]]]) -> None:
    assert len(memory_answers) >= 2 * 6
    assert answers(oxigraph_kg, config) == memory_answers


def test_oxigraph_store_reopens_without_reloading(oxigraph_kg: KnowledgeGraph, config: Config) -> None:
    again = open_graph(config.with_(store=str(oxigraph_kg.engine.path)))  # type: ignore[union-attr]
    assert "reopen" in again.timings and "load" not in again.timings
    assert again.version == oxigraph_kg.version


def test_workers_open_their_own_store_handle_before_the_first_job(oxigraph_kg: KnowledgeGraph) -> None:
    """The initializer reopens the on-disk store read-only in each forked worker, so no request
    pays for it (and no RocksDB handle is shared across fork)."""
    from functools import partial

    from caspian_kg.query import init_worker
    from caspian_kg.workers import WorkerPool

    backend = oxigraph_kg.engine
    parent = (os.getpid(), id(backend.store))  # type: ignore[union-attr]

    def state(_: object) -> tuple[int, int, int]:
        return backend._pid, id(backend.store), os.getpid()  # type: ignore[union-attr]

    pool = WorkerPool(state, size=1, timeout=30, initializer=partial(init_worker, oxigraph_kg))
    try:
        pid_seen, store_id, worker_pid = pool.submit(None)
    finally:
        pool.close()
    assert pid_seen == worker_pid != parent[0] and store_id != parent[1]
    assert (backend._pid, id(backend.store)) == parent  # type: ignore[union-attr]  # the parent's untouched


def test_a_store_in_use_is_a_one_line_error(oxigraph_kg: KnowledgeGraph) -> None:
    """RocksDB locks the directory: a second server on it gets a clear message, not a traceback."""
    cli = [str(Path(sys.executable).with_name("caspian-kg")), "--root", str(ROOT)]
    done = subprocess.run(cli + ["stats", "--store", str(oxigraph_kg.engine.path)],  # type: ignore[union-attr]
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "another process has it open" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_oxigraph_store_rebuilds_when_the_files_change(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(ROOT / "ontology", root / "ontology")
    shutil.copytree(ROOT / "data", root / "data")
    config = Config(root=root, store=str(tmp_path / "store"))
    first = open_graph(config, validate=False)
    path = root / "data" / "background.ttl"
    path.write_text(path.read_text() + "\n# touched\n")
    second = open_graph(config, validate=False)
    assert second.version != first.version and "load" in second.timings


def test_closure_and_views_match_memory(oxigraph_kg: KnowledgeGraph, kg: KnowledgeGraph) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    for inference in (True, False):
        native = int(next(iter(ask(oxigraph_kg, count, inference)))[0])  # type: ignore[call-overload]
        memory = int(next(iter(kg.view(inference).query(count)))[0])
        assert native == memory


def test_sparql_endpoint_through_the_worker_pool(oxigraph_kg: KnowledgeGraph, config: Config) -> None:
    """Forked workers reopen the RocksDB store read-only and answer through it."""
    from caspian_kg.web import create_app

    app = create_app(config.with_(workers=1), oxigraph_kg)
    try:
        client = app.test_client()
        response = client.get("/sparql", query_string={
            "query": "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/ns/org#memberOf> ?o }"},
            headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.data
        assert int(response.get_json()["results"]["bindings"][0]["n"]["value"]) > 0
        bad = client.get("/sparql", query_string={"query": "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }"})
        assert bad.status_code == 400
    finally:
        of(app).pool.close()


# --- a real remote engine ------------------------------------------------------------------


@pytest.mark.slow
def test_remote_store_answers_every_saved_query_like_memory(
        oxigraph_server: str, kg: KnowledgeGraph, config: Config,
        memory_answers: dict[str, list[tuple[str, ...]]]) -> None:
    sent = remote.publish(kg, oxigraph_server)
    assert sent["inferred"] > 0 and sent["ontology"] > 0
    published = open_graph(config.with_(store=remote.query_url(oxigraph_server)))
    assert published.engine.kind == "remote" and set(published.graphs) == set(kg.graphs)
    assert answers(published, config, binder=kg) == memory_answers
    predeclared = "SELECT ?s WHERE { ?s ck:observerOf orgn:cica }"  # no PREFIX: the data's are predeclared
    assert rows(ask(published, predeclared)) == rows(ask(kg, predeclared)) and len(rows(ask(kg, predeclared))) == 15
    broken = "SELECT ?s WHERE { ?s ?p }"  # the remote engine's 400 is re-read by rdflib: the same reason
    with pytest.raises(BadRequest) as remote_error:
        service(published).run(QueryRequest(text=broken))
    with pytest.raises(BadRequest) as memory_error:
        service(kg).run(QueryRequest(text=broken))
    assert remote_error.value.message == memory_error.value.message


@pytest.mark.slow
def test_cli_publish_and_query_through_remote(oxigraph_server: str, config: Config) -> None:
    env = dict(os.environ, CASPIAN_KG_ROOT=str(config.root))
    cli = [sys.executable, "-m", "caspian_kg.cli"]
    done = subprocess.run(cli + ["publish", "--to", oxigraph_server], env=env, check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/ns/org#memberOf> ?o }"
    done = subprocess.run(cli + ["query", "--store", remote.query_url(oxigraph_server), query, "-f", "csv"],
                          env=env, check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[1]) > 0


def test_rdflib_api_on_oxigraph_answers_like_memory(oxigraph_kg: KnowledgeGraph, kg: KnowledgeGraph,
                                                     config: Config) -> None:
    """A saved query through the rdflib Dataset API (rdflib's own evaluator over the Oxigraph
    store's triples) gives the memory store's rows too; enumerations likewise."""
    library = QueryLibrary.load(config)

    def execute(graph: KnowledgeGraph, query: Any, bindings: dict[str, Any], inference: bool) -> Any:
        return graph.view(inference).query(query.prepared, initBindings={Variable(k): v for k, v in bindings.items()})

    for query in library:
        bindings = library.bind(service(kg, library), query, sample_values(query))
        for inference in (True, False):
            native = rows(execute(oxigraph_kg, query, bindings, inference=inference))
            assert native == rows(execute(kg, query, bindings, inference=inference)), query.name
        for param in query.parameters:
            if param.from_data:
                assert (library.enumeration(service(oxigraph_kg, library), query, param)
                        == library.enumeration(service(kg, library), query, param))


@pytest.fixture(scope="module")
def oxigraph_app(oxigraph_kg: KnowledgeGraph, config: Config) -> Any:
    from caspian_kg.web import create_app

    app = create_app(config, oxigraph_kg)
    yield app
    for pool in [of(app).pool]:
        pool.close()


RESULT_FORMAT_NAMES = ("json", "xml", "csv", "tsv")


def parsed_rows(body: bytes, fmt: str) -> list[tuple[str, ...]]:
    """An HTTP answer's rows, parsed by rdflib's result parsers (CSV keeps only lexical forms,
    for both stores alike)."""
    import io

    from rdflib.query import Result

    return rows(Result.parse(io.BytesIO(body), format=fmt))


SELECT_QUERIES = [q for q in QueryLibrary.load(Config(root=ROOT)) if q.query_type == "SELECT"]


@pytest.mark.parametrize("fmt", RESULT_FORMAT_NAMES)
@pytest.mark.parametrize("query", SELECT_QUERIES, ids=lambda q: q.name)
def test_oxigraph_writes_saved_answers_like_memory(oxigraph_app: Any, app: Any, query: Any, fmt: str) -> None:
    """Oxigraph serialises SELECT answers itself (native.NativeSolutions): every saved query,
    in every result format, parses to the rows rdflib's writers give on the memory store."""
    params = {**sample_values(query), "format": fmt}
    native = oxigraph_app.test_client().get(f"/queries/{query.name}", query_string=params)
    memory = app.test_client().get(f"/queries/{query.name}", query_string=params)
    assert native.status_code == memory.status_code == 200, native.data[:300]
    assert native.content_type == memory.content_type
    assert parsed_rows(native.data, fmt) == parsed_rows(memory.data, fmt)


TRICKY = r"""SELECT ?x ?y WHERE { VALUES (?x ?y) {
  ("a\nb,\"c" "<result></result>")
  ("r\r\n\t"@en <http://example.org/result>)
  (UNDEF "}},{\"x\":1}")
  ("" UNDEF) } }"""


@pytest.mark.parametrize("fmt", RESULT_FORMAT_NAMES)
def test_native_row_count_is_exact_for_tricky_terms(oxigraph_kg: KnowledgeGraph, fmt: str) -> None:
    """Line breaks, quotes, '<result>' and JSON-like text inside terms do not fool the count."""
    solutions = service(oxigraph_kg).run(QueryRequest(text=TRICKY))
    assert isinstance(solutions, native.NativeSolutions)
    body = solutions.serialize(fmt, max_results=10)
    assert native.count_rows(body, fmt) == 4
    if fmt != "csv":  # rdflib's CSV parser reads a quoted line break as two records
        assert len(parsed_rows(body, fmt)) == 4


@pytest.mark.parametrize("fmt", RESULT_FORMAT_NAMES)
@pytest.mark.parametrize(("limit", "status"), [(4, 200), (3, 413)])
def test_native_answers_keep_the_row_limit(oxigraph_kg: KnowledgeGraph, config: Config, fmt: str,
                                           limit: int, status: int) -> None:
    """/sparql on the Oxigraph store: max_results rows pass, one more is a 413, in every format."""
    from caspian_kg.web import create_app

    small = create_app(config.with_(workers=1, max_results=limit), oxigraph_kg)
    try:
        query = f"{TRICKY}\n# limit {limit}"  # the answer cache is per process, keyed by request
        response = small.test_client().get("/sparql", query_string={"query": query, "format": fmt})
        assert response.status_code == status, response.data[:300]
        if status == 413:
            assert b"more than 3 rows" in response.data
    finally:
        of(small).pool.close()


def test_native_answers_stop_growing_at_the_byte_cap(oxigraph_kg: KnowledgeGraph,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A result is cut off while Oxigraph writes it (max_results x MAX_ROW_BYTES), before the
    rows are counted: a huge result cannot fill the worker's memory first."""
    from caspian_kg.errors import ResultTooLarge

    monkeypatch.setattr(native.NativeSolutions, "MAX_ROW_BYTES", 1)
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    sink_sizes: list[int] = []
    real = native._CappedSink.write

    def spy(self: Any, data: Any) -> int:
        sink_sizes.append(self.size + len(data))
        return real(self, data)

    monkeypatch.setattr(native._CappedSink, "write", spy)
    with pytest.raises(ResultTooLarge):
        service(oxigraph_kg).run(QueryRequest(text=query)).serialize("json", max_results=1000)
    assert max(sink_sizes) < 1000 + 65_536 + 64 * 1024  # stopped within a chunk of the cap
    full = service(oxigraph_kg).run(QueryRequest(text=query)).serialize
    monkeypatch.undo()
    assert len(full("json", max_results=100_000)) > 1000 + 65_536 + 64 * 1024


@pytest.mark.parametrize("template", SERVICE_QUERIES, ids=range(len(SERVICE_QUERIES)))
def test_oxigraph_store_never_calls_out_either(oxigraph_app: Any, listener: socket.socket, template: str) -> None:
    """Oxigraph itself *does* run SERVICE over HTTP, so the endpoint's refusal is all that stands
    between a query and an internal service: prove it on this store too."""
    assert_service_refused(oxigraph_app.test_client(), listener, template)

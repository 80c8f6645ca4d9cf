"""Real clients against a real server: `python -m caspian_kg.web.serve` (Granian, forked query
workers) in a subprocess on a free port, queried by SPARQLWrapper, rdflib's SPARQLStore and
many parallel plain HTTP clients."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import children, start_server, stop_server
from rdflib import OWL, RDF, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, POST, POSTDIRECTLY, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from caspian_kg.graph import KnowledgeGraph
from caspian_kg.web.serve import WORKER_STOP_SECONDS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CLASSES = "PREFIX owl: <http://www.w3.org/2002/07/owl#> SELECT ?c { ?c a owl:Class FILTER isIRI(?c) } ORDER BY ?c"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The base URL of a running server, and the file its stderr goes to."""
    proc, url, log = start_server(tmp_path_factory.mktemp("server"))
    yield url, log
    stop_server(proc)


def test_server_reports_what_it_loaded(server: tuple[str, Path], kg: KnowledgeGraph) -> None:
    url, log = server
    with urllib.request.urlopen(f"{url}/health") as response:
        health = json.load(response)
    assert health["status"] == "ok" and health["triples"] == len(kg.dataset)
    assert "loaded " in log.read_text() and " inferred) in " in log.read_text()


# --- SPARQLWrapper ------------------------------------------------------------------------------


def _wrapper(url: str, query: str, fmt: str, method: str | None = None) -> SPARQLWrapper:
    sw = SPARQLWrapper(f"{url}/sparql")
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    if method == POSTDIRECTLY:
        sw.setMethod(POST)
        sw.setRequestMethod(POSTDIRECTLY)
    elif method:
        sw.setMethod(method)
    return sw


@pytest.mark.parametrize("method", [None, POST, POSTDIRECTLY])
def test_sparqlwrapper_select_json(server: tuple[str, Path], kg: KnowledgeGraph, method: str | None) -> None:
    result = _wrapper(server[0], CLASSES, JSON, method).query().convert()
    got = [b["c"]["value"] for b in result["results"]["bindings"]]  # type: ignore[index]
    expected = sorted(str(c) for c in kg.dataset.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef))
    assert got == expected


def test_sparqlwrapper_other_result_formats(server: tuple[str, Path]) -> None:
    url = server[0]
    xml = _wrapper(url, CLASSES, XML).query().convert()
    assert xml.getElementsByTagName("uri")  # type: ignore[union-attr]
    csv_text = _wrapper(url, CLASSES, CSV).query().convert().decode()  # type: ignore[union-attr]
    assert csv_text.splitlines()[0] == "c"
    tsv_text = _wrapper(url, CLASSES, TSV).query().convert().decode()  # type: ignore[union-attr]
    assert tsv_text.splitlines()[0] == "?c" and tsv_text.splitlines()[1].startswith("<")
    ask = _wrapper(url, "ASK { ?s ?p ?o }", JSON).query().convert()
    assert ask["boolean"] is True  # type: ignore[index]


def test_sparqlwrapper_construct_and_dataset(server: tuple[str, Path], kg: KnowledgeGraph) -> None:
    url = server[0]
    construct = "PREFIX owl: <http://www.w3.org/2002/07/owl#> CONSTRUCT { ?c a owl:Class } WHERE { ?c a owl:Class }"
    turtle = _wrapper(url, construct, TURTLE).query().convert()
    assert len(Graph().parse(data=turtle, format="turtle")) > 0  # type: ignore[arg-type]
    sw = _wrapper(url, "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }", JSON)
    sw.addNamedGraph(str(kg.ontology_graph))
    rows = sw.query().convert()["results"]["bindings"]  # type: ignore[index]
    assert [r["g"]["value"] for r in rows] == [str(kg.ontology_graph)]


def test_sparqlwrapper_sees_bad_queries_as_bad(server: tuple[str, Path]) -> None:
    with pytest.raises(QueryBadFormed):
        _wrapper(server[0], "SELECT * WHERE {", JSON).query()


# --- rdflib SPARQLStore ---------------------------------------------------------------------------


def test_rdflib_sparqlstore(server: tuple[str, Path], kg: KnowledgeGraph) -> None:
    store = SPARQLStore(f"{server[0]}/sparql")
    union = Graph(store=store, identifier=DATASET_DEFAULT_GRAPH_ID)
    assert union.query("ASK { ?s ?p ?o }").askAnswer is True
    classes = {row[0] for row in union.query(CLASSES)}  # type: ignore[index]
    assert classes == {c for c in kg.dataset.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    some_class = min(classes)
    assert (some_class, RDF.type, OWL.Class) in set(union.triples((some_class, RDF.type, None)))
    # a Graph over one named graph: SPARQLStore sends it as default-graph-uri
    ontology = Graph(store=store, identifier=kg.ontology_graph)
    assert len(ontology) == len(kg.dataset.get_context(kg.ontology_graph))
    store.close()


# --- many clients at once --------------------------------------------------------------------------


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_many_parallel_clients_get_identical_answers(server: tuple[str, Path]) -> None:
    base = f"{server[0]}/sparql?"
    queries = [
        base + urllib.parse.urlencode({"query": CLASSES}),
        base + urllib.parse.urlencode({"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "format": "csv"}),
        base + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }", "inference": "none"}),
    ]
    reference = {q: _fetch(q) for q in queries}
    assert all(status == 200 for status, _ in reference.values())
    jobs = [queries[i % len(queries)] for i in range(16 * 10)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(_fetch, jobs))
    assert [status for status, _ in answers] == [200] * len(jobs)
    assert all(body == reference[q][1] for q, (_, body) in zip(jobs, answers))


# --- shutdown ----------------------------------------------------------------------------------


def _descendants(pid: int) -> set[int]:
    """Every process below `pid`: Granian's HTTP worker and, below it, the query workers."""
    below = set(children(pid))
    return below.union(*(_descendants(child) for child in below))


def _running(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_stops_server_and_its_workers(tmp_path: Path, how: signal.Signals) -> None:
    """The server, its HTTP worker and its query workers all end, promptly (a query worker that
    kept the HTTP server's SIGTERM handler once left `serve` hanging on Ctrl-C)."""
    proc, url, _ = start_server(tmp_path)
    assert _fetch(f"{url}/sparql?query=ASK%7B%7D")[0] == 200  # the workers exist and work
    workers = _descendants(proc.pid)
    assert len(workers) >= 3  # the HTTP worker and the 2 query workers
    stopped = time.monotonic()
    stop_server(proc, how)
    assert proc.returncode == 0
    assert time.monotonic() - stopped < 10  # stop_server kills after 15 s: not needed
    end = time.monotonic() + 10
    while any(_running(pid) for pid in workers) and time.monotonic() < end:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_killed_http_worker_is_replaced_with_fresh_query_workers(tmp_path: Path) -> None:
    """Granian starts a new HTTP worker when one dies (killed, out of memory); it forks its own
    query workers, and the dead worker's query workers go away instead of lingering."""
    proc, url, _ = start_server(tmp_path)
    try:
        (http_worker,) = set(children(proc.pid))
        old = _descendants(http_worker)
        assert len(old) == 2
        os.kill(http_worker, signal.SIGKILL)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            time.sleep(0.2)
            try:
                if _fetch(f"{url}/sparql?query=ASK%7B%7D")[0] == 200:
                    break
            except OSError:
                continue
        assert _fetch(f"{url}/sparql?query=ASK%7B%7D")[0] == 200
        (replacement,) = set(children(proc.pid))
        assert replacement != http_worker and len(_descendants(replacement)) == 2
        while any(_running(pid) for pid in old) and time.monotonic() < end:
            time.sleep(0.1)
        assert not any(_running(pid) for pid in old)
    finally:
        stop_server(proc)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_stop_never_waits_forever_on_a_stuck_http_worker(tmp_path: Path) -> None:
    """A worker that cannot begin to stop (here: SIGSTOPped) is killed after WORKER_STOP_SECONDS,
    and its query workers follow; without the bound Granian's master waits on it forever."""
    proc, _, _ = start_server(tmp_path)
    workers = _descendants(proc.pid)
    (http_worker,) = set(children(proc.pid))
    os.kill(http_worker, signal.SIGSTOP)
    stopped = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=WORKER_STOP_SECONDS + 10)
    finally:
        if proc.poll() is None:
            os.kill(http_worker, signal.SIGKILL)
            stop_server(proc, signal.SIGKILL)
    assert time.monotonic() - stopped < WORKER_STOP_SECONDS + 10
    end = time.monotonic() + 10
    while any(_running(pid) for pid in workers) and time.monotonic() < end:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers)

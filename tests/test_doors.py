"""One request, one meaning, on every door and every store.

Every door (/sparql by GET and POST, the /query editor, `caspian-kg query`) asks the same query
service, so a hostile or broken query gets the same status and the same one-line reason on each,
whatever the store; nothing reaches the network; and a request parameter shared by several
routes (`inference=`, `format=`) accepts and refuses the same values on all of them.
"""

from __future__ import annotations

import html
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from helpers import connections

from caspian_kg import cli
from caspian_kg.config import Config
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.query import INFERENCE
from caspian_kg.stores import oxigraph
from caspian_kg.web import create_app
from caspian_kg.web.state import of

ROOT = Path(__file__).resolve().parents[1]

# (name, query template with {url} = the listener, expected status, expected reason or None: any 200)
HOSTILE = [
    ("service", "SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}", 400,
     "SERVICE (federated query) is not allowed on this endpoint"),
    ("service in a subquery", "SELECT * {{ {{ SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}", 400,
     "SERVICE (federated query) is not allowed on this endpoint"),
    ("update", "INSERT DATA {{ <http://x/a> <http://x/b> <http://x/c> }}", 400,
     "SPARQL Update is not accepted: this endpoint is read-only"),
    ("load", "LOAD <{url}>", 400, "SPARQL Update is not accepted: this endpoint is read-only"),
    ("drop", "DROP ALL", 400, "SPARQL Update is not accepted: this endpoint is read-only"),
    ("syntax error", "SELECT ?s WHERE {{ ?s ?p }}", 400, None),
    ("nested too deeply", "SELECT * WHERE " + "{{" * 300 + " ?s ?p ?o " + "}}" * 300, 400,
     "the query is nested too deeply (at most 256 levels of brackets)"),
    ("nested like generated queries", "SELECT * WHERE " + "{{" * 100 + " ?s ?p ?o " + "}}" * 100 + " LIMIT 1",
     200, None),
    ("a predeclared prefix and its namespace under another name",
     "PREFIX : <https://w3id.org/caspian-kg/ontology#> SELECT ?s {{ ?s ck:observerOf ?o ; a :State }}", 200, None),
    ("short-form CONSTRUCT", "CONSTRUCT WHERE {{ ?s ?p ?o }} LIMIT 1", 200, None),
    ("too large", "ASK {{ }} #" + "x" * 100_001, 413, "query larger than 100000 bytes"),
    ("remote FROM is an empty graph, never fetched", "SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}", 200, None),
]


@pytest.fixture(scope="module")
def apps(config: Config, kg: KnowledgeGraph, oxigraph_kg: KnowledgeGraph) -> Iterator[dict[str, Flask]]:
    built = {"memory": create_app(config.with_(workers=1), kg),
             "oxigraph": create_app(config.with_(workers=1), oxigraph_kg)}
    yield built
    for app in built.values():
        of(app).pool.close()


def sparql_get(app: Flask, query: str, capsys: Any, monkeypatch: Any) -> tuple[int, str]:
    response = app.test_client().get("/sparql", query_string={"query": query})
    return response.status_code, response.get_data(as_text=True).strip()


def sparql_post(app: Flask, query: str, capsys: Any, monkeypatch: Any) -> tuple[int, str]:
    response = app.test_client().post("/sparql", data=query.encode(), content_type="application/sparql-query")
    return response.status_code, response.get_data(as_text=True).strip()


def editor(app: Flask, query: str, capsys: Any, monkeypatch: Any) -> tuple[int, str]:
    """The /query page shows the reason in its alert; the status is the same as /sparql's."""
    response = app.test_client().get("/query", query_string={"query": query})
    page = response.get_data(as_text=True)
    start = page.find('<span class="message">')
    reason = html.unescape(page[start + 22:page.index("</span>", start)]) if start >= 0 else page
    return response.status_code, reason


def command_line(app: Flask, query: str, capsys: Any, monkeypatch: Any) -> tuple[int, str]:
    """`caspian-kg query`: its exit code (0, or 2 for bad input), the reason on stderr after the
    program's name; the loaded graph is the app's, so the store is the same."""
    state = of(app)
    monkeypatch.setattr(cli, "open_graph", lambda config: state.kg)
    capsys.readouterr()
    code = cli.main(["--root", str(ROOT), "query", query])
    err = capsys.readouterr().err.strip().splitlines()
    reason = err[-1].removeprefix("caspian-kg: ") if code else ""
    return code, reason


# what the command line exits with for each HTTP status of /sparql (errors.py: one map for both)
EXIT = {200: 0, 400: 2, 413: 2}
DOORS: dict[str, Callable[..., tuple[int, str]]] = {
    "sparql GET": sparql_get, "sparql POST": sparql_post, "editor": editor, "caspian-kg query": command_line}


@pytest.mark.parametrize("store", ["memory", "oxigraph"])
@pytest.mark.parametrize("door", list(DOORS))
@pytest.mark.parametrize("name, template, status, reason", HOSTILE, ids=[case[0] for case in HOSTILE])
def test_a_hostile_query_means_the_same_on_every_door_and_store(
        apps: dict[str, Flask], listener: socket.socket, capsys: Any, monkeypatch: Any, store: str, door: str,
        name: str, template: str, status: int, reason: str | None) -> None:
    query = template.format(url=f"http://127.0.0.1:{listener.getsockname()[1]}/sparql")
    got_status, got_reason = DOORS[door](apps[store], query, capsys, monkeypatch)
    assert got_status == (EXIT[status] if door == "caspian-kg query" else status), got_reason[:300]
    reference = sparql_get(apps["memory"], query, capsys, monkeypatch)
    if status != 200:
        assert got_reason == reference[1], "the reason differs from /sparql's on the memory store"
        assert "\n" not in got_reason and got_reason
        if reason is not None:
            assert got_reason == reason
        else:
            assert got_reason.startswith("SPARQL syntax error: ")
    assert connections(listener) == 0


# --- shared parameters: one reader each --------------------------------------------------------

# every route that takes `inference=`, with a request that succeeds on it
INFERENCE_ROUTES = ["/sparql?query=ASK%7B%7D", "/queries/summits?format=json", "/queries/summits",
                    "/query?query=ASK%7B%7D", "/id/state/azerbaijan.ttl", "/id/state/azerbaijan.html",
                    "/export/caspian-kg.nt"]
ACCEPTED = list(INFERENCE)  # exactly the OpenAPI document's enumeration
REFUSED = ["", "NONE", "Rl", "0", "1", "no", "yes", "all", "full", "true", "false", "asserted", "owl-rl", "maybe"]


@pytest.mark.parametrize("route", INFERENCE_ROUTES)
def test_inference_takes_the_same_values_on_every_route(apps: dict[str, Flask], route: str) -> None:
    client = apps["memory"].test_client()
    for value in ACCEPTED:
        response = client.get(f"{route}&inference={value}" if "?" in route else f"{route}?inference={value}")
        assert response.status_code == 200, (value, response.data[:200])
    for value in REFUSED:
        response = client.get(f"{route}&inference={value}" if "?" in route else f"{route}?inference={value}")
        assert response.status_code == 400, value
        assert "inference=" in response.get_data(as_text=True), value
    twice = client.get(f"{route}&inference=none&inference=rl" if "?" in route else f"{route}?inference=none&inference=rl")
    assert twice.status_code == 400


# every route that takes `format=`, with one format it offers
FORMAT_ROUTES = [("/sparql?query=ASK%7B%7D", "csv"), ("/sparql", "turtle"), ("/queries/summits", "tsv"),
                 ("/queries", "json"), ("/search?q=baku", "json")]


@pytest.mark.parametrize("route, offered", FORMAT_ROUTES)
def test_format_is_read_the_same_way_on_every_route(apps: dict[str, Flask], route: str, offered: str) -> None:
    client = apps["memory"].test_client()
    join = "&" if "?" in route else "?"
    assert client.get(f"{route}{join}format={offered}").status_code == 200
    assert client.get(f"{route}{join}format=").status_code == 406  # empty: not a format
    other = "turtle" if offered in ("csv", "tsv", "json") else "csv"  # a format we write, not offered here
    assert client.get(f"{route}{join}format={other}&format={offered}").status_code == 200  # alternatives, in order
    assert client.get(f"{route}{join}format=xyz&format={offered}").status_code == 406  # never a name we lack
    unknown = client.get(f"{route}{join}format=xyz")
    assert unknown.status_code == 406 and "format 'xyz' is not available here" in unknown.get_data(as_text=True)


# --- one path per store ------------------------------------------------------------------------


def test_caspian_kg_run_on_the_oxigraph_store_runs_natively(
        oxigraph_kg: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path) -> None:
    """`caspian-kg run` asks Oxigraph with the query text and its parameters bound as terms; rdflib's
    evaluator (the slow path) is never used. The worker is forked, so the spies write to a file."""
    log = tmp_path / "asked.log"
    real = oxigraph.OxigraphEngine.query

    def spy(self: Any, prepared: Any, selection: Any, bindings: Any) -> Any:
        with log.open("a") as out:
            out.write(f"native {prepared.text is not None} {sorted(bindings.values())}\n")
        return real(self, prepared, selection, bindings)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        with log.open("a") as out:
            out.write("rdflib evaluator\n")
        raise AssertionError("rdflib's evaluator")

    monkeypatch.setattr(oxigraph.OxigraphEngine, "query", spy)
    monkeypatch.setattr(oxigraph, "evaluate", refuse)
    monkeypatch.setattr(cli, "open_graph", lambda config: oxigraph_kg)
    code = cli.main(["--root", str(ROOT), "run", "org-observers", "--org", "orgn:cica", "-f", "csv"])
    out = capsys.readouterr().out
    assert code == 0
    assert len(out.strip().splitlines()) == 1 + 15  # CICA's 15 observers
    asked = log.read_text().splitlines()
    assert asked and all(line.startswith("native True") for line in asked), asked
    assert any("https://w3id.org/caspian-kg/id/org/cica" in line for line in asked)


def test_each_app_has_its_own_answer_cache(config: Config, kg: KnowledgeGraph) -> None:
    """Two apps in one process (two stores, two configurations) never answer from each other's cache."""
    first, second = create_app(config.with_(workers=1), kg), create_app(config.with_(workers=1), kg)
    try:
        for app in (first, second):
            assert app.test_client().get("/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D").status_code == 200
        assert of(first).answers is not of(second).answers
        assert (of(first).answers.misses, of(second).answers.misses) == (1, 1)
        assert of(second).answers.hits == 0
    finally:
        of(first).pool.close()
        of(second).pool.close()


@pytest.mark.parametrize("route", ["/sparql?query=ASK%7B%7D%FF%FE", "/query?query=ASK%7B%7D%FF", "/search?q=caf%E9",
                                   "/queries/summits?format=json&x=%C3", "/id/state/azerbaijan.ttl?inference=%FF"])
def test_invalid_percent_encoded_utf8_is_a_400_everywhere(apps: dict[str, Flask], route: str) -> None:
    client = apps["memory"].test_client()
    response = client.get(route)
    assert response.status_code == 400 and "not valid UTF-8" in response.get_data(as_text=True)
    form = client.post("/sparql", data=b"query=ASK%7B%7D%FF%FE", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 400 and "not valid UTF-8" in form.get_data(as_text=True)
    assert client.get("/search?q=T%C3%BCrkiye").status_code == 200  # valid UTF-8 passes


@pytest.mark.parametrize("route", ["/id/state/azerbaijan.ttl", "/id/state/azerbaijan", "/export/caspian-kg.nt",
                                   "/void.ttl", "/timeline", "/", "/query", "/health"])
def test_a_format_we_never_write_is_a_406_even_where_the_path_decides(apps: dict[str, Flask], route: str) -> None:
    client = apps["memory"].test_client()
    response = client.get(f"{route}?format=xyz")
    assert response.status_code == 406 and "'xyz'" in response.get_data(as_text=True)
    assert client.get(f"{route}?format=turtle").status_code in (200, 303)  # a real name: the path decides

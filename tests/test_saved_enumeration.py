"""Saved-query enumerations on native stores: the pattern is written back as SPARQL text and the
engine answers it (enumeration.enumeration_sparql), with exactly the values rdflib's evaluator gives.

Three layers: the writer on small hand-made patterns, each written text run on rdflib's memory
store against the algebra it came from (and the patterns it must decline); every shipped
enumeration on the Oxigraph store equal to the memory store's; and proof that the native path
is really taken (a silent fallback to rdflib would pass the equality tests, only slower).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import service
from rdflib import Dataset, Literal, Namespace, URIRef, Variable
from rdflib.plugins.sparql import prepareQuery

from caspian_kg.config import Config
from caspian_kg.enumeration import _where_pattern, distinct_values_query, enumeration_sparql
from caspian_kg.enumeration import compute_enumeration as enumerate_values
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.open import open_graph
from caspian_kg.oxterms import to_result
from caspian_kg.saved_queries import Parameter, QueryLibrary, SavedQuery, parse_query
from caspian_kg.stores import oxigraph, remote

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = QueryLibrary.load(Config(root=ROOT))


def compute_enumeration(kg: KnowledgeGraph, query: SavedQuery, param: Parameter) -> Any:
    """The values of a parameter computed from `kg` by the query service (no cache)."""
    return enumerate_values(service(kg), query.prepared, param.variable)
FROM_DATA = [(q.name, p.name) for q in LIBRARY for p in q.parameters if p.from_data]

E = Namespace("http://example.org/")
PREFIX = f"PREFIX e: <{E}>\n"


# --- the writer on hand-made patterns ------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> Dataset:
    """Two named graphs, shaped so that a wrongly dropped OPTIONAL would show (see
    test_an_optional_below_a_join_is_declined)."""
    dataset = Dataset(default_union=True)
    g1, g2 = dataset.graph(E.g1), dataset.graph(E.g2)
    for s, p, o in [(E.a, E.p, E.b), (E.b, E.q, E.c), (E.a, E.r, E.d), (E.a, E.name, Literal("A")),
                    (E.c, E.s, E.t)]:
        g1.add((s, p, o))
    for s, p, o in [(E.x, E.p, E.y), (E.x, E.r, E.z), (E.y, E.q, E.w), (E.k, E.p, E.m),
                    (E.k, E.name, Literal('say "hi"\nnow', lang="en"))]:
        g2.add((s, p, o))
    return dataset


@pytest.fixture(scope="module")
def small_oxigraph(small: Dataset) -> Any:
    """The same quads in an in-memory Oxigraph, its default graph the union of the named graphs
    (as Backend.query's is): the written text must parse and mean the same there too."""
    import pyoxigraph as ox
    from oxrdflib._converter import to_ox

    store = ox.Store()
    store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.NamedNode(str(g)))
                 for s, p, o, g in small.quads((None, None, None, None)))
    return store


def pattern_of(where: str) -> tuple[Any, Any]:
    """(prologue, WHERE pattern) of `SELECT * WHERE { where }`, as compute_enumeration sees it."""
    prepared = prepareQuery(PREFIX + f"SELECT * WHERE {{ {where} }}")
    return prepared.prologue, _where_pattern(prepared.algebra)


def values(result: Any) -> set[Any]:
    return {row[0] for row in result if row[0] is not None}


WRITTEN = [
    # (id, WHERE, variable, the values expected, a fragment the text must not contain)
    ("bgp", "?x e:p ?y . ?y e:q ?z", "x", {E.a, E.x}, None),
    ("optional on the spine", "?x e:p ?y OPTIONAL { ?y e:q ?z }", "x", {E.a, E.x, E.k}, "example.org/q"),
    ("nested optionals on the spine",
     "?x e:p ?y OPTIONAL { ?y e:q ?z OPTIONAL { ?z e:s ?t } } OPTIONAL { ?x e:name ?n }",
     "x", {E.a, E.x, E.k}, "OPTIONAL"),
    ("optional with a condition", "?x e:p ?y OPTIONAL { ?y e:q ?z FILTER(?z = e:c) }", "y",
     {E.b, E.y, E.m}, "FILTER"),
    ("bind of another variable", "?x e:p ?y OPTIONAL { ?x e:name ?n } BIND(STR(?n) AS ?label)", "x",
     {E.a, E.x, E.k}, "BIND"),
    ("union", "{ ?v e:p ?o } UNION { ?s e:q ?v }", "v", {E.a, E.x, E.k, E.c, E.w}, None),
    ("graph variable", "GRAPH ?g { ?x e:r ?o }", "g", {E.g1, E.g2}, None),
    ("graph iri", "GRAPH e:g2 { ?x e:p ?o }", "x", {E.x, E.k}, None),
    ("graph, join and optional (evidence)", "GRAPH ?g { ?x e:p ?y } ?y e:q ?z OPTIONAL { ?x e:name ?n }",
     "x", {E.a, E.x}, "name"),
    ("literal with quotes and a newline", "?x e:name 'say \"hi\"\\nnow'@en", "x", {E.k}, None),
    ("variable never bound", "?x e:p ?y", "nowhere", set(), None),
]


@pytest.mark.parametrize("where, var, expected, dropped", [case[1:] for case in WRITTEN],
                         ids=[case[0] for case in WRITTEN])
def test_written_text_gives_the_values_of_the_algebra(small: Dataset, small_oxigraph: Any, where: str,
                                                      var: str, expected: set[URIRef], dropped: str | None) -> None:
    prologue, pattern = pattern_of(where)
    text = enumeration_sparql(pattern, Variable(var))
    assert text is not None
    assert dropped is None or dropped not in text, text
    by_algebra = values(small.query(distinct_values_query(prologue, pattern, Variable(var))))
    assert by_algebra == expected
    assert values(small.query(text)) == by_algebra, text
    answer = small_oxigraph.query(text, use_default_graph_as_union=True)
    assert values(to_result(answer)) == by_algebra, text


DECLINED = [
    ("optional below a join", "{ ?x e:p ?y OPTIONAL { ?y e:q ?z } } ?x e:r ?z", "x"),
    ("optional whose left side does not bind the variable", "?x e:p ?y OPTIONAL { ?y e:q ?z }", "z"),
    ("optional inside a union", "{ ?x e:p ?y OPTIONAL { ?y e:q ?z } } UNION { ?x e:r ?o }", "x"),
    ("variable bound only by union branches", "{ ?x e:p ?y } UNION { ?x e:r ?y } OPTIONAL { ?x e:name ?n }", "x"),
    ("filter", "?x e:p ?y FILTER(?y != e:b)", "x"),
    ("filter under an optional on the spine", "?x e:p ?y FILTER(?y != e:b) OPTIONAL { ?x e:name ?n }", "x"),
    ("filter exists", "?x e:p ?y FILTER EXISTS { ?y e:q ?z }", "x"),
    ("bind of the variable", "?s e:p ?o BIND(?o AS ?x) OPTIONAL { ?x e:name ?n }", "x"),
    ("bind below a join", "?x e:p ?y BIND(1 AS ?one) ?x e:r ?z", "x"),
    ("values", "VALUES ?x { e:a } ?x e:p ?y", "x"),
    ("minus", "?x e:p ?y MINUS { ?x e:r ?z }", "x"),
    ("property path", "?x e:p/e:q ?z", "x"),
    ("blank node", "?x e:p [ e:q ?z ]", "x"),
    ("subquery", "{ SELECT ?x WHERE { ?x e:p ?y } LIMIT 1 }", "x"),
]


@pytest.mark.parametrize("where, var", [case[1:] for case in DECLINED], ids=[case[0] for case in DECLINED])
def test_writer_declines(where: str, var: str) -> None:
    _, pattern = pattern_of(where)
    assert enumeration_sparql(pattern, Variable(var)) is None


def test_an_optional_below_a_join_is_declined(small: Dataset) -> None:
    """Why only the spine may drop an OPTIONAL: here it binds ?z, which the join then needs, so
    without it ?x would take values the pattern never gives it."""
    prologue, pattern = pattern_of("{ ?x e:p ?y OPTIONAL { ?y e:q ?z } } ?x e:r ?z")
    assert values(small.query(distinct_values_query(prologue, pattern, Variable("x")))) == set()
    naive = PREFIX + "SELECT DISTINCT ?x WHERE { ?x e:p ?y . ?x e:r ?z }"
    assert values(small.query(naive)) == {E.a, E.x}
    assert enumeration_sparql(pattern, Variable("x")) is None


# --- every shipped enumeration, native and in memory -----------------------------------------------


def spy(monkeypatch: pytest.MonkeyPatch, kg: KnowledgeGraph) -> list[str]:
    """The texts the engine is asked; rdflib's evaluator on the native stores is made to fail,
    so a pattern that silently fell back to it fails the test."""
    asked: list[str] = []
    engine: Any = kg.engine
    real = engine.query

    def query(prepared: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(prepared.text)
        return real(prepared, *args, **kwargs)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the enumeration fell back to rdflib's evaluator")

    monkeypatch.setattr(engine, "query", query)
    for store in (oxigraph, remote):
        monkeypatch.setattr(store, "evaluate", refuse)
    return asked


@pytest.mark.parametrize("name, param", FROM_DATA, ids=[f"{n}-{p}" for n, p in FROM_DATA])
def test_native_enumeration_equals_memory(oxigraph_kg: KnowledgeGraph, kg: KnowledgeGraph,
                                          name: str, param: str) -> None:
    query = LIBRARY.get(name)
    native = compute_enumeration(oxigraph_kg, query, query.parameter(param))
    assert native, "every shipped enumeration has values"
    assert native == compute_enumeration(kg, query, query.parameter(param))  # same values, same order


def test_evidence_enumeration_runs_natively(oxigraph_kg: KnowledgeGraph, kg: KnowledgeGraph,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    query = LIBRARY.get("evidence")
    expected = compute_enumeration(kg, query, query.parameter("node"))
    asked = spy(monkeypatch, oxigraph_kg)
    assert compute_enumeration(oxigraph_kg, query, query.parameter("node")) == expected
    assert len(asked) == 1 and "GRAPH ?graph" in asked[0] and "label> ?label" not in asked[0]


def test_declined_pattern_still_runs_in_rdflib_on_the_native_store(
        oxigraph_kg: KnowledgeGraph, kg: KnowledgeGraph, tmp_path: Path) -> None:
    """A FILTER makes the writer decline: the enumeration is rdflib's, over the store's triples."""
    path = tmp_path / "filtered.rq"
    path.write_text("#+ enumerate:\n#+   - node\n"
                    "PREFIX ck: <https://w3id.org/caspian-kg/ontology#>\n"
                    "SELECT ?evidence WHERE { ?_node_iri ck:evidence ?evidence FILTER(STRLEN(?evidence) > 80) }\n")
    query = parse_query(path)
    assert enumeration_sparql(_where_pattern(query.prepared.algebra), Variable("_node_iri")) is None
    native = compute_enumeration(oxigraph_kg, query, query.parameter("node"))
    assert native and native == compute_enumeration(kg, query, query.parameter("node"))


@pytest.mark.slow
def test_remote_enumerations_equal_memory_and_run_natively(
        oxigraph_server: str, kg: KnowledgeGraph, config: Config,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On a remote store rdflib's evaluator would send one HTTP request per triple lookup."""
    remote.publish(kg, oxigraph_server)
    published = open_graph(config.with_(store=remote.query_url(oxigraph_server)))
    for name, param in FROM_DATA:
        query = LIBRARY.get(name)
        expected = compute_enumeration(kg, query, query.parameter(param))
        assert compute_enumeration(published, query, query.parameter(param)) == expected, name
    query = LIBRARY.get("evidence")
    expected = compute_enumeration(kg, query, query.parameter("node"))
    asked = spy(monkeypatch, published)
    assert compute_enumeration(published, query, query.parameter("node")) == expected
    assert len(asked) == 1

"""Content negotiation (q-values, wildcards, aliases, format=, 406) and every result format,
each parsed back by an independent reader; the TSV writer checked against the SPARQL 1.1 TSV rules."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from flask.testing import FlaskClient
from rdflib import BNode, Dataset, Graph, Literal, URIRef, Variable
from rdflib import namespace as rdf_ns
from rdflib.query import Result

from caspian_kg import formats
from caspian_kg.errors import NotAcceptable
from caspian_kg.formats import GRAPH_FORMATS, RESULT_FORMATS, negotiate, serialize_tsv, tsv_term
from caspian_kg.graph import KnowledgeGraph

SELECT = "PREFIX owl: <http://www.w3.org/2002/07/owl#> SELECT ?c ?n { ?c a owl:Class FILTER isIRI(?c) OPTIONAL { ?c owl:nope ?n } } ORDER BY ?c LIMIT 5"
CONSTRUCT = "PREFIX owl: <http://www.w3.org/2002/07/owl#> CONSTRUCT { ?c a owl:Class } WHERE { ?c a owl:Class } LIMIT 5"


# --- negotiate() ---------------------------------------------------------------------------


@pytest.mark.parametrize("accept,expected", [
    (None, "json"),
    ("", "json"),
    ("*/*", "json"),
    ("application/sparql-results+xml", "xml"),
    ("application/sparql-results+xml;q=0.5, text/csv", "csv"),
    ("text/*", "csv"),
    ("text/tab-separated-values, text/csv;q=0.9", "tsv"),
    ("application/json", "json"),
    ("application/xml", "xml"),
    ("text/html, */*;q=0.1", "json"),
    ("garbage, text/csv", "csv"),
    ("application/sparql-results+json;q=0, */*;q=0.5", "xml"),
])
def test_negotiate_results(accept: str | None, expected: str) -> None:
    assert negotiate(accept, RESULT_FORMATS).name == expected


@pytest.mark.parametrize("accept,expected", [
    (None, "turtle"),
    ("application/rdf+xml;q=0.9, text/turtle;q=0.8", "rdfxml"),
    ("application/ld+json", "jsonld"),
    ("application/json", "jsonld"),
    ("text/plain", "nt"),
    ("application/n-quads", "nquads"),
    ("application/*", "nt"),
])
def test_negotiate_graphs(accept: str | None, expected: str) -> None:
    assert negotiate(accept, GRAPH_FORMATS).name == expected


@pytest.mark.parametrize("override,expected", [
    ("tsv", "tsv"), ("CSV", "csv"), ("application/sparql-results+xml", "xml"), ("srj", "json"),
])
def test_format_override_beats_accept(override: str, expected: str) -> None:
    assert negotiate("application/sparql-results+json", RESULT_FORMATS, override).name == expected


def test_format_alternatives_first_available_wins() -> None:
    assert negotiate(None, RESULT_FORMATS, ["rdfxml", "text/csv", "json"]).name == "csv"


@pytest.mark.parametrize("accept,override", [("image/png", None), ("*/*;q=0", None), (None, "turtle"), ("*/*", "pdf")])
def test_nothing_fits_is_406(accept: str | None, override: str | None) -> None:
    with pytest.raises(NotAcceptable):
        negotiate(accept, RESULT_FORMATS, override)


# --- TSV ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("term,text", [
    (URIRef("http://example.org/a"), "<http://example.org/a>"),
    (URIRef("http://example.org/a b"), "<http://example.org/a\\u0020b>"),
    (BNode("b0"), "_:b0"),
    (Literal("plain"), '"plain"'),
    (Literal("tab\there\nnew \"q\" \\"), '"tab\\there\\nnew \\"q\\" \\\\"'),
    (Literal("Bakı", lang="az"), '"Bakı"@az'),
    (Literal(42), "42"),
    (Literal("-1.5", datatype=rdf_ns.XSD.decimal), "-1.5"),
    (Literal("1.5E3", datatype=rdf_ns.XSD.double, normalize=False), "1.5E3"),
    (Literal(1000.0), '"1000.0"^^<http://www.w3.org/2001/XMLSchema#double>'),  # no exponent: not a Turtle double
    (Literal(True), "true"),
    (Literal("012x", datatype=rdf_ns.XSD.integer), '"012x"^^<http://www.w3.org/2001/XMLSchema#integer>'),
    (Literal("1991-10-18", datatype=rdf_ns.XSD.date), '"1991-10-18"^^<http://www.w3.org/2001/XMLSchema#date>'),
    (Literal("s", datatype=rdf_ns.XSD.string), '"s"'),
])
def test_tsv_terms(term: object, text: str) -> None:
    assert tsv_term(term) == text  # type: ignore[arg-type]


def test_tsv_table_header_unbound_and_round_trip() -> None:
    x, y = Variable("x"), Variable("y")
    result = Result("SELECT")
    result.vars = [x, y]
    result.bindings = [{x: URIRef("http://e/1"), y: Literal("a\tb")}, {x: Literal(3)}]
    data = serialize_tsv(result)
    lines = data.decode().split("\n")
    assert lines[0] == "?x\t?y"
    assert lines[2] == "3\t"
    assert all(line.count("\t") == 1 for line in lines[:3])
    back = Result.parse(io.BytesIO(data), format="tsv")
    rows = [tuple(row) for row in back]
    assert rows == [(URIRef("http://e/1"), Literal("a\tb")), (Literal(3), None)]


def test_tsv_ask() -> None:
    result = Result("ASK")
    result.askAnswer = True
    assert serialize_tsv(result) == b"?_askResult\ntrue\n"


# --- every format through the endpoint, read back by an independent parser ------------------


def _get(client: FlaskClient, query: str, **params: str):  # type: ignore[no-untyped-def]
    response = client.get("/sparql?" + urlencode({"query": query, **params}))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert {v.strip() for v in response.headers["Vary"].split(",")} == {"Accept", "Accept-Encoding"}
    return response


def test_select_in_every_result_format(client: FlaskClient) -> None:
    as_json = _get(client, SELECT, format="json")
    assert as_json.mimetype == "application/sparql-results+json"
    expected = [row["c"]["value"] for row in as_json.get_json()["results"]["bindings"]]
    assert len(expected) == 5

    as_xml = _get(client, SELECT, format="xml")
    assert as_xml.mimetype == "application/sparql-results+xml"
    ns = "{http://www.w3.org/2005/sparql-results#}"
    root = ElementTree.fromstring(as_xml.data)
    assert [u.text for u in root.iter(f"{ns}uri")] == expected

    as_csv = _get(client, SELECT, format="csv")
    assert as_csv.mimetype == "text/csv" and "charset=utf-8" in as_csv.content_type
    rows = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True))))
    assert rows[0] == ["c", "n"] and [r[0] for r in rows[1:]] == expected and all(r[1] == "" for r in rows[1:])

    as_tsv = _get(client, SELECT, format="tsv")
    assert as_tsv.mimetype == "text/tab-separated-values"
    lines = as_tsv.get_data(as_text=True).splitlines()
    assert lines[0] == "?c\t?n" and [line.split("\t")[0] for line in lines[1:]] == [f"<{u}>" for u in expected]


@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.name)
def test_ask_in_every_result_format(client: FlaskClient, fmt: formats.Format) -> None:
    response = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": fmt.media_type})
    assert response.status_code == 200 and response.mimetype == fmt.media_type
    assert b"true" in response.data


@pytest.mark.parametrize("fmt", GRAPH_FORMATS, ids=lambda f: f.name)
def test_construct_in_every_graph_format(client: FlaskClient, fmt: formats.Format) -> None:
    response = client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": fmt.media_type})
    assert response.status_code == 200 and response.mimetype == fmt.media_type
    if fmt in (formats.TRIG, formats.NQUADS):
        graph: Graph = Dataset()
    else:
        graph = Graph()
    graph.parse(data=response.data, format=fmt.rdflib_name if fmt is not formats.NTRIPLES else "nt")
    assert len(graph) == 5


def test_describe_is_a_graph(client: FlaskClient, kg: KnowledgeGraph) -> None:
    response = client.get("/sparql", query_string={"query": f"DESCRIBE <{kg.ontology_graph}>", "format": "nt"})
    assert response.status_code == 200 and response.mimetype == "application/n-triples"


def test_accept_q_values_and_406(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": SELECT},
                          headers={"Accept": "application/sparql-results+json;q=0.2, application/sparql-results+xml"})
    assert response.mimetype == "application/sparql-results+xml"
    refused = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": "application/pdf"})
    assert refused.status_code == 406 and "application/sparql-results+json" in refused.get_data(as_text=True)
    # a graph format asked of a SELECT cannot fit either
    assert client.get("/sparql", query_string={"query": SELECT, "format": "turtle"}).status_code == 406


def test_json_results_are_valid_json_with_head(client: FlaskClient) -> None:
    body = json.loads(_get(client, SELECT).data)
    assert body["head"]["vars"] == ["c", "n"]

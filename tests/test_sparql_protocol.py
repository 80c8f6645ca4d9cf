"""SPARQL 1.1 Protocol: the W3C query-side cases (tests/protocol_cases.json), the service
description, the inference switch, and HTTP hygiene (CORS, ETag/304, errors, health, access log)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from rdflib import RDFS, Graph, Namespace, URIRef

from caspian_kg.config import Config
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.web import create_app

CASES = json.loads((Path(__file__).parent / "protocol_cases.json").read_text(encoding="utf-8"))["cases"]
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
UNKNOWN = "http://127.0.0.1:9/not-one-of-our-graphs"


def _fill(value: Any, kg: KnowledgeGraph) -> Any:
    """Replace {ONTOLOGY}/{INFERRED}/{UNKNOWN} placeholders, recursively."""
    if isinstance(value, str):
        return (value.replace("{ONTOLOGY}", str(kg.ontology_graph))
                .replace("{INFERRED}", str(kg.inferred_graph)).replace("{UNKNOWN}", UNKNOWN))
    if isinstance(value, list):
        return [_fill(v, kg) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, kg) for k, v in value.items()}
    return value


def send(client: FlaskClient, case: dict[str, Any]):  # type: ignore[no-untyped-def]
    path = "/sparql"
    if case.get("params"):
        path += "?" + urlencode(case["params"], doseq=True)
    kwargs: dict[str, Any] = {"headers": case.get("headers", {})}
    if "form" in case:
        kwargs["data"] = urlencode(case["form"], doseq=True)
        kwargs["content_type"] = "application/x-www-form-urlencoded"
    elif "body" in case:
        kwargs["data"] = case["body"].encode(case.get("body_encoding", "utf-8"))
    return client.open(path, method=case["method"], **kwargs)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_protocol_case(client: FlaskClient, kg: KnowledgeGraph, case: dict[str, Any]) -> None:
    case = _fill(case, kg)
    response = send(client, case)
    expect = case["expect"]
    assert response.status_code == expect["status"], response.get_data(as_text=True)
    if "content_type_in" in expect:
        assert response.mimetype in expect["content_type_in"]
    if "body_contains" in expect:
        assert expect["body_contains"] in response.get_data(as_text=True)
    if "boolean" in expect:
        assert response.get_json(force=True)["boolean"] is expect["boolean"]
    if "bindings" in expect:
        rows = response.get_json(force=True)["results"]["bindings"]
        for var, values in expect["bindings"].items():
            assert {row[var]["value"] for row in rows if var in row} == set(values)
    if response.status_code >= 400:
        body = response.get_data(as_text=True)
        assert body.count("\n") <= 1 and "Traceback" not in body


def test_every_w3c_query_side_case_is_covered() -> None:
    """The query-side entries of the W3C protocol manifest, each present in the case file."""
    w3c = {
        "query_get", "query_post_form", "query_post_direct", "query_dataset_default_graphs_get",
        "query_dataset_default_graphs_post", "query_dataset_named_graphs_post", "query_dataset_named_graphs_get",
        "query_dataset_full", "query_multiple_dataset", "query_content_type_select", "query_content_type_ask",
        "query_content_type_describe", "query_content_type_construct", "bad_query_method", "bad_multiple_queries",
        "bad_query_wrong_media_type", "bad_query_missing_form_type", "bad_query_missing_direct_type",
        "bad_query_non_utf8", "bad_query_syntax", "bad_update_get",
    }
    assert w3c <= {c.get("w3c") for c in CASES}


# --- service description ------------------------------------------------------------------


def test_service_description_declares_formats_dataset_and_entailment(client: FlaskClient, kg: KnowledgeGraph) -> None:
    response = client.get("/sparql")
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    g = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    service = URIRef("http://localhost/sparql")
    assert (service, SD.endpoint, service) in g
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert (service, SD.defaultEntailmentRegime, URIRef("http://www.w3.org/ns/entailment/OWL-RDF-Based")) in g
    assert (service, SD.supportedEntailmentProfile, URIRef("http://www.w3.org/ns/owl-profile/RL")) in g
    formats = {str(o).rsplit("/", 1)[1] for o in g.objects(service, SD.resultFormat)}
    assert {"SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
            "Turtle", "N-Triples", "JSON-LD", "RDF_XML"} <= formats
    dataset = g.value(service, SD.defaultDataset)
    names = {g.value(n, SD.name) for n in g.objects(dataset, SD.namedGraph)}
    assert set(kg.graphs.values()) == names
    assert (dataset, RDFS.seeAlso, URIRef("http://localhost/.well-known/void")) in g  # VoID statistics
    assert "inference=none" in " ".join(str(c) for c in g.objects(service, None) if hasattr(c, "language"))


@pytest.mark.parametrize("accept,format_,parse_as", [
    ("application/rdf+xml", None, "xml"),
    ("application/n-triples;q=0.9, text/turtle;q=0.1", None, "nt"),
    ("text/turtle", "jsonld", "json-ld"),
])
def test_service_description_content_negotiation(client: FlaskClient, accept: str, format_: str | None,
                                                  parse_as: str) -> None:
    response = client.get("/sparql" + (f"?format={format_}" if format_ else ""), headers={"Accept": accept})
    assert response.status_code == 200
    assert "Accept" in response.headers["Vary"]
    g = Graph().parse(data=response.get_data(), format=parse_as)
    assert (None, None, SD.Service) in g


# --- inference switch --------------------------------------------------------------------


def _count(client: FlaskClient, query: str, **params: str) -> int:
    response = client.get("/sparql", query_string={"query": query, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(response.get_json()["results"]["bindings"][0]["n"]["value"])


def test_inference_none_leaves_out_the_closure(client: FlaskClient, kg: KnowledgeGraph) -> None:
    inferred = len(kg.dataset.get_context(kg.inferred_graph))
    everything = _count(client, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    asserted = _count(client, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", inference="none")
    in_closure = f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{kg.inferred_graph}> {{ ?s ?p ?o }} }}"
    assert _count(client, in_closure) == inferred
    assert _count(client, in_closure, inference="none") == 0
    assert asserted == everything - inferred


# --- HTTP hygiene ------------------------------------------------------------------------------


def test_cors_on_answers_and_preflight(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    preflight = client.options("/sparql", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()


def test_etag_304_and_cache_control(client: FlaskClient, kg: KnowledgeGraph) -> None:
    query = {"query": "ASK { ?s ?p ?o }"}
    first = client.get("/sparql", query_string=query)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag and "max-age" in first.headers["Cache-Control"]
    again = client.get("/sparql", query_string=query, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and not again.data
    # the tag depends on the request: format, inference and query all change it
    for other in ({**query, "format": "xml"}, {**query, "inference": "none"}, {"query": "ASK {}"}):
        response = client.get("/sparql", query_string=other, headers={"If-None-Match": etag})
        assert response.status_code == 200 and response.headers["ETag"] != etag
    assert {v.strip() for v in first.headers["Vary"].split(",")} == {"Accept", "Accept-Encoding"}


def test_etag_changes_with_dataset_version(config: Config, kg: KnowledgeGraph) -> None:
    from dataclasses import replace

    one = create_app(config, kg).test_client().get("/sparql", query_string={"query": "ASK {}"}, headers={"If-None-Match": "x"})
    other_app = create_app(config, replace(kg, version="another-version"))
    two = other_app.test_client().get("/sparql", query_string={"query": "ASK {}"})
    assert one.headers["ETag"] != two.headers["ETag"]


def test_health(client: FlaskClient, kg: KnowledgeGraph) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["triples"] == len(kg.dataset) and body["version"] == kg.version


def test_errors_are_one_line_and_json_on_request(client: FlaskClient) -> None:
    plain = client.get("/sparql", query_string={"query": "SELECT ?x WHERE {"})
    assert plain.status_code == 400 and plain.mimetype == "text/plain"
    assert plain.get_data(as_text=True).count("\n") == 1
    as_json = client.get("/sparql", query_string={"query": "SELECT ?x WHERE {"}, headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and as_json.get_json()["status"] == 400
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "Traceback" not in missing.get_data(as_text=True)


def test_internal_errors_never_leak_a_traceback(config: Config, kg: KnowledgeGraph) -> None:
    app = create_app(config, kg)

    def boom() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom", "boom", boom)
    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret" not in body and "Traceback" not in body and body.count("\n") == 1


def test_access_log(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="caspian_kg.access"):
        client.get("/health", headers={"User-Agent": "probe/1.0"})
    line = next(r.getMessage() for r in caplog.records if r.name == "caspian_kg.access")
    assert '"GET /health' in line and " 200 " in line and "probe/1.0" in line


def test_head_answers_without_body(client: FlaskClient) -> None:
    response = client.head("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 200 and not response.data and response.headers["ETag"]

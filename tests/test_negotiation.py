"""Every client convention honoured: Vary on negotiated answers (errors too), Link headers to the
alternates and the canonical IRI, N3 clients served Turtle, SPARQLWrapper's format= choices, and
the Protocol's 400 for a GET with dataset parameters but no query."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from rdflib import Graph

AZ = "https://w3id.org/caspian-kg/id/state/azerbaijan"


@pytest.mark.parametrize("path, accept", [("/id/state/azerbaijan", "text/turtle"), ("/id/state/azerbaijan.ttl", None),
                                          ("/id/state/azerbaijan", "image/png"), ("/sparql?query=ASK%7B%7D", None),
                                          ("/sparql?query=NOT%20SPARQL", None), ("/queries/summits", None),
                                          ("/search?q=baku", None), ("/export/caspian-kg.nt", None)])
def test_every_negotiated_answer_varies_on_accept(client: FlaskClient, path: str, accept: str | None) -> None:
    response = client.get(path, headers={"Accept": accept} if accept else {})
    assert "Accept" in response.headers.get("Vary", ""), (path, response.status_code)


def test_a_thing_links_its_documents_and_canonical_iri(client: FlaskClient) -> None:
    see_other = client.get("/id/state/azerbaijan", headers={"Accept": "text/turtle"})
    assert see_other.status_code == 303
    links = see_other.headers["Link"]
    assert '</id/state/azerbaijan.ttl>; rel="alternate"; type="text/turtle"' in links
    assert f'<{AZ}>; rel="canonical"' in links
    document = client.get("/id/state/azerbaijan.html")
    links = document.headers["Link"]
    assert '</id/state/azerbaijan.jsonld>; rel="alternate"; type="application/ld+json"' in links
    assert "azerbaijan.html>" not in links and f'<{AZ}>; rel="canonical"' in links


@pytest.mark.parametrize("accept", ["text/n3", "text/n3, */*;q=0.1", "text/rdf+n3"])
def test_n3_clients_get_turtle(client: FlaskClient, accept: str) -> None:
    see_other = client.get("/id/state/azerbaijan", headers={"Accept": accept})
    assert see_other.status_code == 303 and see_other.headers["Location"].endswith(".ttl")
    construct = client.get("/sparql", query_string={"query": f"CONSTRUCT WHERE {{ <{AZ}> ?p ?o }}"},
                           headers={"Accept": accept})
    assert construct.status_code == 200 and construct.mimetype == "text/turtle"
    assert len(Graph().parse(data=construct.data, format="n3")) > 10


def test_sparqlwrapper_format_names(client: FlaskClient) -> None:
    """SPARQLWrapper sends its format= for every query form, with an Accept header too: a name we
    write, but not for this answer, lets Accept decide; a name we never write is a 406."""
    construct = f"CONSTRUCT WHERE {{ <{AZ}> ?p ?o }}"
    n3 = client.get("/sparql", query_string={"query": construct, "format": "n3"},
                    headers={"Accept": "application/turtle,text/turtle,text/rdf+n3"})
    assert n3.status_code == 200 and n3.mimetype == "text/turtle"
    select = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o } LIMIT 1", "format": "turtle"},
                        headers={"Accept": "application/sparql-results+json"})
    assert select.status_code == 200 and select.mimetype == "application/sparql-results+json"
    unknown = client.get("/sparql", query_string={"query": construct, "format": "xyz"},
                         headers={"Accept": "text/turtle"})
    assert unknown.status_code == 406 and "'xyz'" in unknown.get_data(as_text=True)


@pytest.mark.parametrize("params", ["default-graph-uri=urn%3Ax", "named-graph-uri=urn%3Ax", "inference=none"])
def test_a_get_with_protocol_parameters_but_no_query_is_a_400(client: FlaskClient, params: str) -> None:
    response = client.get(f"/sparql?{params}")
    assert response.status_code == 400 and "no query" in response.get_data(as_text=True)
    assert client.get("/sparql").status_code == 200  # the service description


# SPARQLWrapper's return-format names and rdflib's parser names for what we write
CLIENT_NAMES = ["json", "xml", "turtle", "n3", "rdf", "rdf+xml", "csv", "tsv", "json-ld", "nt", "trig", "nquads"]


@pytest.mark.parametrize("name", CLIENT_NAMES)
def test_client_format_names_are_understood(client: FlaskClient, name: str) -> None:
    """Each name picks a format on /sparql for the query form it fits (never a 406)."""
    construct = client.get("/sparql", query_string={"query": f"CONSTRUCT WHERE {{ <{AZ}> ?p ?o }}", "format": name},
                           headers={"Accept": "text/turtle"})
    select = client.get("/sparql", query_string={"query": "ASK {}", "format": name},
                        headers={"Accept": "application/sparql-results+json"})
    assert construct.status_code == 200 and select.status_code == 200, name


def test_an_ontology_term_links_its_own_documents(client: FlaskClient) -> None:
    links = client.get("/ontology/State.ttl").headers["Link"]
    assert '</ontology/State.jsonld>; rel="alternate"' in links
    assert '<https://w3id.org/caspian-kg/ontology#State>; rel="canonical"' in links

"""Every IRI in the data dereferences (303 + conneg) to the same graph in every RDF syntax."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from ld_helpers import PARSERS, RDF_EXTENSIONS, data_subjects
from rdflib import BNode, Graph, URIRef
from rdflib.compare import isomorphic

from caspian_kg.config import DEFAULT_BASE
from caspian_kg.graph import KnowledgeGraph

SUBJECTS = data_subjects()


def thing_path(iri: str) -> str:
    """Where the server answers for an IRI: its path; a hash IRI `ontology#T` as `/ontology/T`."""
    path = "/" + iri[len(DEFAULT_BASE):]
    return path.replace("#", "/")


def fetch(client: FlaskClient, path: str, accept: str) -> tuple[str, bytes]:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 303, (path, accept, response.status_code)
    assert {v.strip() for v in response.headers["Vary"].split(",")} == {"Accept", "Accept-Encoding"}
    location = response.headers["Location"]
    document = client.get(location)
    assert document.status_code == 200, location
    assert document.mimetype == accept
    assert document.headers["ETag"]
    return location, document.data


def test_there_are_many_subjects() -> None:
    assert len(SUBJECTS) > 300 and any("#" in s for s in SUBJECTS)


@pytest.mark.parametrize("iri", SUBJECTS)
def test_every_subject_dereferences_in_every_rdf_format(client: FlaskClient, kg: KnowledgeGraph, iri: str) -> None:
    graphs = {}
    for media_type, extension in RDF_EXTENSIONS.items():
        location, data = fetch(client, thing_path(iri), media_type)
        assert location.endswith(f".{extension}")
        graphs[extension] = Graph().parse(data=data, format=PARSERS[extension])
    first = graphs["ttl"]
    for extension, graph in graphs.items():
        assert isomorphic(first, graph), f"{iri}: .{extension} differs from .ttl"
    subject = URIRef(iri)
    expected = set(kg.dataset.triples((subject, None, None)))
    assert expected, iri
    for s, p, o in expected:
        if isinstance(o, BNode):
            assert any(isinstance(x, BNode) for x in first.objects(s, p)), (s, p)
        else:
            assert (s, p, o) in first, (s, p, o)
    incoming = {t for t in kg.dataset.triples((None, None, subject)) if not isinstance(t[0], BNode)}
    assert incoming <= set(first)


def test_quad_documents_keep_the_named_graph_of_each_statement(client: FlaskClient, kg: KnowledgeGraph) -> None:
    from rdflib import Dataset

    _, data = fetch(client, "/id/membership/cica-chair-kazakhstan", "application/trig")
    ds = Dataset().parse(data=data, format="trig")
    graphs = {g.identifier for g in ds.graphs() if len(g)}
    assert kg.graphs["source/azerbaijan-central-asia-relations"] in graphs and kg.inferred_graph in graphs


def test_asserted_only_documents_leave_out_the_closure(client: FlaskClient, kg: KnowledgeGraph) -> None:
    with_closure = Graph().parse(data=client.get("/id/state/azerbaijan.nt").data, format="nt")
    asserted = Graph().parse(data=client.get("/id/state/azerbaijan.nt?inference=none").data, format="nt")
    member_of = URIRef("http://www.w3.org/ns/org#memberOf")
    assert (URIRef(DEFAULT_BASE + "id/state/azerbaijan"), member_of, URIRef(DEFAULT_BASE + "id/org/cica")) in with_closure
    assert not list(asserted.triples((None, member_of, None)))
    assert client.get("/id/state/azerbaijan.nt?inference=maybe").status_code == 400


def test_n_ary_nodes_come_with_the_resource(client: FlaskClient) -> None:
    """Azerbaijan's description carries its membership nodes with role and evidence."""
    graph = Graph().parse(data=client.get("/id/state/kazakhstan.ttl").data, format="turtle")
    chair = URIRef(DEFAULT_BASE + "id/membership/cica-chair-kazakhstan")
    assert (chair, URIRef(DEFAULT_BASE + "ontology#evidence"), None) in graph
    interval = URIRef(DEFAULT_BASE + "id/interval/cica-chair-kazakhstan-beginning")
    assert (interval, None, None) in graph  # membership -> interval -> beginning instant


def test_unknown_iri_is_a_404_page(client: FlaskClient) -> None:
    page = client.get("/id/state/atlantis", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html" and b"Not found" in page.data
    assert client.get("/id/state/atlantis.ttl", headers={"Accept": "text/turtle"}).status_code == 404
    assert client.get("/ontology/NoSuchTerm").status_code == 404
    assert client.get("/id/state/atlantis", headers={"Accept": "text/plain"}).mimetype == "text/plain"


def test_unacceptable_media_type_is_406(client: FlaskClient) -> None:
    assert client.get("/id/state/azerbaijan", headers={"Accept": "image/png"}).status_code == 406


def test_browsers_and_wildcards_get_html(client: FlaskClient) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for accept in (browser, "*/*"):
        response = client.get("/id/state/azerbaijan", headers={"Accept": accept})
        assert response.headers["Location"].endswith("/id/state/azerbaijan.html")


def test_documents_are_conditional(client: FlaskClient) -> None:
    first = client.get("/id/state/azerbaijan.ttl")
    again = client.get("/id/state/azerbaijan.ttl", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    assert client.get("/id/state/azerbaijan.nt").headers["ETag"] != first.headers["ETag"]


def test_ontology_dereferences_to_the_whole_ontology(client: FlaskClient, kg: KnowledgeGraph) -> None:
    for media_type, extension in RDF_EXTENSIONS.items():
        location, data = fetch(client, "/ontology", media_type)
        assert location.endswith(f"/ontology.{extension}")
        assert isomorphic(Graph().parse(data=data, format=PARSERS[extension]), kg.asserted.graph(kg.ontology_graph))
    assert client.get("/ontology", headers={"Accept": "text/html"}).headers["Location"].endswith("/ontology.html")
    term = client.get("/ontology/State", headers={"Accept": "text/html"})
    assert term.status_code == 303
    assert client.get(term.headers["Location"]).headers["Location"].endswith("/ontology.html#State")


def test_named_graph_iris_dereference_to_their_dump(client: FlaskClient) -> None:
    response = client.get("/graph/background", headers={"Accept": "text/turtle"})
    assert response.status_code == 303 and response.headers["Location"].endswith("caspian-kg.ttl?graph=background")
    assert client.get(response.headers["Location"]).status_code == 200
    assert client.get("/graph/nope").status_code == 404

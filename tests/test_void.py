"""VoID/DCAT at /.well-known/void: conneg like every IRI, statistics that match the graph."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from ld_helpers import PARSERS, RDF_EXTENSIONS
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from caspian_kg.config import DEFAULT_BASE
from caspian_kg.graph import KnowledgeGraph

VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DATASET = URIRef(DEFAULT_BASE + "void#dataset")


@pytest.fixture(scope="module")
def void(app: Flask) -> Graph:
    return Graph().parse(data=app.test_client().get("/void.ttl").data, format="turtle")


def test_well_known_void_negotiates(client: FlaskClient, void: Graph) -> None:
    for media_type, extension in RDF_EXTENSIONS.items():
        response = client.get("/.well-known/void", headers={"Accept": media_type})
        assert response.status_code == 303 and response.headers["Location"] == f"/void.{extension}"
        assert {v.strip() for v in response.headers["Vary"].split(",")} == {"Accept", "Accept-Encoding"}
        parsed = Graph().parse(data=client.get(response.headers["Location"]).data, format=PARSERS[extension])
        assert isomorphic(parsed, void)
    html = client.get("/.well-known/void", headers={"Accept": "text/html"}, follow_redirects=True)
    assert html.status_code == 200 and b"Named graphs" in html.data


def test_statistics_match_the_graph(void: Graph, kg: KnowledgeGraph) -> None:
    assert (DATASET, RDF.type, VOID.Dataset) in void and (DATASET, RDF.type, DCAT.Dataset) in void
    per_graph = {iri: len(kg.dataset.graph(iri)) for iri in kg.graphs.values()}
    # distinct triples of the union, as /health and COUNT(*) say (a triple in two graphs counts once)
    assert void.value(DATASET, VOID.triples) == Literal(len(kg.dataset))
    assert len(kg.dataset) < sum(per_graph.values())
    assert set(void.objects(DATASET, VOID.subset)) == set(kg.graphs.values())
    for iri, n in per_graph.items():
        assert int(void.value(iri, VOID.triples)) == n  # type: ignore[arg-type]
    for figure in (VOID.entities, VOID.classes, VOID.properties, VOID.distinctSubjects):
        assert int(void.value(DATASET, figure)) > 0  # type: ignore[arg-type]
    states = [p for p in void.objects(DATASET, VOID.classPartition)
              if void.value(p, VOID["class"]) == URIRef(DEFAULT_BASE + "ontology#State")]
    assert states and int(void.value(states[0], VOID.entities)) > 30  # type: ignore[arg-type]


def test_links_resolve_on_this_server(void: Graph, client: FlaskClient) -> None:
    """Dumps, the endpoint and the root resource are canonical IRIs that this server answers."""
    links = list(void.objects(DATASET, VOID.dataDump)) + list(void.objects(None, DCAT.downloadURL))
    links += [void.value(DATASET, VOID.rootResource), void.value(DATASET, VOID.vocabulary)]
    for link in links:
        if str(link).startswith(DEFAULT_BASE + "id/") or str(link).startswith(DEFAULT_BASE + "export/"):
            response = client.get("/" + str(link)[len(DEFAULT_BASE):], headers={"Accept": "text/turtle"})
            assert response.status_code in (200, 303), link
    assert len(list(void.objects(DATASET, VOID.dataDump))) == 6


DCTERMS = Namespace("http://purl.org/dc/terms/")


def test_fair_and_dcat_ap_metadata(void: Graph, client: FlaskClient, kg: KnowledgeGraph) -> None:
    """What harvesters require: a licence, a modification date, a landing page, access URLs."""
    cc_by = URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert void.value(DATASET, DCTERMS.license) == cc_by
    assert void.value(DATASET, DCTERMS.modified).datatype == URIRef("http://www.w3.org/2001/XMLSchema#date")
    assert void.value(DATASET, DCAT.landingPage) == URIRef(DEFAULT_BASE)
    distributions = list(void.objects(DATASET, DCAT.distribution))
    assert len(distributions) == 7  # six dumps and the SPARQL service
    for dist in distributions:
        assert void.value(dist, DCAT.accessURL) is not None and void.value(dist, DCTERMS.license) == cc_by
    assert client.get("/health").get_json()["triples"] == int(void.value(DATASET, VOID.triples))
    dump = client.get("/export/caspian-kg.ttl")
    assert dump.data.startswith(b"# caspian-kg ") and b"CC BY 4.0" in dump.data.split(b"\n")[0]
    assert 'rel="license"' in dump.headers["Link"]

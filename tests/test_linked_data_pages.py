"""The HTML pages: resource pages show evidence passages, memberships, inferred marks; the
ontology page documents the axioms."""

from __future__ import annotations

import html

from flask.testing import FlaskClient
from rdflib import URIRef

from caspian_kg.config import DEFAULT_BASE
from caspian_kg.graph import KnowledgeGraph

EVIDENCE = URIRef(DEFAULT_BASE + "ontology#evidence")


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path, headers={"Accept": "text/html"}, follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "text/html", path
    return html.unescape(response.data.decode("utf-8"))


def test_every_evidence_passage_shows_on_its_nodes_page(client: FlaskClient, kg: KnowledgeGraph) -> None:
    nodes = sorted(set(kg.asserted.subjects(EVIDENCE, None)), key=str)
    assert len(nodes) > 50
    for node in nodes:
        text = page(client, "/" + str(node)[len(DEFAULT_BASE):])
        for passage in kg.asserted.objects(node, EVIDENCE):
            assert str(passage) in text, (node, passage)


def test_state_page_shows_memberships_events_and_their_evidence(client: FlaskClient) -> None:
    text = page(client, "/id/state/kazakhstan")
    assert "<h1>Kazakhstan</h1>" in text
    assert 'id="chair-of"' in text and 'id="member-of"' in text and 'id="events"' in text
    assert '<nav class="toc"' in text and 'href="#chair-of"' in text  # a table of contents
    assert "Kazakhstan is a state. Chair of: Conference on Interaction" in text  # the summary
    assert "Since 2020, Kazakhstan has chaired CICA." in text  # the chair membership's evidence
    assert "since 2020" in text and "xsd:" not in text and "@en" not in text  # plain language
    chair = text[text.index('id="chair-of"'):text.index('id="member-of"')]
    why = ("/explain?s=https%3A%2F%2Fw3id.org%2Fcaspian-kg%2Fid%2Fstate%2Fkazakhstan"
           "&p=https%3A%2F%2Fw3id.org%2Fcaspian-kg%2Fontology%23chairOf&o=https%3A%2F%2Fw3id.org%2Fcaspian-kg%2Fid%2Forg%2Fcica")
    assert "inferred" in chair and why in chair  # org:memberOf etc. are marked, with "why?"
    assert "Azerbaijan and Central Asia, in the text" in text and "(untitled)" not in text
    assert 'href="/id/doc/azerbaijan-central-asia-relations.html#p-' in text  # evidence → its passage
    assert 'href="/id/org/cica"' in text  # linked labels dereference on this server


def test_person_page_shows_quotations(client: FlaskClient, kg: KnowledgeGraph) -> None:
    text = page(client, "/id/person/ilham-aliyev")
    assert 'id="quotations"' in text
    assert "Today we note with satisfaction how this Declaration is being implemented." in text


def test_asserted_only_page_has_no_inferred_rows(client: FlaskClient) -> None:
    text = page(client, "/id/state/kazakhstan.html?inference=none")
    assert 'class="inferred"' not in text and "asserted statements only" in text


def test_pages_use_no_external_assets(client: FlaskClient) -> None:
    for path in ("/id/state/azerbaijan.html", "/ontology.html", "/void.html"):
        text = page(client, path)
        assert "<script" not in text and "//fonts." not in text
        assert '<link rel="stylesheet" href="/ld-static/ld.css">' in text
    assert client.get("/ld-static/ld.css").status_code == 200


def test_ontology_page_documents_axioms(client: FlaskClient) -> None:
    text = page(client, "/ontology")
    for anchor in ('id="State"', 'id="memberOf"' if 'id="memberOf"' in text else 'id="org:memberOf"', 'id="chairOf"'):
        assert anchor in text
    assert "property chain" in text and "inverse of" in text and "disjoint with" in text
    assert "domain" in text and "range" in text and "sub-class of" in text and "sub-property of" in text
    assert "role value member" in text  # the restriction behind ck:FullMembership
    assert "Transitive containment between places" in text  # comments shown


def test_organisation_page_links_its_membership_chart(client: FlaskClient) -> None:
    page = client.get("/id/org/cica.html").get_data(as_text=True)
    assert 'href="/chart/cica"' in page
    assert client.get("/chart/cica").status_code == 200
    assert "Membership chart" not in client.get("/id/state/azerbaijan.html").get_data(as_text=True)

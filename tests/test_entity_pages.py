"""Entity pages in the manner of Wikidata's item pages, built from the views precomputed per
dataset version (`caspian_kg.views`): grouped statements, each value once, references that land
on their passage in the source text, plain language, the same page on every store."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from caspian_kg.config import DEFAULT_BASE
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.views import anchor, build, plain
from caspian_kg.web import create_app
from caspian_kg.web.entity_page import _plural

PAGES = ("/id/state/azerbaijan.html", "/id/org/cica.html", "/id/doc/azerbaijan-central-asia-relations.html")


def get(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.data.decode("utf-8")


def test_dates_read_as_words() -> None:
    assert plain(Literal("2023-07-22", datatype=XSD.date)) == "22 July 2023"
    assert plain(Literal("2021-06", datatype=XSD.gYearMonth)) == "June 2021"
    assert plain(Literal("--10-11", datatype=XSD.gMonthDay)) == "11 October (year not stated)"
    assert plain(Literal("2020", datatype=XSD.gYear)) == "2020"
    assert plain(Literal("2020-13", datatype=XSD.gYearMonth)) == "2020-13"  # ill-formed: as written
    assert plain(Literal("Turkey", lang="en")) == "Turkey"


def test_pages_stay_small_and_plain(client: FlaskClient) -> None:
    for path in PAGES:
        text = get(client, path)
        assert len(text.encode()) < 60_000, (path, len(text))
        assert "xsd:" not in text and "@en" not in text and "(untitled)" not in text, path
        assert "<table" not in text  # statements are grouped lists: the subject is never a column


def test_each_value_once_per_group(client: FlaskClient) -> None:
    for path in PAGES:
        text = get(client, path)
        for section in re.findall(r'<section class="group" id="([^"]+)">(.*?)</section>', text, re.DOTALL):
            values = re.findall(r'<li class="value[^"]*">(?:<div class="main">)?(?:<q>.*?</q> )?<a href="([^"]+)"', section[1])
            assert len(values) == len(set(values)), (path, section[0])


def test_azerbaijan_lists_its_organisations_once_with_roles(client: FlaskClient) -> None:
    text = html.unescape(get(client, "/id/state/azerbaijan.html"))
    assert text.count('href="/id/org/cica"') <= 3  # once as a membership (the summary and a passage may name it)
    member = text[text.index('id="member-of"'):]
    assert 'href="/id/org/cica"' in member[:member.index("</section>")]
    assert "Azerbaijan is a state." in text and '<nav class="toc"' in text


def test_evidence_links_land_on_their_passage(client: FlaskClient) -> None:
    text = get(client, "/id/state/turkmenistan.html")
    links = set(re.findall(r'href="(/id/doc/[^"#]+\.html)#(p-[0-9a-f]{10})"', text))
    assert links
    for page, fragment in links:
        source = get(client, page)
        found = re.search(rf'<span id="{fragment}" class="anchor">', source)
        assert found, (page, fragment)
    observer = text[text.index('id="observer-of"'):]
    found = re.search(r'<blockquote class="passage">([^<]+)<footer><a href="([^"#]+)#(p-[0-9a-f]{10})"', observer)
    assert found, "Turkmenistan's observer status has a reference"
    passage, page, fragment = html.unescape(found.group(1)), found.group(2), found.group(3)
    source = get(client, page)
    after = source[source.index(f'<span id="{fragment}" class="anchor"></span>'):]
    assert html.unescape(re.sub(r"<[^>]+>", "", after)).startswith(passage)  # it lands on that very sentence
    assert re.match(r'(<span id="p-[0-9a-f]+" class="anchor"></span>)*<mark>', after)  # highlighted


def test_source_page_shows_the_text_with_every_cited_passage(client: FlaskClient, kg: KnowledgeGraph) -> None:
    text = get(client, "/id/doc/azerbaijan-central-asia-relations.html")
    index = build(kg)
    doc = URIRef(DEFAULT_BASE + "id/doc/azerbaijan-central-asia-relations")
    evidence = URIRef(DEFAULT_BASE + "ontology#evidence")
    derived = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")
    source = (Path(__file__).resolve().parents[1] / "data/sources/azerbaijan-central-asia-relations.txt").read_text()
    passages = {str(p) for n in index.subjects(derived, doc, False) for p in index.objects(n, evidence, False)
                if str(p) in source}  # a node drawn from two documents quotes each in its own
    assert len(passages) > 20
    for passage in passages:
        assert f'id="{anchor(passage)}"' in text, passage
    assert "<h1>Azerbaijan and Central Asia</h1>" in text and "states no title" in text


def test_same_page_on_the_oxigraph_store(client: FlaskClient, config, oxigraph_kg: KnowledgeGraph) -> None:  # type: ignore[no-untyped-def]
    app = create_app(config, oxigraph_kg)
    other = app.test_client()
    for path in PAGES:
        ours, theirs = get(client, path), get(other, path)
        strip = lambda s: re.sub(r'(?s)<footer class="colophon">.*', "", s)
        assert strip(ours) == strip(theirs), path


def test_views_are_built_through_the_engine_only(kg: KnowledgeGraph) -> None:
    index = build(kg)
    assert index.known(URIRef(DEFAULT_BASE + "id/state/azerbaijan"))
    assert sum(len(v) for by_p in index.out.values() for v in by_p.values()) == len({
        (s, p, o) for s, p, o, _ in kg.dataset.quads((None, None, None, None))})
    assert Path(__file__).exists()


def test_same_page_on_a_remote_store(client: FlaskClient, config, kg: KnowledgeGraph, oxigraph_server: str) -> None:  # type: ignore[no-untyped-def]
    """The views are read through the engine, so a remote SPARQL store gives the same pages."""
    from caspian_kg.open import open_graph
    from caspian_kg.stores import remote

    remote.publish(kg, oxigraph_server)
    published = open_graph(config.with_(store=remote.query_url(oxigraph_server)))
    other = create_app(config, published).test_client()
    strip = lambda s: re.sub(r'(?s)<footer class="colophon">.*', "", s)
    for path in PAGES:
        assert strip(get(client, path)) == strip(get(other, path)), path


PREFIXED = re.compile(r"(?<![\w/])[a-z][a-z0-9]*:[A-Za-z_][\w.-]*")  # foaf:Agent, wd:Q227 (not https://…)
QUOTED = re.compile(r'(?s)<blockquote class="passage">.*?</blockquote>|<p class="(?:comment|iri)">.*?</p>'
                    r'|<div class="source-text">.*?</div>|<q>.*?</q>|<head>.*?</head>|<footer class="colophon">.*')


def test_every_page_names_its_properties_and_types_in_words(client: FlaskClient, kg: KnowledgeGraph) -> None:
    """Readers are journalists and analysts: no page of any entity names a property "Wikidata
    property P297" or a type (or any other term) by a prefixed name such as "foaf:Agent". The
    words the sources say (passages, quotations, the text) and the descriptions are left out."""
    index = build(kg)
    entities = sorted({s for s in index.out if isinstance(s, URIRef) and s.startswith(DEFAULT_BASE + "id/")})
    assert len(entities) > 200
    found: dict[str, set[str]] = {}
    for entity in entities:
        path = "/" + entity[len(DEFAULT_BASE):] + ".html"
        page = get(client, path)
        shown = html.unescape(re.sub(r"<[^>]+>", " ", QUOTED.sub(" ", page)))
        types = html.unescape(re.sub(r"<[^>]+>", " ", re.search(r'(?s)<p class="types">(.*?)</p>', page).group(1)))  # type: ignore[union-attr]
        for name in re.findall(r"Wikidata property P\d+", shown) + PREFIXED.findall(shown) + PREFIXED.findall(types):
            found.setdefault(name, set()).add(path)
    assert not found, {name: sorted(paths)[:3] for name, paths in found.items()}
    text = html.unescape(get(client, "/id/state/azerbaijan.html"))
    assert "Country code (ISO 3166-1 alpha-2)" in text and "Wikidata Q227" in text
    types = re.search(r'(?s)<p class="types">(.*?)</p>', text).group(1)  # type: ignore[union-attr]
    assert re.findall(r">([^<>]+)</a>", types) == ["actor", "agent", "country", "member state", "place", "state"]


def test_a_term_without_a_label_falls_back_to_words_not_a_prefixed_name(kg: KnowledgeGraph) -> None:
    from caspian_kg.web.entity_page import Terms

    terms = Terms(kg, build(kg), "")
    assert terms.label(URIRef("http://xmlns.com/foaf/0.1/OnlineAccount")) == "online account"  # not foaf:OnlineAccount
    assert terms.prop(URIRef("http://example.org/vocabulary#hasThing")) == "has thing"  # a property, any namespace
    assert terms.label(URIRef("http://www.wikidata.org/entity/Q227")) == "Wikidata Q227"  # not wd:Q227
    assert terms.prop(URIRef("http://www.wikidata.org/prop/direct/P1566")) == "Wikidata property P1566"  # unlabelled
    assert terms.label(URIRef("https://sws.geonames.org/587116/")) == "https://sws.geonames.org/587116/"  # a link as is
    assert terms.prop(URIRef("http://www.wikidata.org/prop/direct/P297")) == "country code (ISO 3166-1 alpha-2)"


@pytest.mark.parametrize("kind, heading", [
    ("state visit", "State visits"), ("agreement or declaration", "Agreements or declarations"),
    ("infrastructure", "Infrastructure"), ("facility", "Facilities"), ("speech", "Speeches"),
    ("person", "People"), ("body of water", "Bodies of water"), ("bilateral relation", "Bilateral relations"),
])
def test_group_headings_are_plural_in_english(kind: str, heading: str) -> None:
    assert _plural(kind) == heading

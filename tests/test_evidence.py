"""Every evidence passage and quotation text is a verbatim substring of its source text.

Deliberately independent of the loader's own evidence check (validation.py), so that a bug there
cannot hide a passage that was paraphrased.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Namespace

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

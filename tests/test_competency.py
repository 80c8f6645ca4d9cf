"""Competency questions (tests/competency/questions.toml): question → SPARQL → expected answers."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from caspian_kg.graph import KnowledgeGraph

QUESTIONS = tomllib.loads((Path(__file__).parent / "competency" / "questions.toml").read_text("utf-8"))["question"]
PREFIXES = {
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "time": "http://www.w3.org/2006/time#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "ck": "https://w3id.org/caspian-kg/ontology#",
    "schema": "https://schema.org/",
    **{k: f"https://w3id.org/caspian-kg/id/{v}/" for k, v in {
        "state": "state", "person": "person", "orgn": "org", "event": "event", "place": "place",
        "quote": "quote", "doc": "doc", "mship": "membership", "post": "post", "rel": "relation",
        "agr": "agreement", "infra": "infrastructure", "claim": "claim", "stance": "stance",
        "interval": "interval"}.items()},
}
PROLOGUE = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def show(term: object) -> str:
    """An answer term as the questions file writes it: a prefixed IRI or a literal's lexical form."""
    if isinstance(term, URIRef):
        for prefix, ns in PREFIXES.items():
            if str(term).startswith(ns):
                return f"{prefix}:{str(term)[len(ns):]}"
        return str(term)
    if isinstance(term, Literal):
        return str(term)
    return "" if term is None else str(term)


def test_there_are_enough_questions() -> None:
    assert len(QUESTIONS) >= 30
    assert len({q["id"] for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("case", QUESTIONS, ids=[q["id"] for q in QUESTIONS])
def test_competency_question(kg: KnowledgeGraph, case: dict) -> None:
    result = kg.view(case.get("inference", True)).query(PROLOGUE + case["sparql"])
    if result.type == "ASK":
        answers = {(str(result.askAnswer).lower(),)}
    else:
        answers = {tuple(show(v) for v in row) for row in result}  # type: ignore[union-attr]
    assert answers == {tuple(row) for row in case["expected"]}, case["question"]

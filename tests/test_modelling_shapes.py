"""SHACL shapes of issue 13: each rejects the defect it guards against (on the inference fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_root

from caspian_kg.config import Config
from caspian_kg.errors import ValidationError
from caspian_kg.open import open_graph

PREFIXES = """
@prefix ck: <https://w3id.org/caspian-kg/ontology#> .
@prefix event: <https://w3id.org/caspian-kg/id/event/> .
@prefix state: <https://w3id.org/caspian-kg/id/state/> .
@prefix place: <https://w3id.org/caspian-kg/id/place/> .
@prefix infra: <https://w3id.org/caspian-kg/id/infrastructure/> .
@prefix stance: <https://w3id.org/caspian-kg/id/stance/> .
@prefix doc: <https://w3id.org/caspian-kg/id/doc/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
"""
SOURCED = 'prov:wasDerivedFrom doc:fixture ; ck:evidence "D fought a war"'

CASES = {
    "state participant not involved": (
        f'event:w2 a ck:War ; rdfs:label "W2"@en ; ck:hasParticipant state:a ; ck:notStatedInSource ck:date ; {SOURCED} .',
        "is not ck:involvesState"),
    "planned thing connects as a fact": (
        f'infra:c a ck:TransportCorridor ; rdfs:label "C"@en ; ck:modality ck:Planned ; ck:connects place:town ; {SOURCED} .',
        "use ck:willConnect"),
    "future link without a modality": (
        f'infra:c a ck:TransportCorridor ; rdfs:label "C"@en ; ck:willConnect place:town ; {SOURCED} .',
        "needs a ck:modality"),
    "unknown modality": (
        f'infra:c a ck:TransportCorridor ; rdfs:label "C"@en ; ck:modality ck:memberRole ; {SOURCED} .',
        "ck:modality is one of"),
    "planned construction not planned": (
        f'event:pc a ck:PlannedConstruction ; rdfs:label "PC"@en ; ck:notStatedInSource ck:date ; {SOURCED} .',
        "has ck:modality ck:Planned"),
    "stance both for and against": (
        f'stance:s a ck:Stance ; rdfs:label "S"@en ; ck:stanceHolder state:a ; ck:supportFor event:war ; ck:oppositionTo event:war ; {SOURCED} .',
        "either support"),
    "title and subtitle run together": (
        'doc:fixture dcterms:title "Title"@en , "Title Subtitle"@en .',
        "at most one dcterms:title"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_rejects(tmp_path: Path, name: str) -> None:
    extra, message = CASES[name]
    root = make_root(tmp_path, {"extra.ttl": PREFIXES + extra})
    with pytest.raises(ValidationError) as err:
        open_graph(Config(root=root))
    assert message in "\n".join(err.value.problems)

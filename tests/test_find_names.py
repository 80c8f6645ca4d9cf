"""The names a user types find what they mean (find-by-name, the saved query, and /search)."""

from __future__ import annotations

import pytest
from helpers import run_saved, service

from caspian_kg.config import Config
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.saved_queries import QueryLibrary

ID = "https://w3id.org/caspian-kg/id/"
NAMES = {
    "Turkic Council": "org/ots",
    "OTS": "org/ots",
    "Council of Turkic Cooperation": "org/ots",
    "Nur-Sultan": "place/astana",
    "Füzuli": "place/fizuli",
    "Ələt": "place/alat",
    "SCO": "org/sco",
    "OIC": "org/oic",
    "NAM": "org/nam",
    "ECO": "org/eco",
    "CICA": "org/cica",
}


@pytest.fixture(scope="module")
def library(config: Config) -> QueryLibrary:
    return QueryLibrary.load(config)


@pytest.mark.parametrize("text", sorted(NAMES))
def test_find_by_name(kg: KnowledgeGraph, library: QueryLibrary, text: str) -> None:
    query = library.get("find-by-name")
    result = run_saved(kg, library, query, library.bind(service(kg, library), query, {"text": text}))
    found = {str(row[0]) for row in result}  # type: ignore[union-attr]
    assert f"{ID}{NAMES[text]}" in found, text


def test_azerbaijani_names_are_tagged_az(kg: KnowledgeGraph) -> None:
    """Ələt and Füzuli are Azerbaijani names: tagged @az, never @en."""
    rows = kg.dataset.query("""SELECT ?l WHERE { ?x <http://www.w3.org/2004/02/skos/core#altLabel> ?l
        FILTER(STR(?l) IN ("Ələt", "Füzuli")) }""")
    tags = {str(row[0]): row[0].language for row in rows}  # type: ignore[union-attr]
    assert tags == {"Ələt": "az", "Füzuli": "az"}

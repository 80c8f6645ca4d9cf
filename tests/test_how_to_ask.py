"""ontology/README.md "How to ask": every ```sparql block runs through the query service and gives
the answers its `# expect:` comments name (each line: terms that must appear together in one row,
as prefixed names or "quoted" literals)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from helpers import ask
from rdflib import Literal, URIRef

from caspian_kg.graph import KnowledgeGraph

README = Path(__file__).resolve().parents[1] / "ontology" / "README.md"
BLOCKS = re.findall(r"```sparql\n(.*?)```", README.read_text("utf-8"), re.DOTALL)


def short(term: object, prefixes: dict[str, str]) -> str:
    if isinstance(term, URIRef):
        best = max(((p, ns) for p, ns in prefixes.items() if str(term).startswith(ns)),
                   key=lambda pn: len(pn[1]), default=None)
        return f"{best[0]}:{str(term)[len(best[1]):]}" if best else str(term)
    return str(term) if isinstance(term, Literal) else ""


def test_fifteen_patterns() -> None:
    assert len(BLOCKS) >= 15
    assert all("# expect:" in block for block in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"pattern-{i + 1}" for i in range(len(BLOCKS))])
def test_pattern_answers(kg: KnowledgeGraph, block: str) -> None:
    result = ask(kg, block)
    prefixes = kg.prefixes()
    rows = [{short(term, prefixes) for term in row} for row in result]  # type: ignore[union-attr]
    assert rows, f"no answer:\n{block}"
    for line in re.findall(r"^# expect: (.*)$", block, re.MULTILINE):
        wanted = set(shlex.split(line))
        assert any(wanted <= row for row in rows), f"no row has {wanted}:\n{block}"

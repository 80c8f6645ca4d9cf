"""Golden results: every saved query, run with its defaults, gives exactly the rows on file.

`queries/<name>.expected.json` holds `{"params": {...}, "rows": [{var: term in N-Triples}]}`;
`params` is empty unless a required parameter has no default. Rows are compared as sets (the
SPARQL engine owes us no order beyond ORDER BY, which the HTML and CSV outputs show) plus their
count, so a duplicate row is caught too. After a deliberate change to the data or a query,
regenerate with `CASPIAN_UPDATE_GOLDEN=1 pytest tests/test_saved_golden.py` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import run_saved, service

from caspian_kg.config import Config
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.saved_queries import QueryLibrary

QUERIES = Path(__file__).resolve().parents[1] / "queries"
NAMES = sorted(p.stem for p in QUERIES.glob("*.rq"))
UPDATE = os.environ.get("CASPIAN_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def library(config: Config) -> QueryLibrary:
    return QueryLibrary.load(config)


def rows_of(kg: KnowledgeGraph, library: QueryLibrary, name: str, params: dict[str, str]) -> list[dict[str, str]]:
    query = library.get(name)
    result = run_saved(kg, library, query, library.bind(service(kg, library), query, params))
    names = [str(v) for v in result.vars or []]
    return [{n: term.n3() for n, term in zip(names, row) if term is not None} for row in result]  # type: ignore[union-attr]


def as_set(rows: list[dict[str, str]]) -> set[frozenset[tuple[str, str]]]:
    return {frozenset((k, _unordered(v)) for k, v in row.items()) for row in rows}


def _unordered(value: str) -> str:
    """GROUP_CONCAT's order is left to the engine by SPARQL 1.1 (rdflib and Oxigraph differ): a
    list written with ", " compares as the sorted list (both sides alike, so nothing else changes)."""
    if value.startswith('"') and ", " in value:
        body, end = value[1:].rsplit('"', 1)
        return '"' + ", ".join(sorted(body.split(", "))) + '"' + end
    return value


def test_at_least_twenty_queries() -> None:
    assert len(NAMES) >= 20


def test_every_golden_file_has_its_query() -> None:
    orphans = [p.name for p in QUERIES.glob("*.expected.json") if p.name.removesuffix(".expected.json") not in NAMES]
    assert not orphans


@pytest.mark.parametrize("name", NAMES)
def test_golden(name: str, kg: KnowledgeGraph, library: QueryLibrary) -> None:
    path = QUERIES / f"{name}.expected.json"
    golden = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"params": {}, "rows": []}
    rows = rows_of(kg, library, name, golden.get("params", {}))
    if UPDATE:
        golden["rows"] = rows
        path.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}"
    assert rows, f"{name} finds nothing with its defaults: a golden result should show an answer"
    assert len(rows) == len(golden["rows"])
    assert as_set(rows) == as_set(golden["rows"])

"""Build throw-away project roots (real ontology + fixture data) for tests that break things."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def make_root(tmp: Path, data: dict[str, str] | None = None) -> Path:
    """A project root with the shipped ontology and the inference fixture as its only source.

    `data` maps extra or replacement file names under data/ to their text.
    """
    shutil.copytree(ROOT / "ontology", tmp / "ontology")
    (tmp / "data" / "sources").mkdir(parents=True)
    shutil.copy(FIXTURES / "fixture.txt", tmp / "data" / "sources" / "fixture.txt")
    shutil.copy(FIXTURES / "inference.ttl", tmp / "data" / "fixture.ttl")
    for name, text in (data or {}).items():
        (tmp / "data" / name).write_text(text, encoding="utf-8")
    return tmp

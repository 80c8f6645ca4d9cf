"""The synthetic generator: the size asked for, valid against the shapes and the evidence check."""

from __future__ import annotations

from pathlib import Path

from caspian_kg.config import Config
from caspian_kg.open import open_graph
from caspian_kg.scale import synth


def test_generated_project_is_valid(tmp_path: Path) -> None:
    written = synth.generate(tmp_path, 3000)
    kg = open_graph(Config(root=tmp_path))  # validate=True: SHACL, verbatim evidence, OWL 2 RL consistency
    assert 2700 <= written <= 3300
    assert not kg.inconsistencies
    assert (tmp_path / "queries").is_dir() and (tmp_path / "ontology" / "caspian.ttl").is_file()


def test_sizes_scale_and_split_into_parts(tmp_path: Path) -> None:
    written = synth.generate(tmp_path, 250_000)
    assert 0.9 * 250_000 <= written <= 1.1 * 250_000
    parts = sorted((tmp_path / "data").glob("synthetic-*.ttl"))
    assert len(parts) >= 2


def test_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    synth.generate(a, 2000)
    synth.generate(b, 2000)
    assert (a / "data" / "synthetic-00.ttl").read_text() == (b / "data" / "synthetic-00.ttl").read_text()

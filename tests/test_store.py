"""Loading: named graphs, and refusal — with file, line and reason — of anything broken."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from helpers import ROOT, make_root
from rdflib import URIRef

from caspian_kg.config import Config
from caspian_kg.errors import LoadError, ValidationError
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.open import open_graph, problems_of

BASE = "https://w3id.org/caspian-kg/"

# sha256 of ../shared/sources/*.txt as delivered: the copies in data/sources must stay verbatim.
SOURCE_SHA256 = {
    "azerbaijan-central-asia-relations.txt": "d10a516f35c06b2d2e4587161ec5e23fbc07f6f41af1700981061120a5f40160",
    "turkic-factor-baku-bishkek.txt": "6ee25294a0b29b09b73965c0150c85612e94f1ca0e749586db561c2b114d1b25",
}


@pytest.mark.parametrize("name", sorted(SOURCE_SHA256))
def test_sources_are_verbatim_copies(name: str) -> None:
    assert hashlib.sha256((ROOT / "data" / "sources" / name).read_bytes()).hexdigest() == SOURCE_SHA256[name]


def test_asserted_view_is_exactly_the_files_without_a_second_copy(kg: KnowledgeGraph) -> None:
    """kg.asserted is the dataset minus the closure, read from the same indexes (not a copy):
    the triples of the files, each graph as loaded, and nothing it could be written through."""
    from rdflib import Graph
    from rdflib.compare import isomorphic

    from caspian_kg.graph import parse_turtle
    from caspian_kg.stores.memory import WithoutGraph
    from caspian_kg.stores.oxigraph import AssertedStore

    store = kg.asserted.store
    if kg.engine.kind == "memory":
        assert isinstance(store, WithoutGraph) and store.inner is kg.dataset.store
    else:  # two views of one Oxigraph store
        assert isinstance(store, AssertedStore) and store._inner is kg.dataset.store._inner  # type: ignore[attr-defined]
    union = Graph()
    for iri in kg.files:
        graph = Graph()
        graph += kg.asserted.graph(iri)
        assert isomorphic(graph, parse_turtle(kg.files[iri])), iri
        union += graph
    seen = set(kg.asserted.triples((None, None, None)))
    assert seen == set(union) and len(kg.asserted) == len(union)
    assert {c for *_, c in kg.asserted.quads((None, None, None, None))} == set(kg.files)
    assert len(kg.asserted.graph(kg.inferred_graph)) == 0 < len(kg.dataset.graph(kg.inferred_graph))
    with pytest.raises(TypeError):
        kg.asserted.add((kg.inferred_graph, kg.inferred_graph, kg.inferred_graph))


def test_one_named_graph_per_file(kg: KnowledgeGraph) -> None:
    names = {str(g.identifier) for g in kg.dataset.graphs() if len(g)}
    assert {
        f"{BASE}graph/ontology",
        f"{BASE}graph/background",
        f"{BASE}graph/inferred",
        f"{BASE}graph/source/azerbaijan-central-asia-relations",
        f"{BASE}graph/source/turkic-factor-baku-bishkek",
    } <= names
    assert set(kg.source_graphs()) == {"azerbaijan-central-asia-relations", "turkic-factor-baku-bishkek"}


def test_shipped_data_is_valid_and_consistent(kg: KnowledgeGraph, config: Config) -> None:
    """Checked again here whatever the fixture did: a kept store built earlier in the session
    (by a server test) is reopened without a check, since it was kept only once valid."""
    assert kg.inconsistencies == []
    assert len(kg.dataset.graph(kg.inferred_graph)) > 0
    assert {"load", "closure", "validate"} <= set(kg.timings) or "reopen" in kg.timings
    assert problems_of(config)(kg) == []


@pytest.mark.parametrize(
    "text, line, reason",
    [
        ("@prefix ck: <https://w3id.org/caspian-kg/ontology#> .\n\nck:a ck:b ck:c\nck:d ck:e ck:f .\n", 4, "Turtle syntax error"),
        ("@prefix ck: <https://w3id.org/caspian-kg/ontology#> .\nck:a ck:b \"unterminated .\n", 2, "Turtle syntax error"),
        ("ck:a ck:b ck:c .\n", 1, "Turtle syntax error"),  # undeclared prefix
    ],
)
def test_broken_turtle_names_file_and_line(tmp_path: Path, text: str, line: int, reason: str) -> None:
    root = make_root(tmp_path, {"broken.ttl": text})
    with pytest.raises(LoadError) as err:
        open_graph(Config(root=root))
    assert err.value.path.endswith("broken.ttl")
    assert err.value.line == line
    assert reason in err.value.reason
    assert str(err.value).startswith(str(root / "data" / "broken.ttl") + f":{line}: ")


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    (root / "data" / "latin1.ttl").write_bytes(b'# a comment\n<urn:a> <urn:b> "caf\xe9" .\n')
    with pytest.raises(LoadError, match=r"latin1.ttl:2: not UTF-8 \(byte 0xE9"):
        open_graph(Config(root=root))


def test_shacl_violation_stops_the_load_with_a_clear_message(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    fixture = root / "data" / "fixture.ttl"
    # a membership that lost its member and its evidence
    fixture.write_text(fixture.read_text().replace(
        'org:member state:a ; org:role ck:memberRole ; ck:memberIn orgn:x ;\n    prov:wasDerivedFrom doc:fixture ; ck:evidence "A, B and C are members of X" .',
        "org:role ck:memberRole ; ck:memberIn orgn:x .",
    ))
    with pytest.raises(ValidationError) as err:
        open_graph(Config(root=root))
    problems = err.value.problems
    assert any("mship:x-member-a" in p and "exactly one org:member" in p for p in problems)
    assert any("mship:x-member-a" in p and "evidence" in p for p in problems)


def test_role_and_role_link_must_agree(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    fixture = root / "data" / "fixture.ttl"
    fixture.write_text(fixture.read_text().replace(
        "org:role ck:observerRole ; ck:observerIn orgn:x", "org:role ck:observerRole ; ck:memberIn orgn:x"))
    with pytest.raises(ValidationError) as err:
        open_graph(Config(root=root))
    text = "\n".join(err.value.problems)
    assert "ck:memberIn needs org:role ck:memberRole" in text
    assert "has no matching role link" in text


def test_evidence_that_is_not_verbatim_is_refused(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    fixture = root / "data" / "fixture.ttl"
    fixture.write_text(fixture.read_text().replace('"B chairs X"', '"B presides over X"'))
    with pytest.raises(ValidationError, match="not verbatim"):
        open_graph(Config(root=root))
    # the refused build is not kept: the next start checks again and refuses again, on every store
    for store in ("oxigraph", "memory", str(tmp_path / "store")):
        with pytest.raises(ValidationError, match="not verbatim"):
            open_graph(Config(root=root, store=store))
        with pytest.raises(ValidationError, match="not verbatim"):
            open_graph(Config(root=root, store=store))


def test_a_failed_load_leaves_the_loaded_graph_untouched(kg: KnowledgeGraph, tmp_path: Path) -> None:
    before = len(kg.dataset)
    with pytest.raises(LoadError):
        open_graph(Config(root=make_root(tmp_path, {"broken.ttl": "not turtle at all"})))
    assert len(kg.dataset) == before


def test_version_tracks_everything_that_shapes_the_answers(tmp_path: Path) -> None:
    """The version is the ETag and decides whether an on-disk store is reused: it must change
    with the data, the shapes and the base IRI, and only with them."""
    from caspian_kg.graph import data_files, dataset_version

    config = Config(root=make_root(tmp_path))
    files = [p for _, p in data_files(config)]
    first = dataset_version(config, files)
    assert dataset_version(config, files) == first
    assert dataset_version(config.with_(base="https://example.org/kg/"), files) != first
    shapes = config.ontology_dir / "shapes.ttl"
    shapes.write_text(shapes.read_text() + "\n# a comment\n")
    second = dataset_version(config, files)
    assert second != first
    data = config.data_dir / "fixture.ttl"
    data.write_text(data.read_text() + "\n# a comment\n")
    assert dataset_version(config, files) != second


def test_the_default_store_is_kept_per_version_opened_read_only_and_rebuilt_when_damaged(tmp_path: Path) -> None:
    """The default store: built once into the cache (a version's directory appears only complete),
    reopened read-only without reasoning, and rebuilt (never served empty) when its database is gone."""
    import shutil

    from caspian_kg.stores.oxigraph import STORE_DIR

    config = Config(root=make_root(tmp_path / "root"), cache_dir=str(tmp_path / "cache"), validate=False)
    first = open_graph(config)
    kept = [p for p in (tmp_path / "cache").iterdir()]
    assert [p.name for p in kept] == [first.version] and "closure" in first.timings
    again = open_graph(config)
    assert "reopen" in again.timings and "closure" not in again.timings and len(again.dataset) == len(first.dataset)
    with pytest.raises(TypeError):  # opened read-only: a server and CLI commands share it
        again.dataset.add((URIRef("urn:x:s"), URIRef("urn:x:p"), URIRef("urn:x:o")))
    shutil.rmtree(kept[0] / STORE_DIR)
    rebuilt = open_graph(config)
    assert "closure" in rebuilt.timings and len(rebuilt.dataset) == len(first.dataset)

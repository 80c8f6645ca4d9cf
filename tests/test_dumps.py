"""Dumps: every format parses back to the same dataset; the web and the CLI give the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

from caspian_kg import dumps
from caspian_kg.cli import main
from caspian_kg.config import Config
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.open import open_graph

ROOT = Path(__file__).resolve().parents[1]


def union(dataset: Dataset) -> Graph:
    graph = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


@pytest.mark.parametrize("inference", [True, False], ids=["closure", "asserted"])
@pytest.mark.parametrize("fmt", list(dumps.DUMP_FORMATS))
def test_dump_round_trips(kg: KnowledgeGraph, fmt: str, inference: bool) -> None:
    spec = dumps.DUMP_FORMATS[fmt]
    data = dumps.serialize(kg, fmt, inference=inference)
    source = kg.view(inference)
    if spec.quads:
        parsed = Dataset().parse(data=data, format=spec.rdflib_name)
        names = {g.identifier for g in parsed.graphs() if len(g)}
        expected = {iri for name, iri in kg.graphs.items() if name != "inferred" or inference}
        assert names == expected
        for iri in expected:  # each named graph on its own, bnode-aware
            assert isomorphic(parsed.graph(iri), source.graph(iri)), iri
    else:
        assert isomorphic(Graph().parse(data=data, format=spec.rdflib_name), union(source))


@pytest.mark.parametrize("extension", ["ttl", "nt", "jsonld", "rdf", "trig", "nq"])
def test_web_export_is_the_same_bytes_streamed(client: FlaskClient, kg: KnowledgeGraph, extension: str) -> None:
    spec = dumps.dump_format(extension)
    response = client.get(f"/export/caspian-kg.{extension}")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == spec.media_type
    assert response.headers["Content-Disposition"] == f'attachment; filename="caspian-kg.{extension}"'
    assert response.data == dumps.serialize(kg, spec.name)
    assert kg.version in response.headers["ETag"]
    again = client.get(f"/export/caspian-kg.{extension}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_asserted_only_and_single_graph_exports(client: FlaskClient, kg: KnowledgeGraph) -> None:
    asserted = client.get("/export/caspian-kg.nq?inference=none")
    assert asserted.headers["Content-Disposition"].endswith('"caspian-kg-asserted.nq"')
    assert str(kg.inferred_graph).encode() not in asserted.data
    one = client.get("/export/caspian-kg.ttl?graph=background")
    assert isomorphic(Graph().parse(data=one.data, format="turtle"), kg.dataset.graph(kg.graphs["background"]))
    assert client.get("/export/caspian-kg.ttl?graph=nope").status_code == 404
    assert client.get("/export/caspian-kg.inferred.nq?graph=inferred&inference=none").status_code == 404
    assert client.get("/export/caspian-kg.doc").status_code == 404


def test_a_separate_load_and_the_cli_give_the_same_bytes(client: FlaskClient, tmp_path: Path) -> None:
    """New blank-node labels and a new hash order after a reload still give the web's bytes."""
    fresh = open_graph(Config(root=ROOT), validate=False)
    for spec in dumps.DUMP_FORMATS.values():
        assert dumps.serialize(fresh, spec.name) == client.get(f"/export/caspian-kg.{spec.extension}").data, spec.name
    out = tmp_path / "dump.nq"
    assert main(["--root", str(ROOT), "--no-validate", "export", "-f", "nquads", "-o", str(out)]) == 0
    assert out.read_bytes() == client.get("/export/caspian-kg.nq").data

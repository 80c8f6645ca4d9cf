"""Whole-graph dumps in every RDF syntax rdflib writes, asserted-only or with the closure.

Shared by `caspian-kg export` and the web layer's /export, so both give the same bytes.
Quad formats (TriG, N-Quads, JSON-LD) keep the named graphs; triple formats flatten the
union of the selected graphs.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Dataset, Graph

from .errors import BadRequest
from .store import KnowledgeGraph


@dataclass(frozen=True)
class DumpFormat:
    name: str  # rdflib plugin name
    media_type: str
    extension: str
    quads: bool  # keeps named graphs


DUMP_FORMATS: dict[str, DumpFormat] = {
    f.name: f
    for f in (
        DumpFormat("turtle", "text/turtle", "ttl", False),
        DumpFormat("nt", "application/n-triples", "nt", False),
        DumpFormat("xml", "application/rdf+xml", "rdf", False),
        DumpFormat("trig", "application/trig", "trig", True),
        DumpFormat("nquads", "application/n-quads", "nq", True),
        DumpFormat("json-ld", "application/ld+json", "jsonld", True),
    )
}
ALIASES = {"ttl": "turtle", "ntriples": "nt", "n-triples": "nt", "rdfxml": "xml", "rdf": "xml",
           "nq": "nquads", "n-quads": "nquads", "jsonld": "json-ld"}


def dump_format(name: str) -> DumpFormat:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in DUMP_FORMATS:
        raise BadRequest(f"unknown RDF format {name!r}; choose one of {', '.join(DUMP_FORMATS)}")
    return DUMP_FORMATS[key]


def select(kg: KnowledgeGraph, inference: bool = True, graph: str | None = None) -> Dataset:
    """The dataset to dump: every graph (with or without the closure) or one named graph."""
    source = kg.view(inference)
    if graph is None:
        return source
    if graph not in kg.graphs or (graph == "inferred" and not inference):
        raise BadRequest(f"unknown graph {graph!r}; choose one of {', '.join(kg.graphs)}")
    out = Dataset()
    target = out.graph(kg.graphs[graph])
    for triple in source.graph(kg.graphs[graph]):
        target.add(triple)
    return out


def serialize(kg: KnowledgeGraph, fmt: str, inference: bool = True, graph: str | None = None) -> bytes:
    spec = dump_format(fmt)
    dataset = select(kg, inference, graph)
    for prefix, ns in kg.dataset.namespaces():
        dataset.bind(prefix, ns, override=False)
    if spec.quads:
        return dataset.serialize(format=spec.name, encoding="utf-8")
    flat = Graph()
    for prefix, ns in dataset.namespaces():
        flat.bind(prefix, ns, override=False)
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        flat.add((s, p, o))
    return flat.serialize(format=spec.name, encoding="utf-8")

"""A resource's description as RDF: what `/id/…` documents and the ontology document hold.

The statements stay in their named graphs (source document, background, ontology, closure), so
quad formats tell a client where each statement comes from.
"""

from __future__ import annotations

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.term import Node

from .formats import NQUADS, TRIG, Format, serialize_dataset
from .graph import KnowledgeGraph
from .vocab import RDF, RDFS, TIME, ck


def quads(source: Dataset, pattern: tuple[Node | None, Node | None, Node | None]) -> list[tuple[Node, Node, Node, URIRef]]:
    return [(s, p, o, g.identifier if isinstance(g, Graph) else g)  # type: ignore[misc]
            for s, p, o, g in source.quads((*pattern, None))]  # type: ignore[arg-type]


def describe(kg: KnowledgeGraph, iri: URIRef, inference: bool = True) -> Dataset:
    """The resource's description, statements kept in their named graphs: outgoing and incoming
    statements; the n-ary nodes hanging off it (memberships, events, quotations... — any node
    with ck:evidence) with their own statements, blank nodes and time intervals, so a client
    gets roles, dates and the evidence in one request; and the labels of every IRI mentioned."""
    source = kg.view(inference)
    evidence = ck(kg.base).evidence
    out = Dataset()
    for prefix, ns in kg.dataset.namespaces():
        out.bind(prefix, ns, override=False)
    seen: set[Node] = set()

    def is_time(node: Node) -> bool:
        return any((node, RDF.type, t) in source for t in (TIME.Interval, TIME.Instant))

    def expand(node: Node, depth: int) -> None:
        if node in seen:
            return
        seen.add(node)
        for s, p, o, g in quads(source, (node, None, None)):
            out.graph(g).add((s, p, o))
            if isinstance(o, BNode) or (depth < 3 and isinstance(o, URIRef) and is_time(o)):
                expand(o, depth + 1)

    expand(iri, 0)
    incoming = quads(source, (None, None, iri))
    for s, p, o, g in incoming:
        out.graph(g).add((s, p, o))
    neighbours = {o for _, _, o, _ in quads(source, (iri, None, None))} | {s for s, _, _, _ in incoming}
    for node in sorted(neighbours, key=str):
        if isinstance(node, URIRef) and (node, evidence, None) in source:
            expand(node, 1)
    mentioned = {t for s, p, o, _ in out.quads((None, None, None, None)) for t in (s, p, o) if isinstance(t, URIRef)}
    for term in mentioned:
        for s, p, o, g in quads(source, (term, RDFS.label, None)):
            out.graph(g).add((s, p, o))
    return out


def ontology_dataset(kg: KnowledgeGraph) -> Dataset:
    """The ontology's named graph as authored (the TBox; no closure)."""
    out = Dataset()
    for prefix, ns in kg.dataset.namespaces():
        out.bind(prefix, ns, override=False)
    target = out.graph(kg.ontology_graph)
    for triple in kg.asserted.graph(kg.ontology_graph):
        target.add(triple)
    return out


def rdf_bytes(description: Dataset, fmt: Format) -> bytes:
    """Quad formats keep the named graph of each statement; the others write the union."""
    if fmt in (TRIG, NQUADS):
        return serialize_dataset(description, fmt)
    graph = Graph()
    for prefix, ns in description.namespaces():
        graph.bind(prefix, ns, override=False)
    for s, p, o, _ in description.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph.serialize(format=fmt.rdflib_name, encoding="utf-8")

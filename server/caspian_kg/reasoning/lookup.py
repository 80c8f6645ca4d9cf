"""Cached reads of the closure (every graph, the inferred one included) for the proof search of
`derivations.py`: pattern lookups, membership, the asserted graphs of a triple, rdf:Lists.

The reads go through an rdflib Dataset (the memory store, the Oxigraph store through oxrdflib);
`explain.SparqlLookup` overrides the `_`-prefixed reads for a remote SPARQL store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rdflib import RDF, BNode, Dataset, URIRef
from rdflib.term import Node

Triple = tuple[Node, Node, Node]


class Lookup:
    """Cached pattern lookups over the closure (every graph, the inferred one included)."""

    def __init__(self, dataset: Dataset, asserted_graphs: Iterable[URIRef]) -> None:
        self.dataset = dataset
        self.asserted_graphs = sorted(asserted_graphs)
        self._holds: dict[Triple, bool] = {}
        self._objects: dict[tuple[Node, Node], tuple[Node, ...]] = {}
        self._subjects: dict[tuple[Node, Node], tuple[Node, ...]] = {}
        self._graphs: dict[Triple, tuple[URIRef, ...]] = {}
        self._in: dict[tuple[Node | str | None, ...], tuple[Node, ...]] = {}

    def holds(self, t: Triple) -> bool:
        """Is `t` in the closure? Membership of an anonymous class (`x a _:restriction`) is
        pruned from the stored closure, so it is taken as possible here and must then be proved
        by the rules (cls-hv2, cls-svf1…) like any other premise: never a leaf."""
        if t not in self._holds:
            self._holds[t] = self._contains(t) or (t[1] == RDF.type and isinstance(t[2], BNode))
        return self._holds[t]

    def objects(self, s: Node, p: Node) -> tuple[Node, ...]:
        if (s, p) not in self._objects:
            self._objects[(s, p)] = tuple(sorted(set(self._find_objects(s, p)), key=str))
        return self._objects[(s, p)]

    def subjects(self, p: Node, o: Node) -> tuple[Node, ...]:
        if (p, o) not in self._subjects:
            self._subjects[(p, o)] = tuple(sorted(set(self._find_subjects(p, o)), key=str))
        return self._subjects[(p, o)]

    def graphs(self, t: Triple) -> tuple[URIRef, ...]:
        """The asserted named graphs that hold `t` (empty: inferred only, or not in the graph)."""
        if t not in self._graphs:
            self._graphs[t] = tuple(g for g in self.asserted_graphs if self._in_graph(t, g))
        return self._graphs[t]

    def graph_objects(self, graph: URIRef, s: Node, p: Node) -> tuple[Node, ...]:
        """Objects of (s, p) in one named graph (citations: who cites what, with which passage)."""
        key = (graph, s, p)
        if key not in self._in:
            self._in[key] = tuple(sorted(set(self._graph_find(graph, s, p, None)), key=str))
        return self._in[key]

    def graph_subjects(self, graph: URIRef, p: Node | None, o: Node) -> tuple[Node, ...]:
        key = (graph, p, o, "subjects")
        if key not in self._in:
            self._in[key] = tuple(sorted(set(self._graph_find(graph, None, p, o)), key=str))
        return self._in[key]

    # the reads, over an rdflib Dataset (memory, Oxigraph); a remote store overrides them
    def _graph_find(self, graph: URIRef, s: Node | None, p: Node | None, o: Node | None) -> Iterable[Node]:
        named = self.dataset.get_context(graph)
        return named.objects(s, p) if o is None else named.subjects(p, o)  # type: ignore[arg-type]

    def _contains(self, t: Triple) -> bool:
        return t in self.dataset

    def _find_objects(self, s: Node, p: Node) -> Iterable[Node]:
        return self.dataset.objects(s, p)  # type: ignore[arg-type]

    def _find_subjects(self, p: Node, o: Node) -> Iterable[Node]:
        return self.dataset.subjects(p, o)  # type: ignore[arg-type]

    def _in_graph(self, t: Triple, graph: URIRef) -> bool:
        return t in self.dataset.get_context(graph)

    def items(self, head: Node) -> list[Node]:
        """The members of an rdf:List."""
        out: list[Node] = []
        seen: set[Node] = set()
        while head != RDF.nil and head not in seen:
            seen.add(head)
            out.extend(self.objects(head, RDF.first))
            rest = self.objects(head, RDF.rest)
            if not rest:
                break
            head = rest[0]
        return out

    def lists_with(self, member: Node) -> Iterator[Node]:
        """The heads of the rdf:Lists that have `member` as an item."""
        for cell in self.subjects(RDF.first, member):
            head, seen = cell, {cell}
            while True:
                before = [c for c in self.subjects(RDF.rest, head) if c not in seen]
                if not before:
                    break
                head = before[0]
                seen.add(head)
            yield head

"""The memory store: rdflib's in-memory Dataset, evaluated by rdflib's SPARQL engine.

`open_memory` parses every file (a broken one is a LoadError naming file and line) into a *new*
Dataset, one named graph per file, and computes the closure into its own graph; it returns
only a complete graph, so a broken file never leaves a half-loaded one behind.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Mapping
from typing import Any

from rdflib import Dataset, Graph, URIRef
from rdflib.store import Store
from rdflib.term import Identifier

from ..config import Config
from ..graph import KnowledgeGraph, data_files, dataset_version, graph_iri, parse_turtle
from ..reasoning import choose_reasoner, closure_function
from .engine import DatasetSelection, Prepared, evaluate
from .native import UNION_GRAPH


class MemoryEngine:
    """rdflib evaluates the parsed query over the dataset (or its asserted-only view)."""

    kind = "memory"
    needs_algebra = True

    def __init__(self, dataset: Dataset, asserted: Dataset, graphs: Mapping[str, URIRef]) -> None:
        self.dataset, self.asserted, self.graphs = dataset, asserted, dict(graphs)

    def query(self, prepared: Prepared, selection: DatasetSelection, bindings: Mapping[str, Identifier]) -> Any:
        source = self.dataset if selection.inference else self.asserted
        return evaluate(source, self.graphs.values(), prepared, selection, bindings)

    def after_fork(self) -> None:
        """Nothing to do: the forked worker shares the graph copy-on-write."""

    def peers(self) -> set[tuple[str, int]]:
        return set()

    def export(self, graph: URIRef) -> bytes:
        if graph == UNION_GRAPH:  # the deduplicated asserted triples (see native.UNION_GRAPH)
            union = Graph()
            for name, named in self.graphs.items():
                if name != "inferred":
                    union += self.asserted.graph(named)
            return union.serialize(format="nt", encoding="utf-8")
        return self.dataset.graph(graph).serialize(format="nt", encoding="utf-8")


def open_memory(config: Config, reason: bool = True) -> KnowledgeGraph:
    """Parse every file and compute the closure; LoadError when a file is broken."""
    started = time.perf_counter()
    parsed = [(name, path, parse_turtle(path, config.base)) for name, path in data_files(config)]
    dataset = Dataset(default_union=True)
    graphs: dict[str, URIRef] = {}
    files = {}
    for name, path, graph in parsed:
        iri = graph_iri(config.base, name)
        graphs[name], files[iri] = iri, path
        named = dataset.graph(iri)
        for triple in graph:
            named.add(triple)
        for prefix, ns in graph.namespaces():
            dataset.bind(prefix, ns, override=False)
    graphs["inferred"] = graph_iri(config.base, "inferred")
    asserted = Dataset(store=WithoutGraph(dataset.store, graphs["inferred"]), default_union=True)
    timings = {"load": time.perf_counter() - started}
    inconsistencies: list[str] = []
    reasoner = choose_reasoner(config, len(asserted))
    if reason:
        t0 = time.perf_counter()
        inconsistencies = closure_function(reasoner)(dataset, graphs["inferred"])
        timings["closure"] = time.perf_counter() - t0
    return KnowledgeGraph(
        dataset=dataset, asserted=asserted, base=config.base, graphs=graphs, files=files,
        version=dataset_version(config, [p for _, p, _ in parsed]), engine=MemoryEngine(dataset, asserted, graphs),
        timings=timings, inconsistencies=inconsistencies, reasoner=reasoner,
    )


class WithoutGraph(Store):
    """A read-only view of a memory store without one of its graphs: the asserted facts are the
    dataset minus the closure, served from the same indexes instead of a second copy (which
    doubled the memory of every load). Sound because the closure graph holds only triples that
    are not asserted (the reasoners prune the others), so a triple is asserted exactly when one
    of its graphs is not the hidden one."""

    context_aware = True
    formula_aware = False
    graph_aware = True
    transaction_aware = False

    def __init__(self, inner: Store, hidden: URIRef) -> None:
        super().__init__()
        self.inner, self.hidden = inner, hidden

    def _shown(self, context: Any) -> bool:
        return context is None or getattr(context, "identifier", context) != self.hidden

    def triples(self, triple_pattern: Any, context: Any = None) -> Iterator[Any]:
        if context is not None:
            if self._shown(context):
                yield from self.inner.triples(triple_pattern, context)
            return
        for triple, contexts in self.inner.triples(triple_pattern, None):
            shown = [c for c in contexts if self._shown(c)]
            if shown:
                yield triple, iter(shown)

    def __len__(self, context: Any = None) -> int:
        if context is not None:
            return self.inner.__len__(context) if self._shown(context) else 0
        return self.inner.__len__(None) - self.inner.__len__(Graph(identifier=self.hidden))  # disjoint

    def contexts(self, triple: Any = None) -> Generator[Any, None, None]:
        return (c for c in self.inner.contexts(triple) if self._shown(c))

    def add_graph(self, graph: Graph) -> None:
        """Dataset() registers its default graph, which the inner store already has."""
        if self._shown(graph):
            self.inner.add_graph(graph)

    def add(self, triple: Any, context: Any, quoted: bool = False) -> None:
        raise TypeError("the asserted view is read-only")

    def remove(self, triple: Any, context: Any = None) -> None:
        raise TypeError("the asserted view is read-only")

    def bind(self, prefix: str, namespace: Any, override: bool = True) -> None:
        self.inner.bind(prefix, namespace, override=override)

    def namespace(self, prefix: str) -> Any:
        return self.inner.namespace(prefix)

    def prefix(self, namespace: Any) -> Any:
        return self.inner.prefix(namespace)

    def namespaces(self) -> Iterator[Any]:
        return self.inner.namespaces()


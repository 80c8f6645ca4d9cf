"""The one interface every store implements (`Engine`), and what the query service hands it.

The query service (`query.py`) parses and checks a request once, then calls `Engine.query` with
a `Prepared` query, a `DatasetSelection` (already restricted to our own graphs) and the
parameter bindings as RDF terms. An engine only evaluates: it never sees a request it has to
refuse. Three engines: `memory.MemoryEngine` (rdflib), `oxigraph.OxigraphEngine` (on disk) and
`remote.RemoteEngine` (a SPARQL 1.1 endpoint).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from rdflib import Dataset, Graph, URIRef, Variable
from rdflib.plugins.sparql.evaluate import evalPart
from rdflib.plugins.sparql.processor import SPARQLResult
from rdflib.plugins.sparql.sparql import Query, QueryContext
from rdflib.term import Identifier

# rdflib's SPARQLStore sends this as default-graph-uri to mean "the service's default graph"
RDFLIB_DEFAULT = "urn:x-rdflib:default"


@dataclass(frozen=True)
class DatasetSelection:
    """The RDF dataset a query runs on. `default` and `named` are None together (the service's
    dataset: the union of every graph as the default graph, every graph by name) or both tuples
    of our own graph IRIs (from the Protocol's default-graph-uri / named-graph-uri or the
    query's FROM / FROM NAMED; `RDFLIB_DEFAULT` in `default` stands for the union)."""

    inference: bool = True
    default: tuple[str, ...] | None = None
    named: tuple[str, ...] | None = None

    @property
    def whole(self) -> bool:
        return self.default is None and self.named is None


@dataclass(frozen=True)
class Prepared:
    """A checked query: its text (native engines run it) and/or rdflib's parse (the memory
    engine evaluates it). The service guarantees `algebra` when the engine `needs_algebra`, and
    `text` may be None only for a pattern built as algebra (saved-query enumerations that
    cannot be written back as text)."""

    text: str | None
    algebra: Query | None
    from_default: tuple[str, ...] | None = None  # FROM graphs of the query itself
    from_named: tuple[str, ...] | None = None
    base: str | None = None  # the base IRI relative IRIs resolve against (the endpoint's URL)


class Engine(Protocol):
    """What a store does for the query service."""

    kind: str  # "memory", "oxigraph" or "remote"
    needs_algebra: bool  # True: hand it rdflib's parse; False: the query text is enough

    def query(self, prepared: Prepared, selection: DatasetSelection,
              bindings: Mapping[str, Identifier]) -> Any:
        """Evaluate; an rdflib Result, or a result that writes itself (`native.NativeSolutions`)."""

    def after_fork(self) -> None:
        """In a forked query worker, before its first job (e.g. reopen a file handle)."""

    def peers(self) -> set[tuple[str, int]]:
        """(host, port) the engine itself must reach: the only connections a worker may open."""

    def export(self, graph: URIRef) -> bytes:
        """One graph as N-Triples (publishing to another engine)."""


def evaluate(source: Dataset, own: Iterable[URIRef], prepared: Prepared, selection: DatasetSelection,
             bindings: Mapping[str, Identifier]) -> SPARQLResult:
    """rdflib's evaluation of a parsed query on `source` (a dataset view, with or without the
    closure), over the selected dataset, parameters bound as initial bindings (never text)."""
    assert prepared.algebra is not None
    graph, dataset = select_dataset(source, own, selection)
    ctx = QueryContext(dataset, initBindings={Variable(k): v for k, v in bindings.items()})
    ctx.graph = graph
    ctx.prologue = prepared.algebra.prologue
    return SPARQLResult(evalPart(ctx, prepared.algebra.algebra))


def select_dataset(source: Dataset, own: Iterable[URIRef], selection: DatasetSelection) -> tuple[Graph, Dataset]:
    """The (default graph, dataset of named graphs) of a selection, over rdflib views.

    The whole dataset is shared, no copy. Otherwise the default graph is the merge of the
    listed graphs and the named graphs are exactly the listed ones (the service has already
    dropped anything that is not one of our graphs: nothing is ever fetched).
    """
    if selection.whole:
        return source, source
    known = {str(iri) for iri in own}
    graph = Graph()
    dataset = Dataset()
    for iri in selection.default or ():
        if iri == RDFLIB_DEFAULT:
            graph.addN((s, p, o, graph) for s, p, o in source.triples((None, None, None)))
        elif iri in known:
            graph += source.get_context(URIRef(iri))
    for iri in selection.named or ():
        if iri in known:
            dataset.graph(URIRef(iri)).__iadd__(source.get_context(URIRef(iri)))
    return graph, dataset

"""What pages read, computed once per dataset version: every quad in two in-memory indexes.

Why: an entity page used to ask the store hundreds of small questions (its statements, then
labels, evidence and bridging nodes for every value): 130-440 ms on a 4k-triple graph, and
far more on a remote store where each question is an HTTP round trip. The graph is read-only
once loaded, so the pages read it once instead, through the engine (one SPARQL query over
every named graph, the same on rdflib, Oxigraph and a remote engine), into dictionaries; a
page is then a few dictionary lookups. `views(kg)` builds the index lazily on first use and
keeps it for the dataset version.

Plain-language values (`plain`) also live here: the pages never show `xsd:` datatypes or
language tags, so dates read as "22 July 2023", "June 2021" or "11 October (year not stated)".
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.term import Node

from .graph import KnowledgeGraph
from .oxterms import to_rdflib
from .query import parse_query
from .stores.engine import DatasetSelection, Prepared
from .stores.native import NativeSolutions
from .vocab import DCTERMS, RDFS, SKOS, XSD, ck

ALL_QUADS = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")

Graphs = frozenset[URIRef]
_LABELS = (RDFS.label, SKOS.prefLabel)


@dataclass
class Index:
    """Every statement, by subject and by object, with the named graphs stating it."""

    inferred: URIRef
    out: dict[Node, dict[Node, dict[Node, Graphs]]] = field(default_factory=dict)
    into: dict[Node, dict[Node, dict[Node, Graphs]]] = field(default_factory=dict)
    _labels: dict[Node, str | None] = field(default_factory=dict)
    texts: dict[Node, str | None] = field(default_factory=dict)  # source documents' texts, read once

    def add(self, s: Node, p: Node, o: Node, g: URIRef) -> None:
        by_o = self.out.setdefault(s, {}).setdefault(p, {})
        by_o[o] = by_o.get(o, frozenset()) | {g}
        if not isinstance(o, Literal):
            by_s = self.into.setdefault(o, {}).setdefault(p, {})
            by_s[s] = by_s.get(s, frozenset()) | {g}

    def shown(self, graphs: Graphs, inference: bool) -> bool:
        """Whether a statement stated in `graphs` is in the view (asserted-only drops the closure)."""
        return inference or bool(graphs - {self.inferred})

    def is_inferred(self, graphs: Graphs) -> bool:
        return not graphs - {self.inferred}

    def objects(self, s: Node, p: Node, inference: bool = True) -> list[Node]:
        return sorted((o for o, g in self.out.get(s, {}).get(p, {}).items() if self.shown(g, inference)), key=str)

    def subjects(self, p: Node, o: Node, inference: bool = True) -> list[Node]:
        return sorted((s for s, g in self.into.get(o, {}).get(p, {}).items() if self.shown(g, inference)), key=str)

    def value(self, s: Node, p: Node, inference: bool = True) -> Node | None:
        found = self.objects(s, p, inference)
        return found[0] if found else None

    def has(self, s: Node, p: Node, o: Node, inference: bool = True) -> bool:
        graphs = self.out.get(s, {}).get(p, {}).get(o)
        return graphs is not None and self.shown(graphs, inference)

    def outgoing(self, s: Node, inference: bool = True) -> Iterator[tuple[Node, Node, Graphs]]:
        for p, values in self.out.get(s, {}).items():
            for o, graphs in values.items():
                if self.shown(graphs, inference):
                    yield p, o, graphs

    def incoming(self, o: Node, inference: bool = True) -> Iterator[tuple[Node, Node, Graphs]]:
        for p, values in self.into.get(o, {}).items():
            for s, graphs in values.items():
                if self.shown(graphs, inference):
                    yield s, p, graphs

    def known(self, iri: Node) -> bool:
        """Whether the IRI occurs in the data (as subject or object, closure included)."""
        return iri in self.out or iri in self.into

    def label(self, node: Node) -> str | None:
        """The English `rdfs:label` (else `skos:prefLabel`, else any label); None without one."""
        if node in self._labels:
            return self._labels[node]
        values = self.out.get(node, {})
        labels = [o for p in _LABELS for o in values.get(p, {})]
        english = [lab for lab in labels if getattr(lab, "language", None) in ("en", None)]
        found = str(min(english or labels, key=str)) if labels else None
        self._labels[node] = found
        return found


def read_quads(kg: KnowledgeGraph) -> Iterable[tuple[Node, Node, Node, URIRef]]:
    """Every quad of every named graph, closure included, through the engine (any store)."""
    engine = kg.engine
    prepared = Prepared(ALL_QUADS, parse_query(ALL_QUADS) if engine.needs_algebra else None)
    result = engine.query(prepared, DatasetSelection(True), {})
    if isinstance(result, NativeSolutions):
        return [(to_rdflib(s), to_rdflib(p), to_rdflib(o), to_rdflib(g)) for s, p, o, g in result.solutions]
    return [(row[0], row[1], row[2], row[3]) for row in result]  # type: ignore[index]


def build(kg: KnowledgeGraph) -> Index:
    index = Index(kg.inferred_graph)
    for s, p, o, g in read_quads(kg):
        index.add(s, p, o, g)
    return index


_memo: dict[str, tuple[KnowledgeGraph, Index]] = {}
_lock = threading.Lock()


def views(kg: KnowledgeGraph) -> Index:
    """The index of `kg`, built on first use and kept for its dataset version."""
    found = _memo.get(kg.version)
    if found is not None and found[0] is kg:
        return found[1]
    index = build(kg)
    with _lock:
        _memo.clear() if len(_memo) > 4 else None
        _memo[kg.version] = (kg, index)
    return index


# --- plain language ----------------------------------------------------------------------------


def plain(value: Literal) -> str:
    """A literal as a reader says it: dates in words, no datatype, no language tag."""
    text = str(value)
    datatype = value.datatype
    try:
        if datatype == XSD.date:
            year, month, day = text[:10].split("-")
            return f"{int(day)} {MONTHS[int(month) - 1]} {int(year)}"
        if datatype == XSD.gYearMonth:
            year, month = text[:7].split("-")
            return f"{MONTHS[int(month) - 1]} {int(year)}"
        if datatype == XSD.gMonthDay:
            month, day = text.lstrip("-")[:5].split("-")
            return f"{int(day)} {MONTHS[int(month) - 1]} (year not stated)"
        if datatype == XSD.gYear:
            return str(int(text[:4]))
    except (ValueError, IndexError):  # an ill-formed date shows as written
        return text
    return text


def date_key(value: Node | None) -> str:
    """A sort key for dates of any precision (undated last)."""
    if not isinstance(value, Literal):
        return "~"
    text = str(value)
    if value.datatype == XSD.gMonthDay:
        return "0000" + text.lstrip("-")
    return text


# --- source documents --------------------------------------------------------------------------


def anchor(passage: str) -> str:
    """The fragment id of a passage on its source document's page (stable across versions)."""
    return "p-" + hashlib.sha1(passage.encode("utf-8")).hexdigest()[:10]


def document_title(index: Index, doc: Node) -> str:
    """A source document's name: its title when the source states one, else the project's label
    without the "(untitled)" marker (the page says separately that the source has no title)."""
    title = index.value(doc, DCTERMS.title, False)
    if title is not None:
        return str(title)
    label = index.label(doc) or str(doc)
    for marker in (" (untitled)", "(untitled)"):
        label = label.replace(marker, "")
    return label.removeprefix("Source article: ").strip() or str(doc)


def source_text(kg: KnowledgeGraph, index: Index, doc: Node, data_dir: Path | None = None) -> str | None:
    """The verbatim text of a source document (`ck:textFile`, relative to the data folder:
    `data_dir`, else the folder the graph's files were read from; a remote store has none)."""
    if doc in index.texts:
        return index.texts[doc]
    index.texts[doc] = None
    name = index.value(doc, ck(kg.base).textFile, False)
    if name is None:
        return None
    folders = {path.parent for path in kg.files.values()} | ({data_dir} if data_dir is not None else set())
    for folder in sorted(folders):
        path = Path(folder) / str(name)
        if path.is_file() and path.resolve().is_relative_to(Path(folder).resolve()):
            index.texts[doc] = path.read_text(encoding="utf-8")
            return index.texts[doc]
    return None

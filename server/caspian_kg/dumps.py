"""Whole-graph dumps in every RDF syntax rdflib writes, asserted-only or with the closure.

Shared by `caspian-kg export` and the web layer's /export, so both give the same bytes.
Quad formats (TriG, N-Quads, JSON-LD) keep the named graphs; triple formats flatten the
union of the selected graphs.

Dumps are deterministic: the same files give the same bytes in every process (blank nodes get
content-derived labels and quads are written in sorted order), so an export from the CLI can be
compared byte for byte with /export and ETags stay meaningful across restarts.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from rdflib import BNode, Dataset, Graph
from rdflib.compare import _TripleCanonicalizer
from rdflib.term import Node

from .errors import BadRequest
from .formats import GRAPH_FORMATS, NQUADS, NTRIPLES, RDFXML, TRIG, Format
from .graph import KnowledgeGraph

# every graph format is a dump format; `caspian-kg export -f` and /export/caspian-kg.{extension}
DUMP_FORMATS: dict[str, Format] = {f.name: f for f in GRAPH_FORMATS}
DUMP_EXTENSIONS: dict[str, Format] = {f.extension: f for f in GRAPH_FORMATS}


def dump_format(name: str) -> Format:
    """A dump format by name, alias (`ttl`, `json-ld`, `xml`...) or media type."""
    for fmt in GRAPH_FORMATS:
        if fmt.matches(name):
            return fmt
    raise BadRequest(f"unknown RDF format {name!r}; choose one of {', '.join(DUMP_FORMATS)}")


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


def stable_bnode_labels(triples: Graph) -> dict[Node, BNode]:
    """Blank node -> a label derived from the graph's structure (rdflib's canonical colouring),
    so the parser's random labels never reach a dump. Computed on the union of all graphs: a
    blank node shared by two named graphs (an ontology restriction the closure talks about)
    keeps one label."""
    canon = _TripleCanonicalizer(triples)  # private API, stable across rdflib 7 (pinned <8)
    coloring = canon._refine(canon._initial_color(), canon._initial_color())
    if not canon._discrete(coloring):
        coloring = canon._traces(coloring)
    return {c.nodes[0]: BNode("b" + c.hash_color()[:16]) for c in coloring if isinstance(c.nodes[0], BNode)}


def canonical(dataset: Dataset) -> Dataset:
    """A copy of `dataset` with stable blank-node labels, filled in sorted quad order (rdflib's
    serialisers write in store order, which otherwise depends on hashing and load order)."""
    union = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    labels = stable_bnode_labels(union) if any(isinstance(t, BNode) for t in union.all_nodes()) else {}

    def relabel(term: Node) -> Node:
        return labels.get(term, term)

    quads = sorted(
        (relabel(s), relabel(p), relabel(o), g.identifier if isinstance(g, Graph) else g)
        for s, p, o, g in dataset.quads((None, None, None, None))
    )
    out = Dataset()
    for prefix, ns in dataset.namespaces():
        out.bind(prefix, ns, override=False)
    for s, p, o, g in quads:
        out.graph(g).add((s, p, o))  # type: ignore[arg-type]
    return out


def serialize(kg: KnowledgeGraph, fmt: str, inference: bool = True, graph: str | None = None) -> bytes:
    """The dump as bytes: identical for the CLI and the web layer (and across processes)."""
    spec = dump_format(fmt)
    dataset = select(kg, inference, graph)
    for prefix, ns in kg.dataset.namespaces():
        dataset.bind(prefix, ns, override=False)
    return with_header(write(canonical(dataset), spec), spec, kg.version)


LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
HEADER = ("caspian-kg {version}: Azerbaijan's relations with Central Asia and the Turkic world. "
          "Licence: CC BY 4.0 (" + LICENSE_URL + "); the verbatim evidence passages are quotations "
          "from the cited articles. https://w3id.org/caspian-kg/")


def with_header(data: bytes, spec: Format, version: str) -> bytes:
    """The dump with a comment naming the dataset and its licence, in every syntax that has
    comments (JSON-LD has none: its licence is in the VoID description and the Link header)."""
    text = HEADER.format(version=version)
    if spec is RDFXML:
        declaration, newline, rest = data.partition(b"\n")
        return declaration + newline + f"<!-- {text} -->\n".encode() + rest
    if spec.rdflib_name == "json-ld":
        return data
    return f"# {text}\n".encode() + data


def write(dataset: Dataset, spec: Format) -> bytes:
    """Serialise in a stable order. rdflib's in-memory store iterates sets (hash-randomised per
    process), so each writer is steered: line formats are sorted, TriG's graphs sorted, JSON-LD's
    unordered arrays sorted, and triple formats written from an insertion-ordered store."""
    if spec is TRIG:
        from rdflib.plugins.serializers.trig import TrigSerializer

        writer = TrigSerializer(dataset)
        writer.contexts.sort(key=lambda c: str(c.identifier))
        buffer = io.BytesIO()
        writer.serialize(buffer, encoding="utf-8")
        return buffer.getvalue()
    if spec.quads:
        data = dataset.serialize(format=spec.rdflib_name, encoding="utf-8")
    else:
        flat = Graph(store="SimpleMemory")  # dict-backed: iterates in (sorted) insertion order
        for prefix, ns in dataset.namespaces():
            flat.bind(prefix, ns, override=False)
        for s, p, o in sorted((s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None))):
            flat.add((s, p, o))
        data = flat.serialize(format=spec.rdflib_name, encoding="utf-8")
    if spec is RDFXML:  # its namespace declarations come from a set: one per line, sort them
        head, sep, body = data.partition(b">\n")
        lines = head.split(b"\n")
        return b"\n".join(lines[:1] + sorted(lines[1:])) + sep + body
    if spec in (NTRIPLES, NQUADS):  # sorted lines; rdflib's trailing blank line would sort first
        return b"".join(sorted(line for line in data.splitlines(keepends=True) if line.strip()))
    if spec.rdflib_name == "json-ld":
        return json.dumps(_sorted_json(json.loads(data)), indent=2, ensure_ascii=False).encode("utf-8")
    return data


def _sorted_json(value: Any, ordered: bool = False) -> Any:
    """JSON-LD with every unordered array sorted (arrays under "@list" keep their order)."""
    if isinstance(value, dict):
        return {k: _sorted_json(v, ordered=(k == "@list")) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted_json(v) for v in value]
        return items if ordered else sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """The dump in pieces, for a streamed HTTP response (the client sees bytes before the end)."""
    for start in range(0, len(data), size):
        yield data[start:start + size]

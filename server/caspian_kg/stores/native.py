"""What the native engines (Oxigraph on disk, a remote SPARQL endpoint) share: our dataset as
their graph lists, parameters bound as terms in query text, and answers Oxigraph writes itself.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.term import Identifier

from ..errors import ResultTooLarge
from .engine import RDFLIB_DEFAULT, DatasetSelection

# Oxigraph's (and many engines') union of graphs is a bag: a label stated in two files would
# come back twice, where rdflib's union is a set. So the asserted triples are also stored once,
# deduplicated, in this helper graph; the closure never repeats an asserted triple, so
# [UNION_GRAPH, inferred] as the default graph is the set-union rdflib answers over.
UNION_GRAPH = URIRef("urn:caspian-kg:graph:asserted-union")


def graph_lists(graphs: Mapping[str, URIRef], selection: DatasetSelection) -> tuple[list[URIRef], list[URIRef]]:
    """(default graphs, named graphs) of a selection, as a native engine is told them."""
    inferred = graphs["inferred"]
    union = [UNION_GRAPH] + ([inferred] if selection.inference else [])
    if selection.whole:
        return union, [iri for name, iri in sorted(graphs.items()) if selection.inference or name != "inferred"]
    default: list[URIRef] = []
    for iri in selection.default or ():
        default += union if iri == RDFLIB_DEFAULT else [URIRef(iri)]
    return default, [URIRef(iri) for iri in selection.named or ()]


WHERE_OPEN = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def bind_values(text: str, bindings: Mapping[str, Identifier]) -> str:
    """Bind parameters the way rdflib's initBindings does: the variable stands for the term
    everywhere (UNION branches, FILTER EXISTS included). Each occurrence of the parameter
    variable is replaced by the RDF term as rdflib writes it (`.n3()`, escaped): a term, never
    request text. A parameter that is projected (SELECT ?_x) is joined with VALUES instead.
    (Oxigraph's own substitutions only accept projected variables; a remote engine has none.)"""
    head, _, _ = text.partition("{")
    projected = {n for n in bindings if re.search(rf"[?$]{re.escape(n)}\b", head)}
    for name in sorted(set(bindings) - projected):
        # BOUND takes a variable, never a term: a bound parameter is bound (the optional filters
        # of saved queries read `!BOUND(?__host_iri) || ?host = ?__host_iri`)
        text = re.sub(rf"\bBOUND\s*\(\s*[?$]{re.escape(name)}\s*\)", "true", text, flags=re.IGNORECASE)
        text = re.sub(rf"[?$]{re.escape(name)}\b", _constant(bindings[name].n3()), text)
    if projected:
        names = sorted(projected)
        block = ("VALUES (" + " ".join(f"?{n}" for n in names) + ") { ("
                 + " ".join(bindings[n].n3() for n in names) + ") }\n")
        match = WHERE_OPEN.search(text)
        text = text + "\n" + block if match is None else text[:match.end()] + "\n" + block + text[match.end():]
    return text


def _constant(text: str) -> Callable[[re.Match[str]], str]:
    """A re.sub replacement that inserts `text` as it is (no backslash or group expansion)."""
    return lambda _match: text


class NativeSolutions:
    """SELECT solutions still inside Oxigraph, written by its own serialisers.

    Turning each solution into rdflib terms and back into text cost three times the query
    itself on wide results (484 rows x 7 columns: 10 ms to evaluate, 20 ms to convert, 13 ms
    for rdflib's JSON writer); Oxigraph writes the same four result formats in well under a
    millisecond. The row limit still holds: the bytes are counted as they are written (a
    result cannot grow past `max_results * MAX_ROW_BYTES`, the memory bound), and the rows are
    counted exactly in the written text, in a way that is sound for each of Oxigraph's formats.
    """

    type = "SELECT"
    FORMATS: ClassVar[dict[str, str]] = {"json": "JSON", "xml": "XML", "csv": "CSV", "tsv": "TSV"}  # ours -> Oxigraph's
    MAX_ROW_BYTES = 4096

    def __init__(self, solutions: Any) -> None:
        self.solutions = solutions

    def serialize(self, fmt_name: str, max_results: int) -> bytes:
        """The solutions as `fmt_name` (a RESULT_FORMATS name); ResultTooLarge past the limit."""
        too_large = ResultTooLarge(f"the result has more than {max_results} rows (the limit); "
                                   "add a LIMIT or page with OFFSET")
        sink = _CappedSink(max_results * self.MAX_ROW_BYTES + 65_536)
        try:
            self.solutions.serialize(sink, format=getattr(ox.QueryResultsFormat, self.FORMATS[fmt_name]))
        except OSError:
            if sink.overflow:
                raise too_large from None
            raise
        body = sink.getvalue()
        if count_rows(body, fmt_name) > max_results:
            raise too_large
        return body


class _CappedSink(io.RawIOBase):
    """A binary sink that refuses to grow past `limit` bytes (Oxigraph writes in ~8 KB chunks,
    so a runaway result stops early instead of filling the worker's memory)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit, self.size, self.overflow = limit, 0, False
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        if self.size > self.limit:
            self.overflow = True
            raise OSError("result too large")
        self.parts.append(bytes(data))
        return len(data)

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def count_rows(body: bytes, fmt_name: str) -> int:
    """Rows in a SELECT result as Oxigraph writes it. Sound for its writers: TSV escapes line
    breaks inside terms, XML escapes '<' in text, CSV quotes fields with line breaks (so its
    reader counts records), and JSON is parsed (C speed: 1 ms for 230 KB)."""
    if fmt_name == "tsv":
        return body.count(b"\n") - 1
    if fmt_name == "xml":
        return body.count(b"<result>") + body.count(b"<result/>")
    if fmt_name == "csv":
        return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8"), newline=""))) - 1
    return len(json.loads(body)["results"]["bindings"])

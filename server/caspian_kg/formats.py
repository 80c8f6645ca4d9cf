"""Media types, content negotiation and serialisers for query results and RDF graphs.

Shared by /sparql, saved queries and the linked-data pages: pick a `Format` with `negotiate()`
(an `Accept` header with q-values, or an explicit `format=` override), then turn a result or a
graph into bytes with `serialize_result()` / `serialize_graph()` / `serialize_dataset()`.
rdflib has no SPARQL TSV writer, so `serialize_tsv()` implements the SPARQL 1.1 TSV format.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import mimeparse
from rdflib import XSD, BNode, Dataset, Graph, Literal, URIRef
from rdflib.query import Result
from rdflib.term import Node

from .errors import NotAcceptable


@dataclass(frozen=True)
class Format:
    """One representation we can write: the single source of every media-type fact.

    `name` and `names` are what `?format=` and the CLI's `-f` accept; `aliases` are other media
    types a client may ask for in `Accept` and that we answer with `media_type`; `extension`
    names documents (`/id/x.ttl`) and dumps (`/export/caspian-kg.ttl`); `quads` says the
    writer keeps named graphs.
    """

    name: str
    media_type: str
    rdflib_name: str
    extension: str
    aliases: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    quads: bool = False

    @property
    def content_type(self) -> str:
        """The Content-Type header: text/* gets an explicit charset (the RFC default is not UTF-8)."""
        return f"{self.media_type}; charset=utf-8" if self.media_type.startswith("text/") else self.media_type

    def matches(self, token: str) -> bool:
        token = token.split(";", 1)[0].strip().lower()
        return token == self.name or token in self.names or token == self.media_type or token in self.aliases


# SELECT / ASK results, in order of preference (the first is the default)
SPARQL_JSON = Format("json", "application/sparql-results+json", "json", "srj", ("application/json",), ("srj",))
SPARQL_XML = Format("xml", "application/sparql-results+xml", "xml", "srx", ("application/xml", "text/xml"),
                    ("srx",))
SPARQL_CSV = Format("csv", "text/csv", "csv", "csv")
SPARQL_TSV = Format("tsv", "text/tab-separated-values", "tsv", "tsv")
RESULT_FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, SPARQL_CSV, SPARQL_TSV)

# CONSTRUCT / DESCRIBE results, resource descriptions and dumps
# N3 clients get Turtle, which every N3 parser reads (rdflib asks for text/n3, SPARQLWrapper sends format=n3)
TURTLE = Format("turtle", "text/turtle", "turtle", "ttl", ("application/x-turtle", "text/n3", "text/rdf+n3"),
                ("ttl", "n3"))
NTRIPLES = Format("nt", "application/n-triples", "nt11", "nt", ("text/plain",), ("ntriples", "n-triples"))
JSONLD = Format("jsonld", "application/ld+json", "json-ld", "jsonld", ("application/json",), ("json-ld", "json"),
                quads=True)
RDFXML = Format("rdfxml", "application/rdf+xml", "xml", "rdf", ("application/xml", "text/xml"),
                ("rdf", "xml", "owl", "rdf+xml"))
TRIG = Format("trig", "application/trig", "trig", "trig", quads=True)
NQUADS = Format("nquads", "application/n-quads", "nquads", "nq", (), ("nq", "n-quads"), quads=True)
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, NTRIPLES, JSONLD, RDFXML, TRIG, NQUADS)

# pages and plain JSON documents (listings, search)
HTML = Format("html", "text/html", "html", "html", ("application/xhtml+xml",), ("htm",))
JSON = Format("json", "application/json", "json", "json")
ALL_FORMATS: tuple[Format, ...] = RESULT_FORMATS + GRAPH_FORMATS + (HTML, JSON)
# a resource's documents (/id/x.{ext}), in order of preference when Accept ties (*/*)
DOCUMENT_FORMATS: tuple[Format, ...] = (HTML, TURTLE, JSONLD, NTRIPLES, RDFXML, TRIG, NQUADS)
EXTENSIONS: dict[str, Format] = {f.extension: f for f in DOCUMENT_FORMATS}

# IANA-registered format IRIs for service descriptions (http://www.w3.org/ns/formats/)
FORMAT_IRIS: dict[str, str] = {
    "json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML", "csv": "SPARQL_Results_CSV",
    "tsv": "SPARQL_Results_TSV", "turtle": "Turtle", "nt": "N-Triples", "jsonld": "JSON-LD",
    "rdfxml": "RDF_XML", "trig": "TriG", "nquads": "N-Quads",
}


def answer_formats(query_type: str) -> tuple[Format, ...]:
    """What an answer of this query form can be written as: results or a graph."""
    return RESULT_FORMATS if query_type in ("SELECT", "ASK") else GRAPH_FORMATS


def negotiate(accept: str | None, offered: Sequence[Format], override: str | Sequence[str] | None = None) -> Format:
    """Choose among `offered` (in order of preference): `override` (`format=` values: short
    names or media types, alternatives tried in order) wins; else the best match for `accept`
    by q-value, ties going to the earlier format; no or an empty header means the first.
    Raises NotAcceptable (406). Memoised: clients send the same few headers, and mimeparse's
    parse of one costs 0.1 ms, paid by every request."""
    wanted = override if override is None or isinstance(override, str) else tuple(override)
    return _negotiate(accept, tuple(offered), wanted)


@functools.lru_cache(maxsize=1024)
def _negotiate(accept: str | None, offered: tuple[Format, ...], override: str | tuple[str, ...] | None) -> Format:
    overrides = [override] if isinstance(override, str) else [o for o in override or () if o]
    if overrides:
        for wanted in overrides:
            for fmt in offered:
                if fmt.matches(wanted):
                    return fmt
        unknown = [w for w in overrides if not any(f.matches(w) for f in ALL_FORMATS)]
        specific = [r for r in _valid_ranges(accept or "") if not r.strip().startswith("*/*")]
        if unknown or not specific:
            raise unavailable((unknown or overrides)[0], offered)
        # a format we write, but not for this answer (SPARQLWrapper sends its choice for every
        # query form): the specific types of the Accept header it also sends decide
        accept = ",".join(specific)
    ranges = _valid_ranges(accept or "")
    if not ranges:
        return offered[0]
    # mimeparse breaks ties in favour of the *last* candidate: list aliases first, then the
    # primary types, each group in reverse order of preference
    candidates: list[tuple[str, Format]] = [(a, f) for f in reversed(offered) for a in reversed(f.aliases)]
    candidates += [(f.media_type, f) for f in reversed(offered)]
    best = mimeparse.best_match([c for c, _ in candidates], ",".join(ranges))
    for media_type, fmt in reversed(candidates):
        if media_type == best:
            return fmt
    raise NotAcceptable(f"none of the requested media types is available; use one of {_names(offered)}")


def unavailable(name: str, offered: Sequence[Format]) -> NotAcceptable:
    """The 406 for a `format=` value that is none of `offered`."""
    return NotAcceptable(f"format {name!r} is not available here; use one of {_names(offered)}")


def _valid_ranges(accept: str) -> list[str]:
    """The media ranges of an Accept header that parse; malformed ones are ignored (lenient, as
    browsers and old clients send odd headers)."""
    ranges = []
    for part in accept.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            mimeparse.parse_media_range(part)
        except (ValueError, mimeparse.MimeTypeParseException):
            continue
        ranges.append(part)
    return ranges


def _names(offered: Sequence[Format]) -> str:
    return ", ".join(f"{f.media_type} (format={f.name})" for f in offered)


def serialize_result(result: Result, fmt: Format) -> bytes:
    """SELECT/ASK results in one of RESULT_FORMATS."""
    if fmt is SPARQL_TSV:
        return serialize_tsv(result)
    if fmt is SPARQL_XML:
        return serialize_xml(result)
    if fmt is SPARQL_CSV and result.type == "ASK":
        return f"_askResult\r\n{'true' if result.askAnswer else 'false'}\r\n".encode()
    data = result.serialize(format=fmt.rdflib_name, encoding="utf-8")
    assert data is not None
    return data


def serialize_graph(graph: Graph, fmt: Format) -> bytes:
    """A single graph in one of GRAPH_FORMATS (TriG / N-Quads put it in the default graph)."""
    if fmt in (TRIG, NQUADS):
        dataset = Dataset()
        for prefix, ns in graph.namespaces():
            dataset.bind(prefix, ns, override=False)
        dataset.default_graph += graph
        return serialize_dataset(dataset, fmt)
    return graph.serialize(format=fmt.rdflib_name, encoding="utf-8")


def serialize_dataset(dataset: Dataset, fmt: Format) -> bytes:
    """A whole dataset with its named graphs (TriG, N-Quads, JSON-LD)."""
    return dataset.serialize(format=fmt.rdflib_name, encoding="utf-8")


# --- SPARQL Query Results XML (https://www.w3.org/TR/rdf-sparql-XMLres/) ---


def serialize_xml(result: Result) -> bytes:
    """SPARQL XML results. Not rdflib's writer: it hands each literal to XMLGenerator.characters,
    which skips falsy text, so a count of 0 (Literal("0") is falsy) came out as an empty literal."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    if result.type == "ASK":
        parts.append(f"<head/><boolean>{'true' if result.askAnswer else 'false'}</boolean></sparql>\n")
        return "".join(parts).encode("utf-8")
    variables = [str(v) for v in result.vars or []]
    parts.append("<head>" + "".join(f"<variable name={quoteattr(v)}/>" for v in variables) + "</head><results>")
    for row in result:
        parts.append("<result>")
        for name, term in zip(variables, row):  # type: ignore[arg-type]
            if term is not None:
                parts.append(f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>")
        parts.append("</result>")
    parts.append("</results></sparql>\n")
    return "".join(parts).encode("utf-8")


def _xml_term(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<uri>{escape(str(term))}</uri>"
    if isinstance(term, BNode):
        return f"<bnode>{escape(str(term))}</bnode>"
    assert isinstance(term, Literal)
    if term.language:
        attribute = f" xml:lang={quoteattr(term.language)}"
    elif term.datatype:
        attribute = f" datatype={quoteattr(str(term.datatype))}"
    else:
        attribute = ""
    return f"<literal{attribute}>{escape(str(term))}</literal>"


# --- SPARQL 1.1 Query Results TSV (https://www.w3.org/TR/sparql11-results-csv-tsv/) ---

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?[0-9]*\.[0-9]+")
_DOUBLE = re.compile(r"[+-]?([0-9]+\.[0-9]*|\.?[0-9]+)[eE][+-]?[0-9]+")
_SHORT_FORMS = {XSD.integer: _INTEGER, XSD.decimal: _DECIMAL, XSD.double: _DOUBLE}
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def serialize_tsv(result: Result) -> bytes:
    """SPARQL 1.1 TSV: a `?var` header, then one line per row with terms in Turtle syntax
    (unbound = empty field). ASK gives a one-column `?_askResult` table, as Jena does."""
    if result.type == "ASK":
        return f"?_askResult\n{'true' if result.askAnswer else 'false'}\n".encode()
    if result.type != "SELECT":
        raise ValueError(f"TSV holds SELECT or ASK results, not {result.type}")
    variables = list(result.vars or [])
    lines = ["\t".join(f"?{v}" for v in variables)]
    for row in result:
        lines.append("\t".join("" if term is None else tsv_term(term) for term in row))  # type: ignore[union-attr]
    return ("\n".join(lines) + "\n").encode("utf-8")


def tsv_term(term: Node) -> str:
    """One RDF term in Turtle/N-Triples syntax on a single line (numbers and booleans short)."""
    if isinstance(term, URIRef):
        return "<" + _IRI_FORBIDDEN.sub(lambda m: f"\\u{ord(m.group()):04X}", str(term)) + ">"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        lexical = str(term)
        short = _SHORT_FORMS.get(term.datatype)  # type: ignore[arg-type]
        if short is not None and short.fullmatch(lexical):
            return lexical
        if term.datatype == XSD.boolean and lexical in ("true", "false"):
            return lexical
        quoted = '"' + lexical.translate(_STRING_ESCAPES) + '"'
        if term.language:
            return f"{quoted}@{term.language}"
        if term.datatype and term.datatype != XSD.string:
            return f"{quoted}^^{tsv_term(term.datatype)}"
        return quoted
    return str(term)

"""THE query service: every door (/sparql, /queries/<name>, the /query editor, `caspian-kg query`,
`caspian-kg run`, saved-query enumerations) asks its questions here, so one request means the
same thing, and fails with the same message, on every door and every store.

`QueryService.answer(request)` parses once and applies the safety rules (`prepare`), picks the
dataset (`selection`), binds parameters as RDF terms, runs the query on the store's engine and
writes the answer, bounded (`serialize_answer`). The rules:

* only queries: update syntax is refused (and the Protocol's update forms, by the web door);
* nothing leaves the machine: SERVICE anywhere in the algebra is refused; FROM / FROM NAMED and
  default-graph-uri / named-graph-uri only pick among our own graphs (an unknown IRI is an empty
  graph); rdflib's graph loading is off; query workers refuse to open sockets (`init_worker`);
* limits: query size (413), nesting (400), result rows or triples (413); the deadline (503) is
  the worker pool's (`workers.py`), which every door runs its queries in.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

import rdflib.plugins.sparql
from pyparsing import ParseBaseException
from rdflib import URIRef
from rdflib.plugins.sparql import algebra
from rdflib.plugins.sparql.algebra import traverse
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.processor import SPARQLResult
from rdflib.plugins.sparql.sparql import Prologue, Query
from rdflib.term import Identifier

from .errors import BadRequest, EngineSyntaxError, PayloadTooLarge, ResultTooLarge, one_line
from .formats import GRAPH_FORMATS, RESULT_FORMATS, negotiate, serialize_graph, serialize_result
from .graph import KnowledgeGraph
from .oxterms import to_rdflib
from .stores.engine import RDFLIB_DEFAULT, DatasetSelection, Prepared
from .stores.native import NativeSolutions
from .stores.remote import endpoint_of

# Never let rdflib dereference FROM / FROM NAMED IRIs (we select graphs ourselves anyway).
rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False

# the values of `inference=` (HTTP) and what they mean; the CLI's --no-inference is "none"
INFERENCE = {"none": False, "rl": True}


def read_inference(value: str | None) -> bool:
    """The one reader of `inference=`: `rl` (the default) with the OWL 2 RL closure, `none` for
    asserted facts only. Absent means the default; anything else (an empty value too) is a 400,
    exactly as the OpenAPI document's enumeration says."""
    if value is None:
        return True
    if value in INFERENCE:
        return INFERENCE[value]
    raise BadRequest(f"inference={value!r}: use 'none' (asserted facts only) or 'rl' (with the OWL 2 RL closure)")


@dataclass(frozen=True)
class QueryRequest:
    """One question, as it crosses the pipe to a worker (picklable: plain values and RDF terms).
    Either `text` (an ad hoc query) or `saved` (a saved query's name, with `bindings`)."""

    text: str | None = None
    saved: str | None = None
    bindings: tuple[tuple[str, Identifier], ...] = ()  # variable name -> term, bound by the engine
    base: str = ""  # base IRI for relative IRIs in the query: the endpoint URL
    default_graphs: tuple[str, ...] | None = None  # the Protocol's dataset (None: not given)
    named_graphs: tuple[str, ...] | None = None
    inference: bool = True
    accept: str | None = None
    formats: tuple[str, ...] = ()  # format= values, alternatives in order (SPARQLWrapper sends two)


@dataclass(frozen=True)
class Answer:
    content_type: str
    body: bytes


class SavedQuery(Protocol):
    @property
    def sparql(self) -> str: ...

    @property
    def prepared(self) -> Query: ...


class Library(Protocol):
    """What the service needs of the saved-query library (`saved_queries.QueryLibrary`)."""

    def get(self, name: str) -> SavedQuery: ...


class QueryService:
    """Answers requests over one loaded graph. Lives in the web process and in every worker."""

    MEMO_SIZE = 4096

    def __init__(self, kg: KnowledgeGraph, max_results: int, max_query_bytes: int,
                 library: Library | None = None) -> None:
        self.kg, self.max_results, self.max_query_bytes, self.library = kg, max_results, max_query_bytes, library
        self.engine = kg.engine
        self._own = {name: str(iri) for name, iri in kg.graphs.items()}
        self._memo: dict[tuple[str, str], Prepared] = {}

    # --- the steps -----------------------------------------------------------------------------

    def prepare(self, text: str, base: str = "") -> Prepared:
        """Check a query text once (size, syntax, update, nesting, SERVICE) and remember its
        FROM graphs. rdflib's parse costs 10-30 ms: a native engine gets the text unparsed
        unless it mentions a keyword the rules are about (its parser's syntax errors are then
        re-read by rdflib's, in `run`); checked texts are memoised."""
        if len(text.encode("utf-8")) > self.max_query_bytes:
            raise PayloadTooLarge(f"query larger than {self.max_query_bytes} bytes")
        if not text.strip():
            raise BadRequest("empty query")
        key = (text, base)
        prepared = self._memo.get(key)
        if prepared is None:
            keywords, depth = scan(text)
            if depth > MAX_NESTING:
                raise BadRequest(NESTED_TOO_DEEPLY)
            if not self.engine.needs_algebra and not keywords:
                prepared = Prepared(text, None, base=base or None)
            else:
                query = parse_query(text, base, self.kg.prefixes())
                default, named = dataset_clause(query)
                prepared = Prepared(text, query if self.engine.needs_algebra else None, default, named, base or None)
            if len(self._memo) >= self.MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = prepared
        return prepared

    def selection(self, inference: bool, default: Sequence[str] | None, named: Sequence[str] | None,
                  ) -> DatasetSelection:
        """The dataset a query runs on: ours as a whole, or the listed graphs among our own
        (anything else is dropped: nothing is ever fetched); the closure only with inference."""
        if default is not None and list(default) == [RDFLIB_DEFAULT] and named is None:
            default = None
        if default is None and named is None:
            return DatasetSelection(inference)
        own = {iri for name, iri in self._own.items() if inference or name != "inferred"}
        return DatasetSelection(inference, tuple(g for g in default or () if g in own or g == RDFLIB_DEFAULT),
                                tuple(g for g in named or () if g in own))

    def run(self, request: QueryRequest) -> Any:
        """Evaluate a request: an rdflib Result, or native solutions that write themselves."""
        if request.saved is not None:
            if self.library is None:
                raise BadRequest("no saved queries are loaded")
            saved = self.library.get(request.saved)
            prepared = Prepared(saved.sparql, saved.prepared if self.engine.needs_algebra else None)
        else:
            prepared = self.prepare(request.text or "", request.base)
        default, named = request.default_graphs, request.named_graphs
        if default is None and named is None:
            default, named = prepared.from_default, prepared.from_named
        selection = self.selection(request.inference, default, named)
        try:
            return self.engine.query(prepared, selection, dict(request.bindings))
        except EngineSyntaxError:
            if prepared.text is None or prepared.algebra is not None:
                raise
            parse_query(prepared.text, request.base, self.kg.prefixes())  # rdflib's reason, as on every store
            raise  # a text only the engine's dialect refuses: its own reason

    def answer(self, request: QueryRequest) -> Answer:
        """Run and write a request (what every query worker does for every door)."""
        return serialize_answer(self.kg, self.max_results, self.run(request), request.accept, request.formats)

    def values(self, text: str | None, algebra: Query) -> list[Identifier]:
        """The first column of a SELECT given as text (when it can be written) and as algebra:
        saved-query enumerations, which run natively when there is text."""
        result = self.engine.query(Prepared(text, algebra), DatasetSelection(), {})
        if isinstance(result, NativeSolutions):
            return [to_rdflib(row[0]) for row in result.solutions if row[0] is not None]
        return [row[0] for row in result if row[0] is not None]  # type: ignore[index]


# --- parsing and the safety rules ------------------------------------------------------------


def parse_query(text: str, base: str | None = None, prefixes: Mapping[str, str] | None = None) -> Query:
    """Parse and translate a query; syntax errors, updates and SERVICE become one-line 400s.
    `prefixes` are predeclared (the data's: ck:, org:, state:... as on Wikidata's service), the
    same ones every store declares, so a query means the same on each."""
    try:
        query = translate(parseQuery(text), base, prefixes or {})
    except ParseBaseException as exc:
        if _is_update(text):
            raise BadRequest("SPARQL Update is not accepted: this endpoint is read-only") from None
        raise BadRequest(f"SPARQL syntax error: {one_line(str(exc))}") from None
    except RecursionError:
        raise BadRequest(NESTED_TOO_DEEPLY) from None
    except Exception as exc:  # noqa: BLE001 - rdflib reports unknown prefixes etc. as bare Exceptions
        raise BadRequest(f"invalid query: {one_line(str(exc))}") from None
    if uses_service(query.algebra):
        raise BadRequest("SERVICE (federated query) is not allowed on this endpoint")
    return query


class _Prologue(Prologue):
    """rdflib's Prologue keeps one prefix per namespace, so `PREFIX : <…ontology#>` in a query
    made the predeclared `ck:` (the same namespace) unknown. Prefixes here are a plain map, as
    SPARQL defines them: any number of prefixes may name one namespace."""

    def __init__(self) -> None:
        super().__init__()
        self.base = ""
        self.names: dict[str, URIRef] = {}

    def bind(self, prefix: str | None, uri: Any) -> None:
        super().bind(prefix, uri)
        self.names[prefix or ""] = URIRef(uri)

    def resolvePName(self, prefix: str | None, localname: str | None) -> URIRef:
        namespace = self.names.get(prefix or "")
        if namespace is None:
            raise ValueError(f"Unknown namespace prefix : {prefix}")  # worded as rdflib words it
        return URIRef(namespace + (localname or ""))


def translate(parsed: Any, base: str | None, prefixes: Mapping[str, str]) -> Query:
    """rdflib's translateQuery (rdflib 7, pinned below 8) with two corrections: our prologue
    (any number of prefixes per namespace), and the short form `CONSTRUCT WHERE { … }`, whose
    template is its pattern (rdflib left it empty, and evaluating it failed with a TypeError)."""
    prologue = algebra.translatePrologue(parsed[0], base, dict(prefixes), prologue=_Prologue())
    parsed[1] = traverse(parsed[1], visitPost=functools.partial(algebra.translatePName, prologue=prologue))
    pattern, variables = algebra.translate(parsed[1])
    clause = parsed[1].datasetClause
    if parsed[1].name == "ConstructQuery":
        template = algebra.triples(parsed[1].template) if parsed[1].template else None
        result = CompValue(parsed[1].name, p=pattern, template=template, datasetClause=clause)
    else:
        result = CompValue(parsed[1].name, p=pattern, datasetClause=clause, PV=variables)
    result = traverse(result, visitPost=algebra.simplify)
    if result.name == "ConstructQuery" and result.template is None:
        result["template"] = _short_form(result.p)
    algebra._traverseAgg(result, visitor=algebra.analyse)
    algebra._traverseAgg(result, algebra._addVars)
    return Query(prologue, result)


def _short_form(pattern: Any) -> list[Any]:
    """The triples of `CONSTRUCT WHERE { triples }`: its pattern's basic graph pattern."""
    while isinstance(pattern, CompValue) and pattern.name != "BGP" and "p" in pattern:
        pattern = pattern.p
    return list(pattern.triples) if isinstance(pattern, CompValue) and pattern.name == "BGP" else []


def _is_update(text: str) -> bool:
    try:
        parseUpdate(text)
    except Exception:  # noqa: BLE001 - any failure means "not an update"
        return False
    return True


def uses_service(algebra: Any) -> bool:
    """True when a SERVICE clause occurs anywhere (subqueries, OPTIONAL, FILTER EXISTS...)."""
    found: list[bool] = []

    def visit(node: Any) -> None:
        if getattr(node, "name", None) == "ServiceGraphPattern":
            found.append(True)

    traverse(algebra, visitPre=visit)
    return bool(found)


def dataset_clause(query: Query) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The query's own FROM and FROM NAMED graphs (None, None when it has none)."""
    clause = query.algebra.datasetClause
    if not clause:
        return None, None
    return (tuple(str(c.default) for c in clause if c.default is not None),
            tuple(str(c.named) for c in clause if c.named is not None))


# Strings, IRIs and comments are blanked first, so "service" in a literal or an IRI does not count.
_STRINGS_AND_COMMENTS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*')
_CHECKED_KEYWORDS = re.compile(
    r"\b(SERVICE|FROM|LOAD|INSERT|DELETE|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH|USING)\b", re.IGNORECASE)


# Nesting: generated queries (YASGUI's and Wikidata's builders) nest deeper than rdflib's parser
# reaches under Python's default recursion limit (24 to 37 levels), so query workers raise the
# limit (`init_worker`); with it rdflib reads some 800 levels, and a text nested deeper than
# MAX_NESTING is refused before any parser sees it, on every store alike.
MAX_NESTING = 256
WORKER_RECURSION_LIMIT = 30_000
NESTED_TOO_DEEPLY = f"the query is nested too deeply (at most {MAX_NESTING} levels of brackets)"


def scan(text: str) -> tuple[bool, int]:
    """(whether a text mentions a keyword a safety rule is about — SERVICE, FROM, any update —,
    how deeply its brackets nest), outside strings, IRIs and comments."""
    code = _STRINGS_AND_COMMENTS.sub(" ", text)
    depth = deepest = 0
    for char in code:
        if char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]":
            depth -= 1
    return _CHECKED_KEYWORDS.search(code) is not None, deepest


# --- writing the answer ----------------------------------------------------------------------


def serialize_answer(kg: KnowledgeGraph, max_results: int, result: Any, accept: str | None,
                     formats: Sequence[str]) -> Answer:
    """Bound and serialise a result (whatever engine produced it) in the format negotiated
    from `accept` and `formats` (format= values or a saved query's format name). SELECT
    solutions still inside Oxigraph (NativeSolutions) are written by Oxigraph."""
    if result.type in ("SELECT", "ASK"):
        fmt = negotiate(accept, RESULT_FORMATS, formats)
        if isinstance(result, NativeSolutions):
            return Answer(fmt.content_type, result.serialize(fmt.name, max_results))
        if result.type == "SELECT":
            result = _bounded(result, max_results)
        return Answer(fmt.content_type, serialize_result(result, fmt))
    fmt = negotiate(accept, GRAPH_FORMATS, formats)
    assert result.graph is not None
    if len(result.graph) > max_results:
        raise ResultTooLarge(f"the result has more than {max_results} triples (the limit); make the query more selective")
    for prefix, ns in kg.dataset.namespaces():
        result.graph.bind(prefix, ns, override=False)
    return Answer(fmt.content_type, serialize_graph(result.graph, fmt))


def _bounded(result: SPARQLResult, max_results: int) -> SPARQLResult:
    """Materialise at most `max_results` rows; one more means the result is too large."""
    variables = list(result.vars or [])
    rows = [
        {v: value for v, value in zip(variables, row) if value is not None}  # type: ignore[arg-type]
        for row in islice(result, max_results + 1)
    ]
    if len(rows) > max_results:
        raise ResultTooLarge(f"the result has more than {max_results} rows (the limit); add a LIMIT or page with OFFSET")
    return SPARQLResult({"type_": "SELECT", "vars_": variables, "bindings": rows})


# --- the query worker ------------------------------------------------------------------------


def init_worker(kg: KnowledgeGraph) -> None:
    """Initializer of every query worker: no network but the store's own, its own store handle,
    and room for rdflib's parser to read deeply nested queries (a forked worker's main thread has
    the process's full stack: 800 levels of nesting parse within it)."""
    sys.setrecursionlimit(WORKER_RECURSION_LIMIT)
    forbid_network(kg.engine.peers())
    kg.engine.after_fork()


def forbid_network(allowed: set[tuple[str, int]]) -> None:
    """Any socket connect or DNS lookup raises, except to `allowed` (a remote store): defence in
    depth against SERVICE / remote loading, whatever path rdflib might take to the network."""

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if allowed and event in ("socket.connect", "socket.getaddrinfo", "urllib.Request") and \
                _to_allowed(event, args, allowed):
            return
        if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"):
            raise PermissionError(f"outbound network access is disabled in query workers ({event})")

    sys.addaudithook(hook)


def _to_allowed(event: str, args: tuple[Any, ...], allowed: set[tuple[str, int]]) -> bool:
    if event == "socket.getaddrinfo":
        return (str(args[0]), int(args[1] or 0)) in allowed
    if event == "urllib.Request":
        return endpoint_of(str(args[0])) in allowed
    address = args[1] if len(args) > 1 else None
    return isinstance(address, tuple) and len(address) >= 2 and (str(address[0]), int(address[1])) in allowed

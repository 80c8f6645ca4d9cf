"""The SPARQL 1.1 Protocol endpoint at /sparql: read-only, bounded, and never fetching anything.

The web thread only parses the HTTP request (`read_protocol`), answers conditional requests and
the service description; the query itself — parse, checks, dataset selection, evaluation,
serialisation — runs in a forked worker (`run_query`, through `workers.WorkerPool`) so that a
deadline can really stop it. Safety rules, all enforced here:

* only queries: an update (form `update=`, `application/sparql-update`, or update syntax) is refused;
* no outbound requests: SERVICE anywhere in the algebra is a 400, FROM / FROM NAMED and
  default-graph-uri / named-graph-uri only pick among the dataset's own graphs (an unknown IRI is an
  empty graph), rdflib's graph loading is off, and workers refuse to open sockets at all;
* limits: query size (413), result size (413), run time (503).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import rdflib.plugins.sparql
from flask import Blueprint, Response, current_app, request
from pyparsing import ParseBaseException
from rdflib import RDF, RDFS, XSD, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.plugins.sparql.algebra import translateQuery, traverse
from rdflib.plugins.sparql.evaluate import evalPart
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.processor import SPARQLResult
from rdflib.plugins.sparql.sparql import Query, QueryContext
from werkzeug.datastructures import MultiDict

from .backends import NativeSolutions
from .config import Config
from .errors import BadRequest, PayloadTooLarge, ResultTooLarge, UnsupportedMediaType
from .formats import FORMAT_IRIS, GRAPH_FORMATS, RESULT_FORMATS, negotiate, serialize_graph, serialize_result
from .store import KnowledgeGraph
from .workers import one_line

# Never let rdflib dereference FROM / FROM NAMED IRIs (we select graphs ourselves anyway).
rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
OWL_RDF_BASED = URIRef("http://www.w3.org/ns/entailment/OWL-RDF-Based")
OWL2_RL = URIRef("http://www.w3.org/ns/owl-profile/RL")

QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
FORM_TYPE = "application/x-www-form-urlencoded"
ASSERTED_ONLY = {"none", "false", "asserted"}
WITH_CLOSURE = {"", "rl", "owl-rl", "true", "full"}
CACHE_CONTROL = "public, max-age=300"
# rdflib's SPARQLStore sends this as default-graph-uri to mean "the service's default graph"
RDFLIB_DEFAULT = "urn:x-rdflib:default"

bp = Blueprint("sparql", __name__)


@dataclass(frozen=True)
class QueryJob:
    """Everything a worker needs to answer one request (picklable: plain values only)."""

    query: str
    base: str  # base IRI for relative IRIs in the query: the endpoint URL
    default_graphs: tuple[str, ...] | None  # protocol dataset (None: not given)
    named_graphs: tuple[str, ...] | None
    inference: bool
    accept: str | None
    formats: tuple[str, ...]  # format= values, alternatives in order (SPARQLWrapper sends two)


@dataclass(frozen=True)
class Answer:
    content_type: str
    body: bytes


# --- the web side ---------------------------------------------------------------------------


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    state = current_app.extensions["caspian_kg"]
    config: Config = state["config"]
    params, query = read_protocol(config.max_query_bytes)
    if query is None:
        if request.method == "POST":
            raise BadRequest("no query: send it as the 'query' parameter or as an application/sparql-query body")
        return service_description(state["kg"], config, params.getlist("format"))
    job = QueryJob(
        query=query,
        base=request.base_url,
        default_graphs=tuple(params.getlist("default-graph-uri")) or None,
        named_graphs=tuple(params.getlist("named-graph-uri")) or None,
        inference=read_inference(params),
        accept=request.headers.get("Accept"),
        formats=tuple(f for f in params.getlist("format") if f),
    )
    etag = _etag(state["kg"].version, job)
    if request.method in ("GET", "HEAD") and request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        from .cache import ANSWERS

        answer: Answer = ANSWERS.get_or_run(("sparql", etag), lambda: state["pool"].submit(job))
        response = Response(answer.body, content_type=answer.content_type)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = CACHE_CONTROL if request.method != "POST" else "no-cache"
    return response


@bp.after_request
def _vary(response: Response) -> Response:
    response.vary.add("Accept")
    return response


def read_protocol(max_query_bytes: int) -> tuple[MultiDict[str, str], str | None]:
    """The request's parameters (URL and form body together) and its query text, or None when
    there is none. Enforces the Protocol's rules: one query, a known POST media type, UTF-8."""
    if request.content_length is not None and request.content_length > max_query_bytes + 16_384:
        raise PayloadTooLarge(f"request body larger than the {max_query_bytes}-byte query limit")
    params: MultiDict[str, str] = MultiDict(request.args.items(multi=True))
    direct: str | None = None
    if request.method == "POST":
        media_type = request.mimetype
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if media_type == UPDATE_TYPE:
            raise UnsupportedMediaType("SPARQL Update is not accepted: this endpoint is read-only")
        if media_type not in (FORM_TYPE, QUERY_TYPE):
            got = f"Content-Type {media_type!r}" if media_type else "no Content-Type"
            raise UnsupportedMediaType(f"POST needs Content-Type {FORM_TYPE} or {QUERY_TYPE}, got {got}")
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"the request must be encoded in UTF-8, not {charset}")
        if media_type == FORM_TYPE:
            params.update(request.form.items(multi=True))
        else:
            try:
                direct = request.get_data(cache=False).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BadRequest(f"the query is not valid UTF-8 (byte {exc.start})") from None
    if "update" in params or "using-graph-uri" in params or "using-named-graph-uri" in params:
        raise BadRequest("SPARQL Update is not accepted: this endpoint is read-only")
    queries = params.getlist("query") + ([direct] if direct is not None else [])
    if len(queries) > 1:
        raise BadRequest(f"{len(queries)} queries in one request; send exactly one")
    if not queries:
        return params, None
    query = queries[0]
    if len(query.encode("utf-8")) > max_query_bytes:
        raise PayloadTooLarge(f"query larger than {max_query_bytes} bytes")
    if not query.strip():
        raise BadRequest("empty query")
    return params, query


def read_inference(params: MultiDict[str, str]) -> bool:
    """`inference=none` asks for asserted facts only; the default includes the OWL 2 RL closure."""
    value = (_single(params, "inference") or "").lower()
    if value in ASSERTED_ONLY:
        return False
    if value in WITH_CLOSURE:
        return True
    raise BadRequest(f"inference={value!r}: use 'none' (asserted facts only) or 'rl' (with the OWL 2 RL closure)")


def _single(params: MultiDict[str, str], name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"parameter {name!r} given {len(values)} times")
    return values[0] if values else None


def _etag(version: str, job: QueryJob) -> str:
    """Same dataset version + same request (query, base, dataset, inference, format) = same bytes."""
    key = "\x00".join(
        [version, job.query, job.base, repr(job.default_graphs), repr(job.named_graphs), str(job.inference),
         job.accept or "", *job.formats]
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


# --- the worker side ------------------------------------------------------------------------


def run_query(kg: KnowledgeGraph, max_results: int, job: QueryJob) -> Answer:
    """Parse, check, evaluate and serialise one query (runs inside a worker process)."""
    if kg.backend is not None:  # Oxigraph on disk or a remote engine evaluates the text itself
        from .backends import run_native

        return serialize_answer(kg, max_results, run_native(kg, job), job.accept, job.formats)
    query = parse_query(job.query, job.base, kg.prefixes())
    main = query.algebra
    default, named = job.default_graphs, job.named_graphs
    if default is None and named is None and main.datasetClause:
        default = tuple(str(c.default) for c in main.datasetClause if c.default is not None)
        named = tuple(str(c.named) for c in main.datasetClause if c.named is not None)
    main.datasetClause = None  # the dataset is ours to build, never rdflib's to load
    graph, dataset = select_dataset(kg, job.inference, default, named)
    ctx = QueryContext(dataset, initBindings={})
    ctx.graph = graph
    ctx.prologue = query.prologue
    return serialize_answer(kg, max_results, SPARQLResult(evalPart(ctx, main)), job.accept, job.formats)


def serialize_answer(kg: KnowledgeGraph, max_results: int, result: Any, accept: str | None,
                     formats: Sequence[str]) -> Answer:
    """Bound and serialise a result (whatever engine produced it) in the format negotiated
    from `accept` and `formats` (format= values or a saved query's format name). SELECT
    solutions still inside Oxigraph (backends.NativeSolutions) are written by Oxigraph."""
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


def parse_query(text: str, base: str | None = None, prefixes: dict[str, str] | None = None) -> Query:
    """Parse and translate a query; syntax errors, updates and SERVICE become one-line 400s.
    `prefixes` are predeclared (the data's: ck:, org:, state:... as on Wikidata's service), the
    same ones every store declares, so a query means the same on each."""
    try:
        query = translateQuery(parseQuery(text), base=base, initNs=prefixes)
    except ParseBaseException as exc:
        if _is_update(text):
            raise BadRequest("SPARQL Update is not accepted: this endpoint is read-only") from None
        raise BadRequest(f"SPARQL syntax error: {one_line(str(exc))}") from None
    except RecursionError:
        raise BadRequest("the query is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - rdflib reports unknown prefixes etc. as bare Exceptions
        raise BadRequest(f"invalid query: {one_line(str(exc))}") from None
    if uses_service(query.algebra):
        raise BadRequest("SERVICE (federated query) is not allowed on this endpoint")
    return query


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


def select_dataset(
    kg: KnowledgeGraph, inference: bool, default: Iterable[str] | None, named: Iterable[str] | None
) -> tuple[Graph, Dataset]:
    """The (default graph, dataset of named graphs) a query runs on.

    With no dataset given: the union of every graph (with or without the closure) and all named
    graphs, shared, no copy. Otherwise the Protocol/SPARQL rules: the default graph is the merge
    of the listed graphs, the named graphs are exactly the listed ones — each looked up among
    our own graphs only (unknown IRIs are empty: nothing is ever fetched).
    """
    source = kg.view(inference)
    default = list(default) if default is not None else None
    if default == [RDFLIB_DEFAULT] and named is None:
        default = None
    if default is None and named is None:
        return source, source
    own = {str(iri) for iri in kg.graphs.values()}
    graph = Graph()
    dataset = Dataset()
    for iri in default or ():
        if iri == RDFLIB_DEFAULT:
            graph.addN((s, p, o, graph) for s, p, o in source.triples((None, None, None)))
        elif iri in own:
            graph += source.get_context(URIRef(iri))
    for iri in named or ():
        if iri in own:
            dataset.graph(URIRef(iri)).__iadd__(source.get_context(URIRef(iri)))
    return graph, dataset


def _bounded(result: SPARQLResult, max_results: int) -> SPARQLResult:
    """Materialise at most `max_results` rows; one more means the result is too large."""
    variables = list(result.vars or [])
    rows = [
        {v: value for v, value in zip(variables, row) if value is not None}  # type: ignore[arg-type]
        for row in islice(result, max_results + 1)
    ]
    if len(rows) > max_results:
        raise ResultTooLarge(f"the result has more than {max_results} rows (the limit); add a LIMIT or page with OFFSET")
    bounded = SPARQLResult({"type_": "SELECT", "vars_": variables, "bindings": rows})
    return bounded


def init_worker(kg: KnowledgeGraph) -> None:
    """Initializer of every query worker: no network, and its own handle on an on-disk store."""
    forbid_network()
    if kg.backend is not None:
        kg.backend.own_handle()  # type: ignore[attr-defined]


def forbid_network() -> None:
    """Worker initializer: any socket connect or DNS lookup raises (defence in depth against
    SERVICE / remote loading, whatever path rdflib might take to the network)."""

    from .backends import allowed_remote

    allowed = allowed_remote()  # a remote store (serve --store URL) is the one permitted peer

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
        from .backends import endpoint_of

        return endpoint_of(str(args[0])) in allowed
    address = args[1] if len(args) > 1 else None
    return isinstance(address, tuple) and len(address) >= 2 and (str(address[0]), int(address[1])) in allowed


# --- service description --------------------------------------------------------------------


def service_description(kg: KnowledgeGraph, config: Config, format_override: Sequence[str]) -> Response:
    """SPARQL 1.1 Service Description of this endpoint, in the negotiated RDF syntax."""
    fmt = negotiate(request.headers.get("Accept"), GRAPH_FORMATS, format_override)
    graph = describe_service(kg, config, URIRef(request.base_url))
    response = Response(serialize_graph(graph, fmt), content_type=fmt.content_type)
    response.set_etag(hashlib.sha256(f"{kg.version} {request.base_url} {fmt.name}".encode()).hexdigest()[:32], weak=True)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response.make_conditional(request)  # type: ignore[return-value]


def describe_service(kg: KnowledgeGraph, config: Config, endpoint_iri: URIRef) -> Graph:
    g = Graph()
    for prefix, ns in (("sd", SD), ("void", VOID), ("dcterms", DCTERMS), ("formats", FORMATS)):
        g.bind(prefix, ns)
    service, dataset, default = endpoint_iri, URIRef(f"{endpoint_iri}#dataset"), URIRef(f"{endpoint_iri}#default-graph")
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, endpoint_iri))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    for fmt in RESULT_FORMATS + GRAPH_FORMATS:
        g.add((service, SD.resultFormat, FORMATS[FORMAT_IRIS[fmt.name]]))
    g.add((service, SD.defaultEntailmentRegime, OWL_RDF_BASED))
    g.add((service, SD.supportedEntailmentProfile, OWL2_RL))
    g.add((service, SD.defaultDataset, dataset))
    g.add((service, DCTERMS.title, Literal("caspian-kg SPARQL 1.1 endpoint", lang="en")))
    g.add((service, RDFS.comment, Literal(
        "Read-only: SPARQL Update, SERVICE and remote FROM graphs are refused. The default graph is the "
        f"union of all named graphs, including the OWL 2 RL closure <{kg.inferred_graph}>; add "
        "inference=none to a request to query asserted facts only. default-graph-uri / named-graph-uri "
        f"select among the named graphs listed here. Limits: {config.query_timeout:g} s per query, "
        f"{config.max_results} result rows or triples, {config.max_query_bytes} bytes of query text.",
        lang="en")))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, RDFS.seeAlso, URIRef(request.url_root + ".well-known/void")))  # VoID statistics
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, VOID.triples, Literal(len(kg.dataset), datatype=XSD.integer)))
    for name, iri in sorted(kg.graphs.items()):
        node, description = URIRef(f"{endpoint_iri}#graph-{name}"), URIRef(f"{endpoint_iri}#graph-{name}-g")
        g.add((dataset, SD.namedGraph, node))
        g.add((node, RDF.type, SD.NamedGraph))
        g.add((node, SD.name, iri))
        g.add((node, SD.graph, description))
        g.add((description, RDF.type, SD.Graph))
        g.add((description, VOID.triples, Literal(len(kg.dataset.get_context(iri)), datatype=XSD.integer)))
        if iri == kg.inferred_graph:
            g.add((node, SD.entailmentRegime, OWL_RDF_BASED))
            g.add((node, RDFS.comment, Literal(
                "Triples entailed by the OWL 2 RL rules and not asserted anywhere; left out with inference=none.",
                lang="en")))
    return g

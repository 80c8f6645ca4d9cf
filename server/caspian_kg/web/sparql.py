"""The SPARQL 1.1 Protocol endpoint at /sparql: the HTTP door to the query service.

This module only reads the Protocol's request (`read_protocol`: GET, form POST, direct POST,
one query, UTF-8, no update forms), answers the service description (or, to a browser that asks
for a page and sends no query, the editor: `editor.py`), and hands a
`query.QueryRequest` to `helpers.answer`; parsing, the safety rules, dataset selection,
evaluation and writing happen in the query service, in a forked worker with a deadline.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request
from rdflib import Graph, Literal, URIRef
from werkzeug.datastructures import MultiDict

from ..config import Config
from ..errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from ..formats import FORMAT_IRIS, GRAPH_FORMATS, RESULT_FORMATS, serialize_graph
from ..graph import KnowledgeGraph
from ..query import QueryRequest
from ..vocab import DCTERMS, FORMATS, RDF, RDFS, SD, VOID, XSD
from . import editor, helpers
from .state import current

OWL_RDF_BASED = URIRef("http://www.w3.org/ns/entailment/OWL-RDF-Based")
OWL2_RL = URIRef("http://www.w3.org/ns/owl-profile/RL")

# a GET carrying one of these is a query request: without a query it is a 400, not the description
PROTOCOL_PARAMETERS = frozenset({"default-graph-uri", "named-graph-uri", "inference"})
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
FORM_TYPE = "application/x-www-form-urlencoded"

bp = Blueprint("sparql", __name__)


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    state = current()
    params, query = read_protocol(state.config.max_query_bytes)
    if query is None:
        given = sorted(set(params) & PROTOCOL_PARAMETERS)
        if request.method == "POST" or given:
            raise BadRequest(f"no query{' (but ' + ', '.join(given) + ')' if given else ''}: send it as the "
                             "'query' parameter or as an application/sparql-query body")
        if editor.wants_page():  # a browser following a link: the editor, not a download
            return editor.editor_page()
        return service_description(state.kg, state.config, params)
    if "" in params.getlist("default-graph-uri") + params.getlist("named-graph-uri"):
        raise BadRequest("an empty default-graph-uri or named-graph-uri names no graph")
    job = QueryRequest(
        text=query,
        base=request.base_url,
        default_graphs=tuple(params.getlist("default-graph-uri")) or None,
        named_graphs=tuple(params.getlist("named-graph-uri")) or None,
        inference=helpers.inference(params),
        accept=request.headers.get("Accept"),
        formats=helpers.formats(params),
    )
    return helpers.answer(job, helpers.CACHE_CONTROL if request.method != "POST" else "no-cache")


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
    return params, queries[0]  # size, syntax and the safety rules: the query service


# --- service description --------------------------------------------------------------------


def service_description(kg: KnowledgeGraph, config: Config, params: MultiDict[str, str]) -> Response:
    """SPARQL 1.1 Service Description of this endpoint, in the negotiated RDF syntax."""
    fmt = helpers.choose(GRAPH_FORMATS, params)
    graph = describe_service(kg, config, URIRef(request.base_url))
    response = Response(serialize_graph(graph, fmt), content_type=fmt.content_type)
    response.set_etag(hashlib.sha256(f"{kg.version} {request.base_url} {fmt.name}".encode()).hexdigest()[:32], weak=True)
    response.headers["Cache-Control"] = helpers.CACHE_CONTROL
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

"""Web views of the saved queries: /queries (list), /queries/<name> (run), /openapi.json.

A saved query runs like a /sparql query: in a forked worker under the same per-query deadline
(`workers.WorkerPool`), answered in the format negotiated by `formats.negotiate` (Accept or
`format=`), plus an HTML page with a form built from the parameters. Parameters are parsed and
checked in the web thread (a bad value is a 400 before any work), then travel to the worker as
RDF terms and are bound by the engine there (`saved.execute`), never spliced into text.

The worker pool is separate from /sparql's because a job carries a query name and bindings, not
query text; like /sparql's, it forks on the first run, or at start when `serve.run` starts every pool in
app.extensions["caspian_kg"]["pools"].
"""

from __future__ import annotations

import atexit
import hashlib
import json
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask.blueprints import BlueprintSetupState
from rdflib import RDFS, URIRef
from rdflib.term import Identifier

from . import __version__
from .config import Config
from .errors import BadRequest, CaspianError
from .formats import GRAPH_FORMATS, RESULT_FORMATS, SPARQL_JSON, Format, negotiate
from .saved import LEXICAL, RESERVED, Parameter, QueryLibrary, SavedQuery, execute
from .sparql import Answer, init_worker, read_inference, serialize_answer
from .store import KnowledgeGraph
from .workers import WorkerPool

HTML = Format("html", "text/html", "html", ("application/xhtml+xml",), ("htm",))
LIST_JSON = Format("json", "application/json", "json")
SAVED_FORMATS: tuple[Format, ...] = RESULT_FORMATS + (HTML,)
CACHE_CONTROL = "public, max-age=300"
EXTENSION = "caspian_kg_saved"

bp = Blueprint("saved", __name__, template_folder="templates", static_folder="static",
               static_url_path="/saved-static")


@dataclass(frozen=True)
class SavedJob:
    """One run of a saved query, as it crosses the pipe to a worker (picklable values only)."""

    name: str
    bindings: tuple[tuple[str, Identifier], ...]
    format: str  # a Format.name of RESULT_FORMATS or GRAPH_FORMATS, negotiated in the web thread
    inference: bool = True  # False: asserted facts only (?inference=none, as on /sparql)




@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    """Read queries/*.rq when the app is built: a broken saved query stops the server at start."""
    app = state.app
    shared = app.extensions["caspian_kg"]
    config: Config = shared["config"]
    library = QueryLibrary.load(config)
    pool = WorkerPool(
        partial(run_job, shared["kg"], library, config.max_results),
        size=config.workers,
        timeout=config.query_timeout,
        initializer=partial(init_worker, shared["kg"]),
    )
    atexit.register(pool.close)
    app.extensions[EXTENSION] = {"library": library, "pool": pool}
    shared["pools"].append(pool)  # forked eagerly by serve.run, before the server has threads


def _state() -> tuple[KnowledgeGraph, QueryLibrary, WorkerPool]:
    saved = current_app.extensions[EXTENSION]
    return current_app.extensions["caspian_kg"]["kg"], saved["library"], saved["pool"]


# --- the worker side ------------------------------------------------------------------------


def run_job(kg: KnowledgeGraph, library: QueryLibrary, max_results: int, job: SavedJob) -> Answer:
    """Evaluate and serialise one saved query (runs inside a worker process), bounded and
    written exactly as /sparql writes its answers."""
    query = library.get(job.name)
    result: Any
    if kg.backend is not None:  # Oxigraph on disk / remote engine: native evaluation
        from .backends import execute_saved

        result = execute_saved(kg, query, dict(job.bindings), job.inference, native=True)
    else:
        result = execute(kg, query, dict(job.bindings), job.inference)
    return serialize_answer(kg, max_results, result, None, (job.format,))


# --- the web side ---------------------------------------------------------------------------


@bp.get("/queries")
def list_queries() -> Response:
    _, library, _ = _state()
    fmt = negotiate(request.headers.get("Accept"), (LIST_JSON, HTML), request.args.get("format"))
    if fmt is HTML:
        html = render_template("queries_list.html", queries=list(library))
        return _vary(Response(html, content_type=HTML.content_type))
    return _vary(jsonify(queries=[describe(q, request.script_root) for q in library]))


def describe(query: SavedQuery, root: str = "") -> dict[str, Any]:
    """The JSON listing entry of one query."""
    return {
        "name": query.name,
        "summary": query.summary,
        "description": query.description,
        "tags": list(query.tags),
        "type": query.query_type,
        "url": f"{root}/queries/{query.name}",
        "parameters": [
            {"name": p.name, "type": p.type_label, "required": p.api_required,
             "default": p.default, "variable": "?" + p.variable}
            for p in query.parameters
        ],
    }


@bp.get("/queries/<name>")
def run_saved(name: str) -> Response:
    kg, library, pool = _state()
    query = library.get(name)
    formats = request.args.getlist("format")
    if len(formats) > 1:
        raise BadRequest(f"parameter 'format' given {len(formats)} times")
    offered = SAVED_FORMATS if query.query_type in ("SELECT", "ASK") else GRAPH_FORMATS + (HTML,)
    fmt = negotiate(request.headers.get("Accept"), offered, formats[0] if formats else None)
    values = _parameter_values(query)
    inference = read_inference(request.args)
    if fmt is HTML:
        return _vary(_page(kg, library, pool, query, values, inference))
    bindings = library.bind(kg, query, values)
    job = SavedJob(query.name, tuple(sorted(bindings.items())), fmt.name, inference)
    etag = hashlib.sha256(repr((kg.version, job)).encode()).hexdigest()[:32]
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        from .cache import ANSWERS

        answer: Answer = ANSWERS.get_or_run(("saved", kg.version, job), lambda: pool.submit(job))
        response = Response(answer.body, content_type=answer.content_type)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return _vary(response)


def _parameter_values(query: SavedQuery) -> dict[str, str]:
    """The query's parameters from the URL (`format` is ours); a repeated one is a 400."""
    values: dict[str, str] = {}
    for key in request.args:
        if key in RESERVED:
            continue
        given = request.args.getlist(key)
        if len(given) > 1:
            raise BadRequest(f"parameter {key!r} given {len(given)} times")
        values[key] = given[0]
    return values


def _vary(response: Response) -> Response:
    response.vary.add("Accept")
    return response


def _page(kg: KnowledgeGraph, library: QueryLibrary, pool: WorkerPool, query: SavedQuery,
          values: dict[str, str], inference: bool = True) -> Response:
    """The HTML page: description, form, results (or the error), SPARQL text, format links.

    The query runs in a worker like any other request (as SPARQL JSON, turned into a table here).
    A first visit without parameters shows the form only when a required one has no default.
    """
    error, table, status = None, None, 200
    missing = [p for p in query.parameters if p.api_required and not values.get(p.name)]
    if not (missing and not values):
        try:
            bindings = library.bind(kg, query, values)
            fmt = SPARQL_JSON if query.query_type in ("SELECT", "ASK") else GRAPH_FORMATS[0]
            answer: Answer = pool.submit(SavedJob(query.name, tuple(sorted(bindings.items())), fmt.name,
                                                  inference))
            table = _table(kg, answer) if fmt is SPARQL_JSON else {"text": answer.body.decode("utf-8")}
        except CaspianError as exc:
            error, status = exc.message, exc.status
    kept = values if inference else {**values, "inference": "none"}
    links = {f.name: _with_format(kept, f.name) for f in (RESULT_FORMATS if query.query_type != "CONSTRUCT"
                                                         else GRAPH_FORMATS)}
    html = render_template(
        "queries_detail.html", query=query, error=error, table=table, links=links, inference=inference,
        fields=[_field(kg, library, query, p, values.get(p.name)) for p in query.parameters],
    )
    response = Response(html, status=status, content_type=HTML.content_type)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _with_format(values: dict[str, str], name: str) -> str:
    return request.path + "?" + urlencode({**values, "format": name})


def _field(kg: KnowledgeGraph, library: QueryLibrary, query: SavedQuery, param: Parameter,
           value: str | None) -> dict[str, Any]:
    """What the form needs for one parameter; enumerations become a <select> with labels."""
    try:
        options = [(str(t), _label(kg, t)) for t in library.enumeration(kg, query, param)]
    except CaspianError:
        options = []
    return {"param": param, "value": value if value is not None else (param.default or ""), "options": options}


def _label(kg: KnowledgeGraph, term: Identifier) -> str:
    label = kg.dataset.value(term, RDFS.label) if isinstance(term, URIRef) else None
    return f"{label} ({_short(kg, term)})" if label is not None else _short(kg, term)


def _short(kg: KnowledgeGraph, term: Identifier) -> str:
    """A prefixed name when the data's prefixes allow one, else the full IRI or the literal."""
    if isinstance(term, URIRef):
        try:
            return kg.dataset.namespace_manager.normalizeUri(term).strip("<>")
        except Exception:  # noqa: BLE001 - odd IRIs just print in full
            return str(term)
    return str(term)


def _table(kg: KnowledgeGraph, answer: Answer) -> dict[str, Any]:
    """SPARQL JSON results → header and cells ready for the template (links for IRIs)."""
    data = json.loads(answer.body)
    if "boolean" in data:
        return {"boolean": data["boolean"]}
    variables = data["head"]["vars"]
    rows = []
    for binding in data["results"]["bindings"]:
        rows.append([_cell(kg, binding.get(v)) for v in variables])
    return {"vars": variables, "rows": rows}


def _cell(kg: KnowledgeGraph, value: dict[str, str] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if value["type"] == "uri":
        iri = value["value"]
        href = request.script_root + "/" + iri[len(kg.base):] if iri.startswith(kg.base) else iri
        return {"iri": iri, "href": href, "text": _short(kg, URIRef(iri))}
    note = value.get("xml:lang") and "@" + value["xml:lang"]
    if not note and value.get("datatype"):
        note = _short(kg, URIRef(value["datatype"]))
    return {"text": value["value"], "note": note or None}


# --- OpenAPI 3.1 ----------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    kg, library, _ = _state()
    response = jsonify(openapi_document(kg, library))
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


IRI_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*:[^\u0000-\u0020<>\"{}|^`\\]*$"
ERROR_RESPONSE = {"content": {"text/plain": {"schema": {"type": "string"}},
                              "application/json": {"schema": {"type": "object"}},
                              "text/html": {"schema": {"type": "string"}}}}


def parameter_schema(kg: KnowledgeGraph, library: QueryLibrary, query: SavedQuery, param: Parameter) -> dict[str, Any]:
    """JSON Schema of one parameter: its type, default and enumerated values."""
    schema: dict[str, Any] = {"type": "string"}
    if param.kind == "iri":
        schema.update(format="iri", pattern=IRI_PATTERN)
    elif param.kind == "typed" and param.datatype is not None:
        local = param.type_label.removeprefix("xsd:")
        if local == "integer":
            schema = {"type": "integer"}
        elif local == "date":
            schema["format"] = "date"
        elif local != "string":
            schema["pattern"] = "^(" + LEXICAL[local][0].pattern + ")$"
    if param.api_required and schema["type"] == "string":
        schema["minLength"] = 1  # an empty value means "not given"
    convert = int if schema["type"] == "integer" else str
    if param.default is not None:
        schema["default"] = convert(param.default)
    values = library.enumeration(kg, query, param)
    if values:
        schema["enum"] = [convert(str(v)) for v in values]
    return schema


def openapi_document(kg: KnowledgeGraph, library: QueryLibrary) -> dict[str, Any]:
    """The OpenAPI 3.1 description of every saved query, generated from the .rq headers."""
    results = {f.media_type: {"schema": {"type": "object"} if f is SPARQL_JSON else {"type": "string"}}
               for f in RESULT_FORMATS}
    results[HTML.media_type] = {"schema": {"type": "string"}}
    format_param = {
        "name": "format", "in": "query", "required": False,
        "description": "Result format, overriding the Accept header.",
        "schema": {"type": "string", "enum": [f.name for f in SAVED_FORMATS]},
    }
    inference_param = {
        "name": "inference", "in": "query", "required": False,
        "description": "`none`: asserted facts only; `rl` (the default): with the OWL 2 RL closure.",
        "schema": {"type": "string", "enum": ["none", "rl"]},
    }
    paths: dict[str, Any] = {
        "/queries": {"get": {
            "operationId": "listQueries", "summary": "List the saved queries", "tags": ["meta"],
            "responses": {"200": {"description": "The saved queries with their parameters",
                                  "content": {"application/json": {"schema": {"type": "object"}},
                                              "text/html": {"schema": {"type": "string"}}}},
                          "406": {"description": "No acceptable format", **ERROR_RESPONSE}},
        }},
    }
    for query in library:
        parameters = []
        for param in query.parameters:
            description = f"{param.type_label}, bound as ?{param.variable}."
            if param.kind == "iri":
                description += " An absolute IRI, or a prefixed name with one of the query's prefixes."
            parameters.append({"name": param.name, "in": "query", "required": param.api_required,
                               "description": description,
                               "schema": parameter_schema(kg, library, query, param)})
        parameters += [format_param, inference_param]
        paths[f"/queries/{query.name}"] = {"get": {
            "operationId": query.name, "summary": query.summary, "description": query.description,
            "tags": list(query.tags) or ["queries"], "parameters": parameters,
            "responses": {
                "200": {"description": "Query results (SPARQL 1.1 JSON, XML, CSV or TSV, or an HTML page)",
                        "content": results},
                "400": {"description": "A parameter is unknown, missing, or not of its type", **ERROR_RESPONSE},
                "406": {"description": "No acceptable format", **ERROR_RESPONSE},
                "413": {"description": "Too many results", **ERROR_RESPONSE},
                "503": {"description": "The query ran past its deadline", **ERROR_RESPONSE},
            },
        }}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "caspian-kg saved queries",
            "version": __version__,
            "description": "Named, parameterised questions about Azerbaijan's relations with Central Asia. "
                           "Each is a queries/<name>.rq file with a grlc header; parameters are typed and "
                           "bound by the SPARQL engine, never pasted into the query.",
        },
        "paths": paths,
    }

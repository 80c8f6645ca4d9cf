"""/openapi.json: the OpenAPI 3.1 description of every public route — the SPARQL endpoint, the
saved queries (generated from the .rq headers: types, defaults, enumerated values), resources,
explanations, dumps, search and health. Parameters are validated exactly as documented here (empty values
refused, enumerations closed); tests/test_saved_schemathesis.py sends requests that break the
document and expects each to be refused."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from ..config import VERSION
from ..dumps import DUMP_EXTENSIONS
from ..formats import DOCUMENT_FORMATS, GRAPH_FORMATS, HTML, JSON, RESULT_FORMATS, SPARQL_JSON
from ..provenance import PROV_FORMATS
from ..query import INFERENCE, QueryService
from ..saved_queries import LEXICAL, Parameter, QueryLibrary, SavedQuery
from .helpers import CACHE_CONTROL
from .saved_queries import SAVED_FORMATS
from .state import current

bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def openapi() -> Response:
    state = current()
    response = jsonify(state.derived("openapi", lambda kg: openapi_document(state.service, state.library)))
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


IRI_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*:[^\u0000-\u0020<>\"{}|^`\\]*$"
ERROR_RESPONSE = {"content": {"text/plain": {"schema": {"type": "string"}},
                              "application/json": {"schema": {"type": "object"}},
                              "text/html": {"schema": {"type": "string"}}}}


def parameter_schema(service: QueryService, library: QueryLibrary, query: SavedQuery, param: Parameter,
                     ) -> dict[str, Any]:
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
    if schema["type"] == "string":
        schema["minLength"] = 1  # an empty value is refused (leave the parameter out instead)
    convert = int if schema["type"] == "integer" else str
    if param.default is not None:
        schema["default"] = convert(param.default)
    values = library.enumeration(service, query, param)
    if values:
        schema["enum"] = [convert(str(v)) for v in values]
    return schema


def openapi_document(service: QueryService, library: QueryLibrary) -> dict[str, Any]:
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
        "schema": {"type": "string", "enum": list(INFERENCE)},
    }
    paths: dict[str, Any] = {**core_paths(service, inference_param), "/queries": {"get": {
            "operationId": "listQueries", "summary": "List the saved queries", "tags": ["meta"],
            "parameters": [_format([JSON, HTML])],
            "responses": {"200": {"description": "The saved queries with their parameters",
                                  "content": {"application/json": {"schema": {"type": "object"}},
                                              "text/html": {"schema": {"type": "string"}}}},
                          **_errors(400, 406)},
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
                               "schema": parameter_schema(service, library, query, param)})
        parameters += [format_param, inference_param]
        paths[f"/queries/{query.name}"] = {"get": {
            "operationId": query.name, "summary": query.summary, "description": query.description,
            "tags": list(query.tags) or ["queries"], "parameters": parameters,
            "responses": {
                "200": {"description": "Query results (SPARQL 1.1 JSON, XML, CSV or TSV, or an HTML page)",
                        "content": results},
                **_errors(400, 406, 413, 429, 503),
            },
        }}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "caspian-kg",
            "version": VERSION,
            "description": "A knowledge graph of Azerbaijan's relations with Central Asia and the Turkic "
                           "world: a SPARQL 1.1 endpoint, named and parameterised questions (each a "
                           "queries/<name>.rq file with a grlc header; parameters are typed and bound by the "
                           "engine, never pasted into the query), resources, dumps and search.",
            "license": {"name": "CC BY 4.0 (data)", "url": "https://creativecommons.org/licenses/by/4.0/"},
        },
        "paths": paths,
    }


ERRORS = {400: "A parameter is unknown, empty, repeated or not of its type, or the query is malformed",
          404: "No such resource, graph or document", 406: "No acceptable format",
          413: "The query or its answer is too large", 429: "This client's share of query work is used up",
          503: "Every query slot is taken, or the query ran past its deadline"}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): {"description": ERRORS[s], **ERROR_RESPONSE} for s in statuses}


def _format(offered: list[Any]) -> dict[str, Any]:
    return {"name": "format", "in": "query", "required": False,
            "description": "The answer's format by name, instead of the Accept header.",
            "schema": {"type": "string", "enum": [f.name for f in offered]}}


def _content(formats: Any) -> dict[str, Any]:
    return {f.media_type: {"schema": {"type": "object"} if f.media_type.endswith("json") else {"type": "string"}}
            for f in formats}


def core_paths(service: QueryService, inference: dict[str, Any]) -> dict[str, Any]:
    """The routes that are not saved queries."""
    answers = _content(RESULT_FORMATS + GRAPH_FORMATS)
    graph_uris = {"type": "array", "items": {"type": "string", "minLength": 1}}
    sparql_params = [
        {"name": "query", "in": "query", "required": False, "schema": {"type": "string", "minLength": 1},
         "description": "A SPARQL 1.1 query; the data's prefixes (ck:, org:, state:…) are predeclared. "
                        "Without it (and without dataset or inference parameters): the service description."},
        {"name": "default-graph-uri", "in": "query", "required": False, "schema": graph_uris, "explode": True,
         "description": "Graphs merged into the default graph (ours only; any other is empty)."},
        {"name": "named-graph-uri", "in": "query", "required": False, "schema": graph_uris, "explode": True,
         "description": "The named graphs of the query's dataset (ours only)."},
        inference, _format(list(RESULT_FORMATS + GRAPH_FORMATS)),
    ]
    form = {"type": "object", "required": ["query"], "properties": {
        "query": {"type": "string", "minLength": 1}, "default-graph-uri": graph_uris,
        "named-graph-uri": graph_uris, "inference": inference["schema"]}}
    graphs = sorted(service.kg.graphs)
    return {
        "/sparql": {
            "get": {"operationId": "sparqlGet", "summary": "SPARQL 1.1 query by GET", "tags": ["sparql"],
                    "parameters": sparql_params,
                    "responses": {"200": {"description": "The answer", "content": answers},
                                  **_errors(400, 406, 413, 429, 503)}},
            "post": {"operationId": "sparqlPost", "summary": "SPARQL 1.1 query by POST (form or direct)",
                     "tags": ["sparql"], "parameters": [inference, sparql_params[-1]],
                     "requestBody": {"required": True, "content": {
                         "application/x-www-form-urlencoded": {"schema": form},
                         "application/sparql-query": {"schema": {"type": "string", "minLength": 1}}}},
                     "responses": {"200": {"description": "The answer", "content": answers},
                                   **_errors(400, 406, 413, 429, 503)}},
        },
        "/id/{path}": {"get": {
            "operationId": "resource", "summary": "A thing (303 to its document) or a document about it",
            "tags": ["linked data"],
            "parameters": [{"name": "path", "in": "path", "required": True, "schema": {"type": "string"},
                            "description": "kind/slug (e.g. state/azerbaijan), or kind/slug.ext for one document"},
                           inference],
            "responses": {"200": {"description": "A document", "content": _content(DOCUMENT_FORMATS)},
                          "303": {"description": "The document about the thing, by Accept"},
                          **_errors(400, 404, 406)}}},
        "/export/caspian-kg.{extension}": {"get": {
            "operationId": "dump", "summary": "The whole dataset, or one named graph", "tags": ["linked data"],
            "parameters": [{"name": "extension", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": sorted(DUMP_EXTENSIONS)}},
                           {"name": "graph", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": graphs}}, inference],
            "responses": {"200": {"description": "A dump", "content": _content(GRAPH_FORMATS)},
                          **_errors(400, 404)}}},
        "/search": {"get": {
            "operationId": "search", "summary": "Resources by label or alternative name", "tags": ["meta"],
            "parameters": [{"name": "q", "in": "query", "required": False, "schema": {"type": "string"},
                            "description": "Words to find (case and accents ignored; the first 200 characters)"},
                           _format([HTML, JSON])],
            "responses": {"200": {"description": "Matches", "content": _content([JSON, HTML])},
                          **_errors(400, 406)}}},
        "/explain": {"get": {
            "operationId": "explain", "summary": "Why a statement holds", "tags": ["linked data"],
            "description": "An inferred statement: the OWL 2 RL rule, the ontology axioms and the premises, "
                           "recursively, down to asserted statements with their named graph, source document "
                           "and verbatim evidence, and whether it rests on the articles alone or on the cited "
                           "background graph too. An asserted statement: where it is stated. As HTML or as "
                           "PROV-O (JSON-LD, Turtle…). 404 when the statement is not in the graph.",
            "parameters": [*({"name": name, "in": "query", "required": True, "schema": {"type": "string", "minLength": 1},
                              "description": text} for name, text in (
                                 ("s", "Subject: an IRI, or a prefixed name of the data (state:kazakhstan)."),
                                 ("p", "Predicate: an IRI, a prefixed name (org:memberOf) or `a` (rdf:type)."),
                                 ("o", 'Object: an IRI, a prefixed name, or a literal in N-Triples syntax ("2020"^^xsd:gYear).'))),
                           _format([HTML, *PROV_FORMATS])],
            "responses": {"200": {"description": "The explanation",
                                  "content": _content([HTML, *PROV_FORMATS])},
                          **_errors(400, 404, 406)}}},
        "/health": {"get": {
            "operationId": "health", "summary": "Liveness and what is loaded", "tags": ["meta"],
            "responses": {"200": {"description": "Status", "content": {"application/json": {
                "schema": {"type": "object"}}}}}}},
    }

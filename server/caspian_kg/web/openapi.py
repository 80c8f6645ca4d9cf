"""/openapi.json: the OpenAPI 3.1 description of the saved queries, generated from the .rq headers
(types, defaults and enumerated values of every parameter)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from ..config import VERSION
from ..formats import HTML, RESULT_FORMATS, SPARQL_JSON
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
    if param.api_required and schema["type"] == "string":
        schema["minLength"] = 1  # an empty value means "not given"
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
                               "schema": parameter_schema(service, library, query, param)})
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
            "version": VERSION,
            "description": "Named, parameterised questions about Azerbaijan's relations with Central Asia. "
                           "Each is a queries/<name>.rq file with a grlc header; parameters are typed and "
                           "bound by the SPARQL engine, never pasted into the query.",
        },
        "paths": paths,
    }

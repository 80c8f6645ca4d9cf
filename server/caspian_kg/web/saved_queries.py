"""Web views of the saved queries: /queries (list) and /queries/<name> (run, or an HTML form).

A saved query runs like a /sparql query: a `query.QueryRequest` naming it, with its parameters
parsed and checked in the web thread (a bad value is a 400 before any work) and carried as RDF
terms, answered through `helpers.answer` in the same worker pool, bounded and written by the
query service. The HTML page shows a form built from the parameters and the results as a table.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request
from rdflib import Literal, URIRef
from rdflib.term import Identifier

from ..errors import CaspianError
from ..formats import GRAPH_FORMATS, HTML, JSON, RESULT_FORMATS, SPARQL_JSON, Format, answer_formats
from ..graph import KnowledgeGraph
from ..query import Answer, QueryRequest, QueryService
from ..saved_queries import RESERVED, Parameter, QueryLibrary, SavedQuery
from ..views import plain
from ..vocab import RDFS, XSD
from . import helpers
from .state import current

SAVED_FORMATS: tuple[Format, ...] = RESULT_FORMATS + (HTML,)

bp = Blueprint("saved", __name__, template_folder="templates", static_folder="static",
               static_url_path="/saved-static")


@bp.get("/queries")
def list_queries() -> Response:
    library = current().library
    fmt = helpers.choose((JSON, HTML))
    if fmt is HTML:
        html = render_template("queries_list.html", queries=list(library))
        return Response(html, content_type=HTML.content_type)
    return jsonify(queries=[describe(q, request.script_root) for q in library])


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
    state = current()
    query = state.library.get(name)
    fmt = helpers.choose(answer_formats(query.query_type) + (HTML,))
    values = _parameter_values(query)
    inference = helpers.inference()
    if fmt is HTML:
        return _page(state.service, state.library, query, values, inference)
    bindings = state.library.bind(state.service, query, values)
    return helpers.answer(QueryRequest(saved=query.name, bindings=tuple(sorted(bindings.items())),
                                       inference=inference, formats=(fmt.name,)))


def _parameter_values(query: SavedQuery) -> dict[str, str]:
    """The query's parameters from the URL (`format` is ours); a repeated one is a 400."""
    values: dict[str, str] = {}
    for key in request.args:
        if key in RESERVED:
            continue
        values[key] = helpers.single(request.args, key) or ""
    return values


def _page(service: QueryService, library: QueryLibrary, query: SavedQuery, values: dict[str, str],
          inference: bool = True) -> Response:
    """The HTML page: description, form, results (or the error), SPARQL text, format links.

    The query runs in a worker like any other request (as SPARQL JSON or Turtle, turned into a
    table or shown as text here). A first visit without parameters shows the form only when a
    required one has no default.
    """
    kg = service.kg
    error, table, status = None, None, 200
    missing = [p for p in query.parameters if p.api_required and not values.get(p.name)]
    if not (missing and not values):
        try:
            bindings = library.bind(service, query, values, form=True)
            fmt = SPARQL_JSON if query.query_type in ("SELECT", "ASK") else GRAPH_FORMATS[0]
            answer: Answer = helpers.submit(QueryRequest(
                saved=query.name, bindings=tuple(sorted(bindings.items())), inference=inference, formats=(fmt.name,)))
            table = readable(helpers.results_table(kg, answer.body)) if fmt is SPARQL_JSON else {"text": answer.body.decode()}
        except CaspianError as exc:
            error, status = exc.message, exc.status
    kept = {k: v for k, v in values.items() if v}  # an untouched form field is not a value
    kept = kept if inference else {**kept, "inference": "none"}
    links = {f.name: _with_format(kept, f.name) for f in answer_formats(query.query_type)}
    html = render_template(
        "queries_detail.html", query=query, error=error, table=table, links=links, inference=inference,
        fields=[_field(service, library, query, p, values.get(p.name)) for p in query.parameters],
    )
    response = Response(html, status=status, content_type=HTML.content_type)
    response.headers["Cache-Control"] = "no-cache"
    return response


TYPE_WORDS = {"date": "a date, YYYY-MM-DD", "gYear": "a year", "gYearMonth": "a month, YYYY-MM",
              "integer": "a whole number", "decimal": "a number", "boolean": "true or false"}
LANGUAGES = {"en": "English"}


@bp.app_template_filter("param_type")
def param_type(param: Parameter) -> str:
    """A parameter's type in words for the pages (no `xsd:` names, no language tags)."""
    if param.kind == "iri":
        return "a resource's IRI"
    if param.kind == "lang":
        return f"text in {LANGUAGES.get(param.lang or '', 'one language')}"
    if param.kind == "typed" and param.datatype is not None:
        local = str(param.datatype).rsplit("#", 1)[-1]
        return TYPE_WORDS.get(local, local)
    return "text"


def column(variable: str) -> str:
    """A column header in words from the query's variable: `memberLabel` -> "Member name",
    `startYear` -> "Start year" (the variable itself stays in the SPARQL and the downloads)."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", variable).replace("_", " ").lower().split()
    if len(words) > 1 and words[-1] == "label":
        words[-1] = "name"
    text = " ".join(words) or variable
    return text[:1].upper() + text[1:]


def readable(table: dict[str, Any]) -> dict[str, Any]:
    """A results table in plain language: headers in words, dates in words, no datatype or
    language tag next to a value."""
    if "vars" not in table:
        return table
    table["headers"] = [column(v) for v in table["vars"]]
    for row in table["rows"]:
        for cell in row:
            if cell is None or cell.get("href") is not None or "note" not in cell:
                continue
            note = cell.pop("note") or ""
            if note.startswith("xsd:"):
                cell["text"] = plain(Literal(cell["text"], datatype=XSD[note[4:]]))
    return table


def _with_format(values: dict[str, str], name: str) -> str:
    return request.path + "?" + urlencode({**values, "format": name})


def _field(service: QueryService, library: QueryLibrary, query: SavedQuery, param: Parameter,
           value: str | None) -> dict[str, Any]:
    """What the form needs for one parameter; enumerations become a <select> with labels."""
    try:
        options = [(str(t), _label(service.kg, t)) for t in library.enumeration(service, query, param)]
    except CaspianError:
        options = []
    return {"param": param, "value": value if value is not None else (param.default or ""), "options": options}


def _label(kg: KnowledgeGraph, term: Identifier) -> str:
    label = kg.dataset.value(term, RDFS.label) if isinstance(term, URIRef) else None
    return f"{label} ({helpers.short(kg, term)})" if label is not None else helpers.short(kg, term)

"""The query editor: YASGUI at /query, and at /sparql for a browser that asks for a page.

YASGUI (vendored in static/vendor/yasgui/, set up by static/query.js) sends its queries to
/sparql. Every page here is also complete without JavaScript: a form that runs its query on the
server, through the query service exactly as /sparql does — same worker pool, deadline, limits,
and the same answer-cache entry as the editor's own request (`editor_job`), so a shared link
opened in a browser runs once. Large results are paged on the server (PAGE_ROWS rows a page).

The data's prefixes are predeclared by the query service on every door, so the editor starts with
the query, and share links (`/query?query=…`) carry no PREFIX lines. "Asserted facts only" is
`inference=none`, as on /sparql: a box on the page, kept by every link the page gives (share,
sort, pages, downloads), and YASGUI's request argument of the tab (static/query.js).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request, url_for
from rdflib import URIRef

from ..errors import BadRequest, CaspianError, NotFound
from ..formats import GRAPH_FORMATS, RESULT_FORMATS
from ..graph import KnowledgeGraph
from ..query import QueryRequest
from ..vocab import OWL, RDF, RDFS
from . import helpers
from .state import current

PAGE_ROWS = 100  # rows of a result table per page, without JavaScript (YASR pages its own)
# what the editor asks /sparql for (YASGUI's Accept for every query form, and the page's own run)
EDITOR_ACCEPT = "application/sparql-results+json,text/turtle;q=0.9"
DEFAULT_QUERY = """# Members of CICA, with the role of each membership.
# The data's prefixes (ck:, org:, orgn:, state:, rdfs:…) are predeclared.
SELECT ?member ?label ?role WHERE {
  ?m org:organization orgn:cica ; org:member ?member ; org:role ?role .
  ?member rdfs:label ?label .
}
ORDER BY ?label
"""
# YASR's table plugin (its bundled ColumnResizer) injects one fixed <style> element; the editor's
# Content-Security-Policy allows exactly that stylesheet by its hash and no other inline style
# (tests/test_editor.py recomputes the hash from the vendored bundle).
YASGUI_STYLE_HASHES = ("sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk=",)
PREFIX_LINE = re.compile(r"^[ \t]*PREFIX[ \t]+([A-Za-z][\w.-]*|):[ \t]*<([^>]*)>[ \t]*\n", re.IGNORECASE | re.MULTILINE)
PROPERTY_TYPES = (RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
CLASS_TYPES = (OWL.Class, RDFS.Class)

bp = Blueprint("editor", __name__, template_folder="templates")


@bp.get("/query")
def query_page() -> Response:
    return editor_page()


def wants_page() -> bool:
    """Whether a request without a query is a browser's navigation: text/html named in Accept
    and preferred to every RDF syntax (`*/*`, curl's default, keeps the service description)."""
    if request.method != "GET" or request.args.getlist("format"):
        return False
    rdf = {t for f in GRAPH_FORMATS for t in (f.media_type, *f.aliases)}
    accept = request.accept_mimetypes
    page = max((q for value, q in accept if value in ("text/html", "application/xhtml+xml")), default=0)
    return page > 0 and page > max((q for value, q in accept if value in rdf), default=0)


def editor_page() -> Response:
    """The editor, with the query of `?query=` or `?example=` run on the server (for the form
    without JavaScript; YASGUI runs it again from the cache)."""
    state = current()
    kg = state.kg
    prefixes = kg.prefixes()
    examples = [{"name": q.name, "summary": q.summary, "text": example_text(q, prefixes)} for q in state.library]
    text = helpers.single(request.args, "query")
    example = helpers.single(request.args, "example")
    if text is None and example:
        text = next((e["text"] for e in examples if e["name"] == example), None)
        if text is None:
            raise NotFound(f"no saved query named {example!r}")
    ran = text is not None and bool(text.strip())
    table, error, status = run_sparql(kg, text) if ran and text is not None else (None, None, 200)
    shown = text if text is not None else DEFAULT_QUERY
    sort, order = request.args.get("sort"), request.args.get("order", "asc")
    inference = helpers.inference()
    kept = {} if inference else {"inference": "none"}  # asserted facts only: every link keeps it
    paging = None
    if table is not None and "rows" in table:
        sort_rows(table, sort, order == "desc")
        paging = page_rows(table, read_page(), {"query": shown, "sort": sort, "order": order, **kept})
    config = {"endpoint": request.url_root + "sparql", "editor": request.script_root + "/query",
              "base": kg.base, "root": request.script_root + "/",
              "accept": EDITOR_ACCEPT, "query": DEFAULT_QUERY, "example": example if text is not None else None,
              "inference": None if inference else "none", "kinds": helpers.LITERAL_KINDS,
              **state.derived("editor-vocabulary", vocabulary),
              "examples": {e["name"]: {"summary": e["summary"], "text": e["text"]} for e in examples}}
    response = helpers.html("query.html", status=status, text=shown, ran=ran, table=table, error=error,
                            examples=examples, paging=paging, config=config,
                            share=f"{request.script_root}/query?" + urlencode({"query": shown, **kept}),
                            downloads=download_links(shown, table, kept) if ran else {}, sort=sort, order=order,
                            inference=inference, kept=kept,
                            description=url_for("sparql.endpoint", format="turtle"))
    response.headers["Content-Security-Policy"] = helpers.content_security_policy(YASGUI_STYLE_HASHES)
    return response


def example_text(query: Any, prefixes: dict[str, str] | None = None) -> str:
    """A saved query as runnable SPARQL: each parameter with a default is replaced by that
    value, so the example answers something (here the user edits the text freely anyway), and
    PREFIX lines that only repeat a predeclared prefix are left out (the query means the same)."""
    text: str = query.sparql.strip()
    if prefixes:
        text = PREFIX_LINE.sub(lambda m: "" if prefixes.get(m.group(1)) == m.group(2) else m.group(0), text).lstrip()
    for param in query.parameters:
        if param.default is not None:
            term = param.parse(param.default).n3().replace("\\", "\\\\")  # a replacement template
            text = re.sub(r"[?$]" + re.escape(param.variable) + r"\b", term, text)
    return text + "\n"


def editor_job(text: str) -> QueryRequest:
    """The request YASGUI sends for `text` (GET /sparql, its Accept): one answer-cache entry."""
    return QueryRequest(text=text, base=request.url_root + "sparql", inference=helpers.inference(),
                        accept=EDITOR_ACCEPT)


def run_sparql(kg: KnowledgeGraph, text: str) -> tuple[dict[str, Any] | None, str | None, int]:
    """Ask the query service as /sparql does: (table, error message, status)."""
    try:
        answer = helpers.cached(editor_job(text))
    except CaspianError as exc:
        return None, exc.message, exc.status
    if answer.content_type.startswith("application/sparql-results+json"):
        return helpers.results_table(kg, answer.body), None, 200
    return {"text": answer.body.decode("utf-8")}, None, 200


def read_page() -> int:
    value = helpers.single(request.args, "page")
    if value is None:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise BadRequest(f"page={value!r}: give a page number, 1 or more")
    return int(value)


def page_rows(table: dict[str, Any], page: int, params: dict[str, Any]) -> dict[str, Any] | None:
    """Keep one page of a table's rows; what the page shows about the others (None: one page)."""
    total = len(table["rows"])
    pages = max(1, -(-total // PAGE_ROWS))
    if total <= PAGE_ROWS:
        return None
    page = min(page, pages)
    start = (page - 1) * PAGE_ROWS
    table["rows"] = table["rows"][start:start + PAGE_ROWS]
    kept = {k: v for k, v in params.items() if v}

    def link(n: int) -> str:
        return f"{request.script_root}/query?" + urlencode({**kept, "page": n})

    return {"page": page, "pages": pages, "total": total, "first": start + 1, "last": start + len(table["rows"]),
            "previous": link(page - 1) if page > 1 else None, "next": link(page + 1) if page < pages else None}


def sort_rows(table: dict[str, Any], column: str | None, descending: bool) -> None:
    """Server-side sorting for the no-JavaScript page (the header links): numbers numerically,
    everything else by its text, empty cells last."""
    if not column or column not in table["vars"]:
        return
    i = table["vars"].index(column)

    def key(row: list[dict[str, Any] | None]) -> tuple[int, float, str]:
        c = row[i]
        if c is None:
            return (2, 0.0, "")
        text = c.get("label") or c["text"]
        try:
            return (0, float(c["text"]), "")
        except ValueError:
            return (1, 0.0, text.casefold())

    filled = [r for r in table["rows"] if r[i] is not None]
    empty = [r for r in table["rows"] if r[i] is None]
    table["rows"] = sorted(filled, key=key, reverse=descending) + empty


def download_links(text: str, table: dict[str, Any] | None, kept: dict[str, str] | None = None) -> dict[str, str]:
    """/sparql URLs for the results in each format the query's form allows (`kept`: the
    page's own parameters they keep, `inference=none`)."""
    formats = GRAPH_FORMATS if table is not None and "text" in table else RESULT_FORMATS
    return {f.name: f"{request.script_root}/sparql?" + urlencode({"query": text, "format": f.name, **(kept or {})})
            for f in formats}


def vocabulary(kg: KnowledgeGraph) -> dict[str, Any]:
    """What YASGUI's autocompletion knows: the predeclared prefixes (so it never marks `ck:` as
    undeclared), and the classes and properties the graph declares (instead of asking LOV)."""

    def declared(types: tuple[URIRef, ...]) -> list[str]:
        return sorted({str(s) for t in types for s in kg.dataset.subjects(RDF.type, t) if isinstance(s, URIRef)})

    return {"prefixes": dict(sorted(kg.prefixes().items())), "properties": declared(PROPERTY_TYPES),
            "classes": declared(CLASS_TYPES)}

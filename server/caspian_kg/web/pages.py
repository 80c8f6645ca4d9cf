"""The human web interface's pages: home, search and the query editor.

Every page is complete HTML rendered here, so all of it works without JavaScript; static/editor.js
only adds conveniences (Ctrl+Enter, sorting in place, loading examples, filtering tiles). The
editor asks the query service exactly as /sparql does — same worker pool, deadline and limits —
and the download links point at /sparql itself, so what you see is what a client gets.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request
from rdflib import Literal, URIRef

from ..errors import CaspianError, NotFound
from ..formats import GRAPH_FORMATS, HTML, JSON, RESULT_FORMATS
from ..graph import KnowledgeGraph
from ..query import QueryRequest
from ..search import Name, fold, search
from ..views import document_title, views
from ..vocab import DCTERMS, FOAF, ORG, RDF, RDFS, SKOS, ck
from . import helpers
from .charts import organisations
from .resource_page import View
from .state import current

# prefixes written at the top of a new query (the endpoint predeclares all of the data's anyway)
EDITOR_PREFIXES = ("rdf", "rdfs", "xsd", "owl", "skos", "org", "prov", "time", "dcterms", "foaf", "ck")

bp = Blueprint("pages", __name__, template_folder="templates")


# --- home ---------------------------------------------------------------------------------------


def overview(kg: KnowledgeGraph) -> dict[str, Any]:
    """What the home page shows: counts, sources, and the entry points by kind. Read from the
    views precomputed for the dataset version (`views.py`), so it is the same on every store
    and costs no query once they are built."""
    index = views(kg)
    ck_ = ck(kg.base)

    def labelled(cls: URIRef) -> list[dict[str, str]]:
        nodes = [n for n in index.subjects(RDF.type, cls) if isinstance(n, URIRef) and n.startswith(kg.base)]
        return sorted(({"label": index.label(n) or str(n), "href": helpers.local_path(kg, n), "slug": n.rsplit("/", 1)[-1]}
                       for n in nodes), key=lambda e: e["label"].casefold())

    central_asia = set(index.subjects(ck_.locatedIn, URIRef(f"{kg.base}id/place/central-asia")))
    states = labelled(ck_.State)
    for state in states:
        state["central_asia"] = URIRef(kg.base + state["href"][1:]) in central_asia  # type: ignore[assignment]
    sources = []
    for doc in index.subjects(RDF.type, ck_.SourceDocument):
        sources.append({"label": document_title(index, doc), "href": helpers.local_path(kg, str(doc)),
                        "title": str(index.value(doc, DCTERMS.title) or ""),
                        "url": str(index.value(doc, DCTERMS.source) or "")})
    kinds = {"states": ck_.State, "organisations": ORG.Organization, "persons": FOAF.Person, "events": ck_.Event,
             "memberships": ORG.Membership, "quotations": ck_.Quotation, "claims": ck_.Claim}
    counts = {name: len(labelled(cls)) for name, cls in kinds.items()}
    statements = [g for by_p in index.out.values() for by_o in by_p.values() for g in by_o.values()]
    return {"counts": counts, "triples": len(statements),
            "inferred": sum(1 for g in statements if kg.inferred_graph in g),
            "graphs": len(kg.graphs), "sources": sources, "states": states,
            "organisations": organisations(kg), "persons": labelled(FOAF.Person), "events": labelled(ck_.Event)}


@bp.get("/")
def home() -> Response:
    state = current()
    gallery = [{"name": q.name, "summary": q.summary, "tags": list(q.tags)} for q in state.library]
    return helpers.html("home.html", data=state.derived("overview", overview), gallery=gallery)


def search_index(kg: KnowledgeGraph) -> list[Name]:
    """Every label and skos:altLabel of the resources under {base}id/."""
    prefix = f"{kg.base}id/"
    view = View(kg, kg.dataset)
    names = []
    for predicate, is_label in ((RDFS.label, True), (SKOS.altLabel, False)):
        for s, o in kg.dataset.subject_objects(predicate):
            if isinstance(s, URIRef) and s.startswith(prefix) and isinstance(o, Literal):
                kind = s[len(prefix):].split("/", 1)[0]
                shown = view.label(s)  # a source document's title, not its "(untitled)" label
                names.append(Name(fold(str(o)), shown if is_label else str(o), is_label, str(s), shown, kind))
    return names


@bp.get("/search")
def search_page() -> Response:
    state = current()
    kg = state.kg
    fmt = helpers.choose((HTML, JSON))
    query = (helpers.single(request.args, "q") or "").strip()[:200]
    found = search(state.derived("search", search_index), query) if query else []
    results = [{"iri": n.iri, "label": n.label, "href": request.script_root + helpers.local_path(kg, n.iri),
                "kind": n.kind, "matched": n.text, "match": "label" if n.is_label else "altLabel"} for n in found]
    if fmt is JSON:
        response = jsonify(query=query, count=len(results), results=results)
    else:
        response = helpers.html("search.html", query=query, results=results)
    return response


# --- the query editor ---------------------------------------------------------------------------


def default_query(kg: KnowledgeGraph) -> str:
    """A first query with the common prefixes written out (one to edit, not a blank page)."""
    prefixes = kg.prefixes()
    names = [p for p in EDITOR_PREFIXES if p in prefixes]
    names += sorted(p for p, ns in prefixes.items() if ns.startswith(f"{kg.base}id/"))
    lines = [f"PREFIX {p}: <{prefixes[p]}>" for p in names]
    return "\n".join(lines) + (
        "\n\n# Members of CICA, with the role of each membership\n"
        "SELECT ?member ?label ?role WHERE {\n"
        "  ?m org:organization orgn:cica ; org:member ?member ; org:role ?role .\n"
        "  ?member rdfs:label ?label .\n"
        "}\nORDER BY ?label\n")


def example_text(query: Any) -> str:
    """A saved query as runnable SPARQL: each parameter with a default is replaced by that
    value, so the example answers something (here the user edits the text freely anyway)."""
    text: str = query.sparql.strip()
    for param in query.parameters:
        if param.default is not None:
            term = param.parse(param.default).n3().replace("\\", "\\\\")  # a replacement template
            text = re.sub(r"[?$]" + re.escape(param.variable) + r"\b", term, text)
    return text + "\n"


def run_sparql(kg: KnowledgeGraph, text: str) -> tuple[dict[str, Any] | None, str | None, int]:
    """Ask the query service, in the worker pool as /sparql does: (table, error message, status)."""
    job = QueryRequest(text=text, base=request.url_root + "sparql", inference=helpers.inference(),
                       formats=("application/sparql-results+json", "text/turtle"))
    try:
        answer = helpers.submit(job)
    except CaspianError as exc:
        return None, exc.message, exc.status
    if answer.content_type.startswith("application/sparql-results+json"):
        return helpers.results_table(kg, answer.body), None, 200
    return {"text": answer.body.decode("utf-8")}, None, 200


def sort_rows(table: dict[str, Any], column: str | None, descending: bool) -> None:
    """Server-side sorting for the no-JavaScript page (the header links): numbers numerically,
    everything else by its text, empty cells last."""
    if not column or "vars" not in table or column not in table["vars"]:
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


def download_links(text: str, table: dict[str, Any] | None) -> dict[str, str]:
    """/sparql URLs for the results in each format the query's form allows."""
    formats = GRAPH_FORMATS if table is not None and "text" in table else RESULT_FORMATS
    return {f.name: f"{request.script_root}/sparql?" + urlencode({"query": text, "format": f.name}) for f in formats}


@bp.get("/query")
def query_page() -> Response:
    state = current()
    kg = state.kg
    examples = [{"name": q.name, "summary": q.summary, "text": example_text(q)} for q in state.library]
    text = request.args.get("query")
    example = request.args.get("example")
    if text is None and example:
        text = next((e["text"] for e in examples if e["name"] == example), None)
        if text is None:
            raise NotFound(f"no saved query named {example!r}")
    table, error, status = None, None, 200
    if text is not None and text.strip():
        table, error, status = run_sparql(kg, text)
        if table is not None:
            sort_rows(table, request.args.get("sort"), request.args.get("order") == "desc")
    shown = text if text is not None else default_query(kg)
    return helpers.html("query.html", status=status, text=shown, ran=text is not None and bool(text.strip()),
                 table=table, error=error, examples=examples,
                 share=f"{request.script_root}/query?" + urlencode({"query": shown}),
                 downloads=download_links(shown, table) if text else {},
                 sort=request.args.get("sort"), order=request.args.get("order", "asc"))

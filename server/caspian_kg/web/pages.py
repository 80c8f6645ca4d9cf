"""The human web interface's pages: home and search (the query editor: `editor.py`).

Every page is complete HTML rendered here, so all of it works without JavaScript; static/editor.js
only adds conveniences (sorting in place, filtering tiles).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from rdflib import Literal, URIRef

from ..formats import HTML, JSON
from ..graph import KnowledgeGraph
from ..search import Name, fold, search
from ..vocab import DCTERMS, FOAF, ORG, RDF, RDFS, SKOS, ck
from . import helpers
from .charts import organisations
from .resource_page import View
from .state import current

bp = Blueprint("pages", __name__, template_folder="templates")


# --- home ---------------------------------------------------------------------------------------


def overview(kg: KnowledgeGraph) -> dict[str, Any]:
    """What the home page shows: counts, sources, and the entry points by kind."""
    ck_ = ck(kg.base)
    view = View(kg, kg.dataset)
    central_asia = set(kg.dataset.subjects(ck_.locatedIn, URIRef(f"{kg.base}id/place/central-asia")))
    states = helpers.labelled(kg, ck_.State)
    for state in states:
        state["central_asia"] = URIRef(kg.base + state["href"][1:]) in central_asia  # type: ignore[assignment]
    sources = []
    for doc in sorted(set(kg.dataset.subjects(RDF.type, ck_.SourceDocument)), key=str):
        sources.append({"label": view.label(doc), "href": helpers.local_path(kg, str(doc)),
                        "title": str(kg.dataset.value(doc, DCTERMS.title) or ""),
                        "url": str(kg.dataset.value(doc, DCTERMS.source) or "")})
    counts = {
        "states": len(states),
        "organisations": len(helpers.labelled(kg, ORG.Organization)),
        "persons": len(helpers.labelled(kg, FOAF.Person)),
        "events": len(helpers.labelled(kg, ck_.Event)),
        "memberships": len(helpers.labelled(kg, ORG.Membership)),
        "quotations": len(helpers.labelled(kg, ck_.Quotation)),
        "claims": len(helpers.labelled(kg, ck_.Claim)),
    }
    return {"counts": counts, "triples": len(kg.dataset), "inferred": len(kg.dataset.get_context(kg.inferred_graph)),
            "graphs": len(kg.graphs), "sources": sources, "states": states,
            "organisations": organisations(kg), "persons": helpers.labelled(kg, FOAF.Person),
            "events": helpers.labelled(kg, ck_.Event)}


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
                names.append(Name(fold(str(o)), str(o), is_label, str(s), view.label(s), kind))
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

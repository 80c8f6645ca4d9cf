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
from ..views import document_title, views
from ..vocab import DCTERMS, FOAF, ORG, RDF, RDFS, SKOS, ck
from . import helpers
from .charts import organisations
from .resource_page import View
from .state import current

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

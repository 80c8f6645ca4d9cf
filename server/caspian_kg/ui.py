"""The human web interface: home, search, query editor, timeline and membership charts.

Every page is complete HTML rendered here, so all of it works without JavaScript; static/editor.js
only adds conveniences (Ctrl+Enter, sorting in place, loading examples, filtering tiles). The
editor runs its queries exactly as /sparql does — same worker pool, deadline and limits — and
the download links point at /sparql itself, so what you see is what a client gets.

Views read the loaded graph (never write it). What they derive from it — counts, the search
index, timeline and chart inputs — is cached per dataset version in app.extensions.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from rdflib import FOAF, RDF, RDFS, SKOS, Literal, Namespace, URIRef
from rdflib.term import Node

from .charts import (
    Affiliate,
    TimelineEvent,
    kind_colours,
    membership_groups,
    membership_svg,
    parse_when,
    timeline_svg,
)
from .errors import CaspianError, NotFound
from .formats import GRAPH_FORMATS, RESULT_FORMATS
from .linked_data import View
from .store import KnowledgeGraph

ORG = Namespace("http://www.w3.org/ns/org#")
TIME = Namespace("http://www.w3.org/2006/time#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
CACHE = "caspian_kg_ui"
SEARCH_LIMIT = 50
# prefixes written at the top of a new query (the endpoint predeclares all of the data's anyway)
EDITOR_PREFIXES = ("rdf", "rdfs", "xsd", "owl", "skos", "org", "prov", "time", "dcterms", "foaf", "ck")
# kinds of resource in search results, most wanted first (others follow, then these last)
KIND_ORDER = ("state", "org", "person", "event", "place", "quote", "agreement", "infrastructure", "doc")
KIND_LAST = ("membership", "interval", "claim", "relation", "post")
# Azerbaijani and other letters that Unicode does not decompose into a base letter + accent
FOLD = str.maketrans({"ə": "e", "Ə": "e", "ı": "i", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d",
                      "ß": "ss", "æ": "ae", "œ": "oe", "’": "'", "‘": "'"})

bp = Blueprint("ui", __name__, template_folder="templates")
T = TypeVar("T")


# --- shared helpers -----------------------------------------------------------------------------


def _kg() -> KnowledgeGraph:
    return current_app.extensions["caspian_kg"]["kg"]  # type: ignore[no-any-return]


def _ck(kg: KnowledgeGraph) -> Namespace:
    return Namespace(f"{kg.base}ontology#")


def cached(name: str, build: Callable[[KnowledgeGraph], T]) -> T:
    """`build(kg)` once per dataset version (the graph is read-only, so results never go stale)."""
    kg = _kg()
    cache: dict[tuple[str, str], Any] = current_app.extensions.setdefault(CACHE, {})
    key = (name, kg.version)
    if key not in cache:
        cache[key] = build(kg)
    return cache[key]  # type: ignore[no-any-return]


def _html(template: str, status: int = 200, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-cache"
    return response


def _local_path(kg: KnowledgeGraph, iri: str) -> str:
    """The path of an IRI under the base on this server (without script_root)."""
    return "/" + iri[len(kg.base):]


def _library() -> Any | None:
    """The saved-query library (saved_views' blueprint keeps it), or None when that module is
    absent from this checkout: the gallery and examples are then simply empty."""
    saved = current_app.extensions.get("caspian_kg_saved")
    return saved["library"] if saved else None


def _wants_json() -> bool:
    if request.args.get("format") == "json":
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


# --- home ---------------------------------------------------------------------------------------


def _labelled(kg: KnowledgeGraph, cls: URIRef) -> list[dict[str, str]]:
    view = View(kg, kg.dataset)
    nodes = {s for s in kg.dataset.subjects(RDF.type, cls) if isinstance(s, URIRef) and s.startswith(kg.base)}
    return sorted(({"label": view.label(n), "href": _local_path(kg, n), "slug": n.rsplit("/", 1)[-1]}
                   for n in nodes), key=lambda e: e["label"].casefold())


def overview(kg: KnowledgeGraph) -> dict[str, Any]:
    """What the home page shows: counts, sources, and the entry points by kind."""
    ck = _ck(kg)
    view = View(kg, kg.dataset)
    central_asia = set(kg.dataset.subjects(ck.locatedIn, URIRef(f"{kg.base}id/place/central-asia")))
    states = _labelled(kg, ck.State)
    for state in states:
        state["central_asia"] = URIRef(kg.base + state["href"][1:]) in central_asia  # type: ignore[assignment]
    sources = []
    for doc in sorted(set(kg.dataset.subjects(RDF.type, ck.SourceDocument)), key=str):
        sources.append({"label": view.label(doc), "href": _local_path(kg, str(doc)),
                        "title": str(kg.dataset.value(doc, DCTERMS.title) or ""),
                        "url": str(kg.dataset.value(doc, DCTERMS.source) or "")})
    counts = {
        "states": len(states),
        "organisations": len(_labelled(kg, ORG.Organization)),
        "persons": len(_labelled(kg, FOAF.Person)),
        "events": len(_labelled(kg, ck.Event)),
        "memberships": len(_labelled(kg, ORG.Membership)),
        "quotations": len(_labelled(kg, ck.Quotation)),
        "claims": len(_labelled(kg, ck.Claim)),
    }
    return {"counts": counts, "triples": len(kg.dataset), "inferred": len(kg.dataset.get_context(kg.inferred_graph)),
            "graphs": len(kg.graphs), "sources": sources, "states": states,
            "organisations": organisations(kg), "persons": _labelled(kg, FOAF.Person),
            "events": _labelled(kg, ck.Event)}


@bp.get("/")
def home() -> Response:
    library = _library()
    gallery = [{"name": q.name, "summary": q.summary, "tags": list(q.tags)} for q in library] if library else []
    return _html("home.html", data=cached("overview", overview), gallery=gallery)


# --- search -------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Case- and accent-insensitive form: "Türkiye", "TURKIYE" and "turkiye" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.translate(FOLD))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


@dataclass(frozen=True)
class Name:
    """One searchable name of a resource (its label, or an alternative name)."""

    folded: str
    text: str
    is_label: bool
    iri: str
    label: str
    kind: str


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


def search(names: list[Name], query: str, limit: int = SEARCH_LIMIT) -> list[Name]:
    """Resources with a name containing every word of `query` (folded), best first: label
    matches before alternative names; exact names first; then the kinds people look for most
    (states, organisations, persons, events...) before n-ary nodes and claims; then prefix >
    word start > anywhere; then A-Z. One result per resource (its best name)."""
    words = fold(query).split()
    if not words:
        return []
    phrase = " ".join(words)

    def rank(n: Name) -> tuple[Any, ...]:
        position = (0 if n.folded == phrase else 1 if n.folded.startswith(phrase)
                    else 2 if re.search(r"\b" + re.escape(phrase), n.folded) else 3)
        kind = (KIND_ORDER.index(n.kind) if n.kind in KIND_ORDER
                else len(KIND_ORDER) + 1 + KIND_LAST.index(n.kind) if n.kind in KIND_LAST else len(KIND_ORDER))
        return (not n.is_label, position > 0, kind, position, fold(n.label))

    best: dict[str, tuple[tuple[Any, ...], Name]] = {}
    for name in names:
        if all(w in name.folded for w in words):
            key = rank(name)
            if name.iri not in best or key < best[name.iri][0]:
                best[name.iri] = (key, name)
    return [n for _, n in sorted(best.values(), key=lambda item: item[0])][:limit]


@bp.get("/search")
def search_page() -> Response:
    kg = _kg()
    query = request.args.get("q", "").strip()[:200]
    found = search(cached("search", search_index), query) if query else []
    results = [{"iri": n.iri, "label": n.label, "href": request.script_root + _local_path(kg, n.iri),
                "kind": n.kind, "matched": n.text, "match": "label" if n.is_label else "altLabel"} for n in found]
    if _wants_json():
        response = jsonify(query=query, count=len(results), results=results)
    else:
        response = _html("search.html", query=query, results=results)
    response.vary.add("Accept")
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
    """Run `text` through /sparql's worker pool: (table, error message, HTTP status)."""
    from .sparql import QueryJob

    state = current_app.extensions["caspian_kg"]
    if len(text.encode("utf-8")) > state["config"].max_query_bytes:
        return None, f"the query is larger than {state['config'].max_query_bytes} bytes (the limit)", 413
    job = QueryJob(query=text, base=request.url_root + "sparql", default_graphs=None, named_graphs=None,
                   inference=request.args.get("inference", "") not in ("none", "false", "asserted"),
                   accept=None, formats=("application/sparql-results+json", "text/turtle"))
    try:
        answer = state["pool"].submit(job)
    except CaspianError as exc:
        return None, exc.message, exc.status
    if answer.content_type.startswith("application/sparql-results+json"):
        return results_table(kg, json.loads(answer.body)), None, 200
    return {"text": answer.body.decode("utf-8")}, None, 200


def results_table(kg: KnowledgeGraph, data: dict[str, Any]) -> dict[str, Any]:
    """SPARQL JSON results → what query.html shows: IRIs under the base link to their local
    pages (with the resource's label), others stay as they are."""
    if "boolean" in data:
        return {"boolean": bool(data["boolean"])}
    view = View(kg, kg.dataset)
    variables = data["head"]["vars"]

    def cell(value: dict[str, str] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if value["type"] == "uri":
            iri = URIRef(value["value"])
            label = view.label(iri)
            short = _short(kg, iri)
            return {"iri": str(iri), "href": view.href(str(iri)), "text": short,
                    "label": label if label not in (short, str(iri)) else None}
        if value["type"] == "bnode":
            return {"text": "_:" + value["value"]}
        note = "@" + value["xml:lang"] if value.get("xml:lang") else None
        if not note and value.get("datatype"):
            note = _short(kg, URIRef(value["datatype"]))
        return {"text": value["value"], "note": note}

    rows = [[cell(b.get(v)) for v in variables] for b in data["results"]["bindings"]]
    return {"vars": variables, "rows": rows}


def _short(kg: KnowledgeGraph, iri: URIRef) -> str:
    try:
        return kg.dataset.namespace_manager.normalizeUri(iri).strip("<>")
    except Exception:  # noqa: BLE001 - IRIs without a prefix form print in full
        return str(iri)


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
    kg = _kg()
    library = _library()
    examples = [{"name": q.name, "summary": q.summary, "text": example_text(q)} for q in library] if library else []
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
    return _html("query.html", status=status, text=shown, ran=text is not None and bool(text.strip()),
                 table=table, error=error, examples=examples,
                 share=f"{request.script_root}/query?" + urlencode({"query": shown}),
                 downloads=download_links(shown, table) if text else {},
                 sort=request.args.get("sort"), order=request.args.get("order", "asc"))


# --- the timeline -------------------------------------------------------------------------------


def timeline_data(kg: KnowledgeGraph) -> dict[str, Any]:
    """Every event with its most specific asserted type and its date, parsed as precisely as
    its datatype says; undated ones apart, with what the source leaves unstated."""
    ck = _ck(kg)
    view = View(kg, kg.dataset)
    events, undated = [], []
    for node in sorted(set(kg.dataset.subjects(RDF.type, ck.Event)), key=str):
        if not isinstance(node, URIRef):
            continue
        types = sorted(view.label(t) for t in kg.asserted.objects(node, RDF.type))
        kind = types[0] if types else "Event"
        date = kg.dataset.value(node, ck.date)
        when = parse_when(str(date), str(date.datatype or "")) if isinstance(date, Literal) else None
        href = view.href(str(node))
        if when is None:
            undated.append({"label": view.label(node), "href": href, "kind": kind,
                            "unstated": (node, ck.notStatedInSource, ck.date) in kg.dataset})
        events.append(TimelineEvent(view.label(node), href, kind, when))
    dated = sorted((e for e in events if e.when), key=lambda e: (e.when.precision == "monthday", e.when.span))  # type: ignore[union-attr]
    return {"events": events, "dated": dated, "undated": sorted(undated, key=lambda e: e["label"].casefold()),
            "colours": kind_colours([e.kind for e in dated])}


@bp.get("/timeline")
def timeline() -> Response:
    # links carry script_root, so what is cached is cached per mount point
    data = cached(f"timeline{request.script_root}", timeline_data)
    svg = cached(f"timeline-svg{request.script_root}", lambda kg: timeline_svg(data["events"]))
    return _html("timeline.html", svg=svg, **data)


# --- membership charts --------------------------------------------------------------------------


def organisations(kg: KnowledgeGraph) -> list[dict[str, Any]]:
    """Organisations with the number of memberships recorded for each (for chart links: one
    without memberships has nothing to draw)."""
    return [o | {"memberships": len(affiliates(kg, URIRef(f"{kg.base}id/org/{o['slug']}")))}
            for o in _labelled(kg, ORG.Organization)]


def affiliates(kg: KnowledgeGraph, org: URIRef) -> list[Affiliate]:
    """Every membership node of `org` as an Affiliate: the member, its kind, the role (None
    when the source does not say), the shortest alternative name, and the start year if any."""
    ck = _ck(kg)
    view = View(kg, kg.dataset)
    roles = {ck.memberRole: "member", ck.observerRole: "observer", ck.chairRole: "chair"}
    nodes: set[Node] = set()
    for link in (ORG.organization, ck.memberIn, ck.observerIn, ck.chairIn):
        nodes |= set(kg.dataset.subjects(link, org))
    found = []
    for node in sorted(nodes, key=str):
        member = kg.dataset.value(node, ORG.member)
        if not isinstance(member, URIRef):
            continue
        kind = ("state" if (member, RDF.type, ck.State) in kg.dataset
                else "organisation" if (member, RDF.type, ORG.Organization) in kg.dataset else "other")
        alternatives = sorted((str(a) for a in kg.dataset.objects(member, SKOS.altLabel)), key=len)
        found.append(Affiliate(view.label(member), view.href(str(member)), kind,
                               roles.get(kg.dataset.value(node, ORG.role)),  # type: ignore[call-overload]
                               alternatives[0] if alternatives else None, _since(kg, node)))
    return found


def _since(kg: KnowledgeGraph, membership: Node) -> str | None:
    interval = kg.dataset.value(membership, ORG.memberDuring)
    start = kg.dataset.value(interval, TIME.hasBeginning) if interval is not None else None
    if start is None:
        return None
    for predicate in (TIME.inXSDDate, TIME.inXSDgYear, TIME.inXSDgYearMonth):
        value = kg.dataset.value(start, predicate)
        if value is not None:
            return str(value)
    return None


@bp.get("/chart")
@bp.get("/chart/")
def chart_index() -> Response:
    return _html("chart.html", organisations=cached("organisations", organisations), org=None)


@bp.get("/chart/<slug>")
def chart(slug: str) -> Response:
    kg = _kg()
    org = URIRef(f"{kg.base}id/org/{slug}")
    if (org, RDF.type, ORG.Organization) not in kg.dataset:
        if slug.endswith(".svg"):
            return chart_svg(slug[:-4])
        raise NotFound(f"no organisation <{org}> in this dataset; /chart lists them")
    view = View(kg, kg.dataset)
    members = affiliates(kg, org)
    label = view.label(org)
    return _html("chart.html", org={"label": label, "href": view.href(str(org)), "slug": slug,
                                    "alt": sorted(str(a) for a in kg.dataset.objects(org, SKOS.altLabel))},
                 svg=membership_svg(label, members), groups=membership_groups(members), members=members,
                 organisations=cached("organisations", organisations))


def chart_svg(slug: str) -> Response:
    """The chart alone as image/svg+xml (to embed elsewhere, or save)."""
    kg = _kg()
    org = URIRef(f"{kg.base}id/org/{slug}")
    if (org, RDF.type, ORG.Organization) not in kg.dataset:
        raise NotFound(f"no organisation <{org}> in this dataset; /chart lists them")
    svg = membership_svg(View(kg, kg.dataset).label(org), affiliates(kg, org))
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + svg, content_type="image/svg+xml; charset=utf-8")


@bp.get("/timeline.svg")
def timeline_svg_document() -> Response:
    data = cached(f"timeline{request.script_root}", timeline_data)
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + timeline_svg(data["events"]),
                    content_type="image/svg+xml; charset=utf-8")


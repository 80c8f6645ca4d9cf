"""The timeline of events and the membership charts of organisations (drawn by `svg.py`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from rdflib import Literal, URIRef
from rdflib.term import Node

from ..errors import NotFound
from ..graph import KnowledgeGraph
from ..vocab import ORG, RDF, SKOS, TIME, ck
from . import helpers
from .resource_page import View
from .state import current
from .svg import (
    NARROW,
    Affiliate,
    TimelineEvent,
    kind_colours,
    membership_groups,
    membership_svg,
    parse_when,
    timeline_svg,
)

bp = Blueprint("charts", __name__, template_folder="templates")


def timeline_data(kg: KnowledgeGraph) -> dict[str, Any]:
    """Every event with its most specific asserted type and its date, parsed as precisely as
    its datatype says; undated ones apart, with what the source leaves unstated."""
    ck_ = ck(kg.base)
    view = View(kg, kg.dataset)
    events, undated = [], []
    for node in sorted(set(kg.dataset.subjects(RDF.type, ck_.Event)), key=str):
        if not isinstance(node, URIRef):
            continue
        types = sorted(view.label(t) for t in kg.asserted.objects(node, RDF.type))
        kind = types[0] if types else "Event"
        date = kg.dataset.value(node, ck_.date)
        when = parse_when(str(date), str(date.datatype or "")) if isinstance(date, Literal) else None
        href = view.href(str(node)) or ""
        if when is None:
            undated.append({"label": view.label(node), "href": href, "kind": kind,
                            "unstated": (node, ck_.notStatedInSource, ck_.date) in kg.dataset})
        events.append(TimelineEvent(view.label(node), href, kind, when))
    dated = sorted((e for e in events if e.when), key=lambda e: (e.when.precision == "monthday", e.when.span))  # type: ignore[union-attr]
    return {"events": events, "dated": dated, "undated": sorted(undated, key=lambda e: e["label"].casefold()),
            "colours": kind_colours([e.kind for e in dated])}


@bp.get("/timeline")
def timeline() -> Response:
    # links carry script_root, so what is cached is cached per mount point
    data = current().derived(f"timeline{request.script_root}", timeline_data)
    svg = current().derived(f"timeline-svg{request.script_root}", lambda kg: timeline_svg(data["events"])
                            + timeline_svg(data["events"], width=NARROW))
    return helpers.html("timeline.html", svg=svg, **data)


# --- membership charts --------------------------------------------------------------------------


def organisations(kg: KnowledgeGraph) -> list[dict[str, Any]]:
    """Organisations with the number of memberships recorded for each (for chart links: one
    without memberships has nothing to draw)."""
    return [o | {"memberships": len(affiliates(kg, URIRef(f"{kg.base}id/org/{o['slug']}")))}
            for o in helpers.labelled(kg, ORG.Organization)]


def affiliates(kg: KnowledgeGraph, org: URIRef) -> list[Affiliate]:
    """Every membership node of `org` as an Affiliate: the member, its kind, the role (None
    when the source does not say), the shortest alternative name, and the start year if any."""
    ck_ = ck(kg.base)
    view = View(kg, kg.dataset)
    roles = {ck_.memberRole: "member", ck_.observerRole: "observer", ck_.chairRole: "chair"}
    nodes: set[Node] = set()
    for link in (ORG.organization, ck_.memberIn, ck_.observerIn, ck_.chairIn):
        nodes |= set(kg.dataset.subjects(link, org))
    found = []
    for node in sorted(nodes, key=str):
        member = kg.dataset.value(node, ORG.member)
        if not isinstance(member, URIRef):
            continue
        kind = ("state" if (member, RDF.type, ck_.State) in kg.dataset
                else "organisation" if (member, RDF.type, ORG.Organization) in kg.dataset else "other")
        alternatives = sorted((str(a) for a in kg.dataset.objects(member, SKOS.altLabel)), key=len)
        found.append(Affiliate(view.label(member), view.href(str(member)) or "", kind,
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
    return helpers.html("chart.html", organisations=current().derived("organisations", organisations), org=None)


@bp.get("/chart/<slug>")
def chart(slug: str) -> Response:
    kg = current().kg
    org = URIRef(f"{kg.base}id/org/{slug}")
    if (org, RDF.type, ORG.Organization) not in kg.dataset:
        if slug.endswith(".svg"):
            return chart_svg(slug[:-4])
        raise NotFound(f"no organisation <{org}> in this dataset; /chart lists them")
    view = View(kg, kg.dataset)
    members = affiliates(kg, org)
    label = view.label(org)
    return helpers.html("chart.html", org={"label": label, "href": view.href(str(org)), "slug": slug,
                                    "alt": sorted(str(a) for a in kg.dataset.objects(org, SKOS.altLabel))},
                 svg=membership_svg(label, members) + membership_svg(label, members, width=NARROW), groups=membership_groups(members), members=members,
                 organisations=current().derived("organisations", organisations))


def chart_svg(slug: str) -> Response:
    """The chart alone as image/svg+xml (to embed elsewhere, or save)."""
    kg = current().kg
    org = URIRef(f"{kg.base}id/org/{slug}")
    if (org, RDF.type, ORG.Organization) not in kg.dataset:
        raise NotFound(f"no organisation <{org}> in this dataset; /chart lists them")
    svg = membership_svg(View(kg, kg.dataset).label(org), affiliates(kg, org))
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + svg, content_type="image/svg+xml; charset=utf-8")


@bp.get("/timeline.svg")
def timeline_svg_document() -> Response:
    data = current().derived(f"timeline{request.script_root}", timeline_data)
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + timeline_svg(data["events"]),
                    content_type="image/svg+xml; charset=utf-8")

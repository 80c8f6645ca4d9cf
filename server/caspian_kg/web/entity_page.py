"""An entity page in the manner of Wikidata's item pages, built from the precomputed views.

Header (label, aliases, types, a summary composed from the statements), a table of contents,
then statements grouped by property, each value once, with its qualifiers (role, time, date,
place) and a folded reference (source document, verbatim passage, a link to the passage on the
source document's page). Membership nodes become rows under "Member of" / "Observer of" /
"Members"...; the direct links the closure infers from them (org:memberOf, affiliatedWith...)
are shown on the same row, marked inferred, with a "why?" link to /explain. The subject itself
is never a column. A source document's page also shows its text with every cited passage
highlighted and anchored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from ..formats import EXTENSIONS
from ..graph import KnowledgeGraph
from ..provenance import explain_url
from ..views import Index, anchor, date_key, document_title, plain, source_text, views
from ..vocab import DCTERMS, ORG, PROV, RDF, RDFS, SKOS, ck

FOLD = 8  # rows shown before a group folds the rest away
HIDDEN = {RDF.type, RDFS.label, SKOS.altLabel, SKOS.prefLabel, RDFS.comment}
WIKIDATA = "http://www.wikidata.org/"


class Terms:
    """RDF terms as the template shows them: labels, local links, plain literals."""

    def __init__(self, kg: KnowledgeGraph, index: Index, root: str, data_dir: Path | None = None) -> None:
        self.kg, self.index, self.root, self.ck, self.data_dir = kg, index, root, ck(kg.base), data_dir
        self.document_class, self.evidence = self.ck.SourceDocument, self.ck.evidence
        self._labels: dict[Node, str] = {}

    def text(self, doc: Node) -> str:
        return source_text(self.kg, self.index, doc, self.data_dir) or ""

    def href(self, iri: str) -> str | None:
        if iri.startswith(self.kg.base):
            return f"{self.root}/{iri[len(self.kg.base):]}"
        return iri if iri.lower().startswith(("http://", "https://")) else None

    def label(self, node: Node) -> str:
        if isinstance(node, Literal):
            return plain(node)
        if node not in self._labels:
            self._labels[node] = self._label(node)
        return self._labels[node]

    def _label(self, node: Node) -> str:
        if self.index.has(node, RDF.type, self.document_class):
            return document_title(self.index, node)
        found = self.index.label(node)
        if found is not None:
            return found
        if isinstance(node, BNode):
            return "(anonymous)"
        return self.readable(node)

    def readable(self, node: Node, vocabulary: bool = False) -> str:
        """An IRI without a label, never as a prefixed name: Wikidata's ids as "Wikidata Q227" /
        "Wikidata property P297"; a term of a vocabulary (`vocabulary`: a property or a class,
        else an IRI whose namespace has a prefix) by its local name in words ("foaf:Agent" ->
        "agent", "containedInPlace" -> "contained in place"); any other IRI (a GeoNames page)
        as it is."""
        text = str(node)
        local = re.split(r"[#/]", text.rstrip("/#"))[-1]
        if text.startswith(WIKIDATA) and re.fullmatch(r"[PQ]\d+", local):
            return f"Wikidata {'property ' if local.startswith('P') else ''}{local}"
        if not vocabulary:
            try:
                prefixed = self.kg.dataset.namespace_manager.normalizeUri(node)  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 - not every IRI has a prefix form
                return text
            if prefixed.startswith("<"):
                return text
        return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).lower() if local else text

    def prop(self, p: Node) -> str:
        """A property or a class in words: its label (the ontology labels the reused terms the
        pages show, Wikidata's country codes included), else its local name in words."""
        found = self.index.label(p)
        return found if found is not None else self.readable(p, vocabulary=True)

    def term(self, node: Node | None) -> dict[str, Any] | None:
        if node is None:
            return None
        if isinstance(node, Literal):
            return {"literal": True, "label": plain(node)}
        iri = None if isinstance(node, BNode) else str(node)
        return {"literal": False, "label": self.label(node), "href": self.href(iri) if iri else None, "iri": iri,
                "local": bool(iri and iri.startswith(self.kg.base))}

    def why(self, s: Node, p: Node, o: Node) -> str:
        """The statement's /explain page on this server (one writer of that URL: provenance.explain_url)."""
        return f"{self.root}/{explain_url(self.kg.base, (s, p, o))[len(self.kg.base):]}"

    def refs(self, node: Node, inference: bool) -> list[dict[str, Any]]:
        """The verbatim passages on an evidence-bearing node, each with its document and the
        link to the passage on the document's page."""
        docs = self.index.objects(node, PROV.wasDerivedFrom, inference)
        out = []
        for passage in self.index.objects(node, self.evidence, inference):
            text = str(passage)
            doc = next((d for d in docs if text in self.text(d)), docs[0] if docs else None)
            page = self.href(str(doc)) if doc is not None else None
            out.append({"passage": text, "doc": self.label(doc) if doc is not None else None,
                        "href": f"{page}.html#{anchor(text)}" if page else None})
        return out


def _row(terms: Terms, value: Node, refs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"value": terms.term(value), "sort": terms.label(value).lower(), "refs": refs, "qualifiers": [],
            "inferred": False, "why": None, "also": [], "text": None} | extra


def _merge(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per value: a value stated twice (two sources, two membership nodes with the same
    role) keeps one row with both references and says so."""
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = (row["value"] or {}).get("iri") or row["sort"]
        if key in merged:
            first = merged[key]
            first["refs"] += [r for r in row["refs"] if r not in first["refs"]]
            first["qualifiers"] += [q for q in row["qualifiers"] if q not in first["qualifiers"]]
            first["also"] += [a for a in row["also"] if a not in first["also"]]
            first["statements"] = first.get("statements", 1) + 1
            sources = {r["doc"] for r in first["refs"]}
            first["note"] = (f"stated in {len(sources)} sources" if len(sources) > 1
                             else f"{first['statements']} statements in one source, merged")
        else:
            merged[key] = row
    return list(merged.values())


def _group(key: str, title: str, rows: list[dict[str, Any]], order: str = "label") -> dict[str, Any]:
    rows = _merge(rows)
    rows.sort(key=(lambda r: (r.get("date", ""), r["sort"])) if order == "date" else (lambda r: r["sort"]))
    return {"id": key, "title": title, "rows": rows[:FOLD], "more": rows[FOLD:], "count": len(rows),
            "summary": not key.startswith("g-") or order == "nodes"}


def _slug(text: str) -> str:
    return "g-" + re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def entity_page(kg: KnowledgeGraph, iri: URIRef, root: str, inference: bool = True,
                data_dir: Path | None = None) -> dict[str, Any]:
    """Everything resource.html shows about `iri` (`data_dir`: where source texts are read)."""
    index = views(kg)
    terms = Terms(kg, index, root, data_dir)
    k = terms.ck
    label = terms.label(iri)
    types = index.objects(iri, RDF.type, inference)
    consumed: set[tuple[Node, Node, Node]] = set()
    groups: list[dict[str, Any]] = []

    def is_a(node: Node, cls: Node) -> bool:
        return index.has(node, RDF.type, cls)

    def inferred_links(s: Node, o: Node) -> list[dict[str, Any]]:
        """The closure's direct links between s and o, shown on the row of the node they come
        from: those about s with a "why?" link; their inverses (about o) belong to o's page."""
        found = []
        for p, values in index.into.get(s, {}).items():
            if o in values:
                consumed.add((o, p, s))
        for p, graphs in sorted(((p, v[o]) for p, v in index.out.get(s, {}).items() if o in v),
                                key=lambda x: terms.prop(x[0])):
            consumed.add((s, p, o))
            if inference and index.is_inferred(graphs):
                found.append({"label": terms.prop(p), "why": terms.why(s, p, o)})
        return found

    # memberships: rows under the role, from either end
    as_member: dict[str, list[dict[str, Any]]] = {}
    as_org: dict[str, list[dict[str, Any]]] = {}
    nodes = {n for p in (ORG.member, ORG.organization, k.memberIn, k.observerIn, k.chairIn) for n in index.subjects(p, iri)}
    for node in sorted(nodes, key=str):
        if not is_a(node, ORG.Membership):
            continue
        inferred_links(iri, node)
        member = index.value(node, ORG.member)
        org = next((o for p in (k.memberIn, k.observerIn, k.chairIn, ORG.organization) for o in index.objects(node, p)), None)
        role = index.value(node, ORG.role)
        role_label = terms.label(role) if role is not None else "role not stated"
        other = org if member == iri else member
        if other is None:
            continue
        row = _row(terms, other, terms.refs(node, inference), qualifiers=_times(terms, index, node),
                   node=terms.term(node))
        if member == iri and org is not None:
            row["also"] = inferred_links(iri, org)
            as_member.setdefault(role_label, []).append(row)
        elif member is not None:
            row["also"] = inferred_links(iri, member)
            as_org.setdefault(role_label, []).append(row)
    for role_label, rows in sorted(as_member.items()):
        title = f"{role_label.capitalize()} of" if role_label != "role not stated" else "Affiliated with (role not stated)"
        groups.append(_group(_slug(title)[2:], title, rows))
    for role_label, rows in sorted(as_org.items()):
        plural = "s" if len({(r["value"] or {}).get("iri") for r in rows}) > 1 else ""
        title = "Affiliates (role not stated)" if role_label == "role not stated" else f"{role_label.capitalize()}{plural}"
        groups.append(_group(_slug(title)[2:], title, rows))

    # events, quotations and other evidence-bearing nodes linked to the subject
    linked: dict[Node, list[Node]] = {}  # node -> how it links to the subject (its own properties first)
    is_document = is_a(iri, k.SourceDocument)
    for s, p, _ in index.incoming(iri, inference):
        if not is_document:
            linked.setdefault(s, []).append(p)
    if is_document:
        groups += _derived(terms, iri, consumed)
    for p, o, _ in index.outgoing(iri, inference):
        if not isinstance(o, Literal) and p not in HIDDEN:
            linked.setdefault(o, []).append(p)
            consumed.add((iri, p, o)) if index.value(o, k.evidence) is not None else None
    events: list[dict[str, Any]] = []
    quotes: list[dict[str, Any]] = []
    others: dict[str, list[dict[str, Any]]] = {}
    for node, predicates in linked.items():
        if is_a(node, ORG.Membership) or node == iri or index.value(node, k.evidence) is None:
            continue
        own = [p for p in predicates if index.has(node, p, iri, False)]
        how = sorted({terms.prop(p) for p in own or predicates})
        for p in predicates:
            consumed.update({(node, p, iri), (iri, p, node)})
        if is_a(node, k.Event):
            date = index.value(node, k.date)
            places = [terms.label(pl) for pl in index.objects(node, k.place)]
            qualifiers = ([("date", plain(date))] if isinstance(date, Literal) else []) + \
                         ([("place", ", ".join(places))] if places else []) + [("as", ", ".join(how))]
            events.append(_row(terms, node, terms.refs(node, inference), qualifiers=qualifiers, date=date_key(date)))
        elif is_a(node, k.Quotation):
            speaker = index.value(node, k.speaker)
            quotes.append(_row(terms, node, terms.refs(node, inference), text=str(index.value(node, k.text) or ""),
                               qualifiers=[("speaker", terms.label(speaker))] if speaker is not None else []))
        else:
            kind = _kind(terms, node)
            others.setdefault(kind, []).append(_row(terms, node, terms.refs(node, inference), qualifiers=[("as", ", ".join(how))]))
    if events:
        groups.append(_group("events", "Events", events, order="date"))
    if quotes:
        groups.append(_group("quotations", "Quotations", quotes))
    for kind, rows in sorted(others.items()):
        groups.append(_group(_slug(kind), _plural(kind), rows, order="nodes"))

    # every other statement, grouped by property
    own_refs = terms.refs(iri, inference)
    by_property: dict[Node, list[dict[str, Any]]] = {}
    for p, o, graphs in index.outgoing(iri, inference):
        if p in HIDDEN or p in (k.evidence,) or (iri, p, o) in consumed:
            continue
        inferred = index.is_inferred(graphs)
        by_property.setdefault(p, []).append(_row(terms, o, [], inferred=inferred,
                                                  why=terms.why(iri, p, o) if inferred else None))
    for p, rows in sorted(by_property.items(), key=lambda x: terms.label(x[0]).lower()):
        groups.append(_group(_slug(terms.prop(p)), _cap(terms.prop(p)), rows))
    pointing: dict[Node, list[dict[str, Any]]] = {}
    for s, p, graphs in index.incoming(iri, inference):
        if (s, p, iri) in consumed or s in linked and index.value(s, k.evidence) is not None:
            continue
        inferred = index.is_inferred(graphs)
        pointing.setdefault(p, []).append(_row(terms, s, [], inferred=inferred,
                                               why=terms.why(s, p, iri) if inferred else None))
    for p, rows in sorted(pointing.items(), key=lambda x: terms.label(x[0]).lower()):
        groups.append(_group(_slug("in " + terms.prop(p)), f"Linked here as “{terms.prop(p)}”", rows))
    _once(groups)

    document = _document(kg, terms, iri) if is_a(iri, k.SourceDocument) else None
    asserted_types = set(index.objects(iri, RDF.type, False))
    return {
        "iri": str(iri), "label": label,
        "alt_labels": sorted({str(a) for a in index.objects(iri, SKOS.altLabel, inference)}),
        "comments": [str(c) for c in index.objects(iri, RDFS.comment, inference)],
        "types": _types(terms, types, asserted_types),
        "summary": _summary(label, [terms.prop(t) for t in sorted(asserted_types, key=str)], groups),
        "evidence": own_refs, "document": document, "inference": inference,
        "groups": [g for g in groups if not _short(g)], "facts": [g for g in groups if _short(g)],
        "documents": {ext: f"{terms.href(str(iri))}.{ext}" for ext in EXTENSIONS if ext != "html"},
        "chart": f"{root}/chart/{str(iri).rsplit('/', 1)[1]}" if as_org and str(iri).startswith(f"{kg.base}id/org/") else None,
    }


def _types(terms: Terms, types: list[Node], asserted: set[Node]) -> list[dict[str, Any]]:
    """The classes of the subject in words, asserted first; two vocabularies' classes of one
    name (PROV's and FOAF's "agent") are shown once."""
    shown: dict[str, dict[str, Any]] = {}
    for t in sorted(types, key=lambda t: (t not in asserted, terms.prop(t).lower())):
        name = terms.prop(t)
        if isinstance(t, BNode) or name.lower() in ("thing", *(n.lower() for n in shown)):
            continue
        shown[name] = (terms.term(t) or {}) | {"label": name, "inferred": t not in asserted}
    return sorted(shown.values(), key=lambda t: t["label"].lower())


def _short(group: dict[str, Any]) -> bool:
    """A property with a few plain values (a date, a place, a link out) reads better as one line
    of a shared "Statements" list than as a section of its own."""
    return group["id"].startswith("g-") and not group["summary"] and group["count"] <= 3 and \
        not any(row["refs"] for row in group["rows"])


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


UNCOUNTABLE = {"infrastructure", "evidence", "information", "construction"}  # "Infrastructure", not "Infrastructures"
IRREGULAR = {"person": "people", "body of water": "bodies of water"}


def _plural(kind: str) -> str:
    """A class label as a heading: "state visit" -> "State visits", "agreement or declaration" ->
    "Agreements or declarations", "infrastructure" -> "Infrastructure"."""
    return _cap(" or ".join(_plural_phrase(part) for part in kind.split(" or ")))


def _plural_phrase(phrase: str) -> str:
    if phrase in IRREGULAR:
        return IRREGULAR[phrase]
    head, _, last = phrase.rpartition(" ")
    if last in UNCOUNTABLE or last in IRREGULAR:
        word = IRREGULAR.get(last, last)
    elif last.endswith(("s", "x", "ch", "sh")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def _kind(terms: Terms, node: Node) -> str:
    """What a node is, in words: its asserted type (the most specific the data gives)."""
    return next((terms.prop(t) for t in terms.index.objects(node, RDF.type, False)), "related")


def _once(groups: list[dict[str, Any]]) -> None:
    """A passage quoted by many values (one sentence lists CICA's 28 members) is printed once;
    later references to it keep only the link to it in the source text."""
    seen: set[str] = set()
    for group in groups:
        for row in group["rows"] + group["more"]:
            for ref in row["refs"]:
                ref["repeat"] = ref["passage"] in seen
                seen.add(ref["passage"])


def _derived(terms: Terms, doc: Node, consumed: set[tuple[Node, Node, Node]]) -> list[dict[str, Any]]:
    """A source document's page: what the data draws from it, by kind, each linked to its
    first passage in the text shown above."""
    index, k = terms.index, terms.ck
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for p in (PROV.wasDerivedFrom, PROV.wasAttributedTo):
        for node in index.subjects(p, doc, False):
            consumed.add((node, p, doc))
            passages = index.objects(node, k.evidence, False)
            link = [("in the text", Markup('<a href="#{}">passage</a>').format(anchor(str(passages[0]))))] if passages else []
            by_kind.setdefault(_kind(terms, node), []).append(_row(terms, node, [], qualifiers=link))
    return [_group(_slug("from " + kind), _plural(kind), rows) for kind, rows in sorted(by_kind.items())]


def _times(terms: Terms, index: Index, node: Node) -> list[tuple[str, str]]:
    """A membership's time in words: "since 2020", "until …"."""
    interval = index.value(node, ORG.memberDuring)
    out: list[tuple[str, str]] = []
    if interval is None:
        return out
    time = "http://www.w3.org/2006/time#"
    for word, predicate in (("since", "hasBeginning"), ("until", "hasEnd")):
        instant = index.value(interval, URIRef(time + predicate))
        if instant is None:
            continue
        value = next((v for p in ("inXSDDate", "inXSDgYear", "inXSDgYearMonth") for v in index.objects(instant, URIRef(time + p))),
                     None) or index.label(instant)
        if value is not None:
            out.append(("time", f"{word} {plain(value) if isinstance(value, Literal) else value}"))
    return out


def _summary(label: str, kinds: list[str], groups: list[dict[str, Any]]) -> str:
    """One paragraph composed from the page's own statements (nothing else is claimed)."""
    article = "an" if kinds and kinds[0][:1].lower() in "aeiou" else "a"
    parts = [f"{label} is {article} {' and '.join(k.lower() if k[:1].isupper() and k[1:2].islower() else k for k in kinds)}."
             if kinds else f"{label}."]
    for group in [g for g in groups if g["summary"]][:4]:
        names = [row["value"]["label"] for row in group["rows"][:2] if row.get("value")]
        if not names or not group["summary"]:
            continue
        rest = group["count"] - len(names)
        listed = ", ".join(names) + (f" and {rest} more" if rest > 0 else "")
        parts.append(f"{group['title']}: {listed}.")
    return " ".join(parts)


def _document(kg: KnowledgeGraph, terms: Terms, doc: Node) -> dict[str, Any] | None:
    """A source document's text, every cited passage highlighted and anchored (its `id` is the
    fragment evidence links point to)."""
    text = terms.text(doc)
    if not text:
        return None
    k, index = terms.ck, terms.index
    passages = {str(p) for node in index.subjects(PROV.wasDerivedFrom, doc, False)
                for p in index.objects(node, k.evidence, False)}
    found = sorted((start, start + len(p), p) for p in passages if (start := text.find(p)) >= 0)
    spans: list[list[int]] = []  # highlighted stretches: overlapping passages merged
    anchors: dict[int, list[str]] = {}
    for start, end, passage in found:
        anchors.setdefault(start, []).append(anchor(passage))
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    starts, ends = {s for s, _ in spans}, {e for _, e in spans}
    points = sorted(starts | ends | set(anchors) | {0, len(text)})
    out: list[str] = []
    for i, at in enumerate(points):
        if at in ends:
            out.append(Markup("</mark>"))
        out += [Markup('<span id="{}" class="anchor"></span>').format(a) for a in anchors.get(at, [])]
        if at in starts:
            out.append(Markup("<mark>"))
        if i + 1 < len(points):
            out.append(escape(text[at:points[i + 1]].replace("\n", "\n\n")))  # a blank line between paragraphs
    untitled = index.has(doc, k.notStatedInSource, DCTERMS.title, False)
    return {"html": Markup("").join(out), "cited": len(found), "untitled": untitled}

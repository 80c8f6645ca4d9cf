"""Linked data: every IRI under the base dereferences; resource pages with evidence; dumps; VoID.

URL space. The server maps its paths onto the canonical base: path `/id/state/azerbaijan` is the
IRI `{base}id/state/azerbaijan`, `/ontology` is `{base}ontology` (and, since fragments are never
sent, every `{base}ontology#Term`), `/void` is the VoID document whose `#dataset` is the dataset.

One rule, applied everywhere: **303 See Other**. An IRI names a thing (a state, a class, a
dataset), not a document, so `GET /id/state/azerbaijan` answers `303` with `Location:` the
document about it, `/id/state/azerbaijan.{html,ttl,jsonld,nt,rdf,trig,nq}`, chosen by `Accept`
(`Vary: Accept`). Document URLs are plain resources with one fixed type each, so they can be
bookmarked, cached and linked without conneg. Unknown IRIs answer 404 directly (no redirect).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request
from rdflib import DCTERMS, OWL, RDF, RDFS, SKOS, BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node
from werkzeug.wrappers import Response as WerkzeugResponse

from . import dumps
from .errors import BadRequest, CaspianError, NotFound
from .formats import JSONLD, NQUADS, NTRIPLES, RDFXML, TRIG, TURTLE, Format, negotiate, serialize_dataset
from .store import KnowledgeGraph
from .void import describe_dataset

CK = Namespace("https://w3id.org/caspian-kg/ontology#")  # rebased at use: see _ck()
ORG = Namespace("http://www.w3.org/ns/org#")
PROV = Namespace("http://www.w3.org/ns/prov#")
TIME = Namespace("http://www.w3.org/2006/time#")

HTML = Format("html", "text/html", "html", ("application/xhtml+xml",), ("htm",))
# document extension -> format; the order is the order of preference when Accept ties (*/*)
EXTENSIONS: dict[str, Format] = {"html": HTML, "ttl": TURTLE, "jsonld": JSONLD, "nt": NTRIPLES,
                                 "rdf": RDFXML, "trig": TRIG, "nq": NQUADS}
DOCUMENT_FORMATS = tuple(EXTENSIONS.values())
DUMP_EXTENSIONS = {spec.extension: spec for spec in dumps.DUMP_FORMATS.values()}
ASSERTED_ONLY = ("none", "asserted", "false", "0", "no")
WITH_CLOSURE = ("", "rl", "owl-rl", "true", "1", "yes", "all")

bp = Blueprint("linked_data", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ld-static")


# --- request helpers --------------------------------------------------------------------------


def _kg() -> KnowledgeGraph:
    return current_app.extensions["caspian_kg"]["kg"]  # type: ignore[no-any-return]


def read_inference() -> bool:
    """`?inference=none` leaves out the OWL 2 RL closure (as on /sparql)."""
    value = request.args.get("inference", "").lower()
    if value in ASSERTED_ONLY:
        return False
    if value in WITH_CLOSURE:
        return True
    raise BadRequest(f"inference={value!r}: use 'none' (asserted facts only) or 'rl' (with the closure)")


def see_other(path: str, offered: tuple[Format, ...] = DOCUMENT_FORMATS) -> WerkzeugResponse:
    """303 to `path.{ext}` for the negotiated format; the query string is carried over."""
    fmt = negotiate(request.headers.get("Accept"), offered)
    extension = next(ext for ext, f in EXTENSIONS.items() if f is fmt)
    query = request.query_string.decode("ascii")
    response = redirect(f"{request.script_root}{path}.{extension}" + (f"?{query}" if query else ""), code=303)
    response.headers["Vary"] = "Accept"
    return response


def conditional(body: Callable[[], bytes | Iterable[bytes]], fmt: Format, variant: str, **headers: str) -> Response:
    """A 200 with an ETag of dataset version + variant, or a 304 when If-None-Match matches
    (checked before the body is built: nothing is serialised for a revalidation)."""
    etag = f"{_kg().version}-{variant}"
    # a compressed copy carries the same ETag plus ":<encoding>" (Flask-Compress, see app._compress)
    encodings = {*current_app.config.get("COMPRESS_ALGORITHM", ()),
                 *current_app.config.get("COMPRESS_ALGORITHM_STREAMING", ())}
    if any(request.if_none_match.contains(tag) for tag in [etag, *(f"{etag}:{e}" for e in encodings)]):
        response = Response(status=304)
    else:
        response = Response(body(), content_type=fmt.content_type)
    response.set_etag(etag)
    response.headers.update(headers)
    return response


def rdf_bytes(description: Dataset, fmt: Format) -> bytes:
    """Quad formats keep the named graph of each statement; the others write the union."""
    if fmt in (TRIG, NQUADS):
        return serialize_dataset(description, fmt)
    graph = Graph()
    for prefix, ns in description.namespaces():
        graph.bind(prefix, ns, override=False)
    for s, p, o, _ in description.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph.serialize(format=fmt.rdflib_name, encoding="utf-8")


# --- errors: an HTML 404 page for browsers, the app's one-line body for everyone else --------


@bp.errorhandler(CaspianError)
def _error(exc: CaspianError) -> Response:
    if exc.status == 404 and request.accept_mimetypes.best_match(["text/plain", "text/html"]) == "text/html":
        html = render_template("not_found.html", message=exc.message, path=request.path)
        return Response(html, status=404, content_type=HTML.content_type)
    from .app import error_response

    return error_response(exc.status, exc.message)


# --- /id/… : things and the documents about them ---------------------------------------------


@bp.get("/id/<path:rest>")
def resource(rest: str) -> WerkzeugResponse:
    kg = _kg()
    stem, dot, extension = rest.rpartition(".")
    if dot and extension in EXTENSIONS:
        return resource_document(kg, URIRef(f"{kg.base}id/{stem}"), extension)
    iri = URIRef(f"{kg.base}id/{rest}")
    require(kg, iri)
    return see_other(f"/id/{rest}")


def require(kg: KnowledgeGraph, iri: URIRef) -> None:
    """NotFound unless the IRI occurs in the data (as subject or object, closure included)."""
    if (iri, None, None) not in kg.dataset and (None, None, iri) not in kg.dataset:
        raise NotFound(f"no resource <{iri}> in this dataset")


def resource_document(kg: KnowledgeGraph, iri: URIRef, extension: str) -> Response:
    require(kg, iri)
    inference = read_inference()
    fmt = EXTENSIONS[extension]
    variant = f"{iri[len(kg.base):]}.{extension}-{'rl' if inference else 'none'}"
    if fmt is HTML:
        return conditional(lambda: render_template("resource.html", **resource_page(kg, iri, inference)).encode(),
                           fmt, variant)
    return conditional(lambda: rdf_bytes(describe(kg, iri, inference), fmt), fmt, variant)


def _quads(source: Dataset, pattern: tuple[Node | None, Node | None, Node | None]) -> list[tuple[Node, Node, Node, URIRef]]:
    return [(s, p, o, g.identifier if isinstance(g, Graph) else g)  # type: ignore[misc]
            for s, p, o, g in source.quads((*pattern, None))]  # type: ignore[arg-type]


def describe(kg: KnowledgeGraph, iri: URIRef, inference: bool = True) -> Dataset:
    """The resource's description, statements kept in their named graphs: outgoing and incoming
    statements; the n-ary nodes hanging off it (memberships, events, quotations... — any node
    with ck:evidence) with their own statements, blank nodes and time intervals, so a client
    gets roles, dates and the evidence in one request; and the labels of every IRI mentioned."""
    source = kg.view(inference)
    evidence = URIRef(f"{kg.base}ontology#evidence")
    out = Dataset()
    for prefix, ns in kg.dataset.namespaces():
        out.bind(prefix, ns, override=False)
    seen: set[Node] = set()

    def is_time(node: Node) -> bool:
        return any((node, RDF.type, t) in source for t in (TIME.Interval, TIME.Instant))

    def expand(node: Node, depth: int) -> None:
        if node in seen:
            return
        seen.add(node)
        for s, p, o, g in _quads(source, (node, None, None)):
            out.graph(g).add((s, p, o))
            if isinstance(o, BNode) or (depth < 3 and isinstance(o, URIRef) and is_time(o)):
                expand(o, depth + 1)

    expand(iri, 0)
    incoming = _quads(source, (None, None, iri))
    for s, p, o, g in incoming:
        out.graph(g).add((s, p, o))
    neighbours = {o for _, _, o, _ in _quads(source, (iri, None, None))} | {s for s, _, _, _ in incoming}
    for node in sorted(neighbours, key=str):
        if isinstance(node, URIRef) and (node, evidence, None) in source:
            expand(node, 1)
    mentioned = {t for s, p, o, _ in out.quads((None, None, None, None)) for t in (s, p, o) if isinstance(t, URIRef)}
    for term in mentioned:
        for s, p, o, g in _quads(source, (term, RDFS.label, None)):
            out.graph(g).add((s, p, o))
    return out


# --- the HTML resource page --------------------------------------------------------------------


@dataclass
class View:
    """Turns RDF terms into what the templates show: labels, local links, literal details."""

    kg: KnowledgeGraph
    source: Dataset

    def href(self, iri: str) -> str:
        """IRIs under the base link to this server (they dereference here); others as they are."""
        if iri.startswith(self.kg.base):
            return f"{request.script_root}/{iri[len(self.kg.base):]}"
        return iri

    def label(self, node: Node) -> str:
        if isinstance(node, Literal):
            return str(node)
        labels = list(self.source.objects(node, RDFS.label)) or list(self.source.objects(node, SKOS.prefLabel))
        english = [lab for lab in labels if getattr(lab, "language", None) in ("en", None)]
        if english or labels:
            return str(min(english or labels, key=str))
        if isinstance(node, BNode):
            return class_expression(self, node)
        try:
            return self.kg.dataset.namespace_manager.normalizeUri(node)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - not every IRI has a prefix form (rdflib raises various types)
            return str(node)

    def term(self, node: Node) -> dict[str, Any]:
        if isinstance(node, Literal):
            datatype = node.datatype and self.label(node.datatype) if node.datatype else None
            return {"literal": True, "label": str(node), "lang": node.language, "datatype": datatype}
        if isinstance(node, BNode):
            return {"literal": False, "label": self.label(node), "href": None, "iri": None}
        return {"literal": False, "label": self.label(node), "href": self.href(str(node)), "iri": str(node),
                "local": str(node).startswith(self.kg.base)}

    def graph(self, graph: Node) -> dict[str, Any]:
        """Where a statement comes from: a source document, background knowledge, the ontology,
        or the OWL 2 RL closure."""
        name = next((n for n, iri in self.kg.graphs.items() if iri == graph), str(graph))
        if name.startswith("source/"):
            doc = URIRef(f"{self.kg.base}id/doc/{name.split('/', 1)[1]}")
            return {"name": name, "label": self.label(doc), "href": self.href(doc), "inferred": False}
        if name == "inferred":
            return {"name": name, "label": "inferred (OWL 2 RL)", "href": self.href(f"{self.kg.base}void"),
                    "inferred": True}
        if name == "ontology":
            return {"name": name, "label": "ontology", "href": self.href(f"{self.kg.base}ontology"), "inferred": False}
        return {"name": name, "label": f"{name} (cited background)", "href": None, "inferred": False}

    def evidence_of(self, node: Node) -> list[dict[str, Any]]:
        """The verbatim passages on an n-ary node, each with the document it comes from."""
        passages = sorted(self.source.objects(node, self._ck("evidence")), key=str)
        documents = [self.term(d) for d in sorted(self.source.objects(node, PROV.wasDerivedFrom), key=str)]
        return [{"passage": str(p), "sources": documents, "node": self.term(node)} for p in passages]

    def evidence(self, s: Node, p: Node, o: Node) -> list[dict[str, Any]]:
        """Evidence for one statement: the subject's own passages when it is an n-ary node; else
        the object's; else those of n-ary nodes linking both ends (an inferred org:memberOf is
        supported by the membership node between the state and the organisation)."""
        for node in (s, o):
            if not isinstance(node, Literal) and (node, self._ck("evidence"), None) in self.source:
                return self.evidence_of(node)
        around_s = set(self.source.subjects(None, s)) | set(self.source.objects(s))
        around_o = set(self.source.subjects(None, o)) | set(self.source.objects(o)) if not isinstance(o, Literal) else set()
        bridges = sorted((n for n in around_s & around_o if (n, self._ck("evidence"), None) in self.source), key=str)
        return [e for n in bridges for e in self.evidence_of(n)]

    def statement(self, s: Node, p: Node, o: Node, graphs: list[URIRef]) -> dict[str, Any]:
        sources = [self.graph(g) for g in sorted(set(graphs), key=str)]
        return {"subject": self.term(s), "predicate": self.term(p), "object": self.term(o),
                "sources": sources, "inferred": all(src["inferred"] for src in sources),
                "evidence": self.evidence(s, p, o)}

    def _ck(self, local: str) -> URIRef:
        return URIRef(f"{self.kg.base}ontology#{local}")


def _grouped(quads: Iterable[tuple[Node, Node, Node, URIRef]]) -> dict[tuple[Node, Node, Node], list[URIRef]]:
    triples: dict[tuple[Node, Node, Node], list[URIRef]] = {}
    for s, p, o, g in quads:
        triples.setdefault((s, p, o), []).append(g)
    return triples


def resource_page(kg: KnowledgeGraph, iri: URIRef, inference: bool = True) -> dict[str, Any]:
    """Everything resource.html shows, built from the same data as the RDF description."""
    source = kg.view(inference)
    view = View(kg, source)
    ck = view._ck
    outgoing = _grouped(_quads(source, (iri, None, None)))
    incoming = _grouped(_quads(source, (None, None, iri)))

    def order(item: tuple[tuple[Node, Node, Node], list[URIRef]]) -> tuple[Any, ...]:
        (s, p, o), graphs = item
        return (view.label(p).lower(), kg.inferred_graph in graphs, view.label(o if s == iri else s).lower())

    linked = {s for s, _, _ in incoming} | {o for _, _, o in outgoing if isinstance(o, URIRef)}
    typed = lambda cls: sorted((n for n in linked if (n, RDF.type, cls) in kg.dataset), key=str)
    return {
        "iri": str(iri),
        "label": view.label(iri),
        "alt_labels": sorted(str(a) for a in source.objects(iri, SKOS.altLabel)),
        "comments": sorted(str(c) for c in source.objects(iri, RDFS.comment)),
        "types": [view.term(t) | {"inferred": (iri, RDF.type, t) not in kg.asserted}
                  for t in sorted(source.objects(iri, RDF.type), key=view.label)],
        "evidence": view.evidence_of(iri),
        "memberships": [membership(view, m) for m in typed(ORG.Membership)]
        + ([membership(view, iri)] if (iri, RDF.type, ORG.Membership) in kg.dataset else []),
        "events": [event(view, e, iri) for e in typed(ck("Event"))],
        "quotations": [quotation(view, q) for q in typed(ck("Quotation"))],
        "outgoing": [view.statement(s, p, o, g) for (s, p, o), g in sorted(outgoing.items(), key=order)],
        "incoming": [view.statement(s, p, o, g) for (s, p, o), g in sorted(incoming.items(), key=order)],
        "inference": inference,
        "documents": {ext: f"{view.href(str(iri))}.{ext}" for ext in EXTENSIONS if ext != "html"},
        "chart": _chart_href(kg, iri),
    }


def _chart_href(kg: KnowledgeGraph, iri: URIRef) -> str | None:
    """The membership chart of an organisation that has memberships (served by ui.py)."""
    prefix = f"{kg.base}id/org/"
    if "ui" not in current_app.blueprints or not str(iri).startswith(prefix):
        return None
    if next(kg.dataset.subjects(ORG.organization, iri), None) is None:
        return None
    return f"{request.script_root}/chart/{str(iri)[len(prefix):]}"


def _first(view: View, node: Node, *predicates: URIRef) -> dict[str, Any] | None:
    for predicate in predicates:
        value = view.source.value(node, predicate)  # type: ignore[arg-type]
        if value is not None:
            return view.term(value)
    return None


def membership(view: View, node: Node) -> dict[str, Any]:
    """Member, organisation, role and time of a membership node, with its evidence."""
    ck = view._ck
    interval = view.source.value(node, ORG.memberDuring)
    time: dict[str, Any] = {}
    if interval is not None:
        for key, predicate in (("from", TIME.hasBeginning), ("until", TIME.hasEnd)):
            instant = view.source.value(interval, predicate)
            if instant is not None:
                time[key] = _first(view, instant, TIME.inXSDDate, TIME.inXSDgYear, RDFS.label)
    return {"node": view.term(node), "member": _first(view, node, ORG.member),
            "organisation": _first(view, node, ck("memberIn"), ck("observerIn"), ck("chairIn"), ORG.organization),
            "role": _first(view, node, ORG.role), "time": time,
            "role_unstated": (node, ck("notStatedInSource"), ORG.role) in view.source,
            "evidence": view.evidence_of(node)}


def event(view: View, node: Node, about: URIRef) -> dict[str, Any]:
    """An event linked to the resource: its types, date, places, how the resource takes part."""
    ck = view._ck
    asserted_types = [t for t in view.kg.asserted.objects(node, RDF.type)] or list(view.source.objects(node, RDF.type))
    roles = sorted({view.label(p) for p in view.source.predicates(node, about)}
                   | {view.label(p) for p in view.source.predicates(about, node)})
    return {"node": view.term(node), "types": [view.term(t) for t in sorted(asserted_types, key=str)],
            "date": _first(view, node, ck("date")), "places": [view.term(p) for p in view.source.objects(node, ck("place"))],
            "roles": roles, "evidence": view.evidence_of(node)}


def quotation(view: View, node: Node) -> dict[str, Any]:
    ck = view._ck
    return {"node": view.term(node), "text": str(view.source.value(node, ck("text")) or ""),
            "speaker": _first(view, node, ck("speaker")), "occasion": _first(view, node, ck("occasion")),
            "evidence": view.evidence_of(node)}


# --- /ontology: the whole ontology document, per-term descriptions, an HTML documentation ----


@bp.get("/ontology")
def ontology() -> WerkzeugResponse:
    return see_other("/ontology")


@bp.get("/ontology.<extension>")
def ontology_document(extension: str) -> Response:
    kg = _kg()
    fmt = _document_format(extension)
    if fmt is HTML:
        return conditional(lambda: render_template("ontology.html", **ontology_page(kg)).encode(), fmt, "ontology.html")
    return conditional(lambda: rdf_bytes(ontology_dataset(kg), fmt), fmt, f"ontology.{extension}")


@bp.get("/ontology/<term>")
def ontology_term(term: str) -> WerkzeugResponse:
    """`/ontology/State` stands for `{base}ontology#State`: HTML goes to its section of the
    ontology page, RDF to the term's own description (with what the closure says about it)."""
    kg = _kg()
    stem, dot, extension = term.rpartition(".")
    if dot and extension in EXTENSIONS:
        iri = URIRef(f"{kg.base}ontology#{stem}")
        require(kg, iri)
        if extension == "html":
            return redirect(f"{request.script_root}/ontology.html#{stem}", code=303)
        return resource_document(kg, iri, extension)
    require(kg, URIRef(f"{kg.base}ontology#{term}"))
    return see_other(f"/ontology/{term}")


def ontology_dataset(kg: KnowledgeGraph) -> Dataset:
    """The ontology's named graph as authored (the TBox; no closure)."""
    out = Dataset()
    for prefix, ns in kg.dataset.namespaces():
        out.bind(prefix, ns, override=False)
    target = out.graph(kg.ontology_graph)
    for triple in kg.asserted.graph(kg.ontology_graph):
        target.add(triple)
    return out


def class_expression(view: View, node: Node) -> str:
    """An anonymous OWL class in Manchester-like syntax (restrictions, intersections)."""
    g = view.kg.asserted.graph(view.kg.ontology_graph)
    if isinstance(node, URIRef):
        return view.label(node)
    prop = g.value(node, OWL.onProperty)
    if prop is not None:
        for predicate, word in ((OWL.hasValue, "value"), (OWL.someValuesFrom, "some"), (OWL.allValuesFrom, "only")):
            value = g.value(node, predicate)
            if value is not None:
                return f"{view.label(prop)} {word} {class_expression(view, value)}"
    for predicate, word in ((OWL.intersectionOf, " and "), (OWL.unionOf, " or ")):
        members = g.value(node, predicate)
        if members is not None:
            return "(" + word.join(class_expression(view, m) for m in Collection(g, members)) + ")"
    return "(anonymous class)"


def ontology_page(kg: KnowledgeGraph) -> dict[str, Any]:
    """Classes, properties and individuals of the ontology with their axioms, for ontology.html."""
    g = kg.asserted.graph(kg.ontology_graph)
    view = View(kg, kg.asserted)
    nm = kg.dataset.namespace_manager

    def anchor(node: Node) -> str:
        prefix, text = f"{kg.base}ontology#", str(node)
        return text[len(prefix):] if text.startswith(prefix) else nm.normalizeUri(text)

    def terms(values: Iterable[Node]) -> list[dict[str, Any]]:
        return [view.term(v) | {"anchor": anchor(v) if isinstance(v, URIRef) and (v, RDF.type, None) in g else None}
                for v in sorted(values, key=lambda v: view.label(v).lower())]

    def entry(node: URIRef) -> dict[str, Any]:
        chain = g.value(node, OWL.propertyChainAxiom)
        return {
            "anchor": anchor(node), "iri": str(node), "qname": nm.normalizeUri(node), "label": view.label(node),
            "comment": str(g.value(node, RDFS.comment) or ""),
            "kinds": [view.label(t) for t in sorted(g.objects(node, RDF.type), key=str)],
            "is_property": any((node, RDF.type, t) in g for t in (OWL.ObjectProperty, OWL.DatatypeProperty)),
            "super": terms(g.objects(node, RDFS.subClassOf)) + terms(g.objects(node, RDFS.subPropertyOf)),
            "sub": terms(g.subjects(RDFS.subClassOf, node)) + terms(g.subjects(RDFS.subPropertyOf, node)),
            "equivalent": terms(g.objects(node, OWL.equivalentClass)),
            "disjoint": terms(set(g.objects(node, OWL.disjointWith)) | set(g.objects(node, OWL.propertyDisjointWith))
                              | set(g.subjects(OWL.propertyDisjointWith, node))),
            "inverse": terms(set(g.objects(node, OWL.inverseOf)) | set(g.subjects(OWL.inverseOf, node))),
            "chain": terms([]) if chain is None else [view.term(p) | {"anchor": anchor(p)} for p in Collection(g, chain)],
            "domain": terms(g.objects(node, RDFS.domain)), "range": terms(g.objects(node, RDFS.range)),
            "instance_of": terms(t for t in g.objects(node, RDF.type) if t not in (OWL.NamedIndividual,)),
        }

    def named(*types: URIRef) -> list[dict[str, Any]]:
        nodes = {s for t in types for s in g.subjects(RDF.type, t) if isinstance(s, URIRef)}
        return [entry(n) for n in sorted(nodes, key=lambda n: view.label(n).lower())]

    classes = named(OWL.Class)
    properties = named(OWL.ObjectProperty, OWL.DatatypeProperty)
    known = {c["iri"] for c in classes + properties}
    individuals = [e for e in named(ORG.Role, SKOS.Concept, SKOS.ConceptScheme) if e["iri"] not in known]
    general_axioms = [{"sub": class_expression(view, s), "super": terms([o])}
                      for s, o in g.subject_objects(RDFS.subClassOf) if isinstance(s, BNode)]
    onto = URIRef(f"{kg.base}ontology")
    return {"iri": str(onto), "title": view.label(onto), "comment": str(g.value(onto, RDFS.comment) or ""),
            "version": str(g.value(onto, OWL.versionInfo) or ""), "classes": classes, "properties": properties,
            "individuals": individuals, "general_axioms": general_axioms,
            "documents": {ext: f"{request.script_root}/ontology.{ext}" for ext in EXTENSIONS if ext != "html"}}


# --- /void and /.well-known/void: the dataset description --------------------------------------


@bp.get("/.well-known/void")
@bp.get("/void")
def void() -> WerkzeugResponse:
    return see_other("/void")


@bp.get("/void.<extension>")
def void_document(extension: str) -> Response:
    kg = _kg()
    fmt = _document_format(extension)
    if fmt is HTML:
        return conditional(lambda: render_template("void.html", **void_page(kg)).encode(), fmt, "void.html")

    def body() -> bytes:
        description = Dataset()
        graph = cached_void(kg)
        for prefix, ns in graph.namespaces():
            description.bind(prefix, ns, override=False)
        description.default_graph += graph
        return rdf_bytes(description, fmt)

    return conditional(body, fmt, f"void.{extension}")


def void_page(kg: KnowledgeGraph) -> dict[str, Any]:
    from .void import VOID, dataset_iri

    g = cached_void(kg)
    view = View(kg, kg.dataset)
    ds = dataset_iri(kg.base)

    def figures(node: Node) -> dict[str, int]:
        return {str(p).rsplit("#", 1)[1]: int(o) for p, o in g.predicate_objects(node)  # type: ignore[call-overload]
                if isinstance(o, Literal) and str(p).startswith(str(VOID)) and o.datatype is not None}

    subsets = [{"term": view.graph(s), "iri": str(s), "figures": figures(s),
                "dump": f"{request.script_root}/export/caspian-kg.ttl?graph={view.graph(s)['name']}"}
               for s in sorted(g.objects(ds, VOID.subset), key=str)]
    partitions = sorted(((view.term(g.value(p, VOID["class"])), int(g.value(p, VOID.entities)))  # type: ignore[arg-type,call-overload]
                         for p in g.objects(ds, VOID.classPartition)), key=lambda x: -x[1])
    return {"title": str(g.value(ds, DCTERMS.title)), "description": str(g.value(ds, DCTERMS.description)),
            "version": kg.version, "figures": figures(ds), "subsets": subsets, "partitions": partitions,
            "dumps": [(spec.media_type, f"{request.script_root}/export/caspian-kg.{spec.extension}", spec.quads)
                      for spec in dumps.DUMP_FORMATS.values()],
            "sparql": f"{request.script_root}/sparql",
            "documents": {ext: f"{request.script_root}/void.{ext}" for ext in EXTENSIONS if ext != "html"}}


def cached_void(kg: KnowledgeGraph) -> Graph:
    """The VoID graph counts the whole dataset: built once per dataset version."""
    cache: dict[str, Graph] = current_app.extensions.setdefault("caspian_kg_void", {})
    if kg.version not in cache:
        cache[kg.version] = describe_dataset(kg)
    return cache[kg.version]


def _document_format(extension: str) -> Format:
    if extension not in EXTENSIONS:
        raise NotFound(f"no document format {extension!r}; use one of {', '.join(EXTENSIONS)}")
    return EXTENSIONS[extension]


# --- /graph/… and /export/…: dumps ------------------------------------------------------------


@bp.get("/graph/<path:name>")
def named_graph(name: str) -> WerkzeugResponse:
    """A named graph's IRI dereferences to its dump (Turtle unless Accept says otherwise)."""
    kg = _kg()
    if name not in kg.graphs:
        raise NotFound(f"no named graph <{kg.base}graph/{name}>")
    offered = (TURTLE, NTRIPLES, JSONLD, RDFXML, TRIG, NQUADS)
    fmt = negotiate(request.headers.get("Accept"), offered)
    extension = next(ext for ext, f in EXTENSIONS.items() if f is fmt)
    response = redirect(f"{request.script_root}/export/caspian-kg.{extension}?graph={name}", code=303)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/export/")
@bp.get("/export")
def export_index() -> WerkzeugResponse:
    return redirect(f"{request.script_root}/void.html#dumps", code=303)


@bp.get("/export/caspian-kg.<extension>")
def export(extension: str) -> Response:
    """The whole dataset (or `?graph=name`), streamed, as `caspian-kg export` writes it."""
    kg = _kg()
    spec = DUMP_EXTENSIONS.get(extension)
    if spec is None:
        raise NotFound(f"no dump format {extension!r}; use one of {', '.join(DUMP_EXTENSIONS)}")
    inference = read_inference()
    graph = request.args.get("graph") or None
    if graph is not None and (graph not in kg.graphs or (graph == "inferred" and not inference)):
        raise NotFound(f"no named graph {graph!r}; use one of {', '.join(kg.graphs)}")
    name = "caspian-kg" + ("" if inference else "-asserted") + (f"-{graph.replace('/', '-')}" if graph else "")
    return conditional(lambda: dumps.chunks(cached_dump(kg, spec.name, inference, graph)), spec.format,
                       f"{name}.{extension}", **{"Content-Disposition": f'attachment; filename="{name}.{extension}"'})


def cached_dump(kg: KnowledgeGraph, fmt: str, inference: bool, graph: str | None) -> bytes:
    """Dumps are deterministic per dataset version, so each variant is serialised once."""
    cache: dict[tuple[Any, ...], bytes] = current_app.extensions.setdefault("caspian_kg_dumps", {})
    key = (kg.version, fmt, inference, graph)
    if key not in cache:
        cache[key] = dumps.serialize(kg, fmt, inference=inference, graph=graph)
    return cache[key]

"""What the HTML pages about the data show: the ontology, the dataset (VoID); entity pages are
`entity_page.py`.

`View` turns RDF terms into labels, local links and literal details; the page functions build
the templates' context from the same graph the RDF documents come from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import request
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from ..dumps import DUMP_FORMATS
from ..formats import EXTENSIONS
from ..graph import KnowledgeGraph
from ..views import document_title, plain, views
from ..vocab import DCTERMS, ORG, OWL, PROV, RDF, RDFS, SKOS, VOID, ck
from ..void import dataset_iri, describe_dataset
from .state import current

SAFE_LINK = re.compile(r"https?://", re.IGNORECASE)  # the only schemes a page links to

# --- the HTML resource page --------------------------------------------------------------------


@dataclass
class View:
    """Turns RDF terms into what the templates show: labels, local links, literal details."""

    kg: KnowledgeGraph
    source: Dataset

    def href(self, iri: str) -> str | None:
        """Where a link to `iri` goes: IRIs under the base to this server (they dereference
        here), other http(s) IRIs as they are, and nothing for any other scheme (javascript:,
        data:, file:... are shown as text, never as a link). The one place pages make links."""
        if iri.startswith(self.kg.base):
            return f"{request.script_root}/{iri[len(self.kg.base):]}"
        return iri if SAFE_LINK.match(iri) else None

    def label(self, node: Node) -> str:
        if isinstance(node, Literal):
            return plain(node)
        if isinstance(node, URIRef) and node.startswith(f"{self.kg.base}id/doc/"):
            index = views(self.kg)  # a source document is named by its title, never "(untitled)"
            if index.has(node, RDF.type, self._ck("SourceDocument")):
                return document_title(index, node)
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
            return {"literal": True, "label": plain(node)}
        if isinstance(node, BNode):
            return {"literal": False, "label": self.label(node), "href": None, "iri": None}
        return {"literal": False, "label": self.label(node), "href": self.href(str(node)), "iri": str(node),
                "local": str(node).startswith(self.kg.base)}

    def graph(self, graph: Node) -> dict[str, Any]:
        """Where a statement comes from: a source document, background knowledge, the outbound
        links, the ontology, or the OWL 2 RL closure."""
        name = next((n for n, iri in self.kg.graphs.items() if iri == graph), str(graph))
        if name.startswith("source/"):
            doc = URIRef(f"{self.kg.base}id/doc/{name.split('/', 1)[1]}")
            return {"name": name, "label": self.label(doc), "href": self.href(doc), "inferred": False}
        if name == "inferred":
            return {"name": name, "label": "inferred (OWL 2 RL)", "href": self.href(f"{self.kg.base}void"),
                    "inferred": True}
        if name == "ontology":
            return {"name": name, "label": "ontology", "href": self.href(f"{self.kg.base}ontology"), "inferred": False}
        if name == "links":
            return {"name": name, "label": "outbound links", "href": None, "inferred": False}
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
        return ck(self.kg.base)[local]


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


def void_page(kg: KnowledgeGraph) -> dict[str, Any]:
    g = current().derived("void", describe_dataset)
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
                      for spec in DUMP_FORMATS.values()],
            "sparql": f"{request.script_root}/sparql",
            "documents": {ext: f"{request.script_root}/void.{ext}" for ext in EXTENSIONS if ext != "html"}}

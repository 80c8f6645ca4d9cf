"""The schema side of the compiled OWL 2 RL engine (`fast.py`): which triples are schema, the
schema's closure by owlrl itself, and the lookup tables (`Rules`) compiled from it; plus the term
adapters that let the engine run on rdflib or pyoxigraph terms alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import pyoxigraph
from oxrdflib._converter import to_ox
from rdflib import OWL, RDF, RDFS, BNode, Dataset, Literal, URIRef
from rdflib.term import Node

from ..oxterms import to_rdflib
from .owlrl_closure import compute_closure as owlrl_closure

SCHEMA_NAMESPACES = (str(RDFS), str(OWL))
LIST_PREDICATES = {RDF.first, RDF.rest}
UNSUPPORTED = {
    OWL.hasKey, OWL.maxCardinality, OWL.maxQualifiedCardinality, OWL.sourceIndividual,
    OWL.differentFrom, OWL.distinctMembers, OWL.complementOf,
}
UNSUPPORTED_TYPES = {
    OWL.AllDifferent, OWL.IrreflexiveProperty, OWL.AsymmetricProperty, OWL.AllDisjointProperties,
    OWL.NegativePropertyAssertion,
}
SAMPLE_SUBJECT = URIRef("urn:caspian-kg:fastreason:sample")
SAMPLE_PREDICATE = URIRef("urn:caspian-kg:fastreason:value")


class Unsupported(Exception):
    """The schema uses an OWL 2 RL construct this engine does not compile (use owlrl)."""


# --- term adapters: the engine works on any hashable terms ----------------------------------


class RdflibTerms:
    """Terms are rdflib nodes already."""

    @staticmethod
    def term(node: Node) -> Any:
        return node

    @staticmethod
    def node(term: Any) -> Node:
        return term

    @staticmethod
    def is_literal(term: Any) -> bool:
        return isinstance(term, Literal)

    @staticmethod
    def is_bnode(term: Any) -> bool:
        return isinstance(term, BNode)


class OxigraphTerms:
    """Terms are pyoxigraph terms (the on-disk store): no conversion of the bulk data at all."""

    def __init__(self) -> None:
        # xsd:string literals come back plain, as rdflib's parser reads them
        self._lit, self._bnode = pyoxigraph.Literal, pyoxigraph.BlankNode
        self.term: Callable[[Node], Any] = to_ox  # type: ignore[assignment]
        self.node: Callable[[Any], Node] = to_rdflib

    def is_literal(self, term: Any) -> bool:
        return isinstance(term, self._lit)

    def is_bnode(self, term: Any) -> bool:
        return isinstance(term, self._bnode)


# --- schema extraction ------------------------------------------------------------------------


def is_schema(triple: tuple[Node, Node, Node]) -> bool:
    """Does owlrl's schema run need this triple? (Annotations and sameAs stay instance data.)"""
    from owlrl.OWLRL import OWLRL_Annotation_properties

    _, p, o = triple
    if p == RDF.type:  # (x a owl:Thing holds of everything: instance data, and pruned anyway)
        return isinstance(o, URIRef) and o != OWL.Thing and (
            str(o).startswith(SCHEMA_NAMESPACES) or o in (RDF.Property, RDF.List))
    if p in LIST_PREDICATES:
        return True
    return (str(p).startswith(SCHEMA_NAMESPACES) and p not in (OWL.sameAs, OWL.differentFrom)
            and p not in OWLRL_Annotation_properties)


def literal_ok(lexical: str, datatype: URIRef) -> bool:
    """owlrl's dt-not-type test: does the lexical form map into the datatype's value space?"""
    from owlrl.DatatypeHandling import AltXSDToPYTHON

    converter = AltXSDToPYTHON.get(datatype)
    if converter is None:
        return True
    try:
        converter(lexical)
    except ValueError:
        return False
    return True


def schema_closure(schema: set[tuple[Node, Node, Node]]) -> tuple[set[tuple[Node, Node, Node]], list[str]]:
    """owlrl (owlrl_closure.compute_closure, pruned) over the schema triples only; memoised, since
    the same ontology is closed again and again (every load, every test, every bench size)."""
    key = frozenset((s, p, o.datatype if s == SAMPLE_SUBJECT and literal_ok(str(o), o.datatype) else o)  # type: ignore[attr-defined]
                    for s, p, o in schema)
    if key not in _SCHEMA_CACHE:
        if len(_SCHEMA_CACHE) > 8:
            _SCHEMA_CACHE.clear()
        _SCHEMA_CACHE[key] = _owlrl_schema_closure(schema)
    closed, messages = _SCHEMA_CACHE[key]
    return set(closed), list(messages)


_SCHEMA_CACHE: dict[frozenset[tuple[Node, Node, Node]], tuple[frozenset[tuple[Node, Node, Node]], tuple[str, ...]]] = {}


def _owlrl_schema_closure(schema: set[tuple[Node, Node, Node]]) -> tuple[frozenset[tuple[Node, Node, Node]], tuple[str, ...]]:

    dataset = Dataset(default_union=True)
    graph = dataset.graph(URIRef("urn:caspian-kg:fastreason:schema"))
    for triple in schema:
        graph.add(triple)
    inferred = URIRef("urn:caspian-kg:fastreason:inferred")
    messages = owlrl_closure(dataset, inferred)
    closed = frozenset(t for t in dataset.graph(inferred) if SAMPLE_SUBJECT not in t and SAMPLE_PREDICATE not in t)
    return closed, tuple(messages)


# --- the compiled rules -----------------------------------------------------------------------


class Rules:
    """Lookup tables compiled from the closed schema, keyed by interned ids."""

    def __init__(self, schema: Iterable[tuple[int, int, int]], v: dict[str, int], lists: Callable[[int], list[int]]):
        self.sup: dict[int, set[int]] = defaultdict(set)  # p -> super-properties (spo1, eqp)
        self.inv: dict[int, set[int]] = defaultdict(set)  # p -> q with (x p y) => (y q x)
        self.dom: dict[int, set[int]] = defaultdict(set)
        self.rng: dict[int, set[int]] = defaultdict(set)
        self.sco: dict[int, set[int]] = defaultdict(set)  # class -> super-classes (sco, eqc)
        self.hv_cls: dict[int, set[tuple[int, int]]] = defaultdict(set)  # c -> (p, v)
        self.hv_by_p: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))  # p -> v -> c
        self.svf_by_p: dict[int, set[tuple[int, int]]] = defaultdict(set)  # p -> (c, filler)
        self.svf_by_d: dict[int, set[tuple[int, int]]] = defaultdict(set)  # filler -> (p, c)
        self.avf_by_c: dict[int, set[tuple[int, int]]] = defaultdict(set)  # c -> (p, d)
        self.avf_by_p: dict[int, set[tuple[int, int]]] = defaultdict(set)  # p -> (c, d)
        self.int_by_member: dict[int, set[tuple[int, tuple[int, ...]]]] = defaultdict(set)
        self.int_of: dict[int, set[int]] = defaultdict(set)  # c -> its conjuncts
        self.uni_by_member: dict[int, set[int]] = defaultdict(set)
        self.chain_first: dict[int, set[tuple[int, int]]] = defaultdict(set)  # p1 -> (p2, p)
        self.chain_second: dict[int, set[tuple[int, int]]] = defaultdict(set)  # p2 -> (p1, p)
        self.trans: set[int] = set()
        self.symm: set[int] = set()
        self.func: set[int] = set()
        self.ifunc: set[int] = set()
        self.pdw: set[tuple[int, int]] = set()
        self.disjoint: set[tuple[int, int]] = set()
        self.internal: set[int] = set()  # predicates made up to binarise long chains
        self.reverse: set[int] = set()  # predicates whose object -> subjects index is needed

        triples = list(schema)
        on_property: dict[int, set[int]] = defaultdict(set)
        for s, p, o in triples:
            if p == v["onProperty"]:
                on_property[s].add(o)
        for s, p, o in triples:
            if p == v["subPropertyOf"] and s != o:
                self.sup[s].add(o)
            elif p == v["equivalentProperty"] and s != o:
                self.sup[s].add(o)
                self.sup[o].add(s)
            elif p == v["inverseOf"]:
                self.inv[s].add(o)
                self.inv[o].add(s)
            elif p == v["domain"]:
                self.dom[s].add(o)
            elif p == v["range"]:
                self.rng[s].add(o)
            elif p == v["subClassOf"] and s != o:
                self.sco[s].add(o)
            elif p == v["equivalentClass"] and s != o:
                self.sco[s].add(o)
                self.sco[o].add(s)
            elif p == v["hasValue"]:
                for prop in on_property[s]:
                    self.hv_cls[s].add((prop, o))
                    self.hv_by_p[prop][o].add(s)
            elif p == v["someValuesFrom"]:
                for prop in on_property[s]:
                    self.svf_by_p[prop].add((s, o))
                    self.svf_by_d[o].add((prop, s))
                    self.reverse.add(prop)
            elif p == v["allValuesFrom"]:
                for prop in on_property[s]:
                    self.avf_by_c[s].add((prop, o))
                    self.avf_by_p[prop].add((s, o))
            elif p == v["intersectionOf"]:
                members = tuple(lists(o))
                for m in members:
                    self.int_by_member[m].add((s, members))
                    self.int_of[s].add(m)
            elif p == v["unionOf"]:
                for m in lists(o):
                    self.uni_by_member[m].add(s)
            elif p == v["propertyChainAxiom"]:
                self._chain(s, lists(o))
            elif p == v["propertyDisjointWith"]:
                self.pdw.add((s, o))
            elif p == v["disjointWith"]:
                self.disjoint.add((s, o))
            elif p == v["type"]:
                if o == v["TransitiveProperty"]:
                    self.trans.add(s)
                    self.reverse.add(s)
                elif o == v["SymmetricProperty"]:
                    self.symm.add(s)
                elif o == v["FunctionalProperty"]:
                    self.func.add(s)
                elif o == v["InverseFunctionalProperty"]:
                    self.ifunc.add(s)
                    self.reverse.add(s)
                elif o == v["AllDisjointClasses"]:
                    for head in (mo for ms, mp, mo in triples if ms == s and mp == v["members"]):
                        listed = lists(head)
                        self.disjoint.update((a, b) for i, a in enumerate(listed) for b in listed[i + 1:])

    def _chain(self, target: int, chain: list[int]) -> None:
        """prp-spo2, binarised: (p1 p2 p3) -> p becomes p1∘p2 -> q (internal), q∘p3 -> p."""
        if not chain:
            return
        if len(chain) == 1:
            self.sup[chain[0]].add(target)
            return
        left = chain[0]
        for i, right in enumerate(chain[1:], start=1):
            out = target if i == len(chain) - 1 else self._fresh()
            self.chain_first[left].add((right, out))
            self.chain_second[right].add((left, out))
            self.reverse.add(left)
            left = out

    def _fresh(self) -> int:
        self._next_internal = getattr(self, "_next_internal", -1) - 1
        self.internal.add(self._next_internal)
        return self._next_internal

    def signature(self) -> tuple[Any, ...]:
        """Equal signatures = same rules (to decide whether new schema triples need a re-run)."""
        def norm(d: Any) -> Any:
            return sorted((k, sorted(map(repr, v))) for k, v in d.items() if v)
        return tuple(norm(getattr(self, n)) for n in (
            "sup", "inv", "dom", "rng", "sco", "hv_cls", "svf_by_p", "avf_by_p", "int_of", "uni_by_member",
            "chain_first")) + (sorted(self.trans), sorted(self.symm), sorted(self.func), sorted(self.ifunc))


VOCAB = {
    "type": RDF.type, "first": RDF.first, "rest": RDF.rest, "nil": RDF.nil,
    "subPropertyOf": RDFS.subPropertyOf, "subClassOf": RDFS.subClassOf, "domain": RDFS.domain, "range": RDFS.range,
    "equivalentProperty": OWL.equivalentProperty, "equivalentClass": OWL.equivalentClass, "inverseOf": OWL.inverseOf,
    "onProperty": OWL.onProperty, "hasValue": OWL.hasValue, "someValuesFrom": OWL.someValuesFrom,
    "allValuesFrom": OWL.allValuesFrom, "intersectionOf": OWL.intersectionOf, "unionOf": OWL.unionOf,
    "propertyChainAxiom": OWL.propertyChainAxiom, "propertyDisjointWith": OWL.propertyDisjointWith,
    "disjointWith": OWL.disjointWith, "members": OWL.members, "AllDisjointClasses": OWL.AllDisjointClasses,
    "TransitiveProperty": OWL.TransitiveProperty, "SymmetricProperty": OWL.SymmetricProperty,
    "FunctionalProperty": OWL.FunctionalProperty, "InverseFunctionalProperty": OWL.InverseFunctionalProperty,
    "sameAs": OWL.sameAs, "Thing": OWL.Thing, "Nothing": OWL.Nothing,
}

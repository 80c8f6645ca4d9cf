"""A fast OWL 2 RL closure: owlrl on the schema only, compiled rules on the instance data.

Why: owlrl re-scans the whole graph once per rule per cycle (about half a millisecond per
triple here), which is fine for the shipped ~2k triples and hopeless for a million. The closure
splits cleanly in two:

* the *schema* part (subClassOf/subPropertyOf/domain/range/equivalence closure, datatype axioms,
  annotation properties...) depends only on the schema triples — triples whose predicate is
  RDFS/OWL vocabulary, rdf:type statements naming an RDF/RDFS/OWL class, and rdf lists — plus
  which datatypes the literals use. That graph is small whatever the data size, so owlrl itself
  computes it (same code, same quirks);
* the *instance* part is the OWL 2 RL rules over individuals (cax-sco, cax-eqc, prp-spo1,
  prp-eqp, prp-inv, prp-dom, prp-rng, prp-symp, prp-trp, prp-spo2, prp-fp, prp-ifp, cls-hv,
  cls-svf, cls-avf, cls-int, cls-uni, eq-*), compiled from the closed schema into lookup tables
  and evaluated semi-naively over integer-interned triples with hash indexes: every triple is
  processed once, joins look up the other side in an index.

Instance-level triples that are themselves schema triples (e.g. ck:notStatedInSource has range
rdf:Property, so ck:date becomes an rdf:Property) are fed back to the schema run until nothing
new appears. Schema constructs this module does not compile (hasKey, max cardinalities, negative
assertions, AllDifferent, complementOf, irreflexive/asymmetric/AllDisjointProperties) make
`compute_closure` fall back to owlrl rather than silently differ. Inconsistencies are reported
with owlrl's message texts (prp-pdw, cax-dw, cax-adc, cls-nothing2, dt-not-type).

The result is pruned exactly like owlrl_closure.py: tests compare the two closures as sets on the
shipped data and on synthetic data.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import pyoxigraph
from rdflib import RDF, Dataset, URIRef
from rdflib.term import Node

from ..oxterms import oxigraph_store
from .owlrl_closure import compute_closure as owlrl_closure
from .rules import (
    LIST_PREDICATES,
    SAMPLE_PREDICATE,
    SAMPLE_SUBJECT,
    SCHEMA_NAMESPACES,
    UNSUPPORTED,
    UNSUPPORTED_TYPES,
    VOCAB,
    OxigraphTerms,
    RdflibTerms,
    Rules,
    Unsupported,
    is_schema,
    literal_ok,
    schema_closure,
)

log = logging.getLogger(__name__)

# --- the engine -------------------------------------------------------------------------------


class Engine:
    """Interned triples, indexes, and semi-naive evaluation of the compiled rules."""

    def __init__(self, terms: Any) -> None:
        self.terms = terms
        self.ids: dict[Any, int] = {}
        self.values: list[Any] = []
        self.v = {name: self.intern(terms.term(node)) for name, node in VOCAB.items()}
        self.sp: dict[int, dict[int, set[int]]] = defaultdict(dict)  # p -> s -> {o}
        self.po: dict[int, dict[int, set[int]]] = defaultdict(dict)  # p -> o -> {s} (some p only)
        self.reverse_all = False
        self.same: dict[int, set[int]] = {}
        self.derived: list[tuple[int, int, int]] = []
        self.queue: list[tuple[int, int, int]] = []
        self.rules: Rules | None = None
        self.thing, self.type_id = self.v["Thing"], self.v["type"]

    def intern(self, term: Any) -> int:
        i = self.ids.get(term)
        if i is None:
            i = self.ids[term] = len(self.values)
            self.values.append(term)
        return i

    def load(self, triples: Iterable[tuple[Any, Any, Any]]) -> int:
        """Add asserted triples (not derived, not yet processed). Returns how many were new."""
        intern, sp, n = self.intern, self.sp, 0
        for s, p, o in triples:
            si, pi, oi = intern(s), intern(p), intern(o)
            objs = sp[pi].get(si)
            if objs is None:
                sp[pi][si] = {oi}
            elif oi in objs:
                continue
            else:
                objs.add(oi)
            n += 1
        return n

    def all_triples(self) -> Iterator[tuple[int, int, int]]:
        for p, by_s in self.sp.items():
            for s, objs in by_s.items():
                for o in objs:
                    yield s, p, o

    def list_items(self, head: int) -> list[int]:
        """The members of an rdf:List (in the interned triples)."""
        first, rest, nil = self.v["first"], self.v["rest"], self.v["nil"]
        items: list[int] = []
        seen: set[int] = set()
        while head != nil and head not in seen:
            seen.add(head)
            items.extend(self.sp[first].get(head, ()))
            nxt = self.sp[rest].get(head)
            if not nxt:
                break
            head = next(iter(nxt))
        return items

    def set_rules(self, rules: Rules) -> None:
        """Install rules; build the reverse indexes they need."""
        self.rules = rules
        for p in rules.reverse | ({self.v["sameAs"]} if self.reverse_all else set()):
            self._build_reverse(p)

    def _build_reverse(self, p: int) -> None:
        rev: dict[int, set[int]] = {}
        for s, objs in self.sp.get(p, {}).items():
            for o in objs:
                rev.setdefault(o, set()).add(s)
        self.po[p] = rev

    def add(self, s: int, p: int, o: int) -> None:
        if o == self.thing and p == self.type_id:
            return  # everything is an owl:Thing: implicit here (svf over Thing is special-cased), pruned anyway
        by_s = self.sp[p]
        objs = by_s.get(s)
        if objs is None:
            by_s[s] = {o}
        elif o in objs:
            return
        else:
            objs.add(o)
        if self.reverse_all or p in self.po:
            self.po[p].setdefault(o, set()).add(s)
        t = (s, p, o)
        self.derived.append(t)
        self.queue.append(t)

    def run(self, start: Iterable[tuple[int, int, int]]) -> None:
        """Process `start` and everything derived from it until nothing new appears."""
        assert self.rules is not None
        r, v, sp, po, add = self.rules, self.v, self.sp, self.po, self.add
        TYPE, SAME, THING = v["type"], v["sameAs"], v["Thing"]
        types = sp[TYPE]
        queue = self.queue
        queue.extend(start)
        empty: set[int] = set()
        while queue:
            s, p, o = queue.pop()
            if p == TYPE:
                for d in r.sco.get(o, empty):
                    add(s, TYPE, d)
                for q, val in r.hv_cls.get(o, ()):
                    add(s, q, val)
                for q, d in r.avf_by_c.get(o, ()):
                    for y in list(sp[q].get(s, empty)):
                        add(y, TYPE, d)
                for q, c in r.svf_by_d.get(o, ()):
                    for x in list(po[q].get(s, empty)):
                        add(x, TYPE, c)
                for c, members in r.int_by_member.get(o, ()):
                    mine = types.get(s, empty)
                    if all(m in mine for m in members):
                        add(s, TYPE, c)
                for m in r.int_of.get(o, empty):
                    add(s, TYPE, m)
                for c in r.uni_by_member.get(o, empty):
                    add(s, TYPE, c)
            for q in r.sup.get(p, empty):
                add(s, q, o)
            for q in r.inv.get(p, empty):
                add(o, q, s)
            for c in r.dom.get(p, empty):
                add(s, TYPE, c)
            for c in r.rng.get(p, empty):
                add(o, TYPE, c)
            if p in r.symm:
                add(o, p, s)
            if p in r.trans:
                for z in list(sp[p].get(o, empty)):
                    add(s, p, z)
                for w in list(po[p].get(s, empty)):
                    add(w, p, o)
            for p2, q in r.chain_first.get(p, ()):
                for z in list(sp[p2].get(o, empty)):
                    add(s, q, z)
            for p1, q in r.chain_second.get(p, ()):
                for w in list(po[p1].get(s, empty)):
                    add(w, q, o)
            by_v = r.hv_by_p.get(p)
            if by_v:
                for c in by_v.get(o, empty):
                    add(s, TYPE, c)
            for c, d in r.svf_by_p.get(p, ()):
                if d == THING or d in types.get(o, empty):
                    add(s, TYPE, c)
            for c, d in r.avf_by_p.get(p, ()):
                if c in types.get(s, empty):
                    add(o, TYPE, d)
            if p in r.func:
                for o2 in list(sp[p].get(s, empty)):
                    if o2 != o:
                        add(o, SAME, o2)
            if p in r.ifunc:
                for s2 in list(po[p].get(o, empty)):
                    if s2 != s:
                        add(s, SAME, s2)
            if p == SAME and s != o:
                self._same(s, o)
            if self.same:
                for s2 in list(self.same.get(s, empty)):
                    add(s2, p, o)
                for o2 in list(self.same.get(o, empty)):
                    add(s, p, o2)
                for p2 in list(self.same.get(p, empty)):
                    add(s, p2, o)

    def _same(self, x: int, y: int) -> None:
        """eq-sym, eq-trans and eq-rep-s/p/o for a new `x owl:sameAs y` (x != y)."""
        SAME = self.v["sameAs"]
        if not self.reverse_all:  # the first sameAs: every predicate needs its reverse index now
            self.reverse_all = True
            for p in list(self.sp):
                self._build_reverse(p)
        self.same.setdefault(x, set()).add(y)
        self.add(y, SAME, x)
        for z in list(self.sp[SAME].get(y, ())):
            if z != x:
                self.add(x, SAME, z)
        for p, by_s in list(self.sp.items()):
            for o in list(by_s.get(x, ())):
                self.add(y, p, o)
            for s in list(self.po[p].get(x, ())):
                self.add(s, p, y)
        for s, objs in list(self.sp.get(x, {}).items()):
            for o in list(objs):
                self.add(s, y, o)

    def inconsistencies(self) -> list[str]:
        """prp-pdw, cax-dw/cax-adc and cls-nothing2, with owlrl's message texts."""
        assert self.rules is not None
        node, out = self.terms.node, []
        types = self.sp[self.v["type"]]
        for p1, p2 in sorted(self.rules.pdw):
            second = self.sp.get(p2, {})
            for x, objs in self.sp.get(p1, {}).items():
                for y in objs & second.get(x, set()):
                    out.append(f"Erroneous usage of disjoint properties {node(self.values[p1])} and "
                               f"{node(self.values[p2])} on {node(self.values[x])} and {node(self.values[y])}")
        if self.rules.disjoint:
            for x, cs in types.items():
                for c1, c2 in self.rules.disjoint:
                    if c1 in cs and c2 in cs:
                        out.append(f"Disjoint classes {node(self.values[c1])} and {node(self.values[c2])} "
                                   f"have a common individual {node(self.values[x])}")
        nothing = self.v["Nothing"]
        for x, cs in types.items():
            if nothing in cs:
                out.append(f"{node(self.values[x])} is defined of type 'Nothing'")
        return out


# --- driver -----------------------------------------------------------------------------------


def closure_triples(triples: Iterable[tuple[Any, Any, Any]], terms: Any) -> tuple[list[tuple[Any, Any, Any]], list[str]]:
    """The pruned OWL 2 RL closure of `triples` (terms per `terms`) and the inconsistencies."""
    engine = Engine(terms)
    engine.load(triples)
    schema = set(_schema_candidates(engine, engine.all_triples()))
    schema |= _datatype_samples(engine)
    _check_supported(schema)
    closed, messages = schema_closure(schema)
    rules: Rules | None = None
    while True:
        term, intern = terms.term, engine.intern
        closed_ids = [(intern(term(s)), intern(term(p)), intern(term(o))) for s, p, o in closed]
        schema_ids = [(intern(term(s)), intern(term(p)), intern(term(o))) for s, p, o in schema] + closed_ids
        for t in closed_ids:
            engine.add(*t)
        candidate = Rules(schema_ids, engine.v, engine.list_items)
        if rules is None or candidate.signature() != rules.signature():
            engine.set_rules(candidate)  # new rules: every triple goes through them again
            rules = candidate
            engine.run(list(engine.all_triples()))
        else:
            engine.run([])
        fed_back = {t for t in _schema_candidates(engine, engine.derived) if t not in schema and t not in closed}
        if not fed_back:
            break
        schema |= fed_back
        _check_supported(schema)
        closed, more = schema_closure(schema)
        messages += [m for m in more if m not in messages]
    messages += [m for m in engine.inconsistencies() if m not in messages]
    return _prune(engine, terms), messages


def _schema_candidates(engine: Engine, triples: Iterable[tuple[int, int, int]]) -> Iterator[tuple[Node, Node, Node]]:
    """The schema triples among interned `triples`, as rdflib triples (cheap id checks first)."""
    node, values = engine.terms.node, engine.values
    preds: dict[int, bool] = {}
    for s, p, o in triples:
        ok = preds.get(p)
        if ok is None:
            ok = preds[p] = p >= 0 and _is_schema_predicate(node(values[p]))
        if ok:
            triple = (node(values[s]), node(values[p]), node(values[o]))
            if is_schema(triple):
                yield triple


def _is_schema_predicate(p: Node) -> bool:
    return p == RDF.type or p in LIST_PREDICATES or str(p).startswith(SCHEMA_NAMESPACES)


def _datatype_samples(engine: Engine) -> set[tuple[Node, Node, Node]]:
    """One literal per datatype in use (so owlrl adds the same datatype axioms as on the full
    graph) plus every literal whose lexical form is ill-typed (so owlrl reports it)."""
    from owlrl.XsdDatatypes import OWL_RL_Datatypes

    rl = set(OWL_RL_Datatypes)
    seen: set[URIRef] = set()
    out: set[tuple[Node, Node, Node]] = set()
    node = engine.terms.node
    is_literal = engine.terms.is_literal
    for term in engine.values:
        if not is_literal(term):
            continue
        lit = node(term)
        dt = lit.datatype
        if dt not in rl:
            continue
        if dt not in seen or not literal_ok(str(lit), dt):
            seen.add(dt)
            out.add((SAMPLE_SUBJECT, SAMPLE_PREDICATE, lit))
    return out


def _check_supported(schema: set[tuple[Node, Node, Node]]) -> None:
    for s, p, o in schema:
        if p in UNSUPPORTED or (p == RDF.type and o in UNSUPPORTED_TYPES):
            raise Unsupported(f"{p if p != RDF.type else o} is not compiled by the fast reasoner")


def _prune(engine: Engine, terms: Any) -> list[tuple[Any, Any, Any]]:
    """owlrl_closure._prune's rules, plus internal chain predicates and generalised triples."""
    v, values = engine.v, engine.values
    TYPE, SAME, THING = v["type"], v["sameAs"], v["Thing"]
    is_literal, is_bnode = terms.is_literal, terms.is_bnode
    internal = engine.rules.internal if engine.rules else set()
    literal_ids = {i for i, t in enumerate(values) if is_literal(t)}
    bnode_ids = {i for i, t in enumerate(values) if is_bnode(t)}
    out = []
    seen: set[tuple[int, int, int]] = set()
    for s, p, o in engine.derived:
        if p in internal or p in literal_ids or p in bnode_ids or s in literal_ids:
            continue
        if (p == SAME and s == o) or (p == TYPE and (o == THING or o in bnode_ids)):
            continue
        if (s, p, o) in seen:
            continue
        seen.add((s, p, o))
        out.append((values[s], values[p], values[o]))
    return out


def compute_closure(dataset: Dataset, inferred: URIRef) -> list[str]:
    """Same contract as owlrl_closure.compute_closure: the closure goes into graph `inferred`."""
    ox = oxigraph_store(dataset)
    try:
        if ox is not None:
            return _closure_oxigraph(ox, inferred)
        terms = RdflibTerms()
        triples = ((s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None)))
        out, messages = closure_triples(triples, terms)
    except Unsupported as exc:
    
        log.warning("fast reasoner: %s; using owlrl", exc)
        return owlrl_closure(dataset, inferred)
    destination = dataset.graph(inferred)
    destination.addN((s, p, o, destination) for s, p, o in out)
    return messages


def _closure_oxigraph(store: Any, inferred: URIRef) -> list[str]:
    """The same on a pyoxigraph store, reading and writing pyoxigraph terms directly."""
    terms = OxigraphTerms()
    triples = ((q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, None))
    out, messages = closure_triples(triples, terms)
    graph = pyoxigraph.NamedNode(str(inferred))
    store.bulk_extend(pyoxigraph.Quad(s, p, o, graph) for s, p, o in out)
    return messages

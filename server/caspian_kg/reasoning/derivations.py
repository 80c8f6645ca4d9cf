"""Why an inferred triple holds: a well-founded OWL 2 RL derivation, found over the closure.

Nothing is recorded while the closure is computed, so this works on every store and after every
restart: the closure (asserted graphs + `graph/inferred`) is read back through the dataset's
triple lookups (rdflib memory, Oxigraph on disk, a remote endpoint alike), and a goal-directed
proof search runs the OWL 2 RL rules *backwards*: `steps(t)` lists every rule instance whose
conclusion is `t` and whose premises all hold in the closure (`RULES` names each rule as the
OWL 2 RL profile does: prp-spo1, prp-inv1, prp-spo2, cax-sco, scm-spo…; owlrl's one-time rules —
cls-thing, prp-ap, dt-type1 and its datatype disjointness — have no premises).

Well-foundedness: the search is iterative deepening on the derivation's depth. A triple's depth
is 0 when it is asserted in an allowed graph, else 1 + the largest depth of the premises of the
step chosen for it; a step is only taken when every premise is proved with a smaller budget, so
every premise of a chosen step has a strictly smaller depth: no cycles, and the recursion ends in
asserted triples (facts, or the ontology's axioms). Results are memoised per `Prover` (one per
dataset version); a triple is searched at most once per budget.

Which graphs a proof may rest on is a parameter (`leaves`): the explanation first looks for a
proof from the articles and the ontology only, and only when there is none allows the cited
background graph too — so "rests on the background" means *no* proof from the articles exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from owlrl.AxiomaticTriples import OWLRL_Datatypes_Disjointness
from owlrl.OWLRL import OWLRL_Annotation_properties
from owlrl.XsdDatatypes import OWL_Datatype_Subsumptions, OWL_RL_Datatypes
from rdflib import OWL, RDF, RDFS, Dataset, URIRef
from rdflib.term import Node

from .lookup import Lookup, Triple
from .rule_names import RULES  # noqa: F401 - re-exported: the rules this module knows

MAX_DEPTH = 64  # far beyond the shipped closure's deepest derivation (measured: 7)
FANOUT = 24  # candidate values tried per rule and axiom (any premise in the closure has a proof)

SCO, SPO, EQC, EQP = RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty
TYPE, DOM, RNG, INV, SAME = RDF.type, RDFS.domain, RDFS.range, OWL.inverseOf, OWL.sameAs
ON, HV, SVF, AVF = OWL.onProperty, OWL.hasValue, OWL.someValuesFrom, OWL.allValuesFrom
DATATYPES = set(OWL_RL_Datatypes) | {d for ds in OWL_Datatype_Subsumptions.values() for d in ds}
SCHEMA_NAMESPACES = (str(RDF), str(RDFS), str(OWL))


@dataclass(frozen=True)
class Step:
    """One rule instance: `conclusion` follows from `premises` by the OWL 2 RL rule `rule`."""

    rule: str
    conclusion: Triple
    premises: tuple[Triple, ...]


def is_axiom(triple: Triple) -> bool:
    """A schema triple (an ontology axiom, asserted or closed by the scm-* rules), not a fact."""
    _, p, o = triple
    if p == TYPE:
        return str(o).startswith(SCHEMA_NAMESPACES)
    return str(p).startswith(SCHEMA_NAMESPACES)


# --- the rules, backwards: which instances conclude (s, p, o)? ---------------------------------


def _instance_rules(k: Lookup, s: Node, p: Node, o: Node) -> Iterator[tuple[str, tuple[Triple, ...]]]:
    """Rules whose conclusion is any (s p o): sub/equivalent/inverse/symmetric/transitive
    properties, property chains, hasValue, sameAs."""
    for p1 in k.subjects(SPO, p):
        if p1 != p and k.holds((s, p1, o)):
            yield "prp-spo1", ((p1, SPO, p), (s, p1, o))
    for p1 in k.subjects(EQP, p):
        if p1 != p and k.holds((s, p1, o)):
            yield "prp-eqp1", ((p1, EQP, p), (s, p1, o))
    for p2 in k.objects(p, EQP):
        if p2 != p and k.holds((s, p2, o)):
            yield "prp-eqp2", ((p, EQP, p2), (s, p2, o))
    for p1 in k.subjects(INV, p):
        if k.holds((o, p1, s)):
            yield "prp-inv1", ((p1, INV, p), (o, p1, s))
    for p2 in k.objects(p, INV):
        if k.holds((o, p2, s)):
            yield "prp-inv2", ((p, INV, p2), (o, p2, s))
    if k.holds((p, TYPE, OWL.SymmetricProperty)) and k.holds((o, p, s)):
        yield "prp-symp", ((p, TYPE, OWL.SymmetricProperty), (o, p, s))
    if k.holds((p, TYPE, OWL.TransitiveProperty)):
        for z in k.objects(s, p)[:FANOUT * 4]:
            if z not in (s, o) and k.holds((z, p, o)):
                yield "prp-trp", ((p, TYPE, OWL.TransitiveProperty), (s, p, z), (z, p, o))
    for head in k.objects(p, OWL.propertyChainAxiom):
        for path in _paths(k, s, k.items(head), o):
            yield "prp-spo2", ((p, OWL.propertyChainAxiom, head), *path)
    for c in k.subjects(HV, o):
        if k.holds((c, ON, p)) and k.holds((s, TYPE, c)):
            yield "cls-hv1", ((c, HV, o), (c, ON, p), (s, TYPE, c))
    yield from _sameas_rules(k, s, p, o)


def _paths(k: Lookup, start: Node, chain: list[Node], end: Node) -> Iterator[tuple[Triple, ...]]:
    """Paths start -chain[0]-> x1 -chain[1]-> … -chain[-1]-> end in the closure (prp-spo2)."""
    found = 0

    def walk(node: Node, i: int, path: tuple[Triple, ...]) -> Iterator[tuple[Triple, ...]]:
        nonlocal found
        if found >= FANOUT:
            return
        if i == len(chain) - 1:
            if k.holds((node, chain[i], end)):
                found += 1
                yield (*path, (node, chain[i], end))
            return
        for nxt in k.objects(node, chain[i]):
            yield from walk(nxt, i + 1, (*path, (node, chain[i], nxt)))

    if chain:
        yield from walk(start, 0, ())


def _sameas_rules(k: Lookup, s: Node, p: Node, o: Node) -> Iterator[tuple[str, tuple[Triple, ...]]]:
    if p == SAME:
        if k.holds((o, SAME, s)):
            yield "eq-sym", ((o, SAME, s),)
        for z in k.objects(s, SAME)[:FANOUT]:
            if z not in (s, o) and k.holds((z, SAME, o)):
                yield "eq-trans", ((s, SAME, z), (z, SAME, o))
        for q in k.subjects(TYPE, OWL.FunctionalProperty):
            for x in k.subjects(q, s)[:FANOUT]:
                if k.holds((x, q, o)):
                    yield "prp-fp", ((q, TYPE, OWL.FunctionalProperty), (x, q, s), (x, q, o))
        for q in k.subjects(TYPE, OWL.InverseFunctionalProperty):
            for y in k.objects(s, q)[:FANOUT]:
                if k.holds((o, q, y)):
                    yield "prp-ifp", ((q, TYPE, OWL.InverseFunctionalProperty), (s, q, y), (o, q, y))
        return
    for s2 in k.objects(s, SAME)[:FANOUT]:
        if s2 != s and k.holds((s2, p, o)):
            yield "eq-rep-s", ((s2, SAME, s), (s2, p, o))
    for o2 in k.objects(o, SAME)[:FANOUT]:
        if o2 != o and k.holds((s, p, o2)):
            yield "eq-rep-o", ((o2, SAME, o), (s, p, o2))


def _type_rules(k: Lookup, x: Node, c: Node) -> Iterator[tuple[str, tuple[Triple, ...]]]:
    """Rules whose conclusion is (x rdf:type c)."""
    for c1 in k.subjects(SCO, c):
        if c1 != c and k.holds((x, TYPE, c1)):
            yield "cax-sco", ((c1, SCO, c), (x, TYPE, c1))
    for c1 in k.subjects(EQC, c):
        if c1 != c and k.holds((x, TYPE, c1)):
            yield "cax-eqc1", ((c1, EQC, c), (x, TYPE, c1))
    for c2 in k.objects(c, EQC):
        if c2 != c and k.holds((x, TYPE, c2)):
            yield "cax-eqc2", ((c, EQC, c2), (x, TYPE, c2))
    for p in k.subjects(DOM, c):
        for y in k.objects(x, p)[:FANOUT]:
            yield "prp-dom", ((p, DOM, c), (x, p, y))
    for p in k.subjects(RNG, c):
        for y in k.subjects(p, x)[:FANOUT]:
            yield "prp-rng", ((p, RNG, c), (y, p, x))
    for v in k.objects(c, HV):
        for p in k.objects(c, ON):
            if k.holds((x, p, v)):
                yield "cls-hv2", ((c, HV, v), (c, ON, p), (x, p, v))
    for d in k.objects(c, SVF):
        for p in k.objects(c, ON):
            for y in k.objects(x, p)[:FANOUT]:
                if d == OWL.Thing:
                    yield "cls-svf2", ((c, SVF, d), (c, ON, p), (x, p, y))
                elif k.holds((y, TYPE, d)):
                    yield "cls-svf1", ((c, SVF, d), (c, ON, p), (x, p, y), (y, TYPE, d))
    for r in k.subjects(AVF, c):
        for p in k.objects(r, ON):
            for u in k.subjects(p, x)[:FANOUT]:
                if k.holds((u, TYPE, r)):
                    yield "cls-avf", ((r, AVF, c), (r, ON, p), (u, TYPE, r), (u, p, x))
    for head in k.objects(c, OWL.intersectionOf):
        members = k.items(head)
        if members and all(k.holds((x, TYPE, m)) for m in members):
            yield "cls-int1", ((c, OWL.intersectionOf, head), *((x, TYPE, m) for m in members))
    for head in k.lists_with(c):
        for c1 in k.subjects(OWL.intersectionOf, head):
            if k.holds((x, TYPE, c1)):
                yield "cls-int2", ((c1, OWL.intersectionOf, head), (x, TYPE, c1))
    for head in k.objects(c, OWL.unionOf):
        for m in k.items(head):
            if k.holds((x, TYPE, m)):
                yield "cls-uni", ((c, OWL.unionOf, head), (x, TYPE, m))
    # owlrl's one-time rules: no premises
    if (x, c) in ((OWL.Thing, OWL.Class), (OWL.Nothing, OWL.Class)):
        yield ("cls-thing" if x == OWL.Thing else "cls-nothing1"), ()
    if c == OWL.AnnotationProperty and x in OWLRL_Annotation_properties:
        yield "prp-ap", ()
    if c == RDFS.Datatype and x in DATATYPES:
        yield "dt-type1", ()


def _schema_rules(k: Lookup, s: Node, p: Node, o: Node) -> Iterator[tuple[str, tuple[Triple, ...]]]:
    """The scm-* rules: how the ontology's axioms close (Table 9 of the OWL 2 RL profile)."""
    if p in (SCO, EQC) and s == o or p == SCO and (o == OWL.Thing or s == OWL.Nothing):
        cls = o if s == OWL.Nothing else s
        if k.holds((cls, TYPE, OWL.Class)):
            yield "scm-cls", ((cls, TYPE, OWL.Class),)
    if p in (SPO, EQP) and s == o:
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, RDF.Property):
            if k.holds((s, TYPE, kind)):
                yield ("scm-dp" if kind == OWL.DatatypeProperty else "scm-op"), ((s, TYPE, kind),)
    if p == SCO and s != o:
        for c in k.objects(s, SCO):
            if c not in (s, o) and k.holds((c, SCO, o)):
                yield "scm-sco", ((s, SCO, c), (c, SCO, o))
        for a, b in ((s, o), (o, s)):
            if k.holds((a, EQC, b)):
                yield "scm-eqc1", ((a, EQC, b),)
        for head in k.objects(s, OWL.intersectionOf):
            if o in k.items(head):
                yield "scm-int", ((s, OWL.intersectionOf, head),)
        for head in k.objects(o, OWL.unionOf):
            if s in k.items(head):
                yield "scm-uni", ((o, OWL.unionOf, head),)
    if p == SCO:  # owlrl applies these to c ⊑ c as well (a restriction is a subclass of itself)
        yield from _restriction_rules(k, s, o)
    if p == EQC and k.holds((s, SCO, o)) and k.holds((o, SCO, s)):
        yield "scm-eqc2", tuple(dict.fromkeys(((s, SCO, o), (o, SCO, s))))
    if p == SPO and s != o:
        for q in k.objects(s, SPO):
            if q not in (s, o) and k.holds((q, SPO, o)):
                yield "scm-spo", ((s, SPO, q), (q, SPO, o))
        for a, b in ((s, o), (o, s)):
            if k.holds((a, EQP, b)):
                yield "scm-eqp1", ((a, EQP, b),)
    if p == EQP and s != o and k.holds((s, SPO, o)) and k.holds((o, SPO, s)):
        yield "scm-eqp2", ((s, SPO, o), (o, SPO, s))
    if p in (DOM, RNG):
        name = "dom" if p == DOM else "rng"
        for c1 in k.objects(s, p):
            if c1 != o and k.holds((c1, SCO, o)):
                yield f"scm-{name}1", ((s, p, c1), (c1, SCO, o))
        for p2 in k.objects(s, SPO):
            if p2 != s and k.holds((p2, p, o)):
                yield f"scm-{name}2", ((p2, p, o), (s, SPO, p2))
    if (s, p, o) in OWLRL_Datatypes_Disjointness:
        yield "dt-diff", ()  # owlrl: disjointness of the datatypes the data uses


def _restriction_rules(k: Lookup, c1: Node, c2: Node) -> Iterator[tuple[str, tuple[Triple, ...]]]:
    """scm-hv, scm-svf1/2, scm-avf1/2: (c1 rdfs:subClassOf c2) between restrictions."""
    for p1 in k.objects(c1, ON):
        for p2 in k.objects(c2, ON):
            on = ((c1, ON, p1), (c2, ON, p2))
            for v in k.objects(c1, HV):
                if k.holds((c2, HV, v)) and k.holds((p1, SPO, p2)):
                    yield "scm-hv", ((c1, HV, v), (c2, HV, v), *on, (p1, SPO, p2))
            for y1 in k.objects(c1, SVF):
                for y2 in k.objects(c2, SVF):
                    if p1 == p2 and k.holds((y1, SCO, y2)):
                        yield "scm-svf1", ((c1, SVF, y1), (c2, SVF, y2), *on, (y1, SCO, y2))
                    if y1 == y2 and k.holds((p1, SPO, p2)):
                        yield "scm-svf2", ((c1, SVF, y1), (c2, SVF, y2), *on, (p1, SPO, p2))
            for y1 in k.objects(c1, AVF):
                for y2 in k.objects(c2, AVF):
                    if p1 == p2 and k.holds((y1, SCO, y2)):
                        yield "scm-avf1", ((c1, AVF, y1), (c2, AVF, y2), *on, (y1, SCO, y2))
                    if y1 == y2 and k.holds((p2, SPO, p1)):
                        yield "scm-avf2", ((c1, AVF, y1), (c2, AVF, y2), *on, (p2, SPO, p1))


def steps(k: Lookup, t: Triple) -> list[Step]:
    """Every rule instance concluding `t` whose premises hold in the closure (none is `t`)."""
    s, p, o = t
    found = list(_instance_rules(k, s, p, o))
    if p == TYPE:
        found += _type_rules(k, s, o)
    found += _schema_rules(k, s, p, o)
    out, seen = [], set()
    for rule, premises in found:
        if t in premises or (rule, premises) in seen:
            continue
        seen.add((rule, premises))
        out.append(Step(rule, t, premises))
    return out


# --- the search ---------------------------------------------------------------------------------


class Prover:
    """Well-founded derivations of closure triples whose leaves are asserted in `leaves`."""

    def __init__(self, lookup: Lookup, leaves: Iterable[URIRef], catalogue: Callable[[Lookup, Triple], list[Step]] = steps,
                 shared_steps: dict[Triple, list[Step]] | None = None) -> None:
        self.k, self.leaves, self.catalogue = lookup, frozenset(leaves), catalogue
        self.depth: dict[Triple, int] = {}
        self.best: dict[Triple, Step | None] = {}  # None: a leaf (asserted in an allowed graph)
        self._failed: dict[Triple, int] = {}
        self._steps = shared_steps if shared_steps is not None else {}

    def is_leaf(self, t: Triple) -> bool:
        return any(g in self.leaves for g in self.k.graphs(t))

    def prove(self, t: Triple) -> bool:
        """Is there a derivation of `t` from the allowed graphs? (Then `derivation(t)` gives it.)"""
        if t in self.depth:
            return True
        if not self.k.holds(t):
            return False
        return any(self._prove(t, budget) for budget in range(MAX_DEPTH + 1))

    def _prove(self, t: Triple, budget: int) -> bool:
        known = self.depth.get(t)
        if known is not None and known <= budget:
            return True
        if self._failed.get(t, -1) >= budget:
            return False
        if self.is_leaf(t):
            self.depth[t], self.best[t] = 0, None
            return True
        if budget > 0:
            for step in self.steps(t):
                if all(self._prove(q, budget - 1) for q in step.premises):
                    depth = 1 + max((self.depth[q] for q in step.premises), default=0)
                    if known is None or depth < known:  # lowering keeps every dependant's depth larger
                        self.depth[t], self.best[t] = depth, step
                    return True
        self._failed[t] = budget
        return False

    def steps(self, t: Triple) -> list[Step]:
        """Every rule instance concluding `t` over the closure (computed once, shared)."""
        if t not in self._steps:
            self._steps[t] = self.catalogue(self.k, t)
        return self._steps[t]

    def derivation(self, t: Triple) -> Step | None:
        """The chosen step for a proved triple (None for a leaf). Its premises have smaller depths."""
        return self.best[t]

    def support(self, t: Triple) -> set[Triple]:
        """Every statement of the chosen derivation of `t` (itself included)."""
        todo, seen = [t], set()
        while todo:
            u = todo.pop()
            if u not in seen:
                seen.add(u)
                step = self.best[u]
                todo.extend(step.premises if step else ())
        return seen

    def leaves_of(self, t: Triple) -> set[Triple]:
        """The asserted triples the chosen derivation of `t` ends in."""
        return {u for u in self.support(t) if self.best[u] is None}


def provers(dataset: Dataset, graphs: Mapping[str, URIRef], lookup: Lookup | None = None) -> tuple[Lookup, Prover, Prover]:
    """(lookup, prover from the articles and the ontology, prover from every asserted graph)."""
    asserted = {name: iri for name, iri in graphs.items() if name != "inferred"}
    lookup = lookup or Lookup(dataset, asserted.values())
    shared: dict[Triple, list[Step]] = {}
    articles = [iri for name, iri in asserted.items() if name.startswith("source/") or name == "ontology"]
    return lookup, Prover(lookup, articles, shared_steps=shared), Prover(lookup, asserted.values(), shared_steps=shared)

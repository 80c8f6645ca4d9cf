"""An `explain.Explanation` written out: as PROV-O RDF (JSON-LD, Turtle… through the format
registry) for machines, and as an indented text tree for the command line.

PROV-O shape (every statement of the derivation is an `rdf:Statement` and a `prov:Entity`):

* an inferred statement `prov:wasGeneratedBy` an activity that `prov:used` its premises and whose
  `prov:qualifiedAssociation` has `prov:hadPlan` the OWL 2 RL rule (a `prov:Plan`); the statement
  `prov:wasDerivedFrom` each premise, and is `dcterms:isPartOf` the inferred graph;
* an asserted statement is `dcterms:isPartOf` its named graph, `prov:wasDerivedFrom` the node that
  cites it, `prov:hadPrimarySource` the source document; the citing node comes with its own
  `prov:wasDerivedFrom` and verbatim `ck:evidence` (and `dcterms:source` for background facts);
* the explained statement `prov:wasInfluencedBy` every asserted graph its derivation rests on,
  and says in `rdfs:comment` whether that is the articles alone or the background graph too.

A statement without blank nodes is named by its own explanation URL, `{base}explain?s=…&p=…&o=…`
(the same query parameters as the `/explain` route), so every premise can be asked about in turn.
"""

from __future__ import annotations

from urllib.parse import urlencode

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from .explain import BASIS_TEXT, Explainer, Explanation, Proof, label, rule_text, sentence, short
from .formats import GRAPH_FORMATS, JSONLD, TURTLE
from .graph import KnowledgeGraph
from .reasoning.derivations import RULES, Lookup, Triple
from .vocab import DCTERMS, OWL, PROV, RDF, RDFS, ck

# the formats an explanation is written in: JSON-LD and Turtle first, then every other graph format
PROV_FORMATS = (JSONLD, TURTLE, *(f for f in GRAPH_FORMATS if f not in (JSONLD, TURTLE)))
RULE_BASE = "https://www.w3.org/TR/owl2-profiles/#"  # the rule names are those of the profile's tables
LIST_PREDICATES = (OWL.propertyChainAxiom, OWL.intersectionOf, OWL.unionOf)


def explain_url(base: str, triple: Triple) -> str:
    """The `/explain` URL of a statement under `base` (a literal object in N-Triples syntax)."""
    s, p, o = triple
    return f"{base}explain?" + urlencode({"s": str(s), "p": str(p), "o": str(o) if isinstance(o, URIRef) else o.n3()})


def statement_node(kg: KnowledgeGraph, triple: Triple) -> Node:
    if any(isinstance(term, BNode) for term in triple):
        return BNode()
    return URIRef(explain_url(kg.base, triple))


def prov_graph(kg: KnowledgeGraph, explanation: Explanation, lookup: Lookup | None = None) -> Graph:
    """The explanation as PROV-O (`lookup`: the explainer's, for labels on any store)."""
    graph = Graph()
    for prefix, ns in kg.dataset.namespaces():
        graph.bind(prefix, ns, override=False)
    graph.bind("prov", PROV, override=True)
    evidence = ck(kg.base).evidence
    names: dict[Triple, Node] = {}

    def node_of(proof: Proof) -> Node:
        if proof.triple in names:
            return names[proof.triple]
        st = names[proof.triple] = statement_node(kg, proof.triple)
        s, p, o = proof.triple
        graph.add((st, RDF.type, RDF.Statement))
        graph.add((st, RDF.type, PROV.Entity))
        graph.add((st, RDF.subject, s))
        graph.add((st, RDF.predicate, p))
        graph.add((st, RDF.object, o))
        graph.add((st, RDFS.label, Literal(sentence(kg, proof.triple, lookup), lang="en")))
        if proof.asserted:
            for cite in proof.citations:
                graph.add((st, DCTERMS.isPartOf, cite.graph))
                if cite.node is not None:
                    graph.add((st, PROV.wasDerivedFrom, cite.node))
                    for passage in cite.passages:
                        graph.add((cite.node, evidence, Literal(passage)))
                if cite.document is not None:
                    graph.add((st, PROV.hadPrimarySource, cite.document))
                    if cite.node is not None:
                        graph.add((cite.node, PROV.wasDerivedFrom, cite.document))
                if cite.reference is not None and cite.node is not None:
                    graph.add((cite.node, DCTERMS.source, cite.reference))
        else:
            graph.add((st, DCTERMS.isPartOf, kg.inferred_graph))
            activity(st, proof)
        return st

    def activity(st: Node, proof: Proof) -> None:
        act, association, rule = BNode(), BNode(), URIRef(RULE_BASE + str(proof.rule))
        graph.add((st, PROV.wasGeneratedBy, act))
        graph.add((act, RDF.type, PROV.Activity))
        graph.add((act, RDFS.label, Literal(f"OWL 2 RL rule {proof.rule}", lang="en")))
        graph.add((act, PROV.qualifiedAssociation, association))
        graph.add((association, RDF.type, PROV.Association))
        graph.add((association, PROV.hadPlan, rule))
        graph.add((rule, RDF.type, PROV.Plan))
        graph.add((rule, RDFS.label, Literal(str(proof.rule))))
        graph.add((rule, RDFS.comment, Literal(RULES.get(str(proof.rule), ""), lang="en")))
        for premise in [*proof.axioms, *proof.premises]:
            used = node_of(premise)
            graph.add((act, PROV.used, used))
            graph.add((st, PROV.wasDerivedFrom, used))

    top = node_of(explanation.proof)
    for alternative in explanation.alternatives:
        activity(top, alternative)
    graph.add((top, RDFS.comment, Literal(BASIS_TEXT[explanation.basis], lang="en")))
    for iri in explanation.rests_on:
        graph.add((top, PROV.wasInfluencedBy, iri))
    return graph


# --- the text tree (caspian-kg explain) ---------------------------------------------------------


DEFINING = (OWL.onProperty, OWL.hasValue, OWL.someValuesFrom, OWL.allValuesFrom, OWL.intersectionOf, OWL.unionOf)


def term_text(kg: KnowledgeGraph, explainer: Explainer, node: Node, depth: int = 0) -> str:
    """A term as Turtle would write it; an rdf:List as `( … )`, a class expression by its
    defining triples (`[ owl:onProperty org:role ; owl:hasValue ck:memberRole ]`)."""
    if not isinstance(node, BNode):
        return short(kg, node)
    if depth > 4:
        return "[…]"
    items = explainer.lookup.items(node)
    if items:
        return "(" + " ".join(term_text(kg, explainer, i, depth + 1) for i in items) + ")"
    parts = [f"{short(kg, p)} {term_text(kg, explainer, o, depth + 1)}"
             for p in DEFINING for o in explainer.lookup.objects(node, p)]
    return "[ " + " ; ".join(parts) + " ]" if parts else "[]"


def triple_text(kg: KnowledgeGraph, explainer: Explainer, triple: Triple) -> str:
    return " ".join(term_text(kg, explainer, t) for t in triple)


def graph_name(kg: KnowledgeGraph, iri: URIRef) -> str:
    return next((name for name, g in kg.graphs.items() if g == iri), str(iri))


def render_text(kg: KnowledgeGraph, explainer: Explainer, explanation: Explanation) -> str:
    """The explanation as an indented tree: rule, axioms, premises, then each asserted
    statement's graph, source document, citing node and verbatim passage."""
    lines = [triple_text(kg, explainer, explanation.triple), f"  “{sentence(kg, explanation.triple, explainer.lookup)}”"]
    rests = ", ".join(graph_name(kg, g) for g in explanation.rests_on)
    lines.append(f"  {BASIS_TEXT[explanation.basis]}" + (f" [graphs: {rests}]" if rests and not explanation.asserted else ""))
    seen: set[Triple] = {explanation.triple}

    def proof_lines(proof: Proof, indent: str) -> None:
        if proof.asserted:
            for cite in proof.citations:
                where = f"{indent}stated in graph {graph_name(kg, cite.graph)}"
                if cite.document is not None:
                    where += f", source {short(kg, cite.document)}"
                lines.append(where)
                if cite.node is not None and cite.node not in proof.triple:
                    lines.append(f"{indent}  cited by {short(kg, cite.node)} ({label(kg, cite.node, explainer.lookup)})")
                lines.extend(f"{indent}  evidence: “{passage}”" for passage in cite.passages)
                if cite.reference is not None:
                    lines.append(f"{indent}  reference: {cite.reference}")
            return
        lines.append(f"{indent}by {rule_text(proof.rule)}")
        for kind, premises in (("axiom", proof.axioms), ("from", proof.premises)):
            for premise in premises:
                line = f"{indent}  {kind}  {triple_text(kg, explainer, premise.triple)}"
                if premise.asserted and all(c.graph == kg.ontology_graph for c in premise.citations):
                    lines.append(line + "   [ontology]")  # an axiom as written in ontology/caspian.ttl
                    continue
                lines.append(line)
                if premise.triple in seen and not premise.asserted:
                    lines.append(f"{indent}        (derived above)")
                    continue
                seen.add(premise.triple)
                proof_lines(premise, indent + "        ")

    proof_lines(explanation.proof, "  ")
    for number, alternative in enumerate(explanation.alternatives, start=1):
        lines.append(f"  also derivable ({number}):")
        proof_lines(alternative, "    ")
    return "\n".join(lines)

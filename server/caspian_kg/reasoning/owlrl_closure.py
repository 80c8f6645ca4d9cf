"""OWL 2 RL closure with owlrl, written into its own named graph.

Runs once, at load; queries never reason. The closure graph holds only triples that are not
asserted anywhere (owlrl checks the union before adding), minus entailments no reader wants:
`x owl:sameAs x`, `x a owl:Thing`, types that are anonymous restriction classes, and
triples about literals (generalised RDF, which no RDF 1.1 syntax can write).
Inconsistencies that OWL 2 RL detects (e.g. a state that is both member and observer of one
organisation, via owl:propertyDisjointWith) are returned as messages, not silently kept.
"""

from __future__ import annotations

from owlrl.OWLRL import OWLRL_Semantics
from rdflib import OWL, RDF, BNode, Dataset, Literal, URIRef


def compute_closure(dataset: Dataset, inferred: URIRef) -> list[str]:
    """Add the OWL 2 RL closure of the union of `dataset` into its graph `inferred`.

    Returns owlrl's inconsistency messages (empty when the data is consistent).
    """
    destination = dataset.graph(inferred)
    closure = OWLRL_Semantics(dataset, False, False, rdfs=False, destination=destination)
    closure.closure()
    _prune(destination)
    return list(closure.error_messages)


ERROR_MESSAGE = URIRef("http://www.daml.org/2002/03/agents/agent-ont#ErrorMessage")


def _prune(graph) -> None:  # type: ignore[no-untyped-def]
    """Drop owlrl's error-report nodes (returned as messages instead) and trivial entailments."""
    for node in list(graph.subjects(RDF.type, ERROR_MESSAGE)):
        graph.remove((node, None, None))
    trivial = [
        (s, p, o)
        for s, p, o in graph
        if isinstance(s, Literal)  # generalised RDF ("7" a xsd:integer): not RDF 1.1, breaks N-Quads
        or (p == OWL.sameAs and s == o)
        or (p == RDF.type and (o == OWL.Thing or isinstance(o, BNode)))
    ]
    for triple in trivial:
        graph.remove(triple)

"""The OWL 2 RL closure: each inference the ontology promises, proven on a hand-made graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_root
from rdflib import OWL, RDF, Literal, Namespace, URIRef

from caspian_kg.config import Config
from caspian_kg.errors import ValidationError
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.open import open_graph

ID = "https://w3id.org/caspian-kg/id/"
CK = Namespace("https://w3id.org/caspian-kg/ontology#")
ORG = Namespace("http://www.w3.org/ns/org#")
A, B, C, D = (URIRef(f"{ID}state/{x}") for x in "abcd")
X, Y = URIRef(f"{ID}org/x"), URIRef(f"{ID}org/y")
P = URIRef(f"{ID}person/p")


@pytest.fixture(scope="module")
def fixture_kg(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    return open_graph(Config(root=make_root(tmp_path_factory.mktemp("root"))))


def inferred(kg: KnowledgeGraph, s: URIRef, p: URIRef, o: URIRef) -> bool:
    """True when the triple is in the closure graph (not merely asserted)."""
    return (s, p, o) in kg.dataset.graph(kg.inferred_graph)


def holds(kg: KnowledgeGraph, s: URIRef, p: URIRef, o: URIRef) -> bool:
    return (s, p, o) in kg.dataset


@pytest.mark.parametrize(
    "s, p, o",
    [
        (A, ORG.memberOf, X),  # role-specific chain: member
        (X, ORG.hasMember, A),  # inverse
        (B, CK.chairOf, X),  # chair chain
        (X, CK.hasChair, B),
        (B, ORG.memberOf, X),  # a chair is a member
        (X, ORG.hasMember, B),
        (C, CK.observerOf, X),  # observer chain
        (X, CK.hasObserver, C),
        (A, CK.affiliatedWith, X),  # one super-property for any affiliation
        (B, CK.affiliatedWith, X),
        (C, CK.affiliatedWith, X),
        (D, CK.affiliatedWith, Y),  # even when the source gives no role
        (Y, CK.hasAffiliate, D),
        (P, CK.represents, A),  # office holder represents the state of the post
        (URIRef(f"{ID}event/visit"), CK.involvesState, A),  # participation through representation
        (URIRef(f"{ID}place/town"), CK.locatedIn, B),  # transitive location
        (URIRef(f"{ID}membership/x-observer-c"), ORG.organization, X),  # role link ⊑ org:organization
        (URIRef(f"{ID}event/visit"), CK.involvesState, B),  # the host state, directly
        (URIRef(f"{ID}event/war"), CK.involvesState, D),  # a state participant, directly
        (URIRef(f"{ID}event/idea"), CK.involvesState, C),  # the office held at the time of the event
        (URIRef(f"{ID}event/visit"), CK.takesPlaceIn, URIRef(f"{ID}place/town")),  # ck:place ⊑ takesPlaceIn
        (URIRef(f"{ID}event/visit"), CK.takesPlaceIn, URIRef(f"{ID}place/province")),  # place ∘ locatedIn
        (URIRef(f"{ID}event/visit"), CK.takesPlaceIn, B),  # … at any depth
        (URIRef(f"{ID}event/war"), CK.hasParticipant, D),  # stateParticipant ⊑ hasParticipant
        (D, CK.supports, URIRef(f"{ID}event/idea")),  # stance chains
        (A, CK.opposes, URIRef(f"{ID}event/idea")),
        (D, CK.owns, URIRef(f"{ID}infrastructure/fleet")),  # inverse of ownedBy
    ],
)
def test_entailment(fixture_kg: KnowledgeGraph, s: URIRef, p: URIRef, o: URIRef) -> None:
    assert inferred(fixture_kg, s, p, o)


@pytest.mark.parametrize(
    "s, p, o",
    [
        (C, ORG.memberOf, X),  # the property-chain trap: an observer is NOT a member
        (X, ORG.hasMember, C),
        (D, ORG.memberOf, Y),  # an unstated role is not membership
        (D, CK.observerOf, Y),
        (A, CK.chairOf, X),
        (A, CK.observerOf, X),
        (URIRef(f"{ID}event/idea"), CK.involvesState, A),  # the office's state only, not P's
        (D, CK.opposes, URIRef(f"{ID}event/idea")),  # a stance is support or opposition, not both
        (A, CK.supports, URIRef(f"{ID}event/idea")),
        (URIRef(f"{ID}event/visit"), CK.involvesState, URIRef(f"{ID}place/town")),  # a place is not a state
    ],
)
def test_non_entailment(fixture_kg: KnowledgeGraph, s: URIRef, p: URIRef, o: URIRef) -> None:
    assert not holds(fixture_kg, s, p, o)


@pytest.mark.parametrize(
    "node, cls, expected",
    [
        (C, CK.ObserverState, True),
        (A, CK.ObserverState, False),
        (A, CK.MemberState, True),
        (B, CK.MemberState, True),
        (C, CK.MemberState, False),
        (URIRef(f"{ID}membership/x-observer-c"), CK.ObserverMembership, True),
        (URIRef(f"{ID}membership/x-chair-b"), CK.Chairmanship, True),
        (URIRef(f"{ID}membership/x-member-a"), CK.FullMembership, True),
        (URIRef(f"{ID}membership/x-member-a"), CK.ObserverMembership, False),
        (URIRef(f"{ID}event/visit"), CK.Event, True),  # subclass
        (URIRef(f"{ID}event/visit"), URIRef("https://schema.org/Event"), True),
    ],
)
def test_classes_by_restriction(fixture_kg: KnowledgeGraph, node: URIRef, cls: URIRef, expected: bool) -> None:
    assert holds(fixture_kg, node, RDF.type, cls) is expected


def test_closure_holds_only_new_triples(fixture_kg: KnowledgeGraph) -> None:
    closure = fixture_kg.dataset.graph(fixture_kg.inferred_graph)
    assert len(closure) > 0
    asserted = fixture_kg.asserted
    assert not [t for t in closure if t in asserted]


def test_closure_is_plain_rdf(kg: KnowledgeGraph) -> None:
    """owlrl derives generalised triples such as "7" a xsd:integer; none may reach the graph."""
    closure = kg.dataset.graph(kg.inferred_graph)
    assert not [t for t in closure if isinstance(t[0], Literal)]
    assert not [t for t in closure if t[1] == OWL.sameAs and t[0] == t[2]]


def test_asserted_view_has_no_inferences(fixture_kg: KnowledgeGraph) -> None:
    assert (A, ORG.memberOf, X) not in fixture_kg.asserted
    assert fixture_kg.inferred_graph not in {g.identifier for g in fixture_kg.asserted.graphs()}


def test_member_and_observer_of_one_body_is_reported(tmp_path: Path) -> None:
    extra = """
    @prefix ck: <https://w3id.org/caspian-kg/ontology#> .
    @prefix org: <http://www.w3.org/ns/org#> .
    @prefix prov: <http://www.w3.org/ns/prov#> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    <https://w3id.org/caspian-kg/id/membership/x-member-c> a org:Membership ; rdfs:label "C member of X"@en ;
        org:member <https://w3id.org/caspian-kg/id/state/c> ; org:role ck:memberRole ;
        ck:memberIn <https://w3id.org/caspian-kg/id/org/x> ;
        prov:wasDerivedFrom <https://w3id.org/caspian-kg/id/doc/fixture> ;
        ck:evidence "A, B and C are members of X" .
    """
    root = make_root(tmp_path, {"fixture2.ttl": extra})
    (root / "data" / "fixture2.ttl").write_text(
        (root / "data" / "fixture.ttl").read_text().split("doc:fixture a")[0] + extra
    )
    with pytest.raises(ValidationError) as err:
        open_graph(Config(root=root))
    problems = "\n".join(err.value.problems)
    assert "inconsistency" in problems
    assert "state/c" in problems and "org/x" in problems
    # without validation the graph still loads and the violation is kept for reporting
    kg = open_graph(Config(root=root), validate=False)
    assert any("propertyDisjointWith" in m or "disjoint" in m.lower() for m in kg.inconsistencies)

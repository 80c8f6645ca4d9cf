"""The fast OWL 2 RL engine must yield exactly owlrl's pruned closure (and its inconsistencies)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_root
from rdflib import Dataset, URIRef
from rdflib.compare import isomorphic

from caspian_kg.config import Config
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.open import open_graph
from caspian_kg.reasoning import fast as fastreason
from caspian_kg.reasoning import owlrl_closure as reasoning
from caspian_kg.scale import synth

INFERRED = URIRef("urn:test:inferred")


def closures(kg: KnowledgeGraph) -> tuple[set, list[str], set, list[str]]:
    """(owlrl closure, messages, fast closure, messages) of the asserted graphs of `kg`."""
    results = []
    for engine in (reasoning.compute_closure, fastreason.compute_closure):
        dataset = Dataset(default_union=True)
        for s, p, o, g in kg.asserted.quads((None, None, None, None)):
            dataset.graph(g).add((s, p, o))
        messages = engine(dataset, INFERRED)
        results += [set(dataset.graph(INFERRED)), messages]
    return tuple(results)  # type: ignore[return-value]


def assert_same(kg: KnowledgeGraph) -> None:
    slow, slow_messages, fast, fast_messages = closures(kg)
    assert fast - slow == set(), "fast engine entails more than owlrl"
    assert slow - fast == set(), "fast engine misses owlrl entailments"
    assert sorted(fast_messages) == sorted(slow_messages)


def test_same_closure_on_shipped_data(kg: KnowledgeGraph) -> None:
    assert_same(kg)


def test_same_closure_on_the_inference_fixture(tmp_path: Path) -> None:
    assert_same(open_graph(Config(root=make_root(tmp_path)), validate=False))


def test_same_closure_on_synthetic_data(tmp_path: Path) -> None:
    synth.generate(tmp_path, 2500)
    kg = open_graph(Config(root=tmp_path), validate=False, reason=False)
    slow, _, fast, _ = closures(kg)
    assert slow == fast
    assert len(fast) > 2000  # memberships, chains, inverses, transitive places: not a trivial closure


def test_same_inconsistency_reports(tmp_path: Path) -> None:
    """A state both member and observer of one body: both engines report it, in the same words."""
    extra = """
    @prefix ck: <https://w3id.org/caspian-kg/ontology#> .
    @prefix org: <http://www.w3.org/ns/org#> .
    <https://w3id.org/caspian-kg/id/membership/x-member-c> a org:Membership ;
        org:member <https://w3id.org/caspian-kg/id/state/c> ; org:role ck:memberRole ;
        ck:memberIn <https://w3id.org/caspian-kg/id/org/x> .
    """
    kg = open_graph(Config(root=make_root(tmp_path, {"extra.ttl": extra})), validate=False, reason=False)
    slow, slow_messages, fast, fast_messages = closures(kg)
    assert slow == fast
    assert slow_messages and sorted(fast_messages) == sorted(slow_messages)


def test_property_chain_entailments_present(kg: KnowledgeGraph) -> None:
    """What `reasonable` misses: chains over inverse properties (memberOf, observerOf, represents)."""
    _, _, fast, _ = closures(kg)
    predicates = {str(p).rsplit("#", 1)[-1].rsplit("/", 1)[-1] for _, p, _ in fast}
    assert {"memberOf", "observerOf", "affiliatedWith", "represents", "involvesState"} <= predicates


def test_unsupported_construct_falls_back_to_owlrl(tmp_path: Path) -> None:
    extra = """
    @prefix owl: <http://www.w3.org/2002/07/owl#> .
    <https://w3id.org/caspian-kg/ontology#x> a owl:IrreflexiveProperty .
    """
    kg = open_graph(Config(root=make_root(tmp_path, {"extra.ttl": extra})), validate=False, reason=False)
    slow, _, fast, _ = closures(kg)
    assert slow == fast


def test_loader_picks_the_engine_by_size(tmp_path: Path) -> None:
    """`auto` on the memory store: owlrl below the threshold (the Oxigraph stores use the compiled
    engine unless owlrl is asked for: test_reasoner_setting)."""
    root = make_root(tmp_path)
    small = open_graph(Config(root=root, store="memory", reasoner_threshold=10**9), validate=False)
    fast = open_graph(Config(root=root, store="memory", reasoner_threshold=0), validate=False)
    assert (small.reasoner, fast.reasoner) == ("owlrl", "fast")
    # two loads: the ontology's blank nodes get new labels, so compare up to blank-node renaming
    assert isomorphic(small.dataset.graph(small.inferred_graph), fast.dataset.graph(fast.inferred_graph))


@pytest.mark.parametrize("store", ["oxigraph", "memory"])
@pytest.mark.parametrize("engine", ["owlrl", "fast"])
def test_reasoner_setting(tmp_path: Path, engine: str, store: str) -> None:
    """The setting means the same on every store, even when the default store already holds a
    closure of the same data computed by the other engine."""
    root = make_root(tmp_path)
    other = "fast" if engine == "owlrl" else "owlrl"
    first = open_graph(Config(root=root, reasoner=other, store=store), validate=False)
    kg = open_graph(Config(root=root, reasoner=engine, store=store), validate=False)
    assert (first.reasoner, kg.reasoner) == (other, engine)
    assert len(kg.dataset.graph(kg.inferred_graph)) == len(first.dataset.graph(first.inferred_graph))

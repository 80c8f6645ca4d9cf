"""The OWL 2 RL closure: owlrl (the reference, `owlrl_closure`) or the compiled engine (`fast`).

Both have one contract, `compute_closure(dataset, inferred_iri) -> inconsistency messages`: the
closure goes into its own named graph, holding only triples not asserted anywhere.
"""

from __future__ import annotations

from collections.abc import Callable

from rdflib import Dataset, URIRef

from ..config import Config
from . import fast, owlrl_closure

Closure = Callable[[Dataset, URIRef], list[str]]


def choose_reasoner(config: Config, asserted_triples: int) -> str:
    """"owlrl" (the reference) for small graphs, "fast" above the threshold (or as configured)."""
    if config.reasoner in ("owlrl", "fast"):
        return config.reasoner
    return "fast" if asserted_triples > config.reasoner_threshold else "owlrl"


def closure_function(engine: str) -> Closure:
    """owlrl_closure.compute_closure or fast.compute_closure: same contract."""
    return fast.compute_closure if engine == "fast" else owlrl_closure.compute_closure

"""`open_graph(config)`: pick the store, load, reason, validate — once, for every door.

Returns only a complete, valid graph: a broken file raises LoadError (file:line), invalid data
ValidationError (every problem listed), and the caller keeps whatever it had before.
"""

from __future__ import annotations

import logging
import time

from .config import Config
from .errors import ValidationError
from .graph import KnowledgeGraph
from .stores.memory import open_memory
from .stores.oxigraph import Check, open_oxigraph
from .stores.remote import open_remote
from .validation import validate as check

log = logging.getLogger(__name__)


def kind(spec: str) -> str:
    """"memory", "oxigraph" (the cached default, or a directory) or "remote"."""
    if spec == "memory":
        return "memory"
    if spec.startswith(("http://", "https://")):
        return "remote"
    return "oxigraph"


def open_store(config: Config, reason: bool = True, check: Check | None = None) -> KnowledgeGraph:
    """The store `config.store` names, loaded (files parsed, closure computed). A store that is
    built once and kept (Oxigraph) runs `check` before it records the build as done, so an invalid
    build is never reopened as valid; the others leave the check to the caller."""
    found = kind(config.store)
    if found == "remote":
        return open_remote(config)
    if found == "oxigraph":
        return open_oxigraph(config, reason, check)
    return open_memory(config, reason)


def problems_of(config: Config) -> Check:
    """The load-time check: SHACL, verbatim evidence, OWL 2 RL consistency (one-line problems)."""
    def problems(kg: KnowledgeGraph) -> list[str]:
        t0 = time.perf_counter()
        found = check(kg, config) + [f"OWL 2 RL inconsistency: {m}" for m in kg.inconsistencies]
        kg.timings["validate"] = time.perf_counter() - t0
        return found
    return problems


def open_graph(config: Config, *, validate: bool | None = None, reason: bool = True) -> KnowledgeGraph:
    """Load the graph `config` describes; validate it unless told not to (or already done when
    the store was built from these very files)."""
    wanted = validate if validate is not None else config.validate
    problems = problems_of(config) if wanted else None
    kg = open_store(config, reason, problems)
    if problems is not None and not kg.validated:
        found = problems(kg)
        if found:
            raise ValidationError(found)
    log.info("loaded %d triples (%d inferred) from %d files in %.2fs (closure %.2fs)",
             len(kg.dataset), len(kg.dataset.graph(kg.inferred_graph)), len(kg.files),
             sum(kg.timings.values()), kg.timings.get("closure", 0.0))
    return kg

"""Settings, read once from the environment and the command line into one frozen dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_BASE = "https://w3id.org/caspian-kg/"


def _find_root() -> Path:
    """The project directory: $CASPIAN_KG_ROOT, else the nearest parent of the cwd that holds
    `ontology/caspian.ttl`, else the checkout this package lives in (editable install)."""
    env = os.environ.get("CASPIAN_KG_ROOT")
    if env:
        return Path(env).resolve()
    for candidate in [Path.cwd(), *Path.cwd().parents]:
        if (candidate / "ontology" / "caspian.ttl").is_file():
            return candidate
    return Path(__file__).resolve().parents[2]


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass(frozen=True)
class Config:
    """Everything configurable. `root` holds ontology/, data/ and queries/."""

    root: Path = field(default_factory=_find_root)
    base: str = field(default_factory=lambda: os.environ.get("CASPIAN_KG_BASE", DEFAULT_BASE))
    host: str = field(default_factory=lambda: os.environ.get("CASPIAN_KG_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: _env_int("CASPIAN_KG_PORT", 8000))
    query_timeout: float = field(default_factory=lambda: _env_float("CASPIAN_KG_QUERY_TIMEOUT", 30.0))
    max_query_bytes: int = field(default_factory=lambda: _env_int("CASPIAN_KG_MAX_QUERY_BYTES", 100_000))
    max_results: int = field(default_factory=lambda: _env_int("CASPIAN_KG_MAX_RESULTS", 100_000))
    workers: int = field(default_factory=lambda: _env_int("CASPIAN_KG_WORKERS", 2))
    threads: int = field(default_factory=lambda: _env_int("CASPIAN_KG_THREADS", 8))
    validate: bool = True
    # where the graph lives: "memory" (rdflib, the default), a directory (Oxigraph on disk,
    # reopened without reloading), or an http(s) URL of a SPARQL 1.1 engine (see backends.py)
    store: str = field(default_factory=lambda: os.environ.get("CASPIAN_KG_STORE", "memory"))
    # OWL 2 RL engine: "auto" (owlrl up to reasoner_threshold asserted triples, then fastreason),
    # "owlrl" or "fast"; owlrl costs ~0.5 ms per triple, the compiled engine ~100x less
    reasoner: str = field(default_factory=lambda: os.environ.get("CASPIAN_KG_REASONER", "auto"))
    reasoner_threshold: int = field(default_factory=lambda: _env_int("CASPIAN_KG_REASONER_THRESHOLD", 5_000))

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    def with_(self, **changes: object) -> Config:
        """A copy with some settings changed (CLI flags override the environment)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

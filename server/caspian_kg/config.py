"""Every setting, read once from the environment (and the command line) into one frozen dataclass.

Each field names its environment variable and says what it does (`metadata["env"]`,
`metadata["help"]`); this module is the only one that reads the environment, and a test fails
when a setting is missing from the README's table.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

VERSION = "0.1.0"  # the package version (pyproject.toml); OpenAPI and /health report it
DEFAULT_BASE = "https://w3id.org/caspian-kg/"
ENV_PREFIX = "CASPIAN_KG_"


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


def _cache_home() -> Path:
    """Where the default store is kept: $XDG_CACHE_HOME/caspian-kg, else ~/.cache/caspian-kg."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "caspian-kg"


def _boolean(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, not {text!r}")


def setting(name: str, default: Any, help: str, convert: Callable[[str], Any] = str) -> Any:
    """A dataclass field read from $CASPIAN_KG_<NAME> (when set and not empty), else `default`."""
    env = ENV_PREFIX + name

    def read() -> Any:
        value = os.environ.get(env)
        if not value:
            return default
        try:
            return convert(value)
        except ValueError as exc:
            raise SystemExit(f"caspian-kg: {env}={value!r}: {exc}") from None

    return field(default_factory=read, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class Config:
    """Everything configurable. `root` holds ontology/, data/ and queries/."""

    root: Path = field(default_factory=_find_root, metadata={
        "env": "CASPIAN_KG_ROOT", "help": "project directory holding ontology/, data/ and queries/"})
    base: str = setting("BASE", DEFAULT_BASE, "canonical base IRI of the data (publishing under another domain)")
    host: str = setting("HOST", "127.0.0.1", "address `serve` listens on")
    port: int = setting("PORT", 8000, "port `serve` listens on", int)
    query_timeout: float = setting("QUERY_TIMEOUT", 30.0, "per-query deadline in seconds (HTTP 503 past it)",
                                   float)
    max_query_bytes: int = setting("MAX_QUERY_BYTES", 100_000, "largest query text accepted (HTTP 413)", int)
    max_results: int = setting("MAX_RESULTS", 100_000, "most result rows or triples an answer may hold", int)
    workers: int = setting("WORKERS", 4, "forked query worker processes", int)
    threads: int = setting("THREADS", 8, "HTTP threads of the WSGI server", int)
    query_queue: int = setting("QUERY_QUEUE", 4, "queries that may wait for a busy worker (beyond it: 503)", int)
    client_queries: int = setting("CLIENT_QUERIES", 3, "queries one client may have in flight at once (429)", int)
    client_rate: str = setting("CLIENT_RATE", "600/minute",
                               "query work one client may start per window, e.g. 600/minute; `none`: no limit")
    validate: bool = setting("VALIDATE", True, "run SHACL and the evidence check at load", _boolean)
    store: str = setting("STORE", "oxigraph", "where the graph lives: `oxigraph` (Oxigraph on disk in CACHE_DIR, "
                                              "built once per dataset version), `memory` (rdflib), a directory "
                                              "(Oxigraph there) or a SPARQL 1.1 endpoint URL")
    cache_dir: str = setting("CACHE_DIR", str(_cache_home()), "where the default store keeps one Oxigraph store "
                                                              "per dataset version ($XDG_CACHE_HOME/caspian-kg)")
    reasoner: str = setting("REASONER", "auto", "OWL 2 RL engine: `auto`, `owlrl` or `fast`")
    reasoner_threshold: int = setting("REASONER_THRESHOLD", 5_000,
                                      "asserted triples above which `auto` picks the compiled engine", int)
    cache_entries: int = setting("CACHE_ENTRIES", 2048, "answers kept in the in-process answer cache", int)
    cache_bytes: int = setting("CACHE_BYTES", 256 * 1024 * 1024, "bytes the answer cache may hold", int)

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


def documented() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) of every setting, for `caspian-kg settings`."""
    defaults = Config()
    return [(f.metadata["env"], str(getattr(defaults, f.name)), f.metadata["help"]) for f in fields(Config)]

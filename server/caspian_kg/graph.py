"""The loaded graph (`KnowledgeGraph`) and what defines it: files, named-graph IRIs, version.

Stores (`stores/`) build a KnowledgeGraph; `open.open_graph` validates it; every reader (the
query service, pages, dumps, statistics) takes it as read-only.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Dataset, Graph, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax

from .config import DEFAULT_BASE, Config
from .errors import LoadError
from .stores.engine import Engine

BACKGROUND_FILE = "background.ttl"


@dataclass
class KnowledgeGraph:
    """The loaded graph and what is known about it. Read-only once built."""

    dataset: Dataset  # every graph, the closure included; default graph = union
    asserted: Dataset  # the same graphs without the closure (for ?inference=none)
    base: str
    graphs: dict[str, URIRef]  # short name ("ontology", "source/x", "background", "inferred") -> IRI
    files: dict[URIRef, Path]  # named graph -> the file it was read from
    version: str  # changes whenever a file or the package changes; used for ETags
    engine: Engine  # answers queries: memory (rdflib), Oxigraph on disk, or a remote SPARQL engine
    timings: dict[str, float] = field(default_factory=dict)
    inconsistencies: list[str] = field(default_factory=list)
    reasoner: str = "owlrl"  # the OWL 2 RL engine that computed the closure ("owlrl", "fast" or "remote")
    validated: bool = False  # True when the store was validated when it was built (a reopened store)
    _prefixes: dict[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def inferred_graph(self) -> URIRef:
        return self.graphs["inferred"]

    @property
    def ontology_graph(self) -> URIRef:
        return self.graphs["ontology"]

    def source_graphs(self) -> dict[str, URIRef]:
        """Named graphs of the source documents: slug -> graph IRI."""
        return {k.split("/", 1)[1]: v for k, v in self.graphs.items() if k.startswith("source/")}

    def view(self, inference: bool = True) -> Dataset:
        return self.dataset if inference else self.asserted

    def prefixes(self) -> dict[str, str]:
        """Prefixes every query may use without declaring them (those of the data files).
        Computed once: the graph is read-only once loaded, and every query asks."""
        if self._prefixes is None:
            self._prefixes = {prefix: str(ns) for prefix, ns in self.dataset.namespaces() if prefix}
        return dict(self._prefixes)


def graph_iri(base: str, name: str) -> URIRef:
    return URIRef(f"{base}graph/{name}")


def data_files(config: Config) -> list[tuple[str, Path]]:
    """(graph short name, file) for the ontology and every data file, in load order."""
    files: list[tuple[str, Path]] = [("ontology", config.ontology_dir / "caspian.ttl")]
    for path in sorted(config.data_dir.glob("*.ttl")):
        name = "background" if path.name == BACKGROUND_FILE else f"source/{path.stem}"
        files.append((name, path))
    return files


def parse_turtle(path: Path, base: str = DEFAULT_BASE) -> Graph:
    """Parse one Turtle file; any failure becomes a LoadError naming file, line and reason."""
    graph = Graph()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LoadError(str(path), None, "file not found") from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise LoadError(str(path), line, f"not UTF-8 (byte 0x{exc.object[exc.start]:02X}: {exc.reason})") from None
    except OSError as exc:  # a directory in a file's place, no permission...
        raise LoadError(str(path), None, f"cannot read it: {exc.strerror or exc}") from None
    try:
        graph.parse(data=text, format="turtle", publicID=path.resolve().as_uri())
    except BadSyntax as exc:
        raise LoadError(str(path), exc.lines + 1, f"Turtle syntax error: {exc._why}") from None
    except Exception as exc:  # noqa: BLE001 - rdflib raises many types (ValueError, ParserError, ...)
        lineno = getattr(exc, "lineno", None)
        raise LoadError(str(path), lineno if isinstance(lineno, int) else None,
                        f"{type(exc).__name__}: {exc}") from None
    if base != DEFAULT_BASE:
        graph = rebase(graph, DEFAULT_BASE, base)
    return graph


def rebase(graph: Graph, old: str, new: str) -> Graph:
    """Move every IRI under `old` to `new` (publishing under another domain)."""

    def move(term):  # type: ignore[no-untyped-def]
        if isinstance(term, URIRef) and str(term).startswith(old):
            return URIRef(new + str(term)[len(old):])
        return term

    out = Graph()
    for s, p, o in graph:
        out.add((move(s), move(p), move(o)))
    return out


def dataset_version(config: Config, files: list[Path]) -> str:
    """A short hash of everything that shapes what is served: the input files, the SHACL shapes,
    the base IRI and the package's own code and templates. It is the ETag material, and it decides
    whether an on-disk store can be reopened, so an upgraded reasoner never serves a stale closure."""
    digest = hashlib.sha256(config.base.encode())
    package = Path(__file__).resolve().parent
    code = sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in {".py", ".html", ".css", ".js"})
    for path in [*files, config.ontology_dir / "shapes.ttl", *code]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:16]


_PREFIX_LINE = re.compile(r"@prefix\s+([A-Za-z][\w-]*)?:\s*<([^>]*)>", re.IGNORECASE)


def declared_prefixes(files: list[tuple[str, Path]]) -> dict[str, str]:
    """The data files' @prefix lines (cheap: no parse), for stores that never parse with rdflib."""
    found: dict[str, str] = {}
    for _, path in files:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                match = _PREFIX_LINE.match(line.strip())
                if match and match.group(1):
                    found.setdefault(match.group(1), match.group(2))
                elif line.strip() and not line.lstrip().startswith(("#", "@prefix", "PREFIX")):
                    break
    return found

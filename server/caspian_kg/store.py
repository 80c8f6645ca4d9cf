"""Load the ontology and the data files into an rdflib Dataset, one named graph per file.

The loader is, with the reasoner, the only writer of the graph: it builds a *new* Dataset and
returns it only when every file parsed, SHACL passed and the closure is computed, so a broken
file never leaves a half-loaded graph behind (the caller keeps serving the old one).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Dataset, Graph, Namespace, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.store import Store

from .config import DEFAULT_BASE, Config
from .errors import LoadError, ValidationError

log = logging.getLogger(__name__)

CK = Namespace(DEFAULT_BASE + "ontology#")
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
    timings: dict[str, float] = field(default_factory=dict)
    inconsistencies: list[str] = field(default_factory=list)
    reasoner: str = "owlrl"  # the OWL 2 RL engine that computed the closure ("owlrl" or "fast")
    backend: object = None  # backends.Backend for native (Oxigraph / remote) stores; None: rdflib in memory
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
        raise LoadError(str(path), None, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        graph.parse(data=text, format="turtle", publicID=path.resolve().as_uri())
    except BadSyntax as exc:
        raise LoadError(str(path), exc.lines + 1, f"Turtle syntax error: {exc._why}") from None
    except Exception as exc:  # noqa: BLE001 - rdflib raises many types (ValueError, ParserError, ...)
        line = getattr(exc, "lineno", None)
        raise LoadError(str(path), line if isinstance(line, int) else None, f"{type(exc).__name__}: {exc}") from None
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


def load(config: Config, *, validate: bool | None = None, reason: bool = True) -> KnowledgeGraph:
    """Read every file, compute the OWL 2 RL closure, validate with SHACL, and return the graph.

    Raises LoadError (a file is broken) or ValidationError (shapes or axioms violated) and then
    returns nothing: callers never see a partial graph.
    """
    if config.store != "memory":
        from .backends import load_backend

        return load_backend(config, validate=validate, reason=reason)
    started = time.perf_counter()
    parsed: list[tuple[str, Path, Graph]] = []
    for name, path in data_files(config):
        parsed.append((name, path, parse_turtle(path, config.base)))
    dataset = Dataset(default_union=True)
    graphs: dict[str, URIRef] = {}
    files: dict[URIRef, Path] = {}
    for name, path, graph in parsed:
        iri = graph_iri(config.base, name)
        graphs[name], files[iri] = iri, path
        named = dataset.graph(iri)
        for triple in graph:
            named.add(triple)
        for prefix, ns in graph.namespaces():
            dataset.bind(prefix, ns, override=False)
    graphs["inferred"] = graph_iri(config.base, "inferred")
    asserted = Dataset(store=WithoutGraph(dataset.store, graphs["inferred"]), default_union=True)
    timings = {"load": time.perf_counter() - started}

    inconsistencies: list[str] = []
    engine = choose_reasoner(config, len(asserted))
    if reason:
        t0 = time.perf_counter()
        inconsistencies = closure_function(engine)(dataset, graphs["inferred"])
        timings["closure"] = time.perf_counter() - t0

    kg = KnowledgeGraph(
        dataset=dataset,
        asserted=asserted,
        base=config.base,
        graphs=graphs,
        files=files,
        version=dataset_version(config, [p for _, p, _ in parsed]),
        timings=timings,
        inconsistencies=inconsistencies,
        reasoner=engine,
    )
    return finish_load(kg, config, validate)


class WithoutGraph(Store):
    """A read-only view of a memory store without one of its graphs: the asserted facts are the
    dataset minus the closure, served from the same indexes instead of a second copy (which
    doubled the memory of every load). Sound because the closure graph holds only triples that
    are not asserted (the reasoners prune the others), so a triple is asserted exactly when one
    of its graphs is not the hidden one."""

    context_aware = True
    formula_aware = False
    graph_aware = True
    transaction_aware = False

    def __init__(self, inner: Store, hidden: URIRef) -> None:
        super().__init__()
        self.inner, self.hidden = inner, hidden

    def _shown(self, context: Any) -> bool:
        return context is None or getattr(context, "identifier", context) != self.hidden

    def triples(self, triple_pattern: Any, context: Any = None) -> Iterator[Any]:
        if context is not None:
            if self._shown(context):
                yield from self.inner.triples(triple_pattern, context)
            return
        for triple, contexts in self.inner.triples(triple_pattern, None):
            shown = [c for c in contexts if self._shown(c)]
            if shown:
                yield triple, iter(shown)

    def __len__(self, context: Any = None) -> int:
        if context is not None:
            return self.inner.__len__(context) if self._shown(context) else 0
        return self.inner.__len__(None) - self.inner.__len__(Graph(identifier=self.hidden))  # disjoint

    def contexts(self, triple: Any = None) -> Generator[Any, None, None]:
        return (c for c in self.inner.contexts(triple) if self._shown(c))

    def add_graph(self, graph: Graph) -> None:
        """Dataset() registers its default graph, which the inner store already has."""
        if self._shown(graph):
            self.inner.add_graph(graph)

    def add(self, triple: Any, context: Any, quoted: bool = False) -> None:
        raise TypeError("the asserted view is read-only")

    def remove(self, triple: Any, context: Any = None) -> None:
        raise TypeError("the asserted view is read-only")

    def bind(self, prefix: str, namespace: Any, override: bool = True) -> None:
        self.inner.bind(prefix, namespace, override=override)

    def namespace(self, prefix: str) -> Any:
        return self.inner.namespace(prefix)

    def prefix(self, namespace: Any) -> Any:
        return self.inner.prefix(namespace)

    def namespaces(self) -> Iterator[Any]:
        return self.inner.namespaces()


def choose_reasoner(config: Config, asserted_triples: int) -> str:
    """"owlrl" (the reference) for small graphs, "fast" (fastreason) above the threshold."""
    if config.reasoner in ("owlrl", "fast"):
        return config.reasoner
    return "fast" if asserted_triples > config.reasoner_threshold else "owlrl"


def closure_function(engine: str):  # type: ignore[no-untyped-def]
    """reasoning.compute_closure or fastreason.compute_closure: same contract."""
    if engine == "fast":
        from .fastreason import compute_closure as fast

        return fast
    from .reasoning import compute_closure as owlrl

    return owlrl


def finish_load(kg: KnowledgeGraph, config: Config, validate: bool | None) -> KnowledgeGraph:
    """Validate (unless switched off) and log; raises ValidationError on any problem."""
    from .validation import validate as shacl_validate

    timings, inconsistencies, dataset, graphs, files = kg.timings, kg.inconsistencies, kg.dataset, kg.graphs, kg.files
    if validate if validate is not None else config.validate:
        t0 = time.perf_counter()
        problems = shacl_validate(kg, config)
        timings["validate"] = time.perf_counter() - t0
        problems += [f"OWL 2 RL inconsistency: {m}" for m in inconsistencies]
        if problems:
            raise ValidationError(problems)
    log.info(
        "loaded %d triples (%d inferred) from %d files in %.2fs (closure %.2fs)",
        len(dataset),
        len(dataset.graph(graphs["inferred"])),
        len(files),
        sum(timings.values()),
        timings.get("closure", 0.0),
    )
    return kg

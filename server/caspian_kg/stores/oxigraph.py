"""The Oxigraph store: pyoxigraph's RocksDB store on disk, evaluated by Oxigraph's own engine.

`--store DIR` (or `oxigraph:DIR`). The files are bulk-loaded by Oxigraph's parser, the closure
is computed by the compiled reasoner directly on pyoxigraph terms, and `DIR/caspian-kg.json`
records the dataset version: the next start whose files hash to the same version reopens the
store *without* reloading (1.8 s for a million triples). Pages and dumps read it through
oxrdflib as an rdflib Dataset (`AssertedStore`); queries run natively (`OxigraphEngine`), and
SELECT answers are written by Oxigraph itself (`native.NativeSolutions`). Fork safety: RocksDB
handles must not cross fork(), so a worker reopens the store read-only (`after_fork`).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from oxrdflib._converter import from_ox_graph_name, to_ox, to_ox_quad_pattern
from rdflib import Dataset, URIRef
from rdflib.term import Identifier

from ..config import DEFAULT_BASE, Config
from ..errors import EngineSyntaxError, StoreError, ValidationError, one_line
from ..graph import KnowledgeGraph, data_files, dataset_version, declared_prefixes, graph_iri, parse_turtle
from ..oxterms import to_rdflib, to_result
from ..reasoning import closure_function
from .engine import DatasetSelection, Prepared, evaluate
from .native import UNION_GRAPH, NativeSolutions, bind_values, graph_lists

META_FILE = "caspian-kg.json"
STORE_DIR = "oxigraph"


class OxigraphEngine:
    """Oxigraph evaluates the query text over our graphs (default graph: the deduplicated union
    plus the closure). SELECT solutions stay inside Oxigraph until they are written."""

    kind = "oxigraph"
    needs_algebra = False

    def __init__(self, store: Any, path: Path, graphs: Mapping[str, URIRef], prefixes: dict[str, str],
                 views: tuple[Dataset, Dataset]) -> None:
        self.store, self.path, self.graphs, self.prefixes = store, path, dict(graphs), prefixes
        self.views = views  # (with closure, asserted only) as rdflib Datasets
        self._pid = os.getpid()

    def query(self, prepared: Prepared, selection: DatasetSelection, bindings: Mapping[str, Identifier]) -> Any:
        if prepared.text is None:  # a pattern only rdflib's algebra holds: rdflib over our indexes
            source = self.views[0] if selection.inference else self.views[1]
            return evaluate(source, self.graphs.values(), prepared, selection, bindings)
        text = bind_values(prepared.text, bindings) if bindings else prepared.text
        default, named = graph_lists(self.graphs, selection)
        try:
            result = self.store.query(text, default_graph=[ox.NamedNode(str(g)) for g in default] or ox.DefaultGraph(),
                                      named_graphs=[ox.NamedNode(str(g)) for g in named], prefixes=self.prefixes,
                                      base_iri=prepared.base)
        except SyntaxError as exc:
            raise EngineSyntaxError(f"SPARQL syntax error: {one_line(str(exc), 400)}") from None
        if isinstance(result, ox.QuerySolutions):
            return NativeSolutions(result)
        return to_result(result)

    def after_fork(self) -> None:
        """Drop the parent's RocksDB handle and reopen the store read-only (a handle must not be
        shared across fork). The worker initializer calls it, so the 10-15 ms reopen is not paid
        by the first request each worker answers."""
        if self._pid != os.getpid():
            self.store = ox.Store.read_only(str(self.path / STORE_DIR))
            self._pid = os.getpid()

    def peers(self) -> set[tuple[str, int]]:
        return set()

    def export(self, graph: URIRef) -> bytes:
        return self.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(str(graph))) or b""


Check = Callable[[KnowledgeGraph], list[str]]  # the load-time validation: one-line problems, [] = valid


def store_path(config: Config, version: str, reason: bool) -> tuple[Path, bool]:
    """(directory, kept in the cache?). The default spec `oxigraph` means one directory per dataset
    version under CACHE_DIR; anything else names the directory itself."""
    if config.store == "oxigraph":
        name = version + ("-owlrl" if _reasoner(config) == "owlrl" else "") + ("" if reason else "-asserted")
        return Path(config.cache_dir).expanduser().resolve() / name, True
    return Path(config.store.removeprefix("oxigraph:")).resolve(), False


def open_oxigraph(config: Config, reason: bool = True, check: Check | None = None) -> KnowledgeGraph:
    """Open the store built from these very files, or build it.

    A build is recorded as done (`caspian-kg.json`) only after `check` passed, so an invalid build
    is rebuilt, never reopened as valid. In the cache (the default) a build happens in a private
    directory renamed into place when complete, and every open is read-only: a crash never leaves
    a half-built store behind, two processes may build at once (the first rename wins), and any
    number of servers and CLI commands read the same version at once (a read-write RocksDB handle
    would lock the directory)."""
    files = data_files(config)
    version = dataset_version(config, [p for _, p in files])
    path, cached = store_path(config, version, reason)
    started = time.perf_counter()
    meta = _built(path, version, config.base, reason)
    if meta is not None and meta.get("reasoner", "fast") != _reasoner(config) and reason:
        meta = None  # asked for the other OWL 2 RL engine: its closure is the same, but say so honestly
    if meta is not None:
        try:
            store = ox.Store.read_only(str(path / STORE_DIR)) if cached else _open_store(path)
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"cannot open the Oxigraph store {path}: {one_line(str(exc), 300)}") from None
        kg = _knowledge_graph(config, store, path, files, version, meta, {"reopen": time.perf_counter() - started})
        if check is not None and not kg.validated:  # built with validation off: check now, once
            _validate(kg, check)
            meta["validated"] = kg.validated = True
            _write_meta(path, meta)
        return kg
    if not cached:
        path.mkdir(parents=True, exist_ok=True)
        return _build_in(path, config, files, version, reason, check, _open_store(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep(path.parent)
    if path.exists():  # a kept store whose database files went missing: rebuilt, never served empty
        shutil.rmtree(path, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".build-{path.name}-", dir=path.parent))
    try:
        kg = _build_in(scratch, config, files, version, reason, check, ox.Store(str(scratch / STORE_DIR)))
        timings = dict(kg.timings)
        del kg  # drop every handle on the scratch store before it moves (RocksDB files are opened by path)
        gc.collect()
        try:
            scratch.rename(path)
        except OSError:  # another process finished the same version first: use theirs
            if _built(path, version, config.base, reason) is None:
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    store = ox.Store.read_only(str(path / STORE_DIR))
    meta = _built(path, version, config.base, reason) or {}
    return _knowledge_graph(config, store, path, files, version, meta, timings)


def _build_in(path: Path, config: Config, files: list[tuple[str, Path]], version: str, reason: bool,
              check: Check | None, store: Any) -> KnowledgeGraph:
    """Load the files and the closure into `store` (at `path`), check, and only then record it."""
    (path / META_FILE).unlink(missing_ok=True)
    store.clear()
    inconsistencies, timings, engine = _build(store, config, files, reason)
    store.flush()
    store.optimize()
    meta: dict[str, Any] = {"version": version, "base": config.base, "reasoned": reason, "reasoner": engine,
                            "inconsistencies": inconsistencies, "timings": timings, "validated": False}
    kg = _knowledge_graph(config, store, path, files, version, meta, timings)
    if check is not None:
        _validate(kg, check)
        meta["validated"] = kg.validated = True
    _write_meta(path, meta)
    kg.validated = meta["validated"]
    return kg


def _reasoner(config: Config) -> str:
    """The OWL 2 RL engine of an Oxigraph store: the compiled one unless owlrl is asked for."""
    return "owlrl" if config.reasoner == "owlrl" else "fast"


def _validate(kg: KnowledgeGraph, check: Check) -> None:
    problems = check(kg)
    if problems:
        raise ValidationError(problems)


def _knowledge_graph(config: Config, store: Any, path: Path, files: list[tuple[str, Path]], version: str,
                     meta: dict[str, Any], timings: dict[str, float]) -> KnowledgeGraph:
    graphs = {name: graph_iri(config.base, name) for name, _ in files}
    graphs["inferred"] = graph_iri(config.base, "inferred")
    prefixes = declared_prefixes(files)
    every = [iri for _, iri in sorted(graphs.items())]
    dataset = _view(AssertedStore(store, [UNION_GRAPH], [UNION_GRAPH, graphs["inferred"]], every), prefixes)
    asserted = _view(AssertedStore(store, [UNION_GRAPH, graphs["inferred"]], [UNION_GRAPH],
                                   [iri for iri in every if iri != graphs["inferred"]]), prefixes)
    return KnowledgeGraph(
        dataset=dataset, asserted=asserted, base=config.base, graphs=graphs,
        files={graphs[name]: p for name, p in files}, version=version, timings=timings,
        inconsistencies=list(meta.get("inconsistencies", [])), reasoner=meta.get("reasoner", "fast"),
        engine=OxigraphEngine(store, path, graphs, prefixes, (dataset, asserted)),
        validated=bool(meta.get("validated")),
    )


def _built(path: Path, version: str, base: str, reason: bool) -> dict[str, Any] | None:
    """The record of a complete build of exactly this version, or None (build it)."""
    if not (path / STORE_DIR / "CURRENT").is_file():  # RocksDB files gone: rebuild, never serve an empty store
        return None
    meta = _read_meta(path / META_FILE)
    same = meta.get("version") == version and meta.get("base") == base and (meta.get("reasoned") is True or not reason)
    return meta if same else None


def _write_meta(path: Path, meta: dict[str, Any]) -> None:
    scratch = path / (META_FILE + ".tmp")
    scratch.write_text(json.dumps(meta, indent=1))
    scratch.replace(path / META_FILE)  # atomic: a reader sees the old record or the new one


def _sweep(cache: Path, hours: float = 1.0) -> None:
    """Remove scratch directories of builds that died (older than an hour: no build takes that)."""
    limit = time.time() - hours * 3600
    for stale in cache.glob(".build-*"):
        try:
            if stale.stat().st_mtime < limit:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            continue


def _view(store: Any, prefixes: dict[str, str]) -> Dataset:
    dataset = Dataset(store=store, default_union=True)
    for prefix, ns in prefixes.items():
        dataset.bind(prefix, ns, override=False)
    return dataset


def _read_meta(meta_file: Path) -> dict[str, Any]:
    """What the last build recorded, or {} ("not built": rebuild from the files) when the file is
    missing, unreadable or not a JSON object (a crash while writing it, a stray edit)."""
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


_OPEN: dict[Path, Any] = {}


def _open_store(path: Path) -> Any:
    """One read-write handle per directory and process (RocksDB locks the directory)."""
    if path not in _OPEN:
        try:
            _OPEN[path] = ox.Store(str(path / STORE_DIR))
        except (OSError, RuntimeError) as exc:  # RocksDB reports damaged files as RuntimeError("Corruption: …")
            text = str(exc)
            if isinstance(exc, OSError) and "lock" in text.lower():  # not RuntimeError's "block checksum"
                reason = ("another process has it open (stop that server first, or give each server its own "
                          "--store directory)")
            else:
                reason = one_line(text, 300)
                if "corrupt" in text.lower():
                    reason += f" (the store is damaged: remove {path} and it is rebuilt from the data files)"
            raise StoreError(f"cannot open the Oxigraph store {path}: {reason}") from None
    return _OPEN[path]


def _build(store: Any, config: Config, files: list[tuple[str, Path]], reason: bool,
           ) -> tuple[list[str], dict[str, float], str]:
    """Bulk-load every file into its named graph, then the closure. LoadErrors like the memory store."""
    t0 = time.perf_counter()
    for name, path in files:
        target = ox.NamedNode(str(graph_iri(config.base, name)))
        if config.base != DEFAULT_BASE:  # rebasing needs rdflib's parse
            graph = parse_turtle(path, config.base)
            store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), target)  # type: ignore[arg-type]
                              for s, p, o in graph)
            continue
        try:
            store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri(),
                            to_graph=target)
        except (SyntaxError, ValueError, OSError):
            parse_turtle(path, config.base)  # the project's LoadError, with file and line
            raise
    timings = {"load": time.perf_counter() - t0}
    # `auto` means the compiled engine here (tests prove it equal to owlrl); an explicit `owlrl` runs
    # on an in-memory copy, since Oxigraph refuses the generalised triples owlrl writes before
    # pruning ("7" a xsd:integer), and only its closure is copied back
    engine = _reasoner(config)
    inconsistencies: list[str] = []
    if reason:
        t0 = time.perf_counter()
        inferred = graph_iri(config.base, "inferred")
        if engine == "fast":
            inconsistencies = closure_function(engine)(Dataset(store=OxigraphStore(store=store), default_union=True),
                                                       inferred)
        else:
            copy = Dataset(default_union=True)
            copy.addN((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object),  # type: ignore[misc]
                       copy.graph(to_rdflib(q.graph_name)))
                      for q in store.quads_for_pattern(None, None, None, None))
            inconsistencies = closure_function(engine)(copy, inferred)
            target = ox.NamedNode(str(inferred))
            store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), target)  # type: ignore[arg-type]
                              for s, p, o in copy.graph(inferred))
        timings["closure"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    union, hidden = ox.NamedNode(str(UNION_GRAPH)), ox.NamedNode(str(graph_iri(config.base, "inferred")))
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, union)
                      for q in store.quads_for_pattern(None, None, None, None)
                      if q.graph_name != hidden and q.graph_name != union)
    timings["union"] = time.perf_counter() - t0
    return inconsistencies, timings, engine


class AssertedStore(OxigraphStore):
    """The Oxigraph store as rdflib sees it (pages, dumps, SHACL), without some graphs: the
    helper union graph always, and the closure for ?inference=none. Read-only."""

    def __init__(self, store: Any, hidden: list[URIRef], defaults: list[URIRef] | None = None,
                 named: list[URIRef] | None = None) -> None:
        super().__init__(store=store)
        self._defaults = [ox.NamedNode(str(g)) for g in defaults or []]
        self._named = [ox.NamedNode(str(g)) for g in named or []]
        self._counts: dict[str, int] = {}
        self._hidden_set = {ox.NamedNode(str(h)) for h in hidden}
        self._hidden_names = {str(h) for h in hidden}
        self._union = {ox.NamedNode(str(UNION_GRAPH))}

    def triples(self, triple_pattern, context=None):  # type: ignore[no-untyped-def,override]
        """Without a context: the default graphs (deduplicated union + closure), so each
        triple comes once, as from rdflib's memory store; with one: that graph."""
        if context is None and self._defaults:
            quads = (q for g in self._defaults for q in self._pattern(triple_pattern, g))
        else:
            try:
                quads = (q for q in self._inner.quads_for_pattern(*to_ox_quad_pattern(triple_pattern, context))
                         if q.graph_name not in self._hidden_set)
            except (TypeError, ValueError):
                return iter(())
        # to_rdflib, not oxrdflib's from_ox: a plain literal must come back plain
        return (((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)), self._graphs_of(q))
                for q in quads)

    def _graphs_of(self, quad: Any) -> Iterator[Any]:
        """The named graphs a triple is in. A triple read from the helper union graph is in one
        or more of our graphs: they are looked up only when the caller reads them (Dataset.quads,
        TriG and N-Quads documents do; Dataset.triples does not), so the union's deduplication
        costs triples() nothing and quads() one index lookup per triple."""
        if quad.graph_name not in self._union:
            yield from_ox_graph_name(quad.graph_name, self)
            return
        for found in self._inner.quads_for_pattern(quad.subject, quad.predicate, quad.object, None):
            if found.graph_name not in self._union and found.graph_name not in self._hidden_set:
                yield from_ox_graph_name(found.graph_name, self)

    def _pattern(self, pattern, graph):  # type: ignore[no-untyped-def]
        try:
            s, p, o, _ = to_ox_quad_pattern(pattern, None)
            return self._inner.quads_for_pattern(s, p, o, graph)
        except (TypeError, ValueError):
            return iter(())

    def __len__(self, context=None) -> int:  # type: ignore[no-untyped-def,override]
        """Counted once per graph (the store is read-only once loaded): a plain COUNT(*),
        exact because each graph, and the deduplicated union, is a set. oxrdflib's
        COUNT(DISTINCT TRIPLE(...)) takes a minute on a million triples (/health calls this)."""
        key = "" if context is None else str(context.identifier if hasattr(context, "identifier") else context)
        if key in self._hidden_names:
            return 0
        if key not in self._counts:
            graphs = self._defaults if context is None and self._defaults else (
                [ox.NamedNode(key)] if key else [ox.DefaultGraph()])
            count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
            solutions: list[Any] = [next(iter(self._inner.query(count, default_graph=g)))  # type: ignore[arg-type]
                                    for g in graphs]
            self._counts[key] = sum(int(row[0].value) for row in solutions)
        return self._counts[key]

    def add(self, triple, context, quoted=False):  # type: ignore[no-untyped-def,override]
        raise TypeError("the store is read-only once built")

    def addN(self, quads):  # type: ignore[no-untyped-def,override]
        raise TypeError("the store is read-only once built")

    def remove(self, triple, context=None):  # type: ignore[no-untyped-def,override]
        raise TypeError("the store is read-only once built")

    def add_graph(self, graph):  # type: ignore[no-untyped-def,override]
        """Nothing to add: rdflib's Dataset.graph(iri) calls this just to name a graph that the
        store, read-only once built (and opened read-only from the cache), already holds."""

    def contexts(self, triple=None):  # type: ignore[no-untyped-def,override]
        return (g for g in super().contexts(triple) if str(g.identifier) not in self._hidden_names)

    def query(self, query, initNs, initBindings, queryGraph, **kwargs):  # type: ignore[no-untyped-def,override]
        """rdflib's own engine over triples() (queries go through OxigraphEngine, not here):
        stats, VoID and SHACL call Dataset.query with text, which then runs natively too."""
        if queryGraph != "__UNION__" or kwargs or not isinstance(query, str):
            raise NotImplementedError
        text = bind_values(query, {str(k): v for k, v in initBindings.items()}) if initBindings else query
        try:
            return to_result(self._inner.query(text, default_graph=self._defaults, named_graphs=self._named,
                                               prefixes={k: str(v) for k, v in initNs.items()}))
        except SyntaxError:
            raise NotImplementedError from None

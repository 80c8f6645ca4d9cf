"""Where the graph lives: in memory (rdflib), on disk (Oxigraph), or in a remote SPARQL 1.1 engine.

A store spec (Config.store, `--store`) is one of:

* `memory` — rdflib's in-memory store, zero setup (store.load's own path);
* a directory path (or `oxigraph:PATH`) — Oxigraph's RocksDB store through pyoxigraph/oxrdflib.
  The files are bulk-loaded by Oxigraph's own parser, the closure is computed by fastreason
  directly on pyoxigraph terms, and `PATH/caspian-kg.json` records the dataset version: the
  next start whose files hash to the same version reopens the store *without* reloading;
* `http://…` / `https://…` — any engine speaking the SPARQL 1.1 Protocol (query) and Graph Store
  Protocol (publish): Oxigraph server, Fuseki, … `publish()` PUTs every asserted graph and the
  closure; queries send `default-graph-uri` for each graph, so the default graph is the union
  whatever the engine's own default-graph setting.

For Oxigraph and remote stores, queries run natively (`Backend.query`): the engine evaluates the
query text. On the on-disk store, SELECT answers are written by Oxigraph's own serialisers
(`NativeSolutions`, row limit kept); other answers are turned back into an rdflib result for the
web layer's serialisers. Fork safety: RocksDB handles must not cross fork(), so a
worker child reopens the on-disk store read-only (`Backend.own_handle`).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rdflib import BNode, Dataset, Literal, URIRef, Variable
from rdflib.plugins.sparql.processor import SPARQLResult

from .config import Config
from .errors import CaspianError

log = logging.getLogger(__name__)

META_FILE = "caspian-kg.json"
# Oxigraph's (and many engines') union of graphs is a bag: a label stated in two files would
# come back twice, where rdflib's union is a set. So the asserted triples are also stored once,
# deduplicated, in this helper graph; the closure never repeats an asserted triple, so
# [UNION_GRAPH, inferred] as the default graph is the set-union rdflib answers over.
UNION_GRAPH = URIRef("urn:caspian-kg:graph:asserted-union")
STORE_DIR = "oxigraph"


class StoreError(CaspianError):
    """The configured store cannot be opened or reached."""

    status = 503


def oxigraph_store(dataset: Dataset) -> Any | None:
    """The pyoxigraph.Store behind an oxrdflib-backed Dataset, else None."""
    try:
        from oxrdflib import OxigraphStore
    except ImportError:  # pragma: no cover - oxrdflib is a dependency
        return None
    store = dataset.store
    return store._inner if isinstance(store, OxigraphStore) else None


def kind(spec: str) -> str:
    """"memory", "oxigraph" or "remote"."""
    if spec in ("", "memory"):
        return "memory"
    if spec.startswith(("http://", "https://")):
        return "remote"
    return "oxigraph"


# --- native query execution --------------------------------------------------------------------


@dataclass
class Backend:
    """A native query engine over the loaded graphs (Oxigraph on disk, or a remote endpoint)."""

    spec: str
    graphs: dict[str, URIRef]
    store: Any = None  # pyoxigraph.Store (on-disk) or None (remote)
    path: Path | None = None
    url: str | None = None
    timeout: float = 30.0
    prefixes: dict[str, str] = field(default_factory=dict)
    _pid: int = field(default_factory=os.getpid)

    @property
    def inferred(self) -> URIRef:
        return self.graphs["inferred"]

    def default_graphs(self, inference: bool) -> list[URIRef]:
        return [UNION_GRAPH] + ([self.inferred] if inference else [])

    def named_graphs(self, inference: bool) -> list[URIRef]:
        return [iri for name, iri in sorted(self.graphs.items()) if inference or name != "inferred"]

    def own_handle(self) -> None:
        """In a forked worker: drop the parent's RocksDB handle and reopen the store read-only
        (a handle must not be shared across fork). Idempotent; the workers' initializer calls
        it so the 10-15 ms reopen is not paid by the first request each worker answers."""
        if self.path is not None and self._pid != os.getpid():
            import pyoxigraph

            self.store = pyoxigraph.Store.read_only(str(self.path / STORE_DIR))
            self._pid = os.getpid()

    def query(self, text: str, inference: bool = True, default: Iterable[str] | None = None,
              named: Iterable[str] | None = None, bindings: dict[str, Any] | None = None,
              native: bool = False) -> SPARQLResult | NativeSolutions:
        """Evaluate `text`; the default graph is the union of our graphs (or the protocol's).
        With `native`, SELECT solutions from the on-disk store come back as NativeSolutions,
        which Oxigraph serialises itself; every other answer is an rdflib SPARQLResult."""
        defaults = [URIRef(g) for g in default] if default is not None else self.default_graphs(inference)
        nameds = [URIRef(g) for g in named] if named is not None else (
            [] if default is not None else self.named_graphs(inference))
        if bindings:
            text = bind_values(text, bindings)
        if self.store is not None:
            try:
                return self._query_oxigraph(text, defaults, nameds, native)
            except SyntaxError as exc:
                from .errors import BadRequest

                raise BadRequest(f"SPARQL syntax error: {' '.join(str(exc).split())[:400]}") from None
        return self._query_remote(text, defaults, nameds)

    def _query_oxigraph(self, text: str, defaults: list[URIRef], nameds: list[URIRef] | None,
                        native: bool = False) -> SPARQLResult | NativeSolutions:
        import pyoxigraph as ox

        result = self.store.query(
            text,
            default_graph=[ox.NamedNode(str(g)) for g in defaults] or ox.DefaultGraph(),
            named_graphs=None if nameds is None else [ox.NamedNode(str(g)) for g in nameds],
            prefixes=self.prefixes,
        )
        if native and isinstance(result, ox.QuerySolutions):
            return NativeSolutions(result)
        return _from_oxigraph(result)

    def _query_remote(self, text: str, defaults: list[URIRef], nameds: list[URIRef] | None) -> SPARQLResult:
        params = [("query", text)] + [("default-graph-uri", str(g)) for g in defaults]
        params += [("named-graph-uri", str(g)) for g in nameds or ()]
        body = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(
            self.url or "", data=body, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/sparql-results+json, application/n-triples;q=0.9"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                content_type = response.headers.get_content_type()
                data = response.read()
        except urllib.error.HTTPError as exc:
            raise StoreError(f"remote store {self.url}: HTTP {exc.code}: {exc.read()[:300]!r}") from None
        except OSError as exc:
            raise StoreError(f"remote store {self.url} unreachable: {exc}") from None
        if content_type == "application/sparql-results+json":
            from rdflib.plugins.sparql.results.jsonresults import JSONResultParser

            parsed = JSONResultParser().parse(io.BytesIO(data))
            if parsed.type == "ASK":
                return SPARQLResult({"type_": "ASK", "askAnswer": parsed.askAnswer})
            return SPARQLResult({"type_": "SELECT", "vars_": parsed.vars, "bindings": list(parsed.bindings)})
        from rdflib import Graph

        graph = Graph().parse(data=data, format="nt")
        return SPARQLResult({"type_": "CONSTRUCT", "graph": graph})


WHERE_OPEN = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def bind_values(text: str, bindings: dict[str, Any]) -> str:
    """Bind parameters the way rdflib's initBindings does: the variable stands for the term
    everywhere (UNION branches, FILTER EXISTS included). Each occurrence of the parameter
    variable is replaced by the RDF term as rdflib writes it (`.n3()`, escaped): a term, never
    request text. A parameter that is projected (SELECT ?_x) is joined with VALUES instead.
    (Oxigraph's own substitutions only accept projected variables; a remote engine has none.)"""
    head, _, _ = text.partition("{")
    projected = {n for n in bindings if re.search(rf"[?$]{re.escape(n)}\b", head)}
    for name in sorted(set(bindings) - projected):
        text = re.sub(rf"[?$]{re.escape(name)}\b", _constant(bindings[name].n3()), text)
    if projected:
        names = sorted(projected)
        block = ("VALUES (" + " ".join(f"?{n}" for n in names) + ") { ("
                 + " ".join(bindings[n].n3() for n in names) + ") }\n")
        match = WHERE_OPEN.search(text)
        text = text + "\n" + block if match is None else text[:match.end()] + "\n" + block + text[match.end():]
    return text


class NativeSolutions:
    """SELECT solutions still inside Oxigraph, written by its own serialisers.

    Turning each solution into rdflib terms and back into text cost three times the query
    itself on wide results (484 rows x 7 columns: 10 ms to evaluate, 20 ms to convert, 13 ms
    for rdflib's JSON writer); Oxigraph writes the same four result formats in well under a
    millisecond. The row limit still holds: the bytes are counted as they are written (a
    result cannot grow past `max_results * MAX_ROW_BYTES`, the memory bound), and the rows are
    counted exactly in the written text, in a way that is sound for each of Oxigraph's formats.
    """

    type = "SELECT"
    FORMATS: ClassVar[dict[str, str]] = {"json": "JSON", "xml": "XML", "csv": "CSV", "tsv": "TSV"}  # ours -> Oxigraph's
    MAX_ROW_BYTES = 4096

    def __init__(self, solutions: Any) -> None:
        self.solutions = solutions

    def serialize(self, fmt_name: str, max_results: int) -> bytes:
        """The solutions as `fmt_name` (a RESULT_FORMATS name); ResultTooLarge past the limit."""
        import pyoxigraph as ox

        from .errors import ResultTooLarge

        too_large = ResultTooLarge(f"the result has more than {max_results} rows (the limit); "
                                   "add a LIMIT or page with OFFSET")
        sink = _CappedSink(max_results * self.MAX_ROW_BYTES + 65_536)
        try:
            self.solutions.serialize(sink, format=getattr(ox.QueryResultsFormat, self.FORMATS[fmt_name]))
        except OSError:
            if sink.overflow:
                raise too_large from None
            raise
        body = sink.getvalue()
        if count_rows(body, fmt_name) > max_results:
            raise too_large
        return body


class _CappedSink(io.RawIOBase):
    """A binary sink that refuses to grow past `limit` bytes (Oxigraph writes in ~8 KB chunks,
    so a runaway result stops early instead of filling the worker's memory)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit, self.size, self.overflow = limit, 0, False
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        if self.size > self.limit:
            self.overflow = True
            raise OSError("result too large")
        self.parts.append(bytes(data))
        return len(data)

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def count_rows(body: bytes, fmt_name: str) -> int:
    """Rows in a SELECT result as Oxigraph writes it. Sound for its writers: TSV escapes line
    breaks inside terms, XML escapes '<' in text, CSV quotes fields with line breaks (so its
    reader counts records), and JSON is parsed (C speed: 1 ms for 230 KB)."""
    if fmt_name == "tsv":
        return body.count(b"\n") - 1
    if fmt_name == "xml":
        return body.count(b"<result>") + body.count(b"<result/>")
    if fmt_name == "csv":
        return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8"), newline=""))) - 1
    return len(json.loads(body)["results"]["bindings"])


def _constant(text: str) -> Any:
    """A re.sub replacement that inserts `text` as it is (no backslash or group expansion)."""
    return lambda _match: text


def _from_oxigraph(result: Any) -> SPARQLResult:
    """pyoxigraph results -> an rdflib SPARQLResult (the web layer's serialisers expect it)."""
    import pyoxigraph as ox

    if isinstance(result, ox.QueryBoolean):
        return SPARQLResult({"type_": "ASK", "askAnswer": bool(result)})
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        variables = [Variable(n) for n in names]
        bindings = []
        for solution in result:
            row = {}
            for var, value in zip(variables, solution):
                if value is not None:
                    row[var] = _term(value)
            bindings.append(row)
        return SPARQLResult({"type_": "SELECT", "vars_": variables, "bindings": bindings})
    from rdflib import Graph

    graph = Graph()
    for triple in result:
        graph.add((_term(triple.subject), _term(triple.predicate), _term(triple.object)))
    return SPARQLResult({"type_": "CONSTRUCT", "graph": graph})


def _term(value: Any) -> Any:
    import pyoxigraph as ox

    if isinstance(value, ox.NamedNode):
        return URIRef(value.value)
    if isinstance(value, ox.BlankNode):
        return BNode(value.value)
    if value.language:
        return Literal(value.value, lang=value.language)
    datatype = value.datatype.value
    return Literal(value.value, datatype=None if datatype == "http://www.w3.org/2001/XMLSchema#string" else datatype)


# --- opening a store ---------------------------------------------------------------------------


def load_backend(config: Config, *, validate: bool | None = None, reason: bool = True) -> Any:
    """store.load for non-memory stores: returns a KnowledgeGraph with `.backend` set."""
    if kind(config.store) == "remote":
        return open_remote(config)
    return open_oxigraph(config, validate=validate, reason=reason)


def _path(spec: str) -> Path:
    return Path(spec.removeprefix("oxigraph:")).resolve()


def open_oxigraph(config: Config, *, validate: bool | None = None, reason: bool = True) -> Any:
    """Open (or build) the on-disk store; reuse it when its recorded version matches the files."""
    from .store import KnowledgeGraph, data_files, dataset_version, finish_load, graph_iri

    path = _path(config.store)
    files = data_files(config)
    version = dataset_version(config, [p for _, p in files])
    graphs = {name: graph_iri(config.base, name) for name, _ in files}
    graphs["inferred"] = graph_iri(config.base, "inferred")
    meta_file = path / META_FILE
    meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    started = time.perf_counter()
    fresh = not (meta.get("version") == version and meta.get("base") == config.base
                 and meta.get("reasoned", False) >= reason)
    if fresh:
        path.mkdir(parents=True, exist_ok=True)
        meta_file.unlink(missing_ok=True)
        store = _open_store(path)
        store.clear()
        inconsistencies, timings, engine = _build(store, config, files, reason)
        store.flush()
        store.optimize()
        meta = {"version": version, "base": config.base, "reasoned": reason, "reasoner": engine,
                "inconsistencies": inconsistencies, "timings": timings}
        meta_file.write_text(json.dumps(meta, indent=1))
    else:
        store = _open_store(path)
        timings = {"reopen": time.perf_counter() - started}
    named = [iri for _, iri in sorted(graphs.items())]
    dataset = Dataset(store=_AssertedStore(store, [UNION_GRAPH], [UNION_GRAPH, graphs["inferred"]], named),
                      default_union=True)
    prefixes = _prefixes(files)
    for prefix, ns in prefixes.items():
        dataset.bind(prefix, ns, override=False)
    asserted = Dataset(store=_AssertedStore(store, [UNION_GRAPH, graphs["inferred"]], [UNION_GRAPH],
                                            [iri for name, iri in sorted(graphs.items()) if name != "inferred"]),
                       default_union=True)
    for prefix, ns in prefixes.items():
        asserted.bind(prefix, ns, override=False)
    kg = KnowledgeGraph(
        dataset=dataset, asserted=asserted, base=config.base, graphs=graphs,
        files={graphs[name]: p for name, p in files}, version=version, timings=timings,
        inconsistencies=list(meta.get("inconsistencies", [])), reasoner=meta.get("reasoner", "fast"),
        backend=Backend(config.store, graphs, store=store, path=path, timeout=config.query_timeout,
                        prefixes=prefixes),
    )
    if not fresh:
        validate = False  # the store was validated when it was built from these very files
    return finish_load(kg, config, validate)


_OPEN: dict[Path, Any] = {}


def _open_store(path: Path) -> Any:
    """One read-write handle per directory and process (RocksDB locks the directory)."""
    import pyoxigraph as ox

    if path not in _OPEN:
        try:
            _OPEN[path] = ox.Store(str(path / STORE_DIR))
        except OSError as exc:
            reason = ("another process has it open (stop that server first, or give each server its own "
                      "--store directory)" if "lock" in str(exc).lower() else " ".join(str(exc).split()))
            raise StoreError(f"cannot open the Oxigraph store {path}: {reason}") from None
    return _OPEN[path]


def _build(store: Any, config: Config, files: list[tuple[str, Path]], reason: bool) -> tuple[list[str], dict[str, float], str]:
    """Bulk-load every file into its named graph, then the closure. LoadErrors like store.load."""
    import pyoxigraph as ox

    from .config import DEFAULT_BASE
    from .store import closure_function, graph_iri, parse_turtle

    t0 = time.perf_counter()
    for name, path in files:
        target = ox.NamedNode(str(graph_iri(config.base, name)))
        if config.base != DEFAULT_BASE:  # rebasing needs rdflib's parse
            from oxrdflib._converter import to_ox

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
    # Oxigraph refuses the generalised triples owlrl writes before pruning ("7" a xsd:integer),
    # so the on-disk store always uses the compiled engine (tests prove it equal to owlrl)
    engine = "fast"
    inconsistencies: list[str] = []
    if reason:
        t0 = time.perf_counter()
        dataset = Dataset(store=_oxrdflib_store(store), default_union=True)
        inconsistencies = closure_function(engine)(dataset, graph_iri(config.base, "inferred"))
        timings["closure"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    union, hidden = ox.NamedNode(str(UNION_GRAPH)), ox.NamedNode(str(graph_iri(config.base, "inferred")))
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, union)
                      for q in store.quads_for_pattern(None, None, None, None)
                      if q.graph_name != hidden and q.graph_name != union)
    timings["union"] = time.perf_counter() - t0
    return inconsistencies, timings, engine


def _oxrdflib_store(store: Any) -> Any:
    from oxrdflib import OxigraphStore

    return OxigraphStore(store=store)


def _prefixes(files: list[tuple[str, Path]]) -> dict[str, str]:
    """The data files' @prefix lines (cheap: no parse), for queries that omit PREFIX."""
    found: dict[str, str] = {}
    pattern = re.compile(r"@prefix\s+([A-Za-z][\w-]*)?:\s*<([^>]*)>", re.IGNORECASE)
    for _, path in files:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                match = pattern.match(line.strip())
                if match and match.group(1):
                    found.setdefault(match.group(1), match.group(2))
                elif line.strip() and not line.lstrip().startswith(("#", "@prefix", "PREFIX")):
                    break
    return found


def _asserted_store_class() -> type:
    from oxrdflib import OxigraphStore
    from oxrdflib._converter import from_ox_graph_name, to_ox_quad_pattern

    class AssertedStore(OxigraphStore):
        """The Oxigraph store seen without some graphs: the helper union graph always, and the
        closure for ?inference=none. rdflib evaluates queries on it (natively: Backend.query)."""

        def __init__(self, store: Any, hidden: list[URIRef], defaults: list[URIRef] | None = None,
                     named: list[URIRef] | None = None) -> None:
            import pyoxigraph as ox

            super().__init__(store=store)
            self._defaults = [ox.NamedNode(str(g)) for g in defaults or []]
            self._named = [ox.NamedNode(str(g)) for g in named or []]
            self._counts: dict[str, int] = {}
            self._hidden_set = {ox.NamedNode(str(h)) for h in hidden}
            self._hidden_names = {str(h) for h in hidden}

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
            # _term, not oxrdflib's from_ox: a plain literal must come back plain (rdflib tells
            # "x" and "x"^^xsd:string apart; RDF 1.1 and Oxigraph do not)
            return (((_term(q.subject), _term(q.predicate), _term(q.object)),
                     iter((from_ox_graph_name(q.graph_name, self),)))
                    for q in quads)

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
            import pyoxigraph as ox

            key = "" if context is None else str(context.identifier if hasattr(context, "identifier") else context)
            if key not in self._counts:
                graphs = self._defaults if context is None and self._defaults else (
                    [ox.NamedNode(key)] if key else [ox.DefaultGraph()])
                count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
                solutions: list[Any] = [next(iter(self._inner.query(count, default_graph=g)))  # type: ignore[arg-type]
                                        for g in graphs]
                self._counts[key] = sum(int(row[0].value) for row in solutions)
            return self._counts[key]

        def contexts(self, triple=None):  # type: ignore[no-untyped-def,override]
            return (g for g in super().contexts(triple)
                    if str(g.identifier) not in self._hidden_names)

        def query(self, query, initNs, initBindings, queryGraph, **kwargs):  # type: ignore[no-untyped-def,override]
            """Query text runs natively on the same graphs as Backend.query. A parsed query
            (rdflib's algebra) goes to rdflib's engine over triples() (NotImplementedError):
            rdflib's translateAlgebra, which could write it back as text, changes the meaning of
            some OPTIONAL patterns. (Saved-query enumerations write their own text:
            saved.enumeration_sparql.)"""
            if queryGraph != "__UNION__" or kwargs or not isinstance(query, str):
                raise NotImplementedError
            text = query
            if initBindings:
                text = bind_values(text, {str(k): v for k, v in initBindings.items()})
            try:
                return _from_oxigraph(self._inner.query(text, default_graph=self._defaults,
                                                         named_graphs=self._named,
                                                         prefixes={k: str(v) for k, v in initNs.items()}))
            except SyntaxError:
                raise NotImplementedError from None

    return AssertedStore


def _AssertedStore(store: Any, hidden: list[URIRef], defaults: list[URIRef] | None = None,
                   named: list[URIRef] | None = None) -> Any:
    """A factory standing in for the class (oxrdflib is imported lazily)."""
    return _asserted_store_class()(store, hidden, defaults, named)


def open_remote(config: Config) -> Any:
    """A KnowledgeGraph answered by a remote SPARQL 1.1 endpoint (after `publish`)."""
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    from .store import KnowledgeGraph, data_files, graph_iri

    url = config.store
    allow(url)
    files = data_files(config) if config.data_dir.is_dir() else []
    backend = Backend(url, {}, url=url, timeout=config.query_timeout)
    names = backend._query_remote("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", [], None)
    g, n = Variable("g"), Variable("n")
    present = {str(row[g]) for row in names.bindings}  # type: ignore[index]
    prefix = f"{config.base}graph/"
    graphs = {g[len(prefix):]: URIRef(g) for g in sorted(present) if g.startswith(prefix)}
    graphs.setdefault("inferred", graph_iri(config.base, "inferred"))
    backend.graphs = graphs
    backend.prefixes = _prefixes(files)
    counts = backend._query_remote("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                                   [], None)
    import hashlib

    digest = hashlib.sha256(url.encode())
    for row in sorted(counts.bindings, key=lambda r: str(r[g])):  # type: ignore[index]
        digest.update(f"{row[g]} {row[n]}".encode())  # type: ignore[index]
    class _RemoteStore(SPARQLStore):
        """Parsed queries (rdflib algebra, e.g. saved-query enumerations) cannot be sent as text:
        NotImplementedError makes rdflib evaluate them itself over triples() lookups."""

        def query(self, query, *args, **kwargs):  # type: ignore[no-untyped-def,override]
            if not isinstance(query, str):
                raise NotImplementedError
            return super().query(query, *args, **kwargs)

        def add_graph(self, graph):  # type: ignore[no-untyped-def,override]
            pass  # Dataset.graph(iri) "creates" a graph it only reads; the graphs exist remotely

    dataset = Dataset(store=_RemoteStore(url, returnFormat="json"), default_union=True)
    for prefix_name, ns in backend.prefixes.items():
        dataset.bind(prefix_name, ns, override=False)
    return KnowledgeGraph(dataset=dataset, asserted=dataset, base=config.base, graphs=graphs,
                          files={}, version=digest.hexdigest()[:16], backend=backend, reasoner="remote")


# --- publishing to a remote engine -------------------------------------------------------------


def publish(kg: Any, url: str, timeout: float = 300.0) -> dict[str, int]:
    """PUT every named graph (asserted graphs and the closure) to a Graph Store Protocol endpoint.

    `url` is the store's base (e.g. http://127.0.0.1:7878, where Oxigraph serves /store and
    /query) or its Graph Store endpoint itself (…/store, Fuseki's …/data). Returns triples per graph.
    """
    store_url = _gsp_url(url)
    sent: dict[str, int] = {}
    for name, iri in sorted(kg.graphs.items()) + [("asserted-union", UNION_GRAPH)]:
        body = _ntriples(kg, iri)
        target = f"{store_url}?{urllib.parse.urlencode({'graph': str(iri)})}"
        request = urllib.request.Request(target, data=body, method="PUT",
                                         headers={"Content-Type": "application/n-triples"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise StoreError(f"publishing {name} to {store_url}: HTTP {exc.code}: {exc.read()[:300]!r}") from None
        except OSError as exc:
            raise StoreError(f"publishing to {store_url} failed: {exc}") from None
        sent[name] = body.count(b"\n")
    return sent


def _gsp_url(url: str) -> str:
    url = url.rstrip("/")
    if url.endswith(("/store", "/data")):
        return url
    if url.endswith(("/query", "/sparql")):
        return url.rsplit("/", 1)[0] + "/store"
    return url + "/store"


def query_url(url: str) -> str:
    """The SPARQL query endpoint for a base URL given to `publish` (Oxigraph: /query)."""
    url = url.rstrip("/")
    if url.endswith(("/query", "/sparql")):
        return url
    return url.rsplit("/", 1)[0] + "/query" if url.endswith(("/store", "/data")) else url + "/query"


def _ntriples(kg: Any, iri: URIRef) -> bytes:
    store = oxigraph_store(kg.dataset)
    if store is not None:
        import pyoxigraph as ox

        return store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(str(iri))) or b""
    if iri == UNION_GRAPH:
        from rdflib import Graph

        union = Graph()
        for name, named in kg.graphs.items():
            if name != "inferred":
                union += kg.asserted.graph(named)
        return union.serialize(format="nt", encoding="utf-8")  # type: ignore[no-any-return]
    return kg.dataset.graph(iri).serialize(format="nt", encoding="utf-8")  # type: ignore[no-any-return]


def allowed_remote() -> set[tuple[str, int]]:
    """(host, port) of remote stores opened in this process: the only outbound connections a
    query worker may make (sparql.forbid_network lets these through and nothing else)."""
    return set(_ALLOWED)


_ALLOWED: set[tuple[str, int]] = set()


def endpoint_of(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def allow(url: str) -> None:
    _ALLOWED.add(endpoint_of(url))


# --- the web layer's hook ------------------------------------------------------------------------


def run_native(kg: Any, job: Any) -> SPARQLResult | NativeSolutions:
    """sparql.run_query for native stores: the same checks (syntax, read-only, no SERVICE) from a
    memoised rdflib parse, then the engine evaluates the text. Reopens the on-disk store in a
    forked worker (a RocksDB handle must not be shared across fork)."""

    backend: Backend = kg.backend
    backend.own_handle()
    default, named = checked_dataset(job.query, job.base, backend.prefixes)
    if job.default_graphs is not None or job.named_graphs is not None:
        default, named = job.default_graphs, job.named_graphs
    own = {str(iri) for iri in kg.graphs.values()}
    if default is not None or named is not None:  # only our own graphs, never anything fetched
        default = tuple(g for g in default or () if g in own)
        named = tuple(g for g in named or () if g in own)
        if not job.inference:
            default = tuple(g for g in default if g != str(backend.inferred))
            named = tuple(g for g in named if g != str(backend.inferred))
    return backend.query(job.query, job.inference, default, named, native=True)


def execute_saved(kg: Any, query: Any, bindings: dict[str, Any], inference: bool = True,
                  native: bool = False) -> SPARQLResult | NativeSolutions:
    """saved.execute for native stores: parameters are bound by the engine (Oxigraph
    substitutions) or, remotely, by a trailing VALUES block of RDF terms — never spliced text."""

    backend: Backend = kg.backend
    backend.own_handle()
    return backend.query(query.sparql, inference, bindings=bindings, native=native)


# The rdflib parse costs 10-30 ms (pyparsing): a worker answering a new query through Oxigraph
# would spend more time checking it than Oxigraph spends answering. Only texts that mention a
# keyword the checks are about get the full parse; the rest go to the engine, whose syntax
# errors become 400s too (Backend.query). Strings, IRIs and comments are blanked first so
# "service" in a literal or an IRI does not count.
_STRINGS_AND_COMMENTS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*')
_NEEDS_PARSE = re.compile(
    r"\b(SERVICE|FROM|LOAD|INSERT|DELETE|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH|USING)\b", re.IGNORECASE)

_CHECKED: dict[tuple[str, str], tuple[tuple[str, ...] | None, tuple[str, ...] | None]] = {}


def checked_dataset(text: str, base: str, prefixes: dict[str, str] | None = None,
                    ) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """Validate a query once (sparql.parse_query raises the 400s) and remember its FROM /
    FROM NAMED graphs; the parse costs milliseconds, the check is repeated for free."""
    key = (text, base)
    if key not in _CHECKED and not _NEEDS_PARSE.search(_STRINGS_AND_COMMENTS.sub(" ", text)):
        return None, None  # no SERVICE, FROM or update keyword: the engine's own parser decides
    if key not in _CHECKED:
        from .sparql import parse_query

        algebra = parse_query(text, base, prefixes).algebra
        default = named = None
        if algebra.datasetClause:
            default = tuple(str(c.default) for c in algebra.datasetClause if c.default is not None)
            named = tuple(str(c.named) for c in algebra.datasetClause if c.named is not None)
        if len(_CHECKED) > 10_000:
            _CHECKED.clear()
        _CHECKED[key] = (default, named)
    return _CHECKED[key]

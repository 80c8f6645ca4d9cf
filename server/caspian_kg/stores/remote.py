"""A remote store: any engine speaking the SPARQL 1.1 Protocol (queries) and the Graph Store
Protocol (`publish`): Oxigraph server, Fuseki, …

`caspian-kg publish --to URL` PUTs every asserted graph, the closure and the deduplicated union
(`native.UNION_GRAPH`); `--store URL` then answers through it. Queries send `default-graph-uri`
and `named-graph-uri` for our graphs, so the dataset is ours whatever the engine's own default.
"""

from __future__ import annotations

import hashlib
import io
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from rdflib import Dataset, Graph, URIRef, Variable
from rdflib.plugins.sparql.processor import SPARQLResult
from rdflib.plugins.sparql.results.jsonresults import JSONResultParser
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from rdflib.term import Identifier

from ..config import Config
from ..errors import EngineSyntaxError, StoreError
from ..graph import KnowledgeGraph, data_files, declared_prefixes, graph_iri
from .engine import DatasetSelection, Prepared, evaluate
from .native import UNION_GRAPH, bind_values, graph_lists


class RemoteEngine:
    """The remote engine evaluates the query text; answers come back as SPARQL JSON or N-Triples."""

    kind = "remote"
    needs_algebra = False

    def __init__(self, url: str, timeout: float) -> None:
        self.url, self.timeout = url, timeout
        self.graphs: dict[str, URIRef] = {}
        self.prefixes: dict[str, str] = {}  # predeclared, as on every store (the engine has none of ours)
        self.view: Dataset | None = None  # rdflib's SPARQLStore over the endpoint

    def query(self, prepared: Prepared, selection: DatasetSelection, bindings: Mapping[str, Identifier]) -> Any:
        if prepared.text is None:  # algebra only: rdflib evaluates it over triple lookups
            assert self.view is not None
            return evaluate(self.view, self.graphs.values(), prepared, selection, bindings)
        default, named = graph_lists(self.graphs, selection)
        text = bind_values(prepared.text, bindings) if bindings else prepared.text
        return self.send(with_prefixes(text, self.prefixes), default, named)

    def send(self, text: str, default: list[URIRef], named: list[URIRef]) -> SPARQLResult:
        params = [("query", text)] + [("default-graph-uri", str(g)) for g in default]
        params += [("named-graph-uri", str(g)) for g in named]
        request = urllib.request.Request(
            self.url, data=urllib.parse.urlencode(params).encode(), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/sparql-results+json, application/n-triples;q=0.9"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                content_type = response.headers.get_content_type()
                data = response.read()
        except urllib.error.HTTPError as exc:
            detail = f"remote store {self.url}: HTTP {exc.code}: {exc.read()[:300]!r}"
            raise (EngineSyntaxError(detail) if exc.code == 400 else StoreError(detail)) from None
        except OSError as exc:
            raise StoreError(f"remote store {self.url} unreachable: {exc}") from None
        if content_type == "application/sparql-results+json":
            parsed = JSONResultParser().parse(io.BytesIO(data))
            if parsed.type == "ASK":
                return SPARQLResult({"type_": "ASK", "askAnswer": parsed.askAnswer})
            return SPARQLResult({"type_": "SELECT", "vars_": parsed.vars, "bindings": list(parsed.bindings)})
        return SPARQLResult({"type_": "CONSTRUCT", "graph": Graph().parse(data=data, format="nt")})

    def after_fork(self) -> None:
        """Nothing to do: every query is a new HTTP request."""

    def peers(self) -> set[tuple[str, int]]:
        return {endpoint_of(self.url)}

    def export(self, graph: URIRef) -> bytes:
        raise StoreError("a remote store is published from a local one, not re-exported")


class _RemoteStore(SPARQLStore):
    """rdflib's view of the endpoint (pages, dumps): parsed queries (rdflib algebra) cannot be
    sent as text, so NotImplementedError makes rdflib evaluate them over triples() lookups."""

    def query(self, query, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        if not isinstance(query, str):
            raise NotImplementedError
        return super().query(query, *args, **kwargs)

    def add_graph(self, graph):  # type: ignore[no-untyped-def,override]
        pass  # Dataset.graph(iri) "creates" a graph it only reads; the graphs exist remotely


def open_remote(config: Config) -> KnowledgeGraph:
    """A KnowledgeGraph answered by a remote SPARQL 1.1 endpoint (after `publish`)."""
    url = config.store
    files = data_files(config) if config.data_dir.is_dir() else []
    engine = RemoteEngine(url, config.query_timeout)
    g, n = Variable("g"), Variable("n")
    names = engine.send("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", [], [])
    prefix = f"{config.base}graph/"
    present = sorted(str(row[g]) for row in names.bindings)  # type: ignore[index]
    graphs = {iri[len(prefix):]: URIRef(iri) for iri in present if iri.startswith(prefix)}
    graphs.setdefault("inferred", graph_iri(config.base, "inferred"))
    engine.graphs = graphs
    engine.prefixes = declared_prefixes(files)
    counts = engine.send("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", [], [])
    digest = hashlib.sha256(url.encode())
    for row in sorted(counts.bindings, key=lambda r: str(r[g])):  # type: ignore[index]
        digest.update(f"{row[g]} {row[n]}".encode())  # type: ignore[index]
    dataset = Dataset(store=_RemoteStore(url, returnFormat="json"), default_union=True)
    for prefix_name, ns in engine.prefixes.items():
        dataset.bind(prefix_name, ns, override=False)
    engine.view = dataset
    return KnowledgeGraph(dataset=dataset, asserted=dataset, base=config.base, graphs=graphs, files={},
                          version=digest.hexdigest()[:16], engine=engine, reasoner="remote", validated=True)


_DECLARED = re.compile(r"\bPREFIX\s+([A-Za-z][\w.-]*)?:", re.IGNORECASE)


def with_prefixes(text: str, prefixes: dict[str, str]) -> str:
    """`text` with PREFIX lines for the predeclared prefixes it uses without declaring them
    (the query's own declarations win), so a query means the same here as on our own stores."""
    declared = {m.group(1) or "" for m in _DECLARED.finditer(text)}
    missing = [f"PREFIX {p}: <{ns}>" for p, ns in sorted(prefixes.items()) if p not in declared and f"{p}:" in text]
    return "\n".join([*missing, text]) if missing else text


def endpoint_of(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


# --- publishing to a remote engine -------------------------------------------------------------


def publish(kg: KnowledgeGraph, url: str, timeout: float = 300.0) -> dict[str, int]:
    """PUT every named graph (asserted graphs and the closure) to a Graph Store Protocol endpoint.

    `url` is the store's base (e.g. http://127.0.0.1:7878, where Oxigraph serves /store and
    /query) or its Graph Store endpoint itself (…/store, Fuseki's …/data). Returns triples per graph.
    """
    store_url = _gsp_url(url)
    sent: dict[str, int] = {}
    for name, iri in [*sorted(kg.graphs.items()), ("asserted-union", UNION_GRAPH)]:
        body = kg.engine.export(iri)
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

"""A remote store: any engine speaking the SPARQL 1.1 Protocol (queries) and the Graph Store
Protocol (`publish`): Oxigraph server, Virtuoso, Fuseki, GraphDB, Neptune, …

`caspian-kg publish --to URL` PUTs every asserted graph, the closure and the deduplicated union
(`native.UNION_GRAPH`); `--store URL` then answers through it. Queries send `default-graph-uri`
and `named-graph-uri` for our graphs, so the dataset is ours whatever the engine's own default
(Virtuoso's is the union of every graph, its system graphs included).

Credentials come from the URL (`http://user:password@host/...`, e.g. in CASPIAN_KG_STORE): they
answer the engine's HTTP digest or basic challenge, and are never part of a message or log line.
"""

from __future__ import annotations

import base64
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
        self.url, credentials = split_credentials(url)
        self.timeout = timeout
        self.opener = opener(self.url, credentials)
        self.graphs: dict[str, URIRef] = {}
        self.prefixes: dict[str, str] = {}  # predeclared, as on every store (the engine has none of ours)
        self.view: Dataset | None = None  # rdflib's SPARQLStore over the endpoint

    def query(self, prepared: Prepared, selection: DatasetSelection, bindings: Mapping[str, Identifier]) -> Any:
        if prepared.text is None:  # algebra only: rdflib evaluates it over triple lookups
            assert self.view is not None
            return evaluate(self.view, self.graphs.values(), prepared, selection, bindings)
        default, named = graph_lists(self.graphs, selection)
        text = bind_values(prepared.text, bindings) if bindings else prepared.text
        result = self.send(with_prefixes(text, self.prefixes), default, named)
        if result.type == "SELECT" and is_distinct(prepared):
            # Virtuoso 7.2 was seen to repeat a row of a SELECT DISTINCT … ORDER BY now and then
            # (shared-organisations, one fresh instance in five): DISTINCT is kept here too.
            seen: set[tuple[Any, ...]] = set()
            rows = []
            for row in result.bindings:
                key = tuple(sorted(row.items()))
                if key not in seen:
                    seen.add(key)
                    rows.append(row)
            result = SPARQLResult({"type_": "SELECT", "vars_": result.vars, "bindings": rows})
        return result

    def send(self, text: str, default: list[URIRef], named: list[URIRef]) -> SPARQLResult:
        params = [("query", text)] + [("default-graph-uri", str(g)) for g in default]
        params += [("named-graph-uri", str(g)) for g in named]
        request = urllib.request.Request(
            self.url, data=urllib.parse.urlencode(params).encode(), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/sparql-results+json, application/n-triples;q=0.9"},
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
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
    files = data_files(config) if config.data_dir.is_dir() else []
    engine = RemoteEngine(config.store, config.query_timeout)
    url, credentials = engine.url, split_credentials(config.store)[1]
    g, n = Variable("g"), Variable("n")
    # one query names the graphs and counts them: Virtuoso answers this GROUP BY from its graph
    # index in 30 ms at 300k triples, where SELECT DISTINCT ?g took 45 s (it scans every quad)
    counts = engine.send("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", [], [])
    prefix = f"{config.base}graph/"
    present = {str(row[g]): str(row[n]) for row in counts.bindings}  # type: ignore[index]
    graphs = {iri[len(prefix):]: URIRef(iri) for iri in sorted(present) if iri.startswith(prefix)}
    graphs.setdefault("inferred", graph_iri(config.base, "inferred"))
    engine.graphs = graphs
    engine.prefixes = declared_prefixes(files)
    digest = hashlib.sha256(url.encode())
    for iri in sorted({str(iri) for iri in graphs.values()} | {str(UNION_GRAPH)}):  # ours, not the engine's own
        digest.update(f"{iri} {present.get(iri, 0)}".encode())
    dataset = Dataset(store=_RemoteStore(url, returnFormat="json", auth=credentials), default_union=True)
    for prefix_name, ns in engine.prefixes.items():
        dataset.bind(prefix_name, ns, override=False)
    engine.view = dataset
    return KnowledgeGraph(dataset=dataset, asserted=dataset, base=config.base, graphs=graphs, files={},
                          version=digest.hexdigest()[:16], engine=engine, reasoner="remote", validated=True)


_OUTER_SELECT = re.compile(r"\bSELECT\s+(DISTINCT\b)?", re.IGNORECASE)


def is_distinct(prepared: Prepared) -> bool:
    """Whether the outermost SELECT is DISTINCT (from rdflib's parse when there is one, else
    the first SELECT of the text outside comment lines: sub-selects come after it)."""
    if prepared.algebra is not None:
        node = prepared.algebra.algebra
        while getattr(node, "name", None) in ("SelectQuery", "Slice"):
            node = node.get("p")
        return getattr(node, "name", None) == "Distinct"
    code = "\n".join(line for line in (prepared.text or "").splitlines() if not line.lstrip().startswith("#"))
    match = _OUTER_SELECT.search(code)
    return bool(match and match.group(1))


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


CHUNK_TRIPLES = 50_000


def publish(kg: KnowledgeGraph, url: str, timeout: float = 300.0, chunk: int = CHUNK_TRIPLES) -> dict[str, int]:
    """PUT every named graph (asserted graphs and the closure) to a Graph Store Protocol endpoint.

    `url` is the store's base (e.g. http://127.0.0.1:7878, where Oxigraph serves /store and
    /query) or its Graph Store endpoint itself (…/store, Fuseki's …/data, Virtuoso's
    …/sparql-graph-crud-auth, GraphDB's …/rdf-graphs/service, Neptune's …/sparql/gsp), with
    credentials in it when the endpoint asks for them. A graph of more than `chunk` triples is
    sent as one PUT then POSTs (merge) of at most `chunk` triples each, so no engine sees an
    unbounded request body. Returns triples per graph.
    """
    store_url, credentials = split_credentials(_gsp_url(url))
    client = GraphStoreClient(store_url, credentials, timeout)
    sent: dict[str, int] = {}
    for name, iri in [*sorted(kg.graphs.items()), ("asserted-union", UNION_GRAPH)]:
        body = kg.engine.export(iri)
        target = f"{store_url}{'&' if '?' in store_url else '?'}{urllib.parse.urlencode({'graph': str(iri)})}"
        try:
            if not sent:
                client.send(target, "POST", b"")  # an empty merge: wrong credentials fail here, cheaply
            for i, part in enumerate(chunks(body, chunk)):
                client.send(target, "PUT" if i == 0 else "POST", part)
        except urllib.error.HTTPError as exc:
            raise StoreError(f"publishing {name} to {store_url}: HTTP {exc.code}: {_reason(exc)}") from None
        except OSError as exc:
            raise StoreError(f"publishing to {store_url} failed: {exc}") from None
        sent[name] = body.count(b"\n")
    return sent


class GraphStoreClient:
    """Sends Graph Store requests. With credentials, a body is sent once and already authorised:
    a server may answer 401 and close the connection before reading a body it has not yet
    authorised (Virtuoso does), which the client would only see as a broken pipe. So an
    empty request of the same method fetches the challenge (digest: a fresh nonce) first."""

    def __init__(self, url: str, credentials: tuple[str, str] | None, timeout: float) -> None:
        self.credentials, self.timeout = credentials, timeout
        self.opener = opener(url, credentials)
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        if credentials is not None:
            passwords.add_password(None, url, *credentials)  # type: ignore[arg-type]
        self.digest = urllib.request.HTTPDigestAuthHandler(passwords)

    def send(self, url: str, method: str, body: bytes) -> None:
        request = self._request(url, method, body)
        if self.credentials is not None and body:
            self._authorise(request)
        with self.opener.open(request, timeout=self.timeout) as response:
            response.read()

    @staticmethod
    def _request(url: str, method: str, body: bytes) -> urllib.request.Request:
        return urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/n-triples"})

    def _authorise(self, request: urllib.request.Request) -> None:
        assert self.credentials is not None
        try:  # PUT or POST of nothing: harmless, the real body follows
            with urllib.request.urlopen(self._request(request.full_url, request.get_method(), b""),
                                        timeout=self.timeout) as response:
                response.read()
            return  # no authentication asked
        except urllib.error.HTTPError as exc:
            challenge = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() == "digest":
            chal = urllib.request.parse_keqv_list(urllib.request.parse_http_list(params))
            value = self.digest.get_authorization(request, chal)
            if value:
                request.add_unredirected_header("Authorization", f"Digest {value}")
        elif scheme.lower() == "basic":
            token = base64.b64encode(":".join(self.credentials).encode()).decode()
            request.add_unredirected_header("Authorization", f"Basic {token}")


def chunks(body: bytes, size: int) -> list[bytes]:
    """N-Triples `body` in parts of at most `size` triples, except that every triple with a blank
    node goes in the first part, however many: a blank node label is scoped to one request, so
    the triples that share it must travel together (a literal that merely contains "_:" goes
    there too, which is harmless)."""
    lines = body.splitlines(keepends=True)
    if len(lines) <= size:
        return [body]
    blank = [line for line in lines if b"_:" in line]
    named = [line for line in lines if b"_:" not in line]
    first = size - len(blank) if len(blank) < size else 0
    parts = [b"".join(blank + named[:first])]
    parts += [b"".join(named[i:i + size]) for i in range(first, len(named), size)]
    return parts


def _reason(exc: urllib.error.HTTPError) -> str:
    """The first line of an error answer (engines send pages or stack traces), at most 300 chars."""
    if exc.code in (401, 403):
        return "the endpoint refused the credentials (give user:password@ in the URL, or check them)"
    text = exc.read()[:2000].decode("utf-8", "replace").strip() or str(exc.reason)
    return " ".join(text.splitlines()[:1])[:300]


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """(`url` without user:password@, the (user, password) it carried or None)."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url, None
    clean = parts._replace(netloc=parts.netloc.rpartition("@")[2])
    return (urllib.parse.urlunsplit(clean),
            (urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")))


def opener(url: str, credentials: tuple[str, str] | None) -> urllib.request.OpenerDirector:
    """urllib with the credentials answering the server's digest or basic challenge for `url`."""
    if credentials is None:
        return urllib.request.build_opener()
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, url, *credentials)  # type: ignore[arg-type]
    return urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(passwords),
                                       urllib.request.HTTPBasicAuthHandler(passwords))


# Graph Store endpoint -> SPARQL query endpoint, for the engines whose paths we know
_GSP_TO_QUERY = {"/sparql-graph-crud-auth": "/sparql", "/sparql-graph-crud": "/sparql",  # Virtuoso
                 "/rdf-graphs/service": "", "/sparql/gsp": "/sparql",  # GraphDB, Neptune
                 "/store": "/query", "/data": "/query"}  # Oxigraph server, Fuseki


def _gsp_url(url: str) -> str:
    if url.rstrip("/").endswith(tuple(_GSP_TO_QUERY)):
        return url  # as given (Neptune's documented endpoint ends with a slash)
    url = url.rstrip("/")
    if url.endswith(("/query", "/sparql")):
        return url.rsplit("/", 1)[0] + "/store"
    return url + "/store"


def query_url(url: str) -> str:
    """The SPARQL query endpoint for a URL given to `publish` (Oxigraph: /query, Virtuoso: /sparql),
    without the credentials that publishing needed (they are never printed)."""
    url = split_credentials(url)[0].rstrip("/")
    if url.endswith(("/query", "/sparql")):
        return url
    for gsp, query in _GSP_TO_QUERY.items():
        if url.endswith(gsp):
            return url[:-len(gsp)] + query
    return url + "/query"

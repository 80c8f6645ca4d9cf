"""The servers the benchmark compares, each started as its users start it, on 127.0.0.1.

* caspian-kg on its default store (`caspian-kg serve`: the cached Oxigraph store, reopened);
* caspian-kg on the memory store (`--store memory`: rdflib, parsed and reasoned at each start);
* Oxigraph server (`oxigraph serve-read-only`, the PyPI `oxigraph` binary): the reference engine,
  given our asserted triples plus our closure, since it does no reasoning of its own;
* rdflib-endpoint (`pip install -e '.[bench]'`): the Python peer, FastAPI + uvicorn over an rdflib
  Dataset of the same quads;
* Virtuoso Open Source 7 (Debian's `virtuoso-opensource-7`): a private instance (virtuoso.py: a
  new database in a temporary directory, free ports), given the same graphs through our own
  `publish` (the Graph Store Protocol), then asked at its /sparql with the same Protocol dataset
  as Oxigraph server;
* Apache Jena ARQ (Debian's `libapache-jena-java`, jena.py): ARQ over an in-memory dataset behind
  the JDK's HTTP server (java/ArqServer.java, not Fuseki), loaded at start from the same quads as
  rdflib-endpoint (each graph named, the default graph their merge).

Each `Server` knows how to send a SPARQL query text so that every engine answers the same
question over the same dataset, and how long it took from spawn to its first answer.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config
from ..graph import KnowledgeGraph, data_files, graph_iri
from ..stores.native import UNION_GRAPH
from ..stores.remote import publish
from . import jena as _jena
from .virtuoso import start_virtuoso

ASK = "ASK {}"


@dataclass
class Server:
    name: str
    process: Any
    base: str  # the SPARQL endpoint URL
    dataset: list[tuple[str, str]] = field(default_factory=list)  # Protocol dataset parameters to send
    started: float = 0.0  # seconds from spawn to the first answer
    site: str = ""  # our own servers: the site root (saved queries, entity pages)
    halt: Callable[[], None] | None = None  # how to stop a server not started in its own process group

    def url(self, query: str) -> str:
        return self.base + "?" + urllib.parse.urlencode([("query", query), *self.dataset])

    def stop(self) -> None:
        if self.halt is not None:
            self.halt()
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str, accept: str = "application/sparql-results+json", timeout: float = 120) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()  # type: ignore[no-any-return]


def _spawn(name: str, argv: list[str], base: str, env: dict[str, str] | None = None,
           dataset: list[tuple[str, str]] | None = None, site: str = "", seconds: float = 900) -> Server:
    """Start a server in its own process group and wait for its first answer to a query."""
    t0 = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    server = Server(name, process, base, list(dataset or []), site=site)
    deadline = time.monotonic() + seconds
    while True:
        try:
            fetch(server.url(ASK), timeout=5)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"{name} did not come up ({' '.join(argv[:4])} …)") from None
            time.sleep(0.02)
    server.started = time.perf_counter() - t0
    return server


def caspian(name: str, root: Path, store: str, cache: Path) -> Server:
    """`caspian-kg serve` as the README starts it (its default workers and threads), validation off (the load step
    already validated or the size makes SHACL the thing measured). Every bench client comes from
    127.0.0.1: the per-client limits would measure themselves, so they are off, as on the peers."""
    port = free_port()
    env = dict(os.environ, CASPIAN_KG_ROOT=str(root), CASPIAN_KG_STORE=store, CASPIAN_KG_CACHE_DIR=str(cache),
               CASPIAN_KG_PORT=str(port), CASPIAN_KG_HOST="127.0.0.1", CASPIAN_KG_CLIENT_QUERIES="1000",
               CASPIAN_KG_CLIENT_RATE="none", CASPIAN_KG_VALIDATE="false")
    site = f"http://127.0.0.1:{port}"
    return _spawn(name, [sys.executable, "-m", "caspian_kg.cli", "serve"], site + "/sparql", env, site=site)


def oxigraph_binary() -> str:
    found = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if not found:
        raise RuntimeError("the `oxigraph` binary is missing: pip install oxigraph")
    return found


def oxigraph_server(location: Path, root: Path) -> Server:
    port = free_port()
    return _spawn("Oxigraph server", [oxigraph_binary(), "serve-read-only", "--location", str(location), "--bind",
                                      f"127.0.0.1:{port}"], f"http://127.0.0.1:{port}/query",
                  dataset=protocol_dataset(root))


def rdflib_endpoint_binary() -> str | None:
    """rdflib-endpoint's CLI beside our Python (None when the `bench` extra is not installed)."""
    return shutil.which("rdflib-endpoint", path=str(Path(sys.executable).parent))


def rdflib_endpoint(quads: Path) -> Server | None:
    """rdflib-endpoint's own CLI on an N-Quads file (None when the package is not installed)."""
    runner = rdflib_endpoint_binary()
    if runner is None:
        return None
    port = free_port()
    return _spawn("rdflib-endpoint", [runner, "serve", str(quads), "--host", "127.0.0.1", "--port", str(port)],
                  f"http://127.0.0.1:{port}/")


def jena(quads: Path, work: Path) -> Server:
    """Jena ARQ on an N-Quads file without the union graph (java/ArqServer.java makes the default
    graph the merge of every graph it loads, as rdflib-endpoint does; no Protocol dataset is sent).
    "start" is the JVM's start plus its load of the file: it listens only once loaded. The javac
    run that builds the server (once per work directory) comes before the spawn."""
    port = free_port()
    return _spawn("Jena ARQ", _jena.command(work, port, quads), f"http://127.0.0.1:{port}/sparql")


def virtuoso(kg: KnowledgeGraph, root: Path) -> tuple[Server, dict[str, float]]:
    """A new Virtuoso with `kg`'s graphs (every asserted graph, the closure and the union, as
    `caspian-kg publish --to` sends them), and its load: publish time and Virtuoso's peak RSS.
    "start" is Virtuoso's own, from spawn (a new, empty database) to its first answer; a restart
    on the loaded 100k database took about as long (3.9 s here, fresh starts 3.3-5.0 s), so the
    bench does not restart it.

    Loaded through the Graph Store Protocol (our `publish`), not Virtuoso's bulk loader: on the
    100k synthetic graph (327,755 quads, the union graph included) publish took 7.7-15.6 s on this
    shared 2-core machine, and `ld_dir` + `rdf_loader_run()` through isql-vt 5.3 s plus 3.2 s to
    dump the N-Quads it reads: not much faster, and it would need isql-vt and a file Virtuoso may
    read. The dataset sent with each query is Oxigraph server's (protocol_dataset)."""
    instance = start_virtuoso()
    try:
        t0 = time.perf_counter()
        publish(kg, instance.gsp_url)
        load = {"total": time.perf_counter() - t0, "rss_mb": peak_rss_mb(instance.process.pid)}
    except BaseException:
        instance.stop()
        raise
    server = Server("Virtuoso", instance.process, instance.sparql_url, protocol_dataset(root),
                    started=instance.started_in, halt=instance.stop)
    return server, load


def peak_rss_mb(pid: int) -> float:
    """A running process's peak resident memory (Linux: VmHWM), 0 when unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)


def protocol_dataset(root: Path) -> list[tuple[str, str]]:
    """The Protocol dataset Oxigraph must be given to answer like us: the asserted union plus
    the closure as the default graph, and each of our graphs as a named graph. (With only
    default-graph-uri the dataset has *no* named graphs, so `GRAPH <…/inferred> {…}` would
    match nothing and Oxigraph would win by answering a different, empty question.)"""
    config = Config(root=root)
    inferred = str(graph_iri(config.base, "inferred"))
    named = [str(graph_iri(config.base, name)) for name, _ in data_files(config)] + [inferred]
    return ([("default-graph-uri", str(UNION_GRAPH)), ("default-graph-uri", inferred)]
            + [("named-graph-uri", g) for g in named])

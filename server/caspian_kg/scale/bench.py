"""`caspian-kg bench`: every store we ship, side by side with Oxigraph server and rdflib-endpoint.

For each size (`shipped`: the project's own data; a number: synthetic data of that size, synth.py):

1. Load, in *separate processes* (so peak memory is per store, from the child's rusage): the
   memory store (parse + closure), the default store's first build (parse + closure into the
   cache) and its second start (the reopen a user gets on unchanged data), and Oxigraph's own
   loader on the same quads (asserted + our closure: it does no reasoning). Validation is off:
   SHACL on a million triples measures pyshacl, not the store.
2. Serve, each as its users start it (peers.py): caspian-kg on the default store, caspian-kg on the
   memory store, `oxigraph serve-read-only`, rdflib-endpoint when installed
   (`pip install -e '.[bench]'`) and Virtuoso when installed (`virtuoso-t`, loaded by our
   `publish`) and Jena ARQ when installed (Debian's jars and a JDK: jena.py); the time from spawn
   to the first answer is the start time. `peers` chooses which run (PEERS; default: every one
   installed).
3. Send (workloads.py), over HTTP on 127.0.0.1: the saved queries as plain SPARQL and analytical
   queries the project has never seen, each request unique (uncached: no cache, no ETag helps),
   one at a time (latency) and from 4 clients (throughput); and, to our servers only, the saved
   queries by name repeated (the answer cache) and the biggest entity pages.
4. Compare row counts: a benchmark of different answers measures nothing.

Every mode is bounded in requests and seconds, so a slow store shows as slow, not as a hang; every
server is stopped at the end. Ratios are against Oxigraph server (lower is better for times).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..config import Config
from ..errors import BadRequest
from ..open import open_graph
from ..stores.native import UNION_GRAPH
from ..stores.oxigraph import STORE_DIR
from . import workloads as w
from .jena import java_tools
from .jena import missing as jena_missing
from .peers import (
    Server,
    caspian,
    jena,
    oxigraph_binary,
    oxigraph_server,
    peak_rss_mb,
    rdflib_endpoint,
    rdflib_endpoint_binary,
    virtuoso,
)
from .synth import generate
from .virtuoso import virtuoso_binary

LATENCY_BUDGET = 40.0  # seconds per server and workload, one client
THROUGHPUT_BUDGET = 12.0  # seconds per server and workload, 4 clients

# The servers `--peers` names, in the order they run (the first chosen is the reference for row counts)
PEERS = ("default", "memory", "oxigraph", "rdflib-endpoint", "virtuoso", "jena")
MISSING = {"rdflib-endpoint": (rdflib_endpoint_binary, "rdflib-endpoint is not installed (pip install -e '.[bench]')"),
           "virtuoso": (virtuoso_binary, "virtuoso-t is not installed (Debian: apt install virtuoso-opensource-7)"),
           "jena": (java_tools, jena_missing())}


def choose_peers(requested: list[str] | None) -> list[str]:
    """The peers to run: those requested (BadRequest naming any that is not installed) or, by
    default, every peer installed (one line on stderr for each left out)."""
    unknown = [p for p in requested or [] if p not in PEERS]
    if unknown:
        raise BadRequest(f"unknown peer {', '.join(unknown)}: choose from {', '.join(PEERS)}")
    chosen = [p for p in PEERS if requested is None or p in requested]
    missing = [p for p in chosen if p in MISSING and MISSING[p][0]() is None]
    if missing and requested is not None:
        raise BadRequest("; ".join(MISSING[p][1] for p in missing) + " (leave it out of --peers)")
    for peer in missing:
        _say(f"{MISSING[peer][1]}: left out")
    return [p for p in chosen if p not in missing]


def run_bench(config: Config, sizes: list[str], requests: int = 200, workdir: Path | None = None,
              peers: list[str] | None = None) -> str:
    """Run everything and return the markdown tables (also kept as bench.json in the workdir)."""
    chosen = choose_peers(peers)
    base = Path(workdir or tempfile.mkdtemp(prefix="caspian-bench-"))
    rows: list[dict[str, Any]] = []
    for size in sizes:
        synthetic = size != "shipped"
        root = base / f"data-{size}" if synthetic else config.root
        written = generate(root, int(size), source_root=config.root) if synthetic else 0
        rows.append(_one_size(config, root, base / f"run-{size}", synthetic, written, requests, chosen))
        (base / "bench.json").write_text(json.dumps(rows, indent=1))
    return render(rows)


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def _one_size(config: Config, root: Path, work: Path, synthetic: bool, written: int, requests: int,
              peers: list[str]) -> dict[str, Any]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cache = work / "cache"
    # the default store is built whatever is chosen: every peer's data comes from it
    loads = {"memory": _child_load(root, "memory", cache)} if "memory" in peers else {}
    loads["first build"], loads["reopen"] = _child_load(root, "oxigraph", cache), _child_load(root, "oxigraph", cache)
    store_dir = next(p for p in cache.iterdir() if not p.name.startswith("."))
    if "oxigraph" in peers:
        loads["Oxigraph load"] = _oxigraph_load(store_dir, work / "baseline")
    triples = loads["reopen"]["triples"]
    _say(f"{triples} triples: loads {loads}")
    saved, analytical = w.saved_queries(config, root, synthetic), w.analytical()
    n = max(3, requests // max(1, len(saved)))
    servers: list[Server] = []
    result: dict[str, Any] = {"triples": triples, "written": written, "loads": loads, "servers": {},
                              "queries": len(saved), "analytical": len(analytical)}
    try:
        if "default" in peers:
            servers.append(caspian("caspian-kg default store", root, "oxigraph", cache))
        if "memory" in peers:
            servers.append(caspian("caspian-kg memory store", root, "memory", cache))
        if "oxigraph" in peers:
            servers.append(oxigraph_server(work / "baseline", root))
        wanted = {"rdflib-endpoint", "jena"} & set(peers)  # both load our graphs without the union graph
        quads = _quads_without_union(store_dir, work / "quads.nq") if wanted else None
        if "rdflib-endpoint" in peers:
            assert quads is not None
            peer = rdflib_endpoint(quads)
            assert peer is not None  # choose_peers left it out when it is not installed
            servers.append(peer)
        if "virtuoso" in peers:
            kept = open_graph(Config(root=root, store="oxigraph", cache_dir=str(cache), validate=False))
            server, loads["Virtuoso load"] = virtuoso(kept, root)
            servers.append(server)
            _say(f"Virtuoso: {loads['Virtuoso load']}")
        if "jena" in peers:
            assert quads is not None
            servers.append(jena(quads, work))
            loads["Jena load"] = {"total": servers[-1].started, "rss_mb": peak_rss_mb(servers[-1].process.pid)}
        for server in servers:
            _say(f"{server.name}: up in {server.started:.2f} s")
            result["servers"][server.name] = _measure_server(server, saved, analytical, n, synthetic)
        result["differs"] = _differences(servers, saved + analytical)
    finally:
        for server in servers:
            server.stop()
    return result


def _measure_server(server: Server, saved: list[w.Query], analytical: list[w.Query], n: int,
                    synthetic: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"start": server.started}
    for label, queries in (("saved", saved), ("analytical", analytical)):
        timings = w.per_query(server, queries, n, LATENCY_BUDGET)
        out[label] = {"timings": timings, "summary": w.summary(timings),
                      "throughput": w.throughput(w.sender(server, [text for _, _, text in queries]),
                                                 n * len(queries), THROUGHPUT_BUDGET)}
        _say(f"{server.name}: {label} {out[label]['summary']}, {out[label]['throughput']:.0f} req/s")
    if server.site:  # ours: the answer cache and the entity pages
        out["cached"] = w.throughput(w.getter(server.site, [path for _, path, _ in saved]), n * len(saved),
                                     THROUGHPUT_BUDGET)
        out["pages"] = {page: w.summary({page: w.latencies(w.getter(server.site, [page], "text/html", unique=True),
                                                           n, LATENCY_BUDGET / 3)})["p50"]
                        for page in w.entity_pages(synthetic)}
    return out


def _differences(servers: list[Server], queries: list[w.Query]) -> list[str]:
    """Row counts that differ from the reference's: the default store when it runs, else the first
    server chosen (PEERS order)."""
    if not servers:
        return []
    counts = {s.name: w.row_counts(s, queries) for s in servers}
    first = "caspian-kg default store" if "caspian-kg default store" in counts else servers[0].name
    reference = counts[first]
    label = "default store" if first == "caspian-kg default store" else first
    out = []
    for name, found in counts.items():
        for query, (rows, distinct) in found.items():
            if rows != reference[query][0]:
                repeated = f", {distinct} distinct" if distinct != rows else ""
                out.append(f"{name}: {query} {rows} rows{repeated} ({label}: {reference[query][0]})")
    return out


# --- load ---------------------------------------------------------------------------------------

_LOAD_SCRIPT = """
import json, resource, sys, time
from pathlib import Path
from caspian_kg.config import Config
from caspian_kg.open import open_graph
t0 = time.perf_counter()
kg = open_graph(Config(root=Path(sys.argv[1]), store=sys.argv[2], cache_dir=sys.argv[3], validate=False))
total = time.perf_counter() - t0
print(json.dumps({"total": total, "load": kg.timings.get("load", 0.0), "closure": kg.timings.get("closure", 0.0),
                  "reasoner": kg.reasoner, "triples": len(kg.dataset),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child_load(root: Path, store: str, cache: Path) -> dict[str, Any]:
    """Load in a fresh process; its own peak RSS is the store's memory."""
    done = subprocess.run([sys.executable, "-c", _LOAD_SCRIPT, str(root), store, str(cache)], check=False,
                          capture_output=True,
                          text=True,
                          timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"load failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _oxigraph_load(store_dir: Path, target: Path) -> dict[str, Any]:
    """The baseline: Oxigraph's own loader on the same data (asserted + our closure, as N-Quads)."""
    shutil.rmtree(target, ignore_errors=True)
    dump = target.with_suffix(".nq")
    source = ox.Store.read_only(str(store_dir / STORE_DIR))
    source.dump(output=str(dump), format=ox.RdfFormat.N_QUADS)
    del source
    t0 = time.perf_counter()
    process = subprocess.Popen([oxigraph_binary(), "load", "--location", str(target), "--file", str(dump)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)  # this child's own peak RSS
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError("oxigraph load failed")
    elapsed = time.perf_counter() - t0
    dump.unlink()
    return {"total": elapsed, "rss_mb": usage.ru_maxrss / 1024}


def _quads_without_union(store_dir: Path, target: Path) -> Path:
    """Our graphs as N-Quads without the helper union graph (rdflib-endpoint's default graph is the
    union of the named graphs it loads)."""
    source = ox.Store.read_only(str(store_dir / STORE_DIR))
    union = ox.NamedNode(str(UNION_GRAPH))
    with target.open("wb") as out:
        out.write(ox.serialize((q for q in source.quads_for_pattern(None, None, None, None) if q.graph_name != union),
                               format=ox.RdfFormat.N_QUADS) or b"")
    del source
    return target


# --- the tables -----------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "–"


def render(rows: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for row in rows:
        what = f"{row['triples']:,} triples ({'synthetic' if row['written'] else 'the shipped data'}, with closure)"
        servers = row["servers"]
        ref = servers.get("Oxigraph server", {})
        lines += [f"**{what}**, {row['queries']} saved and {row['analytical']} analytical queries, uncached:", "",
                  ("| server | start (s) | saved p50 / p99 (ms) | saved: slowest (ms) | saved: per-query x Oxigraph "
                   "| saved req/s, 4 clients | analytical p50 / p99 (ms) | analytical: per-query x Oxigraph "
                   "| analytical req/s, 4 clients | entity page p50 (ms) |"),
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, got in servers.items():
            cells = [name, f"{got['start']:.2f}"]
            for label in ("saved", "analytical"):
                summary, rate = got[label]["summary"], got[label]["throughput"]
                ratio = w.geomean_ratio(got[label]["timings"], ref[label]["timings"]) if ref else 0.0
                cells.append(f"{summary['p50']:.1f} / {summary['p99']:.1f}")
                if label == "saved":
                    cells.append(f"{summary['worst']:.0f}")
                cells.append(f"{ratio:.2f}x" if ratio else "–")
                reference = ref[label]["throughput"] if ref else 0.0
                cells.append(f"{rate:.0f} ({_ratio(rate, reference)})" if ref and name != "Oxigraph server"
                             else f"{rate:.0f}")
            pages = got.get("pages")
            cells.append(" / ".join(f"{v:.1f}" for v in pages.values()) if pages else "–")
            lines.append("| " + " | ".join(cells) + " |")
        default = servers.get("caspian-kg default store")
        lines.append("")
        if default and ref:
            lines.append("Furthest behind Oxigraph on the default store: saved "
                         + ", ".join(w.worst_ratios(default["saved"]["timings"], ref["saved"]["timings"]))
                         + "; analytical " + ", ".join(w.worst_ratios(default["analytical"]["timings"],
                                                                          ref["analytical"]["timings"])) + ".")
        if default:
            lines.append(f"Saved queries by name, repeated (answer cache), 4 clients: {default['cached']:.0f} req/s. "
                         "Entity pages: " + ", ".join(default.get("pages", {})) + ".")
        loads = row["loads"]
        lines.append("Load (separate processes, validation off): " + "; ".join(
            f"{name} {got['total']:.2f} s, {got['rss_mb']:.0f} MB" for name, got in loads.items()) + ".")
        lines.append("Answers: " + ("; ".join(row["differs"]) if row.get("differs")
                                    else "every server returned the same number of rows for every query."))
        if "Virtuoso" in servers:
            lines.append("Virtuoso: start is a new, empty database's; its load is our `publish` (Graph Store "
                         "Protocol) of every graph.")
        if "Jena ARQ" in servers:
            lines.append("Jena ARQ: start includes its load (the JVM's start, ARQ reading the N-Quads and copying "
                         "every graph into the default graph); its load line is that start and the JVM's peak memory "
                         "once loaded.")
        lines.append("")
    return "\n".join(lines)

"""`caspian-kg bench`: load, closure, memory and saved-query latency, side by side with Oxigraph.

For each size: generate synthetic data (synth.py), then in *separate processes* (so peak memory
is per store, read from the child's rusage):

* memory  — rdflib in memory, closure by the engine the loader picks (the compiled reasoner above the
  threshold), validation off (SHACL on a million triples measures pyshacl, not the store);
* oxigraph — the persistent on-disk store (bulk load + reasoning.fast on pyoxigraph terms);
* baseline — `oxigraph load` of the same files + the closure our store computed, then
  `oxigraph serve-read-only` (the reference engine, no reasoning of its own).

Then the same saved queries (default parameters, bound as RDF terms) go over HTTP on 127.0.0.1 to
`caspian-kg serve --store <dir>` and to the Oxigraph server: cold (first request), uncached
(a fresh cache-busting comment in each query text, so neither our answer cache nor ETags help),
and cached (the same request repeated: our in-process answer cache; Oxigraph has no cache, so
its number is its plain repeated latency). Request counts and time are bounded; every server is
stopped at the end. Ratios are ours / Oxigraph's (for latency lower is better; for throughput
higher is better).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..config import DEFAULT_BASE, Config
from ..graph import data_files, graph_iri
from ..saved_queries import QueryLibrary
from ..stores.native import UNION_GRAPH, bind_values
from ..stores.oxigraph import STORE_DIR
from .synth import generate

MAX_SECONDS_PER_MODE = 20.0


def run_bench(config: Config, sizes: list[int], requests: int = 200, workdir: Path | None = None) -> str:
    """Run everything and return the markdown table."""
    base = Path(workdir or tempfile.mkdtemp(prefix="caspian-bench-"))
    rows: list[dict[str, Any]] = []
    for size in sizes:
        root = base / f"data-{size}"
        root.mkdir(parents=True, exist_ok=True)
        written = generate(root, size, source_root=config.root)
        print(f"[bench] {size}: generated {written} triples", file=sys.stderr, flush=True)
        memory = _child_load(root, "memory")
        print(f"[bench] {size}: memory {memory}", file=sys.stderr, flush=True)
        store_dir = base / f"store-{size}"
        shutil.rmtree(store_dir, ignore_errors=True)
        ours = _child_load(root, str(store_dir))
        print(f"[bench] {size}: oxigraph store {ours}", file=sys.stderr, flush=True)
        baseline_dir = base / f"baseline-{size}"
        baseline = _oxigraph_load(root, store_dir, baseline_dir)
        print(f"[bench] {size}: oxigraph baseline {baseline}", file=sys.stderr, flush=True)
        queries = _saved_queries(config, root)
        latency = _http_compare(root, store_dir, baseline_dir, queries, requests)
        rows.append({"size": written, "memory": memory, "ours": ours, "baseline": baseline, **latency})
        (base / "bench.json").write_text(json.dumps(rows, indent=1))
    return render(rows)


# --- load ---------------------------------------------------------------------------------------

_LOAD_SCRIPT = """
import json, resource, sys, time
from pathlib import Path
from caspian_kg.config import Config
from caspian_kg.open import open_graph
t0 = time.perf_counter()
kg = open_graph(Config(root=Path(sys.argv[1]), store=sys.argv[2], validate=False))
total = time.perf_counter() - t0
print(json.dumps({"total": total, "load": kg.timings.get("load", 0.0), "closure": kg.timings.get("closure", 0.0),
                  "reasoner": kg.reasoner, "inferred": len(kg.dataset.get_context(kg.inferred_graph)) if kg.engine.kind == "memory" else None,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child_load(root: Path, store: str) -> dict[str, Any]:
    """Load in a fresh process; its own peak RSS is the store's memory."""
    done = subprocess.run([sys.executable, "-c", _LOAD_SCRIPT, str(root), store], check=False, capture_output=True,
                          text=True,
                          timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"load failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def oxigraph_binary() -> str:
    found = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if not found:
        raise RuntimeError("the `oxigraph` binary is missing: pip install oxigraph")
    return found


def _oxigraph_load(root: Path, store_dir: Path, target: Path) -> dict[str, Any]:
    """The baseline: Oxigraph's own loader on the same data (asserted + our closure, as N-Quads)."""
    import pyoxigraph as ox

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


# --- queries over HTTP --------------------------------------------------------------------------


SYNTHETIC = {"state": "state/s0", "person": "person/p0", "org": "org/o0", "membership": "membership/m0",
             "place": "place/capital-0", "event": "event/e0", "quote": "quote/q0"}


def _synthetic_value(raw: str) -> str:
    """A default naming a real entity (state/azerbaijan) -> its synthetic counterpart (state/s0)."""
    if raw.startswith(DEFAULT_BASE + "id/"):
        kind = raw[len(DEFAULT_BASE) + 3:].split("/", 1)[0]
        if kind in SYNTHETIC:
            return DEFAULT_BASE + "id/" + SYNTHETIC[kind]
    return raw


def _saved_queries(config: Config, root: Path) -> list[tuple[str, str, str]]:
    """(name, our URL path with parameters, query text with the same values bound) for every
    saved query whose parameters all have defaults; defaults naming real entities are mapped to
    synthetic ones so both engines do real work."""
    library = QueryLibrary.load(config.with_(root=root))
    out = []
    for query in library:
        if any(p.required and p.default is None for p in query.parameters):
            continue
        values = {p.name: _synthetic_value(str(p.default)) for p in query.parameters if p.default is not None}
        try:
            parsed = {p.name: p.parse(values[p.name]) for p in query.parameters if p.name in values}
        except Exception:  # noqa: BLE001, S112 - a default the synthetic data cannot take: skip the query
            continue
        bindings = {var: parsed[name] for name, var in _variables(query).items() if name in parsed}
        text = bind_values(query.sparql, bindings) if bindings else query.sparql
        out.append((query.name, f"/queries/{query.name}?" + urllib.parse.urlencode(values), text))
    return out


def _variables(query: Any) -> dict[str, str]:
    """Parameter name -> its variable name in the query text (?_org_iri for org)."""
    return {p.name: getattr(p, "variable", None) or _find_variable(query.sparql, p.name) for p in query.parameters}


def _find_variable(text: str, name: str) -> str:
    import re

    match = re.search(rf"[?$](__?{re.escape(name)}(?:_[A-Za-z0-9]+)*)\b", text)
    return match.group(1) if match else name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def _http_compare(root: Path, store_dir: Path, baseline_dir: Path, queries: list[tuple[str, str, str]],
                  requests: int) -> dict[str, Any]:
    ours_port, ox_port = _free_port(), _free_port()
    # every bench client comes from 127.0.0.1: the per-client limits (admission.py) would measure
    # themselves, not the store, so they are off here as Oxigraph server has none
    env = dict(os.environ, CASPIAN_KG_ROOT=str(root), CASPIAN_KG_STORE=str(store_dir), CASPIAN_KG_WORKERS="2",
               CASPIAN_KG_PORT=str(ours_port), CASPIAN_KG_HOST="127.0.0.1", CASPIAN_KG_CLIENT_QUERIES="1000",
               CASPIAN_KG_CLIENT_RATE="none")
    ours = subprocess.Popen([sys.executable, "-m", "caspian_kg.cli", "--no-validate", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    theirs = subprocess.Popen([oxigraph_binary(), "serve-read-only", "--location", str(baseline_dir), "--bind",
                               f"127.0.0.1:{ox_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(f"http://127.0.0.1:{ours_port}/health")
        _wait(f"http://127.0.0.1:{ox_port}/query?query=ASK%7B%7D")
        results: dict[str, Any] = {}
        ours_base, ox_base = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{ox_port}/query"
        dataset = _dataset_params(root)
        for mode in ("cold", "uncached", "cached"):
            mine, other = [], []
            for name, path, text in queries:
                n = 1 if mode == "cold" else requests // max(1, len(queries)) or 1
                mine.append(_measure(lambda i, p=path, t=text, m=mode: _get_ours(ours_base, p, t, m, i), n))
                other.append(_measure(lambda i, t=text, m=mode: _get_oxigraph(ox_base, t, dataset, m, i), n))
            results[mode] = (_summary(mine), _summary(other), _geomean_ratio(mine, other))
        results["throughput"] = (_throughput(lambda i: _get_ours(ours_base, queries[i % len(queries)][1],
                                                                 queries[i % len(queries)][2], "cached", i), requests),
                                 _throughput(lambda i: _get_oxigraph(ox_base, queries[i % len(queries)][2], dataset,
                                                                     "cached", i), requests))
        results["throughput_uncached"] = (
            _throughput(lambda i: _get_ours(ours_base, queries[i % len(queries)][1], queries[i % len(queries)][2],
                                            "uncached", i), requests),
            _throughput(lambda i: _get_oxigraph(ox_base, queries[i % len(queries)][2], dataset, "uncached", i),
                        requests))
        results["queries"] = len(queries)
        results["disagree"] = _disagreements(ours_base, ox_base, dataset, queries)  # last: it warms caches
        return results
    finally:
        os.killpg(ours.pid, signal.SIGTERM)
        theirs.terminate()
        for process in (ours, theirs):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _dataset_params(root: Path) -> list[tuple[str, str]]:
    """The Protocol dataset Oxigraph must be given to answer like us: the asserted union plus
    the closure as the default graph, and each of our graphs as a named graph. (With only
    default-graph-uri the dataset has *no* named graphs, so `GRAPH <…/inferred> {…}` would
    match nothing and Oxigraph would win by answering a different, empty question.)"""
    config = Config(root=root)
    inferred = str(graph_iri(config.base, "inferred"))
    named = [str(graph_iri(config.base, name)) for name, _ in data_files(config)] + [inferred]
    return ([("default-graph-uri", str(UNION_GRAPH)), ("default-graph-uri", inferred)]
            + [("named-graph-uri", g) for g in named])


def _disagreements(ours: str, theirs: str, dataset: list[tuple[str, str]],
                   queries: list[tuple[str, str, str]]) -> list[str]:
    """Saved queries whose row counts differ between the two servers (there should be none:
    a benchmark of different answers measures nothing)."""
    out = []
    for name, path, text in queries:
        mine = _rows(_fetch(ours + path))
        other = _rows(_fetch(theirs + "?" + urllib.parse.urlencode([("query", text), *dataset])))
        if mine != other:
            out.append(f"{name} ({mine} vs {other} rows)")
    return out


def _fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read()  # type: ignore[no-any-return]


def _rows(body: bytes) -> int:
    data = json.loads(body)
    return len(data["results"]["bindings"]) if "results" in data else 1


def _get_ours(base: str, path: str, text: str, mode: str, i: int) -> None:
    if mode == "uncached":  # a different request each time: no answer cache, no ETag
        _fetch(f"{base}/sparql?" + urllib.parse.urlencode({"query": f"{text}\n# {time.time_ns()} {i}"}))
    else:
        _fetch(base + path)


def _get_oxigraph(base: str, text: str, dataset: list[tuple[str, str]], mode: str, i: int) -> None:
    query = f"{text}\n# {time.time_ns()} {i}" if mode == "uncached" else text
    _fetch(base + "?" + urllib.parse.urlencode([("query", query), *dataset]))


def _measure(call: Any, n: int) -> list[float]:
    out: list[float] = []
    deadline = time.monotonic() + MAX_SECONDS_PER_MODE
    for i in range(n):
        t0 = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - t0)
        if time.monotonic() > deadline:
            break
    return out


def _summary(samples: list[list[float]]) -> dict[str, float]:
    flat = sorted(x for s in samples for x in s)
    if not flat:
        return {"p50": 0.0, "p99": 0.0}
    return {"p50": statistics.median(flat) * 1000, "p99": flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000}


def _geomean_ratio(mine: list[list[float]], other: list[list[float]]) -> float:
    """The geometric mean over queries of (our median / Oxigraph's median) for each query: the
    typical per-query factor. The p50 over all requests can fall in the gap between the fast
    and the slow queries and jump between runs; this does not."""
    import math

    ratios = [statistics.median(m) / statistics.median(o) for m, o in zip(mine, other) if m and o
              and statistics.median(o) > 0]
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else 0.0


def _throughput(call: Any, n: int, clients: int = 4) -> float:
    """Requests per second with `clients` concurrent clients (bounded by n and by time)."""
    deadline = time.monotonic() + MAX_SECONDS_PER_MODE
    done = 0
    t0 = time.perf_counter()

    def work(i: int) -> int:
        if time.monotonic() > deadline:
            return 0
        call(i)
        return 1

    with ThreadPoolExecutor(clients) as pool:
        done = sum(pool.map(work, range(n)))
    return done / (time.perf_counter() - t0)


# --- the table ----------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "–"


def render(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| triples | metric | caspian-kg memory | caspian-kg Oxigraph store | Oxigraph server | ratio (Oxigraph store / Oxigraph server) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        size, memory, ours, base = f"{row['size']:,}", row["memory"], row["ours"], row["baseline"]
        lines.append(f"| {size} | load + closure (s) | {memory['total']:.1f} (closure {memory['closure']:.1f}, "
                     f"{memory['reasoner']}) | {ours['total']:.1f} (closure {ours['closure']:.1f}) | "
                     f"{base['total']:.1f} (load only, no reasoning) | {_ratio(ours['total'], base['total'])} |")
        lines.append(f"| {size} | peak memory (MB) | {memory['rss_mb']:.0f} | {ours['rss_mb']:.0f} | "
                     f"{base['rss_mb']:.0f} | {_ratio(ours['rss_mb'], base['rss_mb'])} |")
        for mode in ("cold", "uncached", "cached"):
            mine, other, per_query = row[mode]
            lines.append(f"| {size} | {mode} saved-query latency p50 / p99 (ms) | – | {mine['p50']:.1f} / "
                         f"{mine['p99']:.1f} | {other['p50']:.1f} / {other['p99']:.1f} | "
                         f"{_ratio(mine['p50'], other['p50'])} / {_ratio(mine['p99'], other['p99'])} |")
            lines.append(f"| {size} | {mode}: per-query ratio of medians, geometric mean | – | – | – | "
                         f"{per_query:.2f}x |")
        for key, label in (("throughput", "cached"), ("throughput_uncached", "uncached")):
            mine_t, other_t = row[key]
            lines.append(f"| {size} | {label} throughput, 4 clients (req/s) | – | {mine_t:.0f} | {other_t:.0f} | "
                         f"{_ratio(mine_t, other_t)} |")
    notes = [f"{row['size']:,} triples: {', '.join(row['disagree'])}" for row in rows if row.get("disagree")]
    if notes:
        lines += ["", "Answers that differ between the servers (row counts): " + "; ".join(notes)]
    else:
        lines += ["", "Both servers returned the same number of rows for every query at every size."]
    return "\n".join(lines)

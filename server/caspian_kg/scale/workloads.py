"""What the benchmark sends: the saved queries as plain SPARQL, analytical queries the project has
never seen, and entity pages; and how it times them (latency per query, throughput with 4
clients). Every request can be made unique (a comment in the query text, a query string on a
page) so that no cache, ETag or memo helps: "uncached" means the engine does the work each time.
"""

from __future__ import annotations

import json
import math
import statistics
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..config import DEFAULT_BASE, Config
from ..saved_queries import QueryLibrary
from ..stores.native import bind_values
from .peers import Server, fetch

PREFIXES = """PREFIX ck: <https://w3id.org/caspian-kg/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""

# Questions an analyst writes by hand, in the vocabulary both the shipped and the synthetic data use:
# joins, GROUP BY/HAVING, OPTIONAL + NOT EXISTS, property paths, text filters over evidence,
# ORDER BY + LIMIT. Sent to /sparql like any client would; none of them is a saved query.
ANALYTICAL = {
    "members-per-org": """SELECT ?org ?label (COUNT(DISTINCT ?state) AS ?members) WHERE {
  ?state org:memberOf ?org . ?org rdfs:label ?label . OPTIONAL { ?org ck:headquarteredIn ?seat }
} GROUP BY ?org ?label ORDER BY DESC(?members) ?label LIMIT 20""",
    "states-in-many-orgs": """SELECT ?state (COUNT(DISTINCT ?org) AS ?n) WHERE { ?state org:memberOf ?org }
GROUP BY ?state HAVING (COUNT(DISTINCT ?org) > 2) ORDER BY DESC(?n) ?state LIMIT 50""",
    "members-never-observers": """SELECT ?m ?state ?interval WHERE {
  ?m a org:Membership ; org:member ?state . OPTIONAL { ?m org:memberDuring ?interval }
  FILTER NOT EXISTS { ?state ck:observerOf ?any }
} LIMIT 200""",
    "events-per-state-by-path": """SELECT ?state (COUNT(DISTINCT ?event) AS ?events) WHERE {
  ?event ck:place/ck:locatedIn* ?state . ?state a ck:State
} GROUP BY ?state ORDER BY DESC(?events) ?state LIMIT 20""",
    "evidence-text-filter": """SELECT ?node ?passage WHERE {
  ?node ck:evidence ?passage FILTER(CONTAINS(LCASE(STR(?passage)), "summit"))
} ORDER BY ?node LIMIT 50""",
    "latest-events": """SELECT ?event ?date ?label WHERE {
  ?event ck:date ?date . OPTIONAL { ?event rdfs:label ?label }
} ORDER BY DESC(STR(?date)) ?event LIMIT 10""",
    "quotations-per-speaker": """SELECT ?speaker (SAMPLE(?name) AS ?label) (COUNT(DISTINCT ?q) AS ?n) WHERE {
  ?q ck:speaker ?speaker . OPTIONAL { ?speaker rdfs:label ?name } OPTIONAL { ?q ck:occasion/ck:place ?where }
} GROUP BY ?speaker ORDER BY DESC(?n) ?speaker LIMIT 10""",
    "sourced-memberships": """SELECT ?doc (COUNT(?m) AS ?n) WHERE {
  ?m a org:Membership ; prov:wasDerivedFrom ?doc ; ck:evidence ?passage
} GROUP BY ?doc ORDER BY DESC(?n) ?doc""",
}

SYNTHETIC = {"state": "state/s0", "person": "person/p0", "org": "org/o0", "membership": "membership/m0",
             "place": "place/capital-0", "event": "event/e0", "quote": "quote/q0"}

Query = tuple[str, str, str]  # (name, our saved-query path with its parameters, the query text)


def analytical() -> list[Query]:
    return [(name, "", PREFIXES + text) for name, text in ANALYTICAL.items()]


def saved_queries(config: Config, root: Path, synthetic: bool) -> list[Query]:
    """Every saved query whose parameters all have defaults, with those values bound in the text;
    on synthetic data a default naming a real entity (state/azerbaijan) names its synthetic
    counterpart (state/s0), so every engine does real work. The text declares its prefixes: the
    peers do not know ours."""
    library = QueryLibrary.load(config.with_(root=root))
    out = []
    for query in library:
        if any(p.required and p.default is None for p in query.parameters):
            continue
        values = {p.name: _synthetic(str(p.default)) if synthetic else str(p.default)
                  for p in query.parameters if p.default is not None}
        try:
            parsed = {p.name: p.parse(values[p.name]) for p in query.parameters if p.name in values}
        except Exception:  # noqa: BLE001, S112 - a default the synthetic data cannot take: skip the query
            continue
        bindings = {var: parsed[name] for name, var in _variables(query).items() if name in parsed}
        text = bind_values(query.sparql, bindings) if bindings else query.sparql
        out.append((query.name, f"/queries/{query.name}?" + urllib.parse.urlencode(values), text))
    return out


def entity_pages(synthetic: bool) -> list[str]:
    """Pages of the entities a reader opens first: the biggest ones."""
    if synthetic:
        return ["/id/state/s0.html", "/id/org/o0.html", "/id/event/e0.html"]
    return ["/id/state/azerbaijan.html", "/id/org/cica.html", "/id/doc/azerbaijan-central-asia-relations.html"]


def _synthetic(raw: str) -> str:
    if raw.startswith(DEFAULT_BASE + "id/"):
        kind = raw[len(DEFAULT_BASE) + 3:].split("/", 1)[0]
        if kind in SYNTHETIC:
            return DEFAULT_BASE + "id/" + SYNTHETIC[kind]
    return raw


def _variables(query: Any) -> dict[str, str]:
    """Parameter name -> its variable name in the query text (?_org_iri for org)."""
    import re

    out = {}
    for p in query.parameters:
        match = re.search(rf"[?$](__?{re.escape(p.name)}(?:_[A-Za-z0-9]+)*)\b", query.sparql)
        out[p.name] = getattr(p, "variable", None) or (match.group(1) if match else p.name)
    return out


# --- timing ---------------------------------------------------------------------------------------


def unique(text: str, i: int) -> str:
    return f"{text}\n# {time.time_ns()} {i}"


REQUEST_TIMEOUT = 30.0  # our deadline: a peer without one (rdflib-endpoint) is cut off here too


def send(server: Server, text: str, i: int) -> None:
    fetch(server.url(unique(text, i)), timeout=REQUEST_TIMEOUT)


def latencies(call: Callable[[int], object], n: int, budget: float) -> list[float]:
    """Up to n timings of call(i), stopping early once `budget` seconds are spent."""
    out: list[float] = []
    deadline = time.monotonic() + budget
    for i in range(n):
        t0 = time.perf_counter()
        try:
            call(i)
        except OSError:  # a 503 past the deadline: count it at the time it took, it is the answer users got
            pass
        out.append(time.perf_counter() - t0)
        if time.monotonic() > deadline:
            break
    return out


def per_query(server: Server, queries: list[Query], n: int, budget: float) -> dict[str, list[float]]:
    """Timings of each query sent uncached `n` times (within `budget` seconds in all)."""
    each = budget / max(1, len(queries))
    return {name: latencies(sender(server, [text]), n, each) for name, _, text in queries}


def sender(server: Server, texts: list[str]) -> Callable[[int], object]:
    """call(i): send the i-th text (round robin), made unique."""
    return lambda i: send(server, texts[i % len(texts)], i)


def getter(url: str, paths: list[str], accept: str = "application/sparql-results+json",
           unique: bool = False) -> Callable[[int], object]:
    """call(i): GET the i-th path (round robin); `unique` adds ?n=i so no ETag or cache helps."""
    return lambda i: fetch(url + paths[i % len(paths)] + (f"?n={i}" if unique else ""), accept=accept)


def throughput(call: Callable[[int], object], n: int, budget: float, clients: int = 4) -> float:
    """Requests per second with `clients` concurrent clients (bounded by n and by `budget`)."""
    deadline = time.monotonic() + budget
    t0 = time.perf_counter()

    def work(i: int) -> int:
        if time.monotonic() > deadline:
            return 0
        try:
            call(i)
        except OSError:
            return 0
        return 1

    with ThreadPoolExecutor(clients) as pool:
        done = sum(pool.map(work, range(n)))
    return done / (time.perf_counter() - t0)


def summary(samples: dict[str, list[float]]) -> dict[str, float]:
    """p50 and p99 over every request (ms), and the slowest query's median (ms)."""
    flat = sorted(x for s in samples.values() for x in s)
    if not flat:
        return {"p50": 0.0, "p99": 0.0, "worst": 0.0}
    worst = max(statistics.median(s) for s in samples.values() if s)
    return {"p50": statistics.median(flat) * 1000, "p99": flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000,
            "worst": worst * 1000}


def geomean_ratio(mine: dict[str, list[float]], other: dict[str, list[float]]) -> float:
    """The geometric mean over queries of (our median / their median): the typical per-query factor."""
    ratios = [statistics.median(mine[k]) / statistics.median(other[k]) for k in mine
              if mine[k] and other.get(k) and statistics.median(other[k]) > 0]
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else 0.0


def worst_ratios(mine: dict[str, list[float]], other: dict[str, list[float]], top: int = 3) -> list[str]:
    """The queries furthest behind the reference: 'name 12.0 ms (3.1x)'."""
    rows = sorted(((statistics.median(mine[k]) / statistics.median(other[k]), k, statistics.median(mine[k]))
                   for k in mine if mine[k] and other.get(k) and statistics.median(other[k]) > 0), reverse=True)
    return [f"{k} {ms * 1000:.0f} ms ({r:.1f}x)" for r, k, ms in rows[:top]]


def row_counts(server: Server, queries: list[Query]) -> dict[str, tuple[int, int]]:
    """Per query, (rows, distinct rows) of the answer: the second tells a repeated row (Virtuoso
    7.2 repeats one in a SELECT DISTINCT now and then) from a different answer."""
    out = {}
    for name, _, text in queries:
        try:
            data = json.loads(fetch(server.url(text), timeout=REQUEST_TIMEOUT))
        except (OSError, ValueError):  # an error or past the deadline: -1 rows
            out[name] = (-1, -1)
            continue
        rows = data["results"]["bindings"] if "results" in data else [data]
        out[name] = (len(rows), len({json.dumps(row, sort_keys=True) for row in rows}))
    return out

"""The load and soak scenario of tests/test_load.py, driven by locust used as a library.

Run it in its own process (`python tests/load_scenario.py URL --users 32 --seconds 60`): importing
locust monkey-patches the standard library with gevent, which would break the forking worker
pools and subprocesses of other tests in a pytest process. It prints one JSON object on stdout
(figures per request class); locust's own messages go to stderr. Not collected by pytest (no
test_ prefix).

Request classes, and what each may answer without counting as a failure:

* cheap — pages, /health, RDF of one resource, the timeline, search, a cached saved query: 200 only;
* query — uncached /sparql queries that should succeed (a random comment defeats the answer cache
  and ETags): 200, or the designed refusals of admission control (503 with Retry-After when the
  query slots are taken or no worker freed up in time, 429 with Retry-After past the client's rate);
* slow — queries that run past the deadline: 503 "ran longer than" (or the same designed refusals);
* hostile — SERVICE, LOAD, updates, syntax errors: 400 or 415 (or the same designed refusals).

Anything else (a 500, another 5xx, a connection error, a 200 for a hostile or deadline-bound query)
is a locust failure and is listed in the summary.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from collections import Counter
from typing import Any

import gevent
from locust import FastHttpUser, between, task
from locust.contrib.fasthttp import ResponseContextManager
from locust.env import Environment
from locust.stats import StatsEntry

CLASSES = ("cheap", "query", "slow", "hostile")

CHEAP = [  # (path, weight)
    ("/health", 3),
    ("/", 2),
    ("/id/state/azerbaijan.html", 1),
    ("/id/org/cica.ttl", 2),
    ("/void.html", 1),
    ("/queries/summits?format=json", 3),  # cached by the test before the run
    ("/timeline", 2),
    ("/search?q=baku", 2),
]

QUERIES = [  # fast questions with known answers (README, tests/competency)
    "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { orgn:cica org:hasMember ?s }",
    "ASK { state:turkmenistan org:memberOf orgn:cica }",
    "SELECT ?e WHERE { ?e ck:involvesState state:kazakhstan }",
    "SELECT ?p WHERE { place:khydyrly ck:locatedIn ?p }",
]

SLOW = {  # each runs far past a 5 s deadline on the shipped data, on every store (Oxigraph answers a
    # two-way product with a regex in 3 s: three ways, 80 billion rows, it never finishes)
    "regex": 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o . ?a ?b ?c . ?d ?e ?f FILTER(REGEX(STR(?o), "(a+)+$")) }',
    "cross-join": "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
}

HOSTILE = {  # name -> (query text for GET /sparql, or None for the POST update below)
    "service": "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "load": "LOAD <http://127.0.0.1:9/data.ttl>",
    "insert": "INSERT DATA { <urn:x:s> <urn:x:p> <urn:x:o> }",
    "syntax": "SELECT ?x WHERE { ?x ?y ",
}

EXPECTED = {
    "cheap": {200},
    "query": {200, 429, 503},
    "slow": {429, 503},
    "hostile": {400, 415, 429, 503},
}

RNG = random.Random()

# (class, status, kind) -> count; kind tells the designed 503s apart by their one-line message
OUTCOMES: Counter[tuple[str, int, str]] = Counter()


def kind_of(status: int, text: str) -> str:
    if status == 503:
        if "slots are taken" in text:
            return "slots-full"
        if "ran longer than" in text:
            return "deadline"
        if "stayed busy" in text:
            return "workers-busy"
        return "other"
    if status == 429:
        return "rate" if "slow down" in text else "client-share"
    return ""


def check(cls: str, response: ResponseContextManager) -> None:
    """Count the outcome; mark it a failure unless it is one this class may get."""
    status = response.status_code or 0
    text = (response.text or "") if status else ""
    kind = kind_of(status, text)
    OUTCOMES[(cls, status, kind)] += 1
    if status == 0:
        response.failure(f"connection error: {response.error!r}")
    elif status not in EXPECTED[cls]:
        response.failure(f"unexpected {status}: {text[:200]}")
    elif kind in ("slots-full", "rate", "client-share") and not response.headers.get("Retry-After"):
        # admission's refusals say when to come back; a query stopped at its deadline does not
        # (the same query would be stopped again)
        response.failure(f"{status} {kind} without Retry-After")
    else:
        response.success()


def unique(query: str) -> str:
    """A query text no earlier request had: neither the answer cache nor an ETag can answer it."""
    return f"{query}\n# load {uuid.uuid4().hex}"


class Visitor(FastHttpUser):
    """Mostly a reader of pages; sometimes asks a question, rarely a hostile or endless one."""

    wait_time = between(0.2, 1.0)

    @task(40)
    def cheap(self) -> None:
        path = RNG.choices([p for p, _ in CHEAP], weights=[w for _, w in CHEAP])[0]
        with self.client.get(path, name=f"cheap {path}", catch_response=True) as response:
            check("cheap", response)

    @task(8)
    def query(self) -> None:
        text = unique(RNG.choice(QUERIES))
        headers = {"Accept": "application/sparql-results+json"}
        if RNG.random() < 0.5:
            ctx = self.client.get("/sparql", params={"query": text}, headers=headers, name="query GET /sparql",
                                  catch_response=True)
        else:
            ctx = self.client.post("/sparql", data=text.encode(), name="query POST /sparql", catch_response=True,
                                   headers={**headers, "Content-Type": "application/sparql-query"})
        with ctx as response:
            check("query", response)

    @task(1)
    def slow(self) -> None:
        name = RNG.choice(sorted(SLOW))
        with self.client.get("/sparql", params={"query": unique(SLOW[name])}, name=f"slow {name}",
                             catch_response=True) as response:
            check("slow", response)

    @task(4)
    def hostile(self) -> None:
        name = RNG.choice([*sorted(HOSTILE), "update-post"])
        if name == "update-post":  # the Protocol's update form: refused at the door (415)
            ctx = self.client.post("/sparql", data=HOSTILE["insert"].encode(), name="hostile update POST",
                                   headers={"Content-Type": "application/sparql-update"}, catch_response=True)
        else:
            ctx = self.client.get("/sparql", params={"query": unique(HOSTILE[name])}, name=f"hostile {name}",
                                  catch_response=True)
        with ctx as response:
            check("hostile", response)


def summary(env: Environment, users: int, seconds: float) -> dict[str, Any]:
    """Figures per class from locust's stats (requests, rate, percentiles) and our outcome counts."""
    classes: dict[str, Any] = {}
    for cls in CLASSES:
        total = StatsEntry(env.stats, cls, "")
        for entry in env.stats.entries.values():
            if entry.name.split(" ", 1)[0] == cls:
                total.extend(entry)
        statuses: Counter[str] = Counter()
        kinds: Counter[str] = Counter()
        for (c, status, kind), n in OUTCOMES.items():
            if c == cls:
                statuses[str(status)] += n
                if kind:
                    kinds[f"{status} {kind}"] += n
        classes[cls] = {
            "requests": total.num_requests,
            "failures": total.num_failures,
            "rps": round(total.num_requests / seconds, 2),
            "p50_ms": total.get_response_time_percentile(0.5) if total.num_requests else None,
            "p95_ms": total.get_response_time_percentile(0.95) if total.num_requests else None,
            "p99_ms": total.get_response_time_percentile(0.99) if total.num_requests else None,
            "max_ms": round(total.max_response_time) if total.num_requests else None,
            "statuses": dict(sorted(statuses.items())),
            "refusals": dict(sorted(kinds.items())),
        }
    errors = [{"name": e.name, "error": str(e.error)[:300], "count": e.occurrences}
              for e in env.stats.errors.values()]
    return {
        "seconds": round(seconds, 1),
        "users": users,
        "requests": env.stats.total.num_requests,
        "failures": env.stats.total.num_failures,
        "rps": round(env.stats.total.num_requests / seconds, 2),
        "classes": classes,
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    RNG.seed(args.seed)
    env = Environment(user_classes=[Visitor], host=args.url)
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=args.users)  # every user within the first second
    started = time.monotonic()
    gevent.spawn_later(args.seconds, runner.quit)
    runner.greenlet.join()
    json.dump(summary(env, args.users, time.monotonic() - started), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

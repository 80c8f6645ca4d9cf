"""Load, soak and faults against a real `caspian-kg serve` process on 127.0.0.1.

* Load and soak: 32 locust users for 60 s (tests/load_scenario.py, in its own process because
  locust gevent-patches the standard library) — mostly pages, some uncached queries, queries that
  run into the 5 s deadline, hostile queries. Cheap routes are never refused and never wait for a
  deadline; query routes get only answers or the designed refusals (503 slots full or deadline,
  429 over the client's rate); memory stays bounded; the data is the same at the end.
* Killed workers: SIGKILL the query workers while queries run: the queries in flight get a 503,
  the workers are replaced, later queries are answered.
* A damaged on-disk store: the server either refuses to start with one line on stderr, or
  rebuilds the store from the files and serves exactly the data the memory store serves.

Run with `pytest -s -m slow tests/test_load.py` to see the figures. `LOAD_TEST_SECONDS=600`
makes the soak longer (the default keeps this file under about 3 minutes on 2 cores).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, children, free_port, query_workers, start_server, stop_server

from caspian_kg import dumps
from caspian_kg.graph import KnowledgeGraph

pytestmark = pytest.mark.slow

SCENARIO = Path(__file__).resolve().parent / "load_scenario.py"
CLI = str(Path(sys.executable).with_name("caspian-kg"))
USERS = 32
SECONDS = float(os.environ.get("LOAD_TEST_SECONDS", "60"))

# The server of the load test. 2 workers + a queue of 4 = 6 query slots (8 threads: 2 always left
# for cheap routes); a 5 s deadline. Every locust user is 127.0.0.1, one client, so:
# - client_queries=32 (more than the 6 slots): the one client can fill every slot, so the
#   "slots full" 503 is reached (with fewer, that client's 429 would always come first; the
#   per-client share itself is proven in test_admission.py);
# - client_rate=5/second: the scenario starts about 5-8 pieces of query work a second, so the
#   moving window refuses some (429 "slow down") in most seconds of the run, while the rest
#   still fill the slots behind the deadline-bound queries (503).
LOAD_SETTINGS = {"workers": "2", "threads": "8", "query_queue": "4", "query_timeout": "5",
                 "client_queries": "32", "client_rate": "5/second"}

# Cheap requests' p99 measured on a 2-core machine, 32 users, 60 s: 0.6-1.7 s (p50 20-160 ms;
# the two workers spend most of the run at 100% CPU on deadline-bound queries, the locust process
# shares the same cores, and so may other work on the machine). The bound is loose because the
# machine is noisy, but below the 5 s deadline: cheap requests queued behind slow queries would
# take the whole deadline, and more than 1 in 100 of them would break it.
CHEAP_P99_MS = 4000
# RSS of the server and its workers at the end, at most this factor of the start plus a margin
RSS_FACTOR, RSS_MARGIN_KB = 2.5, 64 * 1024

QUICK = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { orgn:cica org:hasMember ?s }"
ENDLESS = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # a cross join: minutes


# --- HTTP and /proc helpers ----------------------------------------------------------------------


def get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    """Status and body of a GET (errors are answers too); connection errors raise."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def sparql(base: str, query: str, timeout: float = 60) -> tuple[int, bytes]:
    return get(f"{base}/sparql?" + urllib.parse.urlencode({"query": query}), timeout)


def health(base: str) -> dict[str, Any]:
    status, body = get(f"{base}/health")
    assert status == 200
    return json.loads(body)  # type: ignore[no-any-return]


def dump_hash(base: str) -> str:
    status, body = get(f"{base}/export/caspian-kg.nt", timeout=60)
    assert status == 200
    return hashlib.sha256(body).hexdigest()


def rss_kb(pid: int) -> int:
    """VmRSS of one process in KiB (0 when it is gone or a zombie)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(pid: int) -> int:
    """RSS of the server and its worker processes (children, recursively), summed: pages the
    workers share with the server copy-on-write count in each, so this over-counts, but the
    same way at every sample."""
    return rss_kb(pid) + sum(tree_rss_kb(child) for child in children(pid))


def wait_for(predicate: Callable[[], bool], limit: float, what: str) -> None:
    end = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture()
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    proc, url, _ = start_server(tmp_path, **request.param)
    try:
        yield proc, url
    finally:
        stop_server(proc)


# --- load and soak -------------------------------------------------------------------------------


@pytest.mark.parametrize("server", [LOAD_SETTINGS], indirect=True)
def test_load_and_soak_with_locust(server: tuple[subprocess.Popen[bytes], str]) -> None:
    proc, url = server
    for path in ("/", "/id/state/azerbaijan.html", "/id/org/cica.ttl", "/void.html", "/timeline",
                 "/search?q=baku", "/queries/summits?format=json"):  # warm: the saved query is cached from now on
        assert get(url + path)[0] == 200, path
    before, hash_before = health(url), dump_hash(url)
    rss = [(0.0, tree_rss_kb(proc.pid))]
    server_rss = [rss_kb(proc.pid)]  # the server process alone (the answer cache, the app state)
    started = time.monotonic()
    locust = subprocess.Popen([sys.executable, str(SCENARIO), url, "--users", str(USERS), "--seconds", str(SECONDS)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        while locust.poll() is None and time.monotonic() - started < SECONDS + 90:
            time.sleep(2)
            rss.append((time.monotonic() - started, tree_rss_kb(proc.pid)))
        out, err = locust.communicate(timeout=60)
    finally:
        if locust.poll() is None:
            locust.kill()
            locust.wait()
    assert locust.returncode == 0, err.decode(errors="replace")[-3000:]
    figures = json.loads(out.decode().strip().splitlines()[-1])  # the summary is the last line
    time.sleep(1)  # let the last deadline-bound queries end (their workers are replaced)
    rss.append((time.monotonic() - started, tree_rss_kb(proc.pid)))
    server_rss.append(rss_kb(proc.pid))
    after, hash_after = health(url), dump_hash(url)
    report(figures, rss, server_rss, before, after)

    classes = figures["classes"]
    assert figures["errors"] == [] and figures["failures"] == 0, figures["errors"]  # no connection errors,
    # no unexpected status, every 429 and "slots full" 503 with Retry-After (load_scenario.check)
    assert classes["cheap"]["statuses"] == {"200": classes["cheap"]["requests"]}  # never refused, never 5xx
    assert classes["cheap"]["p99_ms"] < CHEAP_P99_MS
    for cls in ("query", "slow", "hostile"):  # query routes: answers and designed refusals only
        assert set(classes[cls]["statuses"]) <= {"200", "400", "415", "429", "503"}, cls
    assert "200" not in classes["slow"]["statuses"] and "200" not in classes["hostile"]["statuses"]
    refusals = Counter[str]()
    for cls in ("query", "slow", "hostile"):
        refusals.update(classes[cls]["refusals"])
    assert refusals["503 slots-full"] > 0 and refusals["429 rate"] > 0  # both admission paths exercised
    assert classes["slow"]["refusals"].get("503 deadline", 0) > 0  # and the deadline
    assert refusals["503 other"] == 0
    assert classes["query"]["statuses"].get("200", 0) > 0  # queries are still answered
    assert figures["requests"] > USERS * SECONDS / 4  # the run ran (about 35-45 requests a second here)
    assert after["refused"].get("503", 0) >= refusals["503 slots-full"]
    assert after["refused"].get("429", 0) >= refusals["429 rate"]
    # memory: bounded; the data: unchanged (updates were refused), and the server still answers
    assert rss[-1][1] <= rss[0][1] * RSS_FACTOR + RSS_MARGIN_KB, rss
    assert (after["triples"], after["version"]) == (before["triples"], before["version"])
    assert hash_after == hash_before
    time.sleep(1.1)  # the rate window moves on
    assert sparql(url, QUICK)[0] == 200


def report(figures: dict[str, Any], rss: list[tuple[float, int]], server_rss: list[int], before: dict[str, Any],
           after: dict[str, Any]) -> None:
    """The figures, for `pytest -s`."""
    print(f"\nload: {figures['users']} users, {figures['seconds']} s, {figures['requests']} requests "
          f"({figures['rps']}/s), {figures['failures']} failures")
    for cls, c in figures["classes"].items():
        print(f"  {cls:8} {c['requests']:6} requests {c['rps']:7}/s  p50 {c['p50_ms']} ms  p95 {c['p95_ms']} ms  "
              f"p99 {c['p99_ms']} ms  max {c['max_ms']} ms  statuses {c['statuses']}  refusals {c['refusals']}")
    middle = min(rss, key=lambda sample: abs(sample[0] - rss[-1][0] / 2))
    print(f"  RSS server+workers: start {rss[0][1] / 1024:.0f} MB, middle ({middle[0]:.0f} s) {middle[1] / 1024:.0f} MB, "
          f"end {rss[-1][1] / 1024:.0f} MB, max {max(r for _, r in rss) / 1024:.0f} MB; "
          f"server alone {server_rss[0] / 1024:.0f} -> {server_rss[-1] / 1024:.0f} MB")
    print(f"  /health refused {after['refused']}, worker restarts {before['worker_restarts']} -> "
          f"{after['worker_restarts']}, triples {before['triples']} -> {after['triples']}")


# --- killed workers ------------------------------------------------------------------------------


@pytest.mark.parametrize("server", [{"workers": "2", "threads": "8", "query_timeout": "20",
                                     "client_queries": "100", "client_rate": "none"}], indirect=True)
def test_killed_workers_answer_503_and_are_replaced(server: tuple[subprocess.Popen[bytes], str]) -> None:
    proc, url = server
    restarts = health(url)["worker_restarts"]
    stop = threading.Event()
    seen: Counter[str] = Counter()
    problems: list[str] = []

    def traffic(worker: int) -> None:  # pages and quick uncached queries all along
        while not stop.is_set():
            try:
                if worker % 2:
                    status, body = sparql(url, f"{QUICK}\n# {uuid.uuid4().hex}", timeout=30)
                    route = "query"
                else:
                    status, body = get(f"{url}/id/org/cica.ttl")
                    route = "cheap"
            except OSError as exc:  # a connection error: never acceptable
                problems.append(f"{type(exc).__name__}: {exc}")
                continue
            seen[f"{route} {status}"] += 1
            if status != 200 and not (route == "query" and status == 503 and b"worker died" in body):
                problems.append(f"{route} {status} {body[:200]!r}")

    answers: dict[int, tuple[int, bytes]] = {}

    def endless(turn: int) -> None:
        answers[turn] = sparql(url, f"{ENDLESS}\n# {uuid.uuid4().hex}")

    threads = [threading.Thread(target=traffic, args=(i,), daemon=True) for i in range(4)]
    for thread in threads:
        thread.start()
    rounds = 3
    try:
        for turn in range(rounds):
            slow = threading.Thread(target=endless, args=(turn,))
            slow.start()
            wait_for(lambda: health(url)["query_slots"]["busy"] >= 1, 10, "the endless query to start")
            time.sleep(0.5)  # it is running in a worker now (the quick queries take milliseconds)
            workers = query_workers(proc.pid)
            assert len(workers) >= 2, workers
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
            slow.join(timeout=15)
            assert not slow.is_alive(), "the query in flight never got an answer"
            status, body = answers[turn]
            assert status == 503 and b"worker died" in body, (status, body)
            time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=35)
    print(f"\nkilled workers: {rounds} rounds; traffic meanwhile {dict(seen)}")
    assert problems == []
    assert seen["cheap 200"] > 0 and seen["query 200"] > 0
    assert sparql(url, f"{QUICK}\n# {uuid.uuid4().hex}")[0] == 200  # later queries are served
    after = health(url)
    assert after["worker_restarts"] >= restarts + rounds, after
    assert len([pid for pid in query_workers(proc.pid) if rss_kb(pid)]) == 2  # a full pool of live workers


# --- a damaged on-disk store ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Oxigraph store of the shipped data, built by the CLI (then closed: the process exits)."""
    store = tmp_path_factory.mktemp("built") / "store"
    done = subprocess.run([CLI, "--root", str(ROOT), "stats", "--store", str(store)], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert (store / "caspian-kg.json").is_file() and list((store / "oxigraph").glob("*.sst"))
    return store


def truncate_manifest(store: Path) -> None:
    for manifest in (store / "oxigraph").glob("MANIFEST-*"):
        with open(manifest, "r+b") as f:
            f.truncate(100)


def garbage_tables(store: Path) -> None:
    for table in (store / "oxigraph").glob("*.sst"):
        table.write_bytes(os.urandom(table.stat().st_size))


def delete_database(store: Path) -> None:
    shutil.rmtree(store / "oxigraph")


def invalid_record(store: Path) -> None:
    (store / "caspian-kg.json").write_text('{"version": "', encoding="utf-8")


DAMAGE = {  # how, and what the server must do
    "manifest-truncated": (truncate_manifest, "refuses"),
    "tables-overwritten": (garbage_tables, "refuses"),
    "database-deleted": (delete_database, "rebuilds"),
    "record-invalid-json": (invalid_record, "rebuilds"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_store_is_refused_or_rebuilt(damage: str, built_store: Path, tmp_path: Path,
                                             kg: KnowledgeGraph) -> None:
    store = tmp_path / "store"
    shutil.copytree(built_store, store)
    corrupt, expected = DAMAGE[damage]
    corrupt(store)
    port = free_port()
    log = tmp_path / "stderr.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([CLI, "--root", str(ROOT), "serve", "--store", str(store), "--port", str(port),
                                 "--workers", "1"], stdout=subprocess.DEVNULL, stderr=err, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        answered: dict[str, Any] = {}

        def settled() -> bool:
            if proc.poll() is not None:
                return True
            try:
                answered.update(health(url))
                return True
            except OSError:
                return False

        wait_for(settled, 120, "the server to exit or answer")
        stderr = log.read_text(errors="replace")
        assert "Traceback" not in stderr
        if proc.poll() is not None:  # refused to start: one line, non-zero
            assert expected == "refuses", stderr
            assert proc.returncode != 0
            lines = stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("caspian-kg: cannot open the Oxigraph store"), stderr
            assert "damaged" in lines[0]
            print(f"\n{damage}: exit {proc.returncode}: {lines[0]}")
        else:  # rebuilt from the files: exactly the data the memory store serves
            assert expected == "rebuilds", answered
            assert answered["store"] == "oxigraph" and answered["triples"] == len(kg.dataset)
            assert dump_hash(url) == hashlib.sha256(dumps.serialize(kg, "nt")).hexdigest()
            assert sparql(url, QUICK)[0] == 200
            assert json.loads((store / "caspian-kg.json").read_text())["version"] == answered["version"]
            print(f"\n{damage}: rebuilt, {answered['triples']} triples")
    finally:
        if proc.poll() is None:
            stop_server(proc)

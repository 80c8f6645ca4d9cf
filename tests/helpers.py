"""Test helpers: throw-away project roots (real ontology + fixture data) for tests that break
things, and a real server process for tests that talk HTTP to it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def make_root(tmp: Path, data: dict[str, str] | None = None) -> Path:
    """A project root with the shipped ontology and the inference fixture as its only source.

    `data` maps extra or replacement file names under data/ to their text.
    """
    shutil.copytree(ROOT / "ontology", tmp / "ontology")
    (tmp / "data" / "sources").mkdir(parents=True)
    shutil.copy(FIXTURES / "fixture.txt", tmp / "data" / "sources" / "fixture.txt")
    shutil.copy(FIXTURES / "inference.ttl", tmp / "data" / "fixture.ttl")
    for name, text in (data or {}).items():
        (tmp / "data" / name).write_text(text, encoding="utf-8")
    return tmp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(tmp: Path, **settings: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`python -m caspian_kg.web.serve` on a free port, once /health answers; `settings` override
    CASPIAN_KG_* variables (workers="1"...). Returns the process, its URL and its stderr log."""
    port = free_port()
    log = tmp / "stderr.log"
    env = {**os.environ, "CASPIAN_KG_ROOT": str(ROOT), "CASPIAN_KG_PORT": str(port),
           "CASPIAN_KG_HOST": "127.0.0.1", "CASPIAN_KG_WORKERS": "2", "CASPIAN_KG_THREADS": "8",
           **{f"CASPIAN_KG_{k.upper()}": v for k, v in settings.items()}}
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "caspian_kg.web.serve"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, proc, log)
    except BaseException:
        stop_server(proc, signal.SIGKILL)
        raise
    return proc, url, log


def stop_server(proc: subprocess.Popen[bytes], how: signal.Signals = signal.SIGINT) -> None:
    proc.send_signal(how)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for_health(url: str, proc: subprocess.Popen[bytes], log: Path, limit: float = 120.0) -> None:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError("server did not become healthy")


# --- hostile queries and the listener that must never hear from them (conftest.listener) --------


def connections(sock: socket.socket) -> int:
    """How many connections the listener received (and drops them)."""
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except TimeoutError:
            return count
        conn.close()
        count += 1


SERVICE_QUERIES = [
    "SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * {{ ?x ?y ?z OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} LIMIT 1",
    "ASK {{ FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "SELECT * {{ {{ SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * {{ BIND(<{url}> AS ?u) SERVICE ?u {{ ?s ?p ?o }} }}",
]


def assert_service_refused(client: Any, listener: socket.socket, template: str) -> None:
    """A SERVICE query aimed at `listener` is a 400 naming SERVICE, by GET and by POST, and the
    listener hears nothing."""
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
    query = template.format(url=url)
    for response in (client.get("/sparql", query_string={"query": query}),
                     client.post("/sparql", data=query, content_type="application/sparql-query")):
        assert response.status_code == 400
        assert "SERVICE" in response.get_data(as_text=True)
    assert connections(listener) == 0


# --- asking the query service directly (what every door calls) -----------------------------------


def service(kg: Any, library: Any = None) -> Any:
    """The query service over `kg`, without limits that would get in a test's way."""
    from caspian_kg.query import QueryService

    return QueryService(kg, 10**9, 10**9, library)


def run_saved(kg: Any, library: Any, query: Any, bindings: dict[str, Any], inference: bool = True) -> Any:
    """A saved query's answer as an rdflib Result, whatever the store (Oxigraph's own solutions
    are turned into rdflib terms)."""
    from caspian_kg.oxterms import to_result
    from caspian_kg.query import QueryRequest
    from caspian_kg.stores.native import NativeSolutions

    result = service(kg, library).run(QueryRequest(saved=query.name, bindings=tuple(sorted(bindings.items())),
                                                   inference=inference))
    return to_result(result.solutions) if isinstance(result, NativeSolutions) else result


def ask(kg: Any, text: str, inference: bool = True) -> Any:
    """A query's answer as an rdflib Result, whatever the store."""
    from caspian_kg.oxterms import to_result
    from caspian_kg.query import QueryRequest
    from caspian_kg.stores.native import NativeSolutions

    result = service(kg).run(QueryRequest(text=text, inference=inference))
    return to_result(result.solutions) if isinstance(result, NativeSolutions) else result


def children(pid: int) -> list[int]:
    """The child processes of `pid` (Linux /proc), from every one of its threads."""
    found: list[int] = []
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in tasks.read_text().split()]
        except OSError:
            pass
    return found


def query_workers(server: int) -> list[int]:
    """The query worker processes of a running `serve`: the children of Granian's HTTP worker,
    which is the server process's child."""
    return [worker for http in children(server) for worker in children(http)]

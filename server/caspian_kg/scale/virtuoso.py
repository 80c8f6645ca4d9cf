"""A throw-away Virtuoso Open Source (Debian's `virtuoso-opensource-7`, installed by tests/setup.sh)
for the benchmark (a peer, peers.py) and the remote-store tests (tests/test_virtuoso.py): its own `virtuoso.ini` in a temporary directory,
127.0.0.1 only, free ports, a random DBA password, `virtuoso-t -f` in the foreground (no
systemd, no daemon). It dies with the process that started it (setpriv --pdeathsig), so an
interrupted test run leaves nothing behind.

    with running_virtuoso() as v:   # or: v = start_virtuoso(); ...; v.stop()
        publish(kg, v.gsp_url)      # http://dba:<pw>@127.0.0.1:<port>/sparql-graph-crud-auth
        open_graph(config.with_(store=v.sparql_url))
"""

from __future__ import annotations

import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BINARY = "virtuoso-t"

INI = """\
[Database]
DatabaseFile = virtuoso.db
ErrorLogFile = virtuoso.log
LockFile = virtuoso.lck
TransactionFile = virtuoso.trx
xa_persistent_file = virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = virtuoso-temp.db
TransactionFile = virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 0
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
ThreadsPerQuery = 2
DirsAllowed = .

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = .
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8

[SPARQL]
; whole answers, never a silently truncated "anytime" one
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 0
MaxQueryCostEstimationTime = 0
"""


def virtuoso_binary() -> str | None:
    """The path of `virtuoso-t`, or None when Virtuoso is not installed."""
    return shutil.which(BINARY)


@dataclass
class Virtuoso:
    """A running instance. URLs are for 127.0.0.1; `gsp_url` carries the credentials (the
    Graph Store endpoint needs HTTP digest auth), `sparql_url` does not (reads are anonymous)."""

    process: subprocess.Popen[bytes]
    directory: Path
    http_port: int
    user: str
    password: str
    started_in: float  # seconds from launch to the first answer of /sparql
    owns_directory: bool = field(default=False, repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql_url(self) -> str:
        """The anonymous, read-only SPARQL endpoint: what `serve/query --store` take."""
        return f"{self.base}/sparql"

    @property
    def gsp_url(self) -> str:
        """The authenticated Graph Store endpoint, credentials in the URL: what `publish --to` takes."""
        return f"http://{self.user}:{self.password}@127.0.0.1:{self.http_port}/sparql-graph-crud-auth"

    @property
    def log(self) -> str:
        path = self.directory / "virtuoso.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop the server (SIGTERM: quick shutdown; SIGKILL if it lingers) and remove its files
        when the directory was made by `start_virtuoso`."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def _with_parent(command: list[str]) -> list[str]:
    """`command` run so that it gets SIGTERM when its parent (the test run) dies, through
    util-linux's setpriv (PR_SET_PDEATHSIG), where there is one."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", *command] if setpriv else command


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_virtuoso(directory: Path | None = None, timeout: float = 180.0, password: str | None = None) -> Virtuoso:
    """A fresh Virtuoso in `directory` (default: a new temporary directory, removed by `stop`),
    answering on a free 127.0.0.1 port once this returns. RuntimeError when it cannot start."""
    binary = virtuoso_binary()
    if binary is None:
        raise RuntimeError(f"{BINARY} not found: bash tests/setup.sh installs virtuoso-opensource-7")
    owns = directory is None
    where = Path(tempfile.mkdtemp(prefix="virtuoso-")) if directory is None else directory
    where.mkdir(parents=True, exist_ok=True)
    http_port, sql_port = _free_port(), _free_port()
    (where / "virtuoso.ini").write_text(INI.format(sql_port=sql_port, http_port=http_port), encoding="utf-8")
    # 12 characters: this Virtuoso accepted a 24-character DBA password but then refused it in digest auth
    password = password or secrets.token_hex(6)
    t0 = time.perf_counter()
    # a new database with our DBA password: Virtuoso creates it, sets the password and exits
    init = subprocess.run(_with_parent([binary, "-f", "+configfile", "virtuoso.ini", "+pwdold", "dba",
                                        "+pwddba", password]),
                          cwd=where, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, check=False, timeout=timeout)
    if init.returncode != 0:
        raise RuntimeError(f"virtuoso-t could not create its database in {where}: "
                           f"{(where / 'virtuoso.log').read_text(errors='replace')[-1500:]}")
    process = subprocess.Popen(_with_parent([binary, "-f", "+configfile", "virtuoso.ini"]), cwd=where,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Virtuoso(process, where, http_port, "dba", password, 0.0, owns)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            server.stop()
            raise RuntimeError(f"virtuoso-t exited ({process.returncode}): {server.log[-1500:]}")
        try:
            with urllib.request.urlopen(server.sparql_url + "?query=ASK%7B%7D", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"virtuoso-t did not answer within {timeout:.0f}s")
        time.sleep(0.1)
    server.started_in = time.perf_counter() - t0
    return server


@contextmanager
def running_virtuoso(directory: Path | None = None) -> Iterator[Virtuoso]:
    """`start_virtuoso()` for the length of a `with` block; stopped whatever happens."""
    server = start_virtuoso(directory)
    try:
        yield server
    finally:
        server.stop()

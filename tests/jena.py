"""Apache Jena's `riot --validate`, an RDF validator independent of rdflib, run from the jars of
Debian's libapache-jena-java (tests/setup.sh installs it, and a Java runtime).

The package has no `riot` launcher, so the command is `java -cp <jars> riotcmd.riot`. Two quirks of
Jena 4.5.0 as Debian packages it:

- jena-core.jar holds Jena's copy of Xerces (XSD datatypes) under the package `xerces.*`, but its
  message bundles under `org/apache/jena/ext/xerces/` (the upstream shaded path), so
  `ResourceBundle.getBundle("xerces.impl.xpath.regex.message")` fails while the XSD datatypes
  are built and riot dies at start ("RuntimeException: internal error" in
  XSSimpleTypeDecl.applyFacets1). The bundles are copied, byte for byte from that same jar, to
  the paths the classes look them up at, in a directory put first on the classpath.
- its JSON-LD 1.1 reader (titanium) finds no jakarta.json provider in Debian, so JSON-LD is
  read with `--syntax=jsonld10` (jsonld-java), which is enough for the JSON-LD we write.

riot logs through slf4j: slf4j-simple (from libslf4j-java, a dependency of the package) is on the
classpath so warnings reach stderr; without a binding slf4j would drop them silently.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from caspian_kg.scale.jena import JARS as BENCH_JARS
from caspian_kg.scale.jena import JAVA_DIR, xerces_bundles

# riot is in jena-cmds; the rest is what the bench's ARQ server loads too (one list, one workaround)
JARS = ("jena-cmds", *BENCH_JARS)
# slf4j-simple: "[main] WARN org.apache.jena.riot - [line: 2, col: 60] Lexical form ..."
FILE_LINE = re.compile(r"^\[main\] INFO org\.apache\.jena\.riot - File: (?P<path>.+)$")
# --count's lines (on stderr): one per file, and a total when there are several files
COUNT_LINE = re.compile(r"^(?P<url>file:\S+) : (?:Triples|Quads) = (?P<count>[\d,]+)$")
TOTAL_LINE = re.compile(r"^Total +: ")  # its "N errors : N warnings" are the lines already kept
_held: list[tempfile.TemporaryDirectory[str]] = []  # the bundles' directory, removed when the process ends


class JenaMissing(RuntimeError):
    """Java or Jena is not installed: a failure (tests/setup.sh installs both), never a skip."""


@functools.cache
def command() -> tuple[str, ...]:
    """`java ... riotcmd.riot`: the JVM with Jena's jars and the Xerces bundles it misses."""
    java = shutil.which("java")
    missing = [name for name in JARS if not (JAVA_DIR / f"{name}.jar").is_file()]
    if java is None or missing:
        raise JenaMissing(f"no {'java' if java is None else ', '.join(missing)}: run `bash tests/setup.sh` "
                          "(it installs libapache-jena-java and a Java runtime)")
    jars = [str(JAVA_DIR / f"{name}.jar") for name in JARS]
    classpath = [str(_xerces_bundles(JAVA_DIR / "jena-core.jar")), *jars]
    # riot reads a few MB at most: the client compiler alone and one GC thread start fastest
    return (java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-Dorg.slf4j.simpleLogger.logFile=System.err", "-cp", ":".join(classpath), "riotcmd.riot")


def _xerces_bundles(jar: Path) -> Path:
    """The bundles Debian's jena-core.jar misses (scale/jena.xerces_bundles), in a directory that
    lives as long as this process."""
    _held.append(tempfile.TemporaryDirectory(prefix="jena-bundles-"))
    return xerces_bundles(jar, Path(_held[-1].name))


def riot(*paths: Path, syntax: str) -> subprocess.CompletedProcess[str]:
    """`riot --validate --count --syntax=SYNTAX FILE...`: one JVM reads every file (riot goes on
    to the next file after an error in one); syntax names as riot knows them (turtle, ntriples,
    rdfxml, trig, nquads, jsonld10)."""
    return subprocess.run([*command(), "--validate", "--count", f"--syntax={syntax}",
                           *(str(p.resolve()) for p in paths)],
                          capture_output=True, text=True, timeout=600, check=False)


def findings(done: subprocess.CompletedProcess[str], paths: Sequence[Path]) -> dict[str, list[str]]:
    """What riot said about each file (absolute path -> lines), only files with something said:
    any stderr line but riot's "File: ..." header and counts (WARN and ERROR alike, stack traces
    too), a file riot never reached, a file it counted nothing in. What it said outside any file
    (a failure at start, a non-zero exit with nothing else said, anything on stdout) is said about
    every file."""
    names = [str(p.resolve()) for p in paths]
    said: dict[str, list[str]] = {name: [] for name in names}
    general: list[str] = []
    current = names[0] if len(names) == 1 else None  # riot names files only when it has several
    reached = {current}
    for line in done.stderr.splitlines():
        header = FILE_LINE.match(line)
        if header:
            current = header["path"]
            reached.add(current)
        elif line.strip() and not COUNT_LINE.match(line) and not TOTAL_LINE.match(line):
            (general if current is None else said.setdefault(current, [])).append(line)
    if done.stdout.strip():  # --sink writes nothing there
        general.append("on stdout: " + done.stdout[-2000:])
    if done.returncode != 0 and not general and not any(said.values()):
        general.append(f"riot exited with status {done.returncode}")
    counted = counts(done)
    for name in names:
        if name not in reached:
            said[name].append("riot never read this file")
        elif name not in counted and not said[name]:
            said[name].append("riot counted no triples or quads in it")
        said[name].extend(general[-40:])
    return {name: lines for name, lines in said.items() if lines}


def counts(done: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """Triples or quads riot read from each file (its --count lines), by path."""
    found = {}
    for line in done.stderr.splitlines():
        match = COUNT_LINE.match(line)
        if match:
            found[unquote(urlparse(match["url"]).path)] = int(match["count"].replace(",", ""))
    return found

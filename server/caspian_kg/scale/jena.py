"""The bench's Jena peer: Apache Jena ARQ in memory behind the JDK's HTTP server (java/ArqServer.java,
not Fuseki), built and run from the jars of Debian's libapache-jena-java (tests/setup.sh installs it,
and a JDK: the server is compiled once per bench work directory with javac).

Jena 4.5.0 as Debian packages it misses one thing at start: jena-core.jar holds Jena's copy of
Xerces (XSD datatypes) under the package `xerces.*` but its message bundles under
`org/apache/jena/ext/xerces/` (the upstream shaded path), so building the XSD datatypes fails
("RuntimeException: internal error" in XSSimpleTypeDecl.applyFacets1) and ARQ cannot initialise.
The bundles are copied, byte for byte from that same jar, to the paths the classes look them up
at, in a directory put first on the classpath (`xerces_bundles`; tests/jena.py uses it for `riot`).
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

JAVA_DIR = Path("/usr/share/java")
SOURCE = Path(__file__).parent / "java" / "ArqServer.java"
# ARQ and what it loads while reading any syntax we write and writing SPARQL JSON results (Debian's
# unversioned jar names; tests/jena.py adds jena-cmds for riot); slf4j-simple logs to stderr
JARS = (
    "jena-arq", "jena-core", "jena-base", "jena-iri",
    "commons-cli", "commons-codec", "commons-compress", "commons-csv", "commons-io", "commons-lang3",
    "dexx.collection", "guava", "gson", "jackson-core", "jackson-databind", "jackson-annotations",
    "jsonld-java", "httpclient", "httpclient-cache", "httpcore", "jakarta.json-api", "titanium-json-ld",
    "protobuf", "thrift",
    "slf4j-api", "slf4j-simple",
)
SHADED = "org/apache/jena/ext/"
THREADS = 8  # the server's pool, as a small Fuseki or Jetty setup would have


def java_tools() -> tuple[str, str] | None:
    """(java, javac) when both are installed and every jar is there, else None (the peer is left out)."""
    java, javac = shutil.which("java"), shutil.which("javac")
    if java is None or javac is None or any(not (JAVA_DIR / f"{name}.jar").is_file() for name in JARS):
        return None
    return java, javac


def missing() -> str:
    """What is missing, in one line (for the bench's MISSING)."""
    lacks = [tool for tool in ("java", "javac") if shutil.which(tool) is None]
    lacks += [f"{name}.jar" for name in JARS if not (JAVA_DIR / f"{name}.jar").is_file()]
    return (f"Jena is not installed (no {', '.join(lacks) or 'java'}; Debian: apt install libapache-jena-java "
            "default-jdk-headless)")


def command(work: Path, port: int, quads: Path) -> list[str]:
    """`java … ArqServer PORT FILE.nq THREADS`, compiling ArqServer.java into `work` first (once)."""
    tools = java_tools()
    if tools is None:
        raise RuntimeError(missing())
    java, javac = tools
    jars = [str(JAVA_DIR / f"{name}.jar") for name in JARS]
    classes = work / "jena-classes"
    if not (classes / "ArqServer.class").is_file():
        classes.mkdir(parents=True, exist_ok=True)
        subprocess.run([javac, "-nowarn", "-d", str(classes), "-cp", ":".join(jars), str(SOURCE)], check=True,
                       capture_output=True, timeout=300)
    bundles = xerces_bundles(JAVA_DIR / "jena-core.jar", work / "jena-bundles")
    classpath = ":".join([str(bundles), *jars, str(classes)])
    return [java, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath, "ArqServer", str(port),
            str(quads), str(THREADS)]


def xerces_bundles(jar: Path, target: Path) -> Path:
    """`target` with each `org/apache/jena/ext/xerces/**.properties` of the jar at
    `xerces/**.properties`, unless the jar already has it there (then nothing is needed)."""
    with zipfile.ZipFile(jar) as archive:
        names = set(archive.namelist())
        for name in names:
            if name.startswith(SHADED + "xerces/") and name.endswith(".properties"):
                relocated = name[len(SHADED):]
                if relocated not in names:
                    (target / relocated).parent.mkdir(parents=True, exist_ok=True)
                    (target / relocated).write_bytes(archive.read(name))
    target.mkdir(parents=True, exist_ok=True)
    return target

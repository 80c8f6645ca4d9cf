"""Everything the project writes in RDF, read by a validator that shares no code with rdflib:
Apache Jena's `riot --validate` (Debian's libapache-jena-java, installed by tests/setup.sh; see
tests/jena.py). Every dump format with and without the closure (dumps.serialize, the bytes both
`caspian-kg export` and /export write: test_dumps.py holds them equal; a process of the real
command costs a graph load, ~6 s, so it runs once, for its default format), a sample of resource
documents of several kinds in every syntax, the ontology and VoID documents, and CONSTRUCT
answers from /sparql. Riot's count of triples or quads in each dump must be ours, too.

A file passes when riot exits 0 and says nothing but its file header and count: a WARN (an IRI
riot finds bad, a lexical form not valid for its datatype, ...) fails like an ERROR, because
everything we write is meant to be read by strict parsers without complaint. Without Java or
Jena the tests fail (JenaMissing), they do not skip: tests/setup.sh installs both.

Files are written first and riot runs once per syntax over all of them (one JVM start each).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import jena
import pytest
from flask import Flask

from caspian_kg import dumps
from caspian_kg.formats import (
    EXTENSIONS,
    GRAPH_FORMATS,
    JSONLD,
    NQUADS,
    NTRIPLES,
    RDFXML,
    TRIG,
    TURTLE,
    Format,
)
from caspian_kg.graph import KnowledgeGraph

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# riot's name of each syntax we write; JSON-LD as 1.0 (Debian's 1.1 reader has no JSON provider)
SYNTAX: dict[Format, str] = {TURTLE: "turtle", NTRIPLES: "ntriples", RDFXML: "rdfxml", TRIG: "trig",
                             NQUADS: "nquads", JSONLD: "jsonld10"}
CLI_FORMAT = TRIG  # the real command's default format: one run (a process loads the graph: ~6 s)

DUMPS = [(fmt.name, inference) for fmt in GRAPH_FORMATS for inference in (True, False)]
EVERY = tuple(sorted(ext for ext, fmt in EXTENSIONS.items() if fmt in SYNTAX))
# a thing of each kind, each syntax several times over; the state in every syntax and without
# the closure, a hash IRI's term description, a single named graph's export
DOCUMENTS = [
    *(f"/id/state/azerbaijan.{ext}" for ext in EVERY),
    "/id/state/azerbaijan.ttl?inference=none",
    "/id/org/cica.ttl", "/id/org/cica.jsonld",
    "/id/event/aliyev-state-visit-kyrgyzstan.ttl", "/id/event/aliyev-state-visit-kyrgyzstan.rdf",
    "/id/person/ilham-aliyev.nq", "/id/person/ilham-aliyev.jsonld",
    "/id/claim/aliyev-thesis-declaration-new-level.trig", "/id/claim/aliyev-thesis-declaration-new-level.nt",
    "/id/quote/aliyev-declaration-implemented.ttl", "/id/quote/aliyev-declaration-implemented.rdf",
    "/id/agreement/declaration-on-strategic-partnership-az-kg.jsonld",
    "/id/infrastructure/zangazur-corridor.nq",
    "/id/doc/azerbaijan-central-asia-relations.ttl",
    "/ontology/State.ttl",
    *(f"/ontology.{ext}" for ext in ("ttl", "rdf", "jsonld")),
    *(f"/void.{ext}" for ext in ("ttl", "nt", "jsonld", "trig")),
    "/export/caspian-kg.ttl?graph=background",
]
AZ = "https://w3id.org/caspian-kg/id/state/azerbaijan"
CONSTRUCTS = {
    "state": f"CONSTRUCT WHERE {{ <{AZ}> ?p ?o }}",
    # every literal (datatypes, language tags, long quotations) and every blank node
    "literals-and-blank-nodes":
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(isLiteral(?o) || isBlank(?s) || isBlank(?o)) }",
}
CONSTRUCT_FORMATS = (TURTLE, NTRIPLES)


@dataclass
class Validated:
    """What riot said (path -> lines; absent = clean) and counted, for every file written."""
    findings: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)  # key (dump/document/answer name) -> file

    def check(self, key: str) -> int:
        """Assert riot found nothing in the file; its count of triples or quads."""
        path = str(self.paths[key].resolve())
        assert not self.findings.get(path), f"riot on {key}:\n" + "\n".join(self.findings[path])
        assert self.counts.get(path, 0) > 0, f"riot read no triples from {key}"
        return self.counts[path]


def _dump_key(name: str, inference: bool) -> str:
    return f"dump {name} {'with closure' if inference else 'asserted only'}"


@pytest.fixture(scope="module")
def validated(app: Flask, kg: KnowledgeGraph,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Validated]:
    jena.command()  # no Java or Jena: fail at once, before writing anything
    folder = tmp_path_factory.mktemp("jena")
    result = Validated()
    by_syntax: dict[str, list[Path]] = {}

    def put(key: str, fmt: Format, data: bytes) -> None:
        path = folder / f"{len(result.paths):03d}.{fmt.extension}"
        path.write_bytes(data)
        result.paths[key] = path
        by_syntax.setdefault(SYNTAX[fmt], []).append(path)

    # the real command, in its own process, while this one writes the rest
    cli_out = folder / f"cli.{CLI_FORMAT.extension}"
    command = [str(Path(sys.executable).with_name("caspian-kg")), "--root", str(ROOT), "--no-validate",
               "export", "-f", CLI_FORMAT.name, "-o", str(cli_out)]
    cli = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for name, inference in DUMPS:
            data = dumps.serialize(kg, name, inference=inference)
            put(_dump_key(name, inference), dumps.DUMP_FORMATS[name], data)
        client = app.test_client()
        for url in DOCUMENTS:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            extension = url.partition("?")[0].rpartition(".")[2]
            put(url, EXTENSIONS[extension], response.data)
        for name, query in CONSTRUCTS.items():
            for fmt in CONSTRUCT_FORMATS:
                response = client.get("/sparql", query_string={"query": query},
                                      headers={"Accept": fmt.media_type})
                assert response.status_code == 200 and response.mimetype == fmt.media_type, (name, fmt.name)
                put(f"construct {name} {fmt.name}", fmt, response.data)
        _, err = cli.communicate(timeout=300)
        assert cli.returncode == 0, err.decode(errors="replace")
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    put("caspian-kg export", CLI_FORMAT, cli_out.read_bytes())
    # one JVM per syntax, two at a time (the machine has two cores)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.map(lambda batch: (batch[1], jena.riot(*batch[1], syntax=batch[0])), by_syntax.items())
    for paths, done in runs:
        result.findings.update(jena.findings(done, paths))
        result.counts.update(jena.counts(done))
    yield result


def test_riot_reports_warnings_and_errors(tmp_path: Path) -> None:
    """The validator itself, in one JVM: bad lexical forms and language tags are WARNs, a bad IRI
    an ERROR, each told about its own file (so the log binding is on the classpath and the Xerces
    bundles are found); a file with warnings only fails too; a clean file is clean and counted."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    files = {
        "errors": f'<http://ex.org/a> <http://ex.org/p> "x"^^<{xsd}integer>, "2024-13-01"^^<{xsd}date>, '
                  '<http://ex.org/a b> .\n',
        "warnings": '<http://ex.org/a> <http://ex.org/p> "a"@en-x-1234567890 .\n',
        "clean": f'<http://ex.org/a> <http://ex.org/p> "1"^^<{xsd}integer>, "a"@en-GB .\n',
    }
    paths = {name: tmp_path / f"{name}.ttl" for name in files}
    for name, text in files.items():
        paths[name].write_text(text, encoding="utf-8")
    done = jena.riot(*paths.values(), syntax="turtle")
    said = jena.findings(done, list(paths.values()))
    assert done.returncode != 0 and set(said) == {str(paths[n].resolve()) for n in ("errors", "warnings")}
    errors = said[str(paths["errors"].resolve())]
    expected = (("WARN", "'x' not valid for datatype XSD integer"), ("WARN", "'2024-13-01' not valid"),
                ("ERROR", "Bad character in IRI (space)"))
    for level, message in expected:
        assert any(f" {level} " in line and message in line for line in errors), (message, errors)
    warnings = said[str(paths["warnings"].resolve())]
    assert len(warnings) == 1 and " WARN " in warnings[0] and "Language not valid" in warnings[0], warnings
    assert jena.counts(done)[str(paths["clean"].resolve())] == 2


def test_every_syntax_we_write_has_a_riot_syntax() -> None:
    assert set(SYNTAX) == set(GRAPH_FORMATS) == set(dumps.DUMP_FORMATS.values())


@pytest.mark.parametrize(("name", "inference"), DUMPS)
def test_dump_is_valid(validated: Validated, kg: KnowledgeGraph, name: str, inference: bool) -> None:
    """Valid, and riot reads exactly the triples (triple formats) or quads we hold."""
    read = validated.check(_dump_key(name, inference))
    quads = {(s, p, o, g) for s, p, o, g in dumps.select(kg, inference).quads((None, None, None, None))}
    expected = len(quads) if dumps.DUMP_FORMATS[name].quads else len({q[:3] for q in quads})
    assert read == expected


def test_cli_export_is_valid(validated: Validated) -> None:
    assert validated.check("caspian-kg export") == validated.check(_dump_key(CLI_FORMAT.name, True))


@pytest.mark.parametrize("url", DOCUMENTS)
def test_document_is_valid(validated: Validated, url: str) -> None:
    validated.check(url)


@pytest.mark.parametrize("fmt", CONSTRUCT_FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("name", CONSTRUCTS)
def test_construct_answer_is_valid(validated: Validated, name: str, fmt: Format) -> None:
    validated.check(f"construct {name} {fmt.name}")

"""The command line, through its entry point (and once through the installed script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, make_root
from rdflib import Dataset, Graph

from caspian_kg.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--root", str(ROOT), *args] if "--root" not in args else list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def small_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tiny fixture project: the same commands, a fraction of the load time."""
    return str(make_root(tmp_path_factory.mktemp("small")))


def test_installed_script_validates_the_shipped_data() -> None:
    script = Path(sys.executable).with_name("caspian-kg")
    done = subprocess.run([str(script), "--root", str(ROOT), "validate"], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "SHACL conforms" in done.stdout
    assert "closure" in done.stderr  # load + closure time is printed


def test_stats(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", "--json")
    assert code == 0
    figures = json.loads(out)
    per_graph = figures["triples"]["per_graph"]
    assert per_graph["inferred"] == figures["triples"]["inferred"] > 0
    assert figures["triples"]["asserted"] > 1000
    assert {"ontology", "background", "source/azerbaijan-central-asia-relations", "source/turkic-factor-baku-bishkek"} <= set(per_graph)
    cica = {m["role"]: m["count"] for m in figures["memberships"] if m["organisation"].startswith("Conference on Interaction")}
    assert cica == {"member": 28, "observer": 15, "chair": 1}


@pytest.mark.parametrize(
    "fmt, check",
    [
        ("table", lambda out: "state:b" in out and "(1 row)" in out),
        ("json", lambda out: json.loads(out)["results"]["bindings"][0]["s"]["value"].endswith("state/b")),
        ("csv", lambda out: out.splitlines()[0].strip() == "s" and out.splitlines()[1].strip().endswith("state/b")),
    ],
)
def test_query_formats(capsys: pytest.CaptureFixture[str], small_root: str, fmt: str, check) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "--root", small_root, "query", "-f", fmt, "SELECT ?s WHERE { ?s ck:chairOf orgn:x }")
    assert code == 0 and check(out)


def test_query_asserted_only(capsys: pytest.CaptureFixture[str], small_root: str) -> None:
    code, out, _ = run(capsys, "--root", small_root, "query", "--no-inference", "ASK { ?s ck:chairOf orgn:x }")
    assert (code, out.strip()) == (0, "no")


def test_query_from_file(capsys: pytest.CaptureFixture[str], small_root: str, tmp_path: Path) -> None:
    query = tmp_path / "q.rq"
    query.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?s org:memberOf orgn:x }")
    code, out, _ = run(capsys, "--root", small_root, "query", str(query))
    assert code == 0 and "2" in out.splitlines()[2]


@pytest.mark.parametrize(
    "args, message",
    [
        (["query", "SELECT ?s WHERE { ?s ?p }"], "SPARQL syntax error"),
        (["query", "missing.rq"], "missing.rq: query file not found"),
        (["export", "-f", "bogus"], "unknown RDF format 'bogus'"),
        (["export", "--graph", "nope"], "unknown graph 'nope'"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], small_root: str, args: list[str], message: str
) -> None:
    code, _, err = run(capsys, "--root", small_root, *args)
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("caspian-kg: ") and message in last
    assert "Traceback" not in err


def test_broken_file_names_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = make_root(tmp_path, {"broken.ttl": "@prefix ck: <https://w3id.org/caspian-kg/ontology#> .\nck:a ck:b .\n"})
    code, _, err = run(capsys, "--root", str(root), "validate")
    assert code == 2
    assert f"{root / 'data' / 'broken.ttl'}:2: Turtle syntax error" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("case", ["not utf-8", "a directory", "unreadable source text"])
def test_unreadable_input_is_one_line_with_file_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                          case: str) -> None:
    root = make_root(tmp_path)
    if case == "not utf-8":
        (root / "data" / "latin1.ttl").write_bytes(b'# a comment\n<urn:a> <urn:b> "caf\xe9" .\n')
        expected, code_wanted = f"{root / 'data' / 'latin1.ttl'}:2: not UTF-8", 2
    elif case == "a directory":
        (root / "data" / "folder.ttl").mkdir()
        expected, code_wanted = f"{root / 'data' / 'folder.ttl'}: cannot read it", 2
    else:
        (root / "data" / "sources" / "fixture.txt").write_bytes(b"\xff\xfe not text")
        expected, code_wanted = "cannot be read as UTF-8", 1
    code, _, err = run(capsys, "--root", str(root), "validate")
    assert code == code_wanted, err
    assert expected in err and "Traceback" not in err and "internal error" not in err


def test_invalid_data_lists_every_problem(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = make_root(tmp_path)
    fixture = root / "data" / "fixture.ttl"
    fixture.write_text(fixture.read_text().replace('rdfs:label "B"@en', 'rdfs:label "B"@en, "Bee"@en'))
    code, _, err = run(capsys, "--root", str(root), "validate")
    assert code == 1
    assert "invalid data" in err and "state:b" in err and "exactly one rdfs:label" in err


@pytest.mark.parametrize("fmt", ["trig", "nquads"])
def test_export_quads_keeps_named_graphs(capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"dump.{fmt}"
    code, _, _ = run(capsys, "export", "-f", fmt, "-o", str(out))
    assert code == 0
    ds = Dataset()
    ds.parse(out, format=fmt)
    names = {str(g.identifier) for g in ds.graphs() if len(g)}
    assert "https://w3id.org/caspian-kg/graph/inferred" in names
    assert "https://w3id.org/caspian-kg/graph/source/turkic-factor-baku-bishkek" in names


def test_export_asserted_only_turtle(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "dump.ttl"
    code, _, _ = run(capsys, "export", "-f", "turtle", "--asserted-only", "-o", str(out))
    assert code == 0
    graph = Graph().parse(out, format="turtle")
    assert len(graph) > 1000
    memberof = "http://www.w3.org/ns/org#memberOf"
    assert not [t for t in graph if str(t[1]) == memberof]


def test_settings_lists_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    from dataclasses import fields

    from caspian_kg.config import Config

    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    for field in fields(Config):
        assert field.metadata["env"] in out

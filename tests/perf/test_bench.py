"""The benchmark runs end to end at a small size (never timed: no wall-clock assertions), Virtuoso
among its peers, and `--peers` runs only the servers named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from caspian_kg.config import Config
from caspian_kg.errors import BadRequest
from caspian_kg.scale import bench
from caspian_kg.scale.bench import run_bench
from caspian_kg.scale.virtuoso import virtuoso_binary

VIRTUOSO = virtuoso_binary() is not None
if os.environ.get("CI") and not VIRTUOSO:  # CI installs it (tests/setup.sh): a peer never silently dropped
    pytest.fail("virtuoso-t is missing on CI: tests/setup.sh should have installed virtuoso-opensource-7",
                pytrace=False)


def table_rows(table: str) -> dict[str, list[str]]:
    """The server rows of the table, by server name, as their cells."""
    return {cells[0]: cells for cells in ([c.strip() for c in line.strip(" |").split("|")]
                                          for line in table.splitlines() if line.startswith("| "))
            if cells[0] != "server" and not cells[0].startswith("---")}


@pytest.mark.slow
def test_bench_compares_every_store_with_oxigraph_on_the_same_answers(tmp_path: Path) -> None:
    table = run_bench(Config(root=ROOT), ["3000"], requests=8, workdir=tmp_path)
    rows = table_rows(table)
    assert {"caspian-kg default store", "caspian-kg memory store", "Oxigraph server"} <= set(rows), table
    assert ("Virtuoso" in rows) is VIRTUOSO, table  # a peer whenever it is installed
    for name in ("caspian-kg default store", "caspian-kg memory store", *(["Virtuoso"] if VIRTUOSO else [])):
        cells = rows[name]
        assert cells[4].endswith("x") and cells[7].endswith("x"), cells  # per-query factors against Oxigraph
    for name in ("caspian-kg default store", "caspian-kg memory store"):
        assert rows[name][-1] != "–", rows[name]  # entity pages measured (ours only)
    assert "Furthest behind Oxigraph on the default store" in table
    if VIRTUOSO:
        assert "Virtuoso load" in next(line for line in table.splitlines() if line.startswith("Load "))
    # every server answered the same question (same dataset, named graphs included); rdflib-endpoint
    # and Virtuoso are peers we report on but do not vouch for (their differences are listed)
    answers = next(line for line in table.splitlines() if line.startswith("Answers:"))
    assert "caspian-kg" not in answers and "Oxigraph server:" not in answers, answers


@pytest.mark.slow
def test_peers_runs_only_the_servers_named(tmp_path: Path) -> None:
    """`caspian-kg bench --peers default,virtuoso`: only those two are started, loaded and reported;
    without Oxigraph server there is no per-query factor, and row counts are the default store's."""
    if not VIRTUOSO:
        pytest.skip("virtuoso-t is missing: bash tests/setup.sh installs virtuoso-opensource-7")
    env = dict(os.environ, CASPIAN_KG_ROOT=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "caspian_kg.cli", "bench", "--sizes", "3000", "--requests", "8",
                           "--peers", "default,virtuoso", "--workdir", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = table_rows(done.stdout)
    assert set(rows) == {"caspian-kg default store", "Virtuoso"}, done.stdout
    assert all(rows[name][4] == "–" for name in rows), rows  # no Oxigraph server, no factor against it
    loads = next(line for line in done.stdout.splitlines() if line.startswith("Load "))
    assert "Virtuoso load" in loads and "Oxigraph load" not in loads and "memory" not in loads, loads
    assert "memory store" not in done.stderr and "Oxigraph server" not in done.stderr


def test_peers_are_checked_before_any_work(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown name, or a peer named but not installed, stops the run with one line; by default
    a peer that is not installed is left out, with one line saying so. Peers run in PEERS order."""
    with pytest.raises(BadRequest, match="unknown peer nope"):
        bench.choose_peers(["default", "nope"])
    monkeypatch.setitem(bench.MISSING, "virtuoso", (lambda: "/usr/bin/virtuoso-t", "virtuoso-t is not installed"))
    assert bench.choose_peers(["virtuoso", "default"]) == ["default", "virtuoso"]
    monkeypatch.setitem(bench.MISSING, "virtuoso", (lambda: None, "virtuoso-t is not installed"))
    with pytest.raises(BadRequest, match="virtuoso-t is not installed"):
        bench.choose_peers(["default", "virtuoso"])
    capsys.readouterr()
    assert "virtuoso" not in bench.choose_peers(None)
    assert "virtuoso-t is not installed: left out" in capsys.readouterr().err

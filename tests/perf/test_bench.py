"""The benchmark runs end to end at a small size (never timed: no wall-clock assertions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from caspian_kg.config import Config
from caspian_kg.scale.bench import run_bench


@pytest.mark.slow
def test_bench_produces_a_table_with_ratios(tmp_path: Path, config: Config) -> None:
    table = run_bench(config, [3000], requests=8, workdir=tmp_path)
    lines = [line for line in table.splitlines() if line.startswith("| 3,")]
    metrics = {line.split("|")[2].strip() for line in lines}
    assert {"load + closure (s)", "peak memory (MB)", "cached throughput, 4 clients (req/s)"} <= metrics
    assert all(line.rstrip(" |").split("|")[-1].strip().endswith("x") for line in lines)
    assert "uncached: per-query ratio of medians, geometric mean" in metrics
    # both servers answered the same question (same dataset, named graphs included)
    assert "Both servers returned the same number of rows for every query" in table, table

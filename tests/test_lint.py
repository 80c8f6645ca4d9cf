"""The house style, enforced: ruff over the package, the tests and tools/, mypy over the package
and tools/ (DESIGN.md: "Formatting and lint: ruff; types: mypy on the package")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECKS = {
    "ruff": [sys.executable, "-m", "ruff", "check", "--no-cache", "server", "tests", "tools"],
    "mypy": [sys.executable, "-m", "mypy", "--no-incremental", "server/caspian_kg", "tools/links.py"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_code_passes(name: str) -> None:
    done = subprocess.run(CHECKS[name], cwd=ROOT, check=False, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{name} found problems:\n{done.stdout[-4000:]}{done.stderr[-2000:]}"

"""Shared fixtures: the project's configuration and the graph loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from caspian_kg.config import Config
from caspian_kg.store import KnowledgeGraph, load

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def config() -> Config:
    return Config(root=ROOT)


@pytest.fixture(scope="session")
def kg(config: Config) -> KnowledgeGraph:
    """The shipped graph, validated and with its closure (loaded once: it is read-only)."""
    return load(config)

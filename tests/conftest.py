"""Shared fixtures: the project's configuration and the graph loaded once per test session."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caspian_kg.app import create_app
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


@pytest.fixture(scope="module")
def app(config: Config, kg: KnowledgeGraph) -> Iterator[Flask]:
    """The whole web application around the shipped graph; its worker pools fork lazily and
    are closed when the module's tests are done."""
    app = create_app(config, kg)
    app.testing = True
    yield app
    for pool in app.extensions["caspian_kg"]["pools"]:
        pool.close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def listener() -> Iterator[socket.socket]:
    """A local TCP server standing in for an internal service an attacker wants reached."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.2)
    yield sock
    sock.close()

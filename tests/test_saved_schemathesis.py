"""Schemathesis exercises the generated OpenAPI document against the app, in process.

Every operation (the SPARQL endpoint, every saved query, resources, dumps, search, health) gets a
bounded number of generated requests: ones that fit the document (typed values, enumerations,
random strings), where none may produce a server error and every status and content type must
be one the document declares; and ones that break it (empty values, values outside an
enumeration or a pattern), each of which must be refused — the document is exactly as strict as
the server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from caspian_kg.config import Config
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.web import create_app
from caspian_kg.web.state import of

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    status_code_conformance,
)


@pytest.fixture(scope="module")
def app(config: Config, kg: KnowledgeGraph) -> Iterator[Flask]:
    app = create_app(config.with_(workers=1), kg)
    yield app
    of(app).pool.close()


def operations(app: Flask) -> list:  # type: ignore[type-arg]
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_public_route_is_documented(app: Flask) -> None:
    documented = {(op.method.upper(), op.path) for op in operations(app)}
    for route in [("GET", "/sparql"), ("POST", "/sparql"), ("GET", "/id/{path}"), ("GET", "/search"),
                  ("GET", "/export/caspian-kg.{extension}"), ("GET", "/health"), ("GET", "/queries"),
                  ("GET", "/queries/org-members"), ("GET", "/explain")]:
        assert route in documented, route


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["fits", "breaks"])
def test_the_document_is_exactly_as_strict_as_the_server(app: Flask, mode: GenerationMode) -> None:
    """Each operation in turn (schemathesis' pytest plugin does not run on this pytest yet, so
    the operations are driven with Hypothesis directly)."""
    found = operations(app)
    assert len(found) >= 27
    checks = ([not_a_server_error, status_code_conformance, content_type_conformance] if mode is GenerationMode.POSITIVE
              else [not_a_server_error, negative_data_rejection])
    for operation in found:
        raw = operation.definition.raw
        if mode is GenerationMode.NEGATIVE and not raw.get("parameters") and "requestBody" not in raw:
            continue  # /health: nothing to break

        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        @given(case=operation.as_strategy(generation_mode=mode))
        def exercise(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call()
            case.validate_response(response, checks=checks)

        exercise()

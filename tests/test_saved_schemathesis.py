"""Schemathesis exercises the generated OpenAPI document against the app, in process.

Every operation gets a bounded number of generated requests (typed values, enumerations,
random strings); none may produce a server error, and every status and content type must be
one the document declares.
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
from schemathesis.checks import content_type_conformance, not_a_server_error, status_code_conformance


@pytest.fixture(scope="module")
def app(config: Config, kg: KnowledgeGraph) -> Iterator[Flask]:
    app = create_app(config.with_(workers=1), kg)
    yield app
    of(app).pool.close()


@pytest.mark.slow
def test_no_server_errors(app: Flask) -> None:
    """Each operation in turn (schemathesis' pytest plugin does not run on this pytest yet, so
    the operations are driven with Hypothesis directly)."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 21
    for operation in operations:

        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        @given(case=operation.as_strategy())
        def exercise(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call()
            case.validate_response(
                response, checks=[not_a_server_error, status_code_conformance, content_type_conformance])

        exercise()

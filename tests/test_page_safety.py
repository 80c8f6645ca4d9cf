"""Pages are safe to open: security headers on every HTML and SVG response, no inline script or
style for the CSP to refuse, and links only to http(s) IRIs whatever a query returns."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

HTML_ROUTES = ["/", "/search?q=baku", "/query", "/query?query=ASK%7B%7D", "/queries", "/queries/summits",
               "/queries/org-members?org=orgn:cica", "/id/state/azerbaijan.html", "/id/org/cica.html",
               "/ontology.html", "/void.html", "/timeline", "/chart", "/chart/cica",
               "/explain?s=state:kazakhstan&p=org:memberOf&o=orgn:cica"]
SVG_ROUTES = ["/timeline.svg", "/chart/cica.svg"]


@pytest.mark.parametrize("route", HTML_ROUTES + SVG_ROUTES + ["/id/state/nowhere"])
def test_every_page_carries_the_security_headers(client: FlaskClient, route: str) -> None:
    response = client.get(route, headers={"Accept": "text/html"})
    assert response.status_code in (200, 404), route
    assert response.mimetype in ("text/html", "image/svg+xml")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                      "object-src 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]


@pytest.mark.parametrize("route", HTML_ROUTES)
def test_pages_have_nothing_inline_for_the_policy_to_refuse(client: FlaskClient, route: str) -> None:
    page = client.get(route).get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>", page)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts), scripts
    assert not re.search(r"\sstyle=", page) and "<style" not in page
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers


def test_data_answers_carry_nosniff_too(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": "ASK {}"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"


HOSTILE_IRIS = ["javascript:alert(1)", "JaVaScRiPt:alert(document.domain)", "data:text/html,<script>alert(1)</script>",
                "vbscript:msgbox(1)", "file:///etc/passwd"]


@pytest.mark.parametrize("iri", HOSTILE_IRIS)
def test_a_result_iri_with_another_scheme_is_text_not_a_link(client: FlaskClient, iri: str) -> None:
    query = f'SELECT ?x WHERE {{ BIND(IRI("{iri}") AS ?x) }}'
    page = client.get("/query", query_string={"query": query}).get_data(as_text=True)
    assert "1 row" in page or "<td" in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert not [h for h in hrefs if re.match(r"\s*(javascript|vbscript|data|file):", h, re.IGNORECASE)], hrefs
    assert "<script>alert" not in page  # shown escaped


def test_http_iris_stay_links(client: FlaskClient) -> None:
    page = client.get("/query", query_string={"query": 'SELECT ?x WHERE { BIND(<https://example.org/a> AS ?x) }'})
    assert 'href="https://example.org/a"' in page.get_data(as_text=True)

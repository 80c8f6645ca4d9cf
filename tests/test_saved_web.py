"""The saved-query web API (/queries, /queries/<name>, /openapi.json), its HTML pages, the CLI."""

from __future__ import annotations

import csv
import io
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import run_saved, service

from caspian_kg import cli

CICA = "https://w3id.org/caspian-kg/id/org/cica"


def test_list_as_json(client: FlaskClient) -> None:
    response = client.get("/queries", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    queries = {q["name"]: q for q in response.get_json()["queries"]}
    assert len(queries) >= 20
    org = queries["org-members"]
    assert org["url"] == "/queries/org-members"
    assert org["parameters"] == [{"name": "org", "type": "IRI", "required": False, "default": CICA,
                                  "variable": "?_org_iri"}]
    assert queries["lookup-label"]["parameters"][0]["required"] is True


def test_list_as_html(client: FlaskClient) -> None:
    response = client.get("/queries", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'href="/queries/org-members"' in html and "Full members of an organisation" in html
    assert "http://" not in html.replace("http://www.w3.org", "")  # no external assets


@pytest.mark.parametrize("fmt, media_type", [
    ("json", "application/sparql-results+json"), ("xml", "application/sparql-results+xml"),
    ("csv", "text/csv"), ("tsv", "text/tab-separated-values"), ("html", "text/html"),
])
def test_formats_by_parameter_and_accept(client: FlaskClient, fmt: str, media_type: str) -> None:
    by_param = client.get(f"/queries/org-chair?format={fmt}")
    by_accept = client.get("/queries/org-chair", headers={"Accept": media_type})
    for response in (by_param, by_accept):
        assert response.status_code == 200, response.data
        assert response.mimetype == media_type
        assert "Kazakhstan" in response.get_data(as_text=True)
    assert "Accept" in by_accept.headers["Vary"]


def test_default_is_sparql_json_and_rows_are_right(client: FlaskClient) -> None:
    response = client.get("/queries/org-observers?org=orgn:cica")
    assert response.mimetype == "application/sparql-results+json"
    rows = response.get_json()["results"]["bindings"]
    assert len(rows) == 15 and {"observer", "observerLabel", "membership"} <= set(rows[0])


def test_csv_is_the_same_answer(client: FlaskClient) -> None:
    body = client.get(f"/queries/org-members?org={CICA}&format=csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 29 and rows[0]["memberLabel"] == "Afghanistan"  # Kazakhstan twice: member and chair


def test_not_acceptable(client: FlaskClient) -> None:
    assert client.get("/queries/org-chair", headers={"Accept": "image/png"}).status_code == 406


def test_unknown_query_is_404(client: FlaskClient) -> None:
    assert client.get("/queries/no-such-query").status_code == 404


@pytest.mark.parametrize("url, param", [
    ("/queries/org-members?org=not%20an%20iri", "org"),
    ("/queries/org-members?org=http://x/%3E", "org"),
    ("/queries/org-members?nope=1", "nope"),
    ("/queries/lookup-label", "name"),
    ("/queries/summits?number=7%20%7D%20UNION%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D", "number"),
    ("/queries/events-in-date-range?from=2020-02-30", "from"),
    ("/queries/org-members?org=orgn:cica&org=orgn:ots", "org"),
])
def test_bad_parameters_are_400_naming_them(client: FlaskClient, url: str, param: str) -> None:
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert f"'{param}'" in response.get_json()["message"]


def test_injected_text_is_just_text_over_http(client: FlaskClient) -> None:
    response = client.get("/queries/find-by-name", query_string={"text": '" } UNION { ?s ?p ?o } #'})
    assert response.status_code == 200 and response.get_json()["results"]["bindings"] == []
    response = client.get("/queries/lookup-label", query_string={"name": "Turkey"})
    assert [b["resource"]["value"] for b in response.get_json()["results"]["bindings"]] == [
        "https://w3id.org/caspian-kg/id/state/turkiye"]


def test_html_page(client: FlaskClient) -> None:
    response = client.get("/queries/org-members", headers={"Accept": "text/html"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "chairs\nincluded" in html or "chairs included" in html  # the description
    assert '<form class="params"' in html and '<select name="org">' in html
    assert f'<option value="{CICA}" selected>' in html  # the enumeration, default selected
    assert "29 rows" in html and 'href="/id/state/azerbaijan"' in html  # results link to local pages
    assert "org:hasMember ?member" in html and "?_org_iri a org:Organization" in html  # the SPARQL text
    for fmt in ("json", "xml", "csv", "tsv"):
        assert f"format={fmt}" in html


def test_html_page_shows_errors_and_empty_form(client: FlaskClient) -> None:
    first = client.get("/queries/lookup-label", headers={"Accept": "text/html"})
    assert first.status_code == 200 and "Fill in the required parameters" in first.get_data(as_text=True)
    bad = client.get("/queries/summits?number=x", headers={"Accept": "text/html"})
    assert bad.status_code == 400 and "parameter &#39;number&#39;" in bad.get_data(as_text=True)


def test_etag_revalidation(client: FlaskClient) -> None:
    first = client.get("/queries/org-chair?format=json")
    again = client.get("/queries/org-chair?format=json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("name", ["org-members", "org-chair", "explain-affiliation", "inferred-about",
                                  "persons-and-offices", "quotations-by-speaker"])
def test_inference_none_gives_the_asserted_answer(client: FlaskClient, kg, config, name: str) -> None:
    """?inference=none on a saved query, as on /sparql: the same rows as running it on the
    asserted facts only (hasMember, chairOf... are inferred, so org-members comes back empty)."""
    from caspian_kg.saved_queries import QueryLibrary

    library = QueryLibrary.load(config)
    query = library.get(name)
    expected = run_saved(kg, library, query, library.bind(service(kg, library), query, {}), False)
    want = sorted(tuple(str(v) for v in row) for row in expected)
    response = client.get(f"/queries/{name}?inference=none&format=json")
    assert response.status_code == 200, response.data
    data = response.get_json()
    names = data["head"]["vars"]
    got = sorted(tuple(str(b.get(v, {}).get("value", "None")) for v in names) for b in data["results"]["bindings"])
    assert got == want  # unbound is "None" on both sides
    full = client.get(f"/queries/{name}?inference=rl&format=json").get_json()["results"]["bindings"]
    if name == "org-members":
        assert got == [] and len(full) == 29


def test_inference_parameter_is_checked_documented_and_kept(client: FlaskClient, spec: dict) -> None:
    bad = client.get("/queries/org-members?inference=maybe", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "inference" in bad.get_json()["message"]
    twice = client.get("/queries/org-members?inference=none&inference=rl", headers={"Accept": "application/json"})
    assert twice.status_code == 400
    params = {p["name"]: p for p in spec["paths"]["/queries/org-members"]["get"]["parameters"]}
    assert params["inference"]["schema"]["enum"] == ["none", "rl"]
    html = client.get("/queries/org-members?inference=none", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'name="inference" value="none" checked' in html and "inference=none&amp;format=csv" in html
    assert "0 rows" in html


# --- OpenAPI ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict:
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_openapi_validates(spec: dict) -> None:
    from openapi_spec_validator import validate

    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_openapi_describes_every_query_with_types_defaults_and_enums(spec: dict, client: FlaskClient) -> None:
    listed = {q["name"] for q in client.get("/queries?format=json").get_json()["queries"]}
    saved = {p.removeprefix("/queries/") for p in spec["paths"] if p.startswith("/queries/")}
    assert saved == listed
    params = lambda name: {p["name"]: p for p in spec["paths"][f"/queries/{name}"]["get"]["parameters"]}
    org = params("org-members")["org"]
    assert org["required"] is False and org["schema"]["default"] == CICA and org["schema"]["format"] == "iri"
    assert CICA in org["schema"]["enum"] and "https://w3id.org/caspian-kg/id/org/ots" in org["schema"]["enum"]
    assert params("summits")["number"]["schema"]["type"] == "integer"
    assert params("events-in-date-range")["from"]["schema"] == {"type": "string", "format": "date", "minLength": 1,
                                                                "default": "2020-01-01"}
    assert params("events-in-year")["year"]["schema"]["pattern"].startswith("^")
    assert params("lookup-label")["name"]["required"] is True
    assert len(params("events-of-type")["type"]["schema"]["enum"]) == 12  # peacekeeping missions and campaigns too
    assert spec["paths"]["/queries/org-members"]["get"]["tags"] == ["organisations"]


# --- CLI ------------------------------------------------------------------------------------


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--list"]) == 0
    out = capsys.readouterr().out
    assert "org-members" in out and "[--org <IRI>]" in out and "--name <text (@en)>" in out


def test_cli_run_with_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--no-validate", "run", "org-chair", "--org", "orgn:cica", "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["results"]["bindings"][0]["chair"]["value"].endswith("/state/kazakhstan")
    assert cli.main(["--no-validate", "run", "lookup-label", "--name=Kyrgyz Republic"]) == 0
    assert "state:kyrgyzstan" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["run", "no-such-query"], "no saved query named"),
    (["--no-validate", "run", "org-chair", "--org", "not an iri"], "parameter 'org'"),
    (["--no-validate", "run", "org-chair", "--bogus", "1"], "unknown parameter 'bogus'"),
    (["run", "org-chair", "--org"], "needs a value"),
    (["run"], "--list"),
])
def test_cli_errors_are_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err

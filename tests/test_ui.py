"""The human pages through Flask's test client (fast; no browser, no JavaScript): home, search,
query editor with server-side results, timeline, membership charts, and the shared look.

Everything checked here is what a browser without JavaScript gets; tests/test_browser.py checks
the same pages in Chromium, script included.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caspian_kg.search import fold
from caspian_kg.web.state import of

STATIC = Path(__file__).resolve().parents[1] / "server" / "caspian_kg" / "web" / "static"
CICA_MEMBERS = """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX orgn: <https://w3id.org/caspian-kg/id/org/>
SELECT ?member ?label WHERE { orgn:cica org:hasMember ?member . ?member rdfs:label ?label . }"""
PAGES = ["/", "/query", "/search?q=cica", "/timeline", "/chart", "/chart/cica", "/queries", "/queries/org-members",
         "/id/state/azerbaijan.html", "/ontology.html", "/void.html", "/query?query=" + quote(CICA_MEMBERS),
         "/explain?s=state:kazakhstan&p=org:memberOf&o=orgn:cica"]


class Page(HTMLParser):
    """What the tests look at in a page: tags with their attributes, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str, **wanted: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in wanted.items())]

    def by_class(self, tag: str, css_class: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and css_class in a.get("class", "").split()]


def get(client: FlaskClient, path: str, status: int = 200) -> tuple[str, Page]:
    response = client.get(path, headers={"Accept": "text/html"}, follow_redirects=True)
    assert response.status_code == status, (path, response.status_code, response.data[:300])
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    return unescape(html), Page(html)


# --- one look, every page ------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_shared_header_footer_and_landmarks(client: FlaskClient, path: str) -> None:
    text, page = get(client, path)
    assert '<html lang="en">' in text
    assert page.all("link", rel="stylesheet")[0]["href"] == "/static/site.css"
    hrefs = {a.get("href") for a in page.all("a")}
    for target in ("/", "/query", "/queries", "/timeline", "/ontology.html", "/void.html", "/sparql"):
        assert target in hrefs, (path, target)
    assert len(page.all("main", id="content")) == 1 and page.all("nav", **{"aria-label": "Main"})
    assert page.by_class("header", "masthead") and page.by_class("footer", "colophon")
    assert page.all("a", href="#content")  # skip link for keyboard users
    current = [a for a in page.all("a") if a.get("aria-current") == "page"]
    assert len(current) <= 1


@pytest.mark.parametrize("path", PAGES)
def test_no_asset_comes_from_the_internet(client: FlaskClient, path: str) -> None:
    _, page = get(client, path)
    for tag, attrs in page.tags:
        for attr in ("src", "href") if tag in ("script", "link", "img", "iframe", "source", "object", "embed") \
                else ("src",):
            value = attrs.get(attr, "")
            assert not re.match(r"(?i)([a-z]+:)?//", value), (path, tag, value)


@pytest.mark.parametrize("path", PAGES)
def test_every_form_control_has_a_label(client: FlaskClient, path: str) -> None:
    _, page = get(client, path)
    labelled = {a.get("for") for a in page.all("label")}
    for tag in ("input", "textarea", "select"):
        for control in page.all(tag):
            if control.get("type") in ("hidden", "submit"):
                continue
            assert control.get("id") in labelled or control.get("aria-label"), (path, tag, control)


def test_stylesheets_and_script_are_served_and_self_contained(client: FlaskClient) -> None:
    for name in ("site.css", "editor.js"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert "http://" not in body and "https://" not in body and "@import" not in body, name
    assert client.get("/ld-static/ld.css").status_code == 200


def test_the_script_is_small() -> None:
    assert (STATIC / "editor.js").stat().st_size < 6_000


# --- home -----------------------------------------------------------------------------------------


def test_home_shows_what_the_graph_is_with_counts_sources_entry_points_and_gallery(client: FlaskClient) -> None:
    text, page = get(client, "/")
    assert "Azerbaijan and Central Asia, as linked data" in text
    figures = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    for figure in ("39 states", "15 organisations", "5 persons", "30 events", "58 memberships"):
        assert figure in figures, figure
    hrefs = {a.get("href") for a in page.all("a")}
    assert {"/id/doc/azerbaijan-central-asia-relations", "/id/doc/turkic-factor-baku-bishkek"} <= hrefs
    assert {"/id/org/cica", "/chart/cica", "/id/state/kazakhstan", "/id/person/ilham-aliyev",
            "/id/event/patriotic-war-2020", "/timeline"} <= hrefs
    assert "/queries/org-members" in hrefs and "/query?example=org-members" in hrefs
    assert page.all("form", action="/search") and page.all("input", name="q")


# --- search ---------------------------------------------------------------------------------------


def test_fold_ignores_case_and_accents() -> None:
    assert fold("Türkiye") == fold("TURKIYE") == fold("turkiye") == "turkiye"
    assert fold("Ağdam") == "agdam" and fold("Əliyev") == "eliyev" and fold("TÜRKİYE") == "turkiye"
    assert fold("  Kassym-Jomart   Tokayev ") == "kassym-jomart tokayev"


@pytest.mark.parametrize("q", ["turkiye", "TÜRKIYE", "Türkiye", "türk"])
def test_search_finds_turkiye_first_whatever_the_spelling(client: FlaskClient, q: str) -> None:
    data = client.get("/search", query_string={"q": q, "format": "json"}).get_json()
    assert data["results"][0]["iri"] == "https://w3id.org/caspian-kg/id/state/turkiye"
    assert data["results"][0]["href"] == "/id/state/turkiye"


def test_search_matches_alternative_names_after_labels(client: FlaskClient) -> None:
    data = client.get("/search?q=turkey", headers={"Accept": "application/json"}).get_json()
    turkiye = next(r for r in data["results"] if r["iri"].endswith("/state/turkiye"))
    assert turkiye["match"] == "altLabel" and turkiye["matched"] == "Turkey"
    matches = [r["match"] for r in client.get("/search?q=turk&format=json").get_json()["results"]]
    assert "altLabel" not in matches or matches == sorted(matches, key=lambda m: m != "label")


def test_search_page_lists_results_with_links(client: FlaskClient) -> None:
    text, page = get(client, "/search?q=council+of+turkic+cooperation")
    assert page.all("a", href="/id/org/ots")
    assert "also known as" in text  # found by its former name, an alternative label
    text, page = get(client, "/search?q=zzzzqx")
    assert "0 results" in text and "Nothing is named like that" in text
    text, _ = get(client, "/search")
    assert "results for" not in text


# --- query editor ---------------------------------------------------------------------------------


def test_editor_starts_with_the_query_and_examples_and_knows_the_prefixes(client: FlaskClient) -> None:
    text, page = get(client, "/query")
    textarea = text.split('name="query"')[1].split("</textarea>")[0]
    assert "PREFIX" not in textarea and "orgn:cica" in textarea  # the query, not 26 PREFIX lines
    config = json.loads(text.split('id="editor-config">')[1].split("</script>")[0])
    assert config["prefixes"]["ck"] == "https://w3id.org/caspian-kg/ontology#"  # YASGUI knows them
    assert config["prefixes"]["orgn"] == "https://w3id.org/caspian-kg/id/org/"
    assert page.all("form", action="/query") and page.all("textarea", name="query")
    assert len(page.all("option")) >= 20 and 'id="results-heading"' not in text  # nothing run yet


def test_query_runs_on_the_server_with_linked_results_downloads_and_share_url(client: FlaskClient) -> None:
    text, page = get(client, "/query?query=" + quote(CICA_MEMBERS))
    rows = re.findall(r"<tr>.*?</tr>", text.split("<tbody>")[1], re.DOTALL)
    assert len(rows) == 28 and "28 rows" in text
    assert page.all("a", href="/id/state/kazakhstan")  # IRIs under the base link to local pages
    downloads = [a["href"] for a in page.all("a") if a.get("href", "").startswith("/sparql?query=")]
    assert [parse_qs(urlsplit(h).query)["format"] for h in downloads] == [["json"], ["xml"], ["csv"], ["tsv"]]
    assert all(parse_qs(urlsplit(h).query)["query"] == [CICA_MEMBERS] for h in downloads)
    share = page.all("input", id="share-url")[0]["value"]
    assert parse_qs(urlsplit(share).query)["query"] == [CICA_MEMBERS]


def test_sorting_works_without_javascript(client: FlaskClient) -> None:
    text, page = get(client, "/query?" + "&".join([f"query={quote(CICA_MEMBERS)}", "sort=label", "order=desc"]))
    labels = re.findall(r"<td>([^<]+) <small class=\"note\" title=\"language: en\">en</small></td>", text)
    assert labels[0] == "Vietnam" and labels[-1] == "Afghanistan" and len(labels) == 28
    assert 'aria-sort="descending"' in text
    sort_links = [a["href"] for a in page.by_class("a", "sort")]
    assert any("sort=label" in h and "order=asc" in h for h in sort_links)


def test_errors_are_shown_in_place_with_the_endpoint_message(client: FlaskClient) -> None:
    text, _ = get(client, "/query?query=" + quote("SELECT ?x WHERE { ?x ?y }"), status=400)
    alert = re.search(r'role="alert">(.*?)</div>', text, re.DOTALL)
    assert alert and "SPARQL syntax error" in alert.group(1)
    sparql = client.get("/sparql?query=" + quote("SELECT ?x WHERE { ?x ?y }")).get_data(as_text=True).strip()
    assert sparql in text  # the endpoint's one-line message, word for word
    assert "SELECT ?x WHERE { ?x ?y }</textarea>" in text  # the query stays in the editor to fix


def test_ask_and_construct_results(client: FlaskClient) -> None:
    text, _ = get(client, "/query?query=" + quote("PREFIX state: <https://w3id.org/caspian-kg/id/state/> "
                                                  "PREFIX org: <http://www.w3.org/ns/org#> "
                                                  "ASK { state:turkmenistan org:memberOf ?o }"))
    assert '<p class="answer">no' in text
    text, page = get(client, "/query?query=" + quote("CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 2"))
    assert '<pre class="graph">' in text
    formats = [parse_qs(urlsplit(a["href"]).query)["format"][0] for a in page.all("a")
               if a.get("href", "").startswith("/sparql?query=")]
    assert formats == ["turtle", "nt", "jsonld", "rdfxml", "trig", "nquads"]


def test_every_saved_query_runs_as_an_editor_example(client: FlaskClient, app: Flask) -> None:
    library = of(app).library
    for query in library:
        text, _ = get(client, f"/query?example={query.name}")
        assert 'role="alert"' not in text, query.name
    text, _ = get(client, "/query?example=org-members")
    assert "<https://w3id.org/caspian-kg/id/org/cica>" in text  # the default bound in the text
    assert client.get("/query?example=no-such-query", headers={"Accept": "text/html"}).status_code == 404


# --- timeline and charts --------------------------------------------------------------------------


def test_timeline_draws_dated_events_and_lists_the_undated(client: FlaskClient) -> None:
    text, page = get(client, "/timeline")
    svg = re.search(r"<svg class=\"chart.*?</svg>", text, re.DOTALL)
    assert svg
    marks = re.findall(r'<a href="(/id/event/[^"]+)" class="mark">', svg.group(0))
    assert len(marks) == 9 and marks[0] == "/id/event/cica-initiative-1992"
    assert "Year not stated" in svg.group(0) and "11 October (year not stated)" in text
    undated = re.search(r'id="undated">Undated events \((\d+)\)', text)
    assert undated and int(undated.group(1)) == 30 - 9
    assert page.all("a", href="/id/event/sco-summits")  # an undated event, in the list below
    response = client.get("/timeline.svg")
    assert response.mimetype == "image/svg+xml" and ET.fromstring(response.data).tag.endswith("svg")


def test_cica_chart_has_28_members_10_plus_5_observers_and_kazakhstan_as_chair(client: FlaskClient) -> None:
    text, page = get(client, "/chart/cica")
    svg = re.search(r"<svg.*?</svg>", text, re.DOTALL)
    assert svg
    ET.fromstring(svg.group(0))
    for heading in ("Chair (1)", "Members (28)", "Observer states (10)", "Observer organisations (5)"):
        assert heading in svg.group(0), heading
    assert len(re.findall(r'class="tile"', svg.group(0))) == 44
    assert "Kazakhstan · since 2020" in svg.group(0)
    assert page.all("a", href="/id/state/turkmenistan")
    response = client.get("/chart/cica.svg")
    assert response.mimetype == "image/svg+xml"
    ET.fromstring(response.data)


def test_chart_index_and_unknown_organisations(client: FlaskClient) -> None:
    _, page = get(client, "/chart")
    assert page.all("a", href="/chart/cica") and page.all("a", href="/chart/oic")
    text, _ = get(client, "/chart/oic")
    assert "Role not stated in the source" in text
    assert client.get("/chart/atlantis", headers={"Accept": "text/html"}).status_code == 404


# --- the linked-data and saved-query pages share the look -----------------------------------------


def test_resource_pages_keep_their_own_styles_and_alternates(client: FlaskClient) -> None:
    text, page = get(client, "/id/state/azerbaijan.html")
    sheets = [a["href"] for a in page.all("link", rel="stylesheet")]
    assert sheets == ["/static/site.css", "/ld-static/ld.css"]
    assert "This page as data:" in text and page.all("a", rel="alternate")

"""The query editor without a browser, the error pages and the favicon (tests/test_yasgui.py drives
the editor in Chromium): YASGUI vendored as recorded; the data's prefixes predeclared on every
door; /sparql giving a browser the editor and machines the service description; short share
links; results paged on the server; one error answer for every route family × HTML/JSON/plain."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caspian_kg import cli
from caspian_kg.web.editor import DEFAULT_QUERY, EDITOR_ACCEPT, PAGE_ROWS, YASGUI_STYLE_HASHES
from caspian_kg.web.state import of

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "server" / "caspian_kg" / "web" / "static" / "vendor" / "yasgui"
CHROMIUM_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
                   "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
# no PREFIX line: ck:, org:, orgn:, rdfs: are the data's own
UNDECLARED = "SELECT ?member ?label WHERE { orgn:cica org:hasMember ?member . ?member rdfs:label ?label } ORDER BY ?label"
DECLARED = ("PREFIX org: <http://www.w3.org/ns/org#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            "PREFIX orgn: <https://w3id.org/caspian-kg/id/org/>\n" + UNDECLARED)


# --- YASGUI, vendored ----------------------------------------------------------------------------


def test_vendored_yasgui_matches_its_recorded_version_checksums_and_licence() -> None:
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    recorded = dict(re.findall(r"\| sha256 `([^`]+)` \| `([0-9a-f]{64})` \|", readme))
    assert set(recorded) == {"yasgui.min.js", "yasgui.min.css"}
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    pinned = re.search(r'^VERSION="\$\{1:-([0-9.]+)\}"', (ROOT / "tools" / "vendor_yasgui.sh").read_text(), re.MULTILINE)
    assert pinned and f"| version | {pinned.group(1)} |" in readme
    assert "| licence | MIT" in readme and "MIT License" in (VENDOR / "LICENSE").read_text(encoding="utf-8")
    package_data = re.search(r"^caspian_kg = \[(.*)\]$", (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert package_data and '"web/static/vendor/yasgui/*"' in package_data.group(1)  # pip install ships it


def test_the_editor_csp_allows_exactly_the_stylesheet_yasgui_injects(client: FlaskClient) -> None:
    """YASR's column resizer adds one <style>; its hash (and nothing like 'unsafe-inline') is allowed."""
    bundle = (VENDOR / "yasgui.min.js").read_text(encoding="utf-8")
    css = re.search(r'createStyle\(\w+,\s*(["`])( \.grip-resizable\{.*?)\1\)', bundle)
    assert css, "the column resizer's stylesheet is not where it was: re-check the editor's CSP"
    digest = "sha256-" + base64.b64encode(hashlib.sha256(css.group(2).encode()).digest()).decode()
    assert YASGUI_STYLE_HASHES == (digest,)
    editor = client.get("/query", headers={"Accept": "text/html"}).headers["Content-Security-Policy"]
    assert f"style-src 'self' '{digest}';" in editor and "unsafe" not in editor
    home = client.get("/", headers={"Accept": "text/html"}).headers["Content-Security-Policy"]
    assert "style-src 'self';" in home and "sha256" not in home  # every other page: no inline style at all


def test_the_editor_page_loads_yasgui_from_this_server_only(client: FlaskClient) -> None:
    text = client.get("/query", headers={"Accept": "text/html"}).get_data(as_text=True)
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', text)
    assert "/static/vendor/yasgui/yasgui.min.js" in sources and "/static/vendor/yasgui/yasgui.min.css" in sources
    assert all(s.startswith("/") for s in sources), sources  # nothing from a CDN
    for path in ("/static/vendor/yasgui/yasgui.min.js", "/static/vendor/yasgui/yasgui.min.css", "/static/query.js"):
        assert client.get(path).status_code == 200, path


# --- prefixes predeclared, on every door --------------------------------------------------------


def rows_of(body: str) -> list[tuple[str, ...]]:
    data = json.loads(body)
    return [tuple(b[v]["value"] for v in data["head"]["vars"]) for b in data["results"]["bindings"]]


def test_the_datas_prefixes_are_predeclared_on_every_door(
        app: Flask, client: FlaskClient, capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    accept = {"Accept": "application/sparql-results+json"}
    expected = rows_of(client.get("/sparql", query_string={"query": DECLARED}, headers=accept).get_data(as_text=True))
    assert len(expected) == 28
    doors = {
        "GET /sparql": client.get("/sparql", query_string={"query": UNDECLARED}, headers=accept),
        "POST /sparql (form)": client.post("/sparql", data={"query": UNDECLARED}, headers=accept),
        "POST /sparql (direct)": client.post("/sparql", data=UNDECLARED.encode(), headers=accept,
                                             content_type="application/sparql-query"),
    }
    for door, response in doors.items():
        assert response.status_code == 200, (door, response.data[:200])
        assert rows_of(response.get_data(as_text=True)) == expected, door
    page = client.get("/query", query_string={"query": UNDECLARED}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "28 rows" in page.get_data(as_text=True)
    monkeypatch.setattr(cli, "open_graph", lambda config: of(app).kg)
    capsys.readouterr()
    assert cli.main(["--root", str(ROOT), "query", "--format", "json", UNDECLARED]) == 0
    assert rows_of(capsys.readouterr().out) == expected
    # a query's own declaration wins over the predeclared one
    shadowed = "PREFIX orgn: <http://example.org/nothing/>\n" + UNDECLARED
    body = client.get("/sparql", query_string={"query": shadowed}, headers=accept).get_data(as_text=True)
    assert rows_of(body) == []


# --- /sparql: the editor for a browser, the service description for machines --------------------


@pytest.mark.parametrize("accept, page", [
    (CHROMIUM_ACCEPT, True), ("text/html", True), ("text/html,application/xhtml+xml", True),
    (None, False), ("*/*", False), ("text/turtle", False), ("application/rdf+xml", False),
    ("application/rdf+xml,text/html;q=0.5", False), ("text/turtle;q=0.9,text/html;q=0.9", False),
])
def test_sparql_gives_a_browser_the_editor_and_machines_the_description(
        client: FlaskClient, accept: str | None, page: bool) -> None:
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    if page:
        assert response.mimetype == "text/html" and 'id="yasgui"' in response.get_data(as_text=True)
    else:
        assert response.mimetype != "text/html" and "Service" in response.get_data(as_text=True)
    assert "Accept" in response.vary


def test_a_browser_asking_for_the_description_by_format_gets_it(client: FlaskClient) -> None:
    response = client.get("/sparql?format=turtle", headers={"Accept": CHROMIUM_ACCEPT})
    assert response.mimetype == "text/turtle" and "sd:Service" in response.get_data(as_text=True)


# --- share links, the starting query, server-side paging -----------------------------------------


def editor_config(text: str) -> dict[str, Any]:
    return json.loads(text.split('id="editor-config">')[1].split("</script>")[0])  # type: ignore[no-any-return]


def test_the_editor_starts_with_the_query_and_share_links_stay_short(client: FlaskClient, app: Flask) -> None:
    text = client.get("/query", headers={"Accept": "text/html"}).get_data(as_text=True)
    config = editor_config(text)
    assert config["query"] == DEFAULT_QUERY and "PREFIX" not in DEFAULT_QUERY
    assert config["endpoint"] == "http://localhost/sparql" and config["accept"] == EDITOR_ACCEPT
    share = re.search(r'id="share-url" readonly value="([^"]+)"', text)
    assert share
    prefixes = of(app).kg.prefixes()
    declared = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items())
    with_prefixes = "http://localhost/query?query=" + quote(declared + DEFAULT_QUERY)
    # measured: 400 characters, against 3,406 with the 46 prefixes written out
    assert len(share.group(1)) < 500 and len(with_prefixes) > 2500, (len(share.group(1)), len(with_prefixes))
    assert len(prefixes) >= 20 and set(config["prefixes"]) == set(prefixes)
    assert "https://w3id.org/caspian-kg/ontology#observerOf" in config["properties"]
    assert "https://w3id.org/caspian-kg/ontology#State" in config["classes"]
    assert set(config["examples"]) == {q.name for q in of(app).library}
    # saved queries open without the PREFIX lines that only repeat predeclared prefixes
    assert "PREFIX ck:" in of(app).library.get("visits").sparql
    assert all("PREFIX ck:" not in e["text"] for e in config["examples"].values())


def test_large_results_are_paged_on_the_server(client: FlaskClient) -> None:
    everything = "SELECT * WHERE { ?s ?p ?o }"
    response = client.get("/query", query_string={"query": everything}, headers={"Accept": "text/html"})
    text = response.get_data(as_text=True)
    total = int(re.search(r'<p class="count">(\d+) rows', text).group(1))  # type: ignore[union-attr]
    assert total > 5 * PAGE_ROWS
    assert len(re.findall(r"<tr>", text.split("<tbody>")[1])) == PAGE_ROWS
    assert len(response.data) < 120_000  # one page, not the whole graph as HTML
    nxt = re.search(r'<a href="([^"]+)" rel="next">', text)
    assert nxt and "page=2" in nxt.group(1)
    second = client.get(nxt.group(1).replace("&amp;", "&"), headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f"{PAGE_ROWS + 1}–{2 * PAGE_ROWS} shown (page 2 of" in second and 'rel="prev"' in second
    last = client.get("/query", query_string={"query": everything, "page": "100000"}, headers={"Accept": "text/html"})
    assert last.status_code == 200 and 'rel="next"' not in last.get_data(as_text=True)
    for bad in ("0", "-1", "two", ""):
        assert client.get("/query", query_string={"query": everything, "page": bad}).status_code == 400, bad
    small = client.get("/query", query_string={"query": DECLARED}, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'class="pager"' not in small and "28 rows</p>" in small


def test_the_page_and_the_editors_own_request_share_one_run(client: FlaskClient, app: Flask) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?c } # shared-run"
    answers = of(app).answers
    client.get("/query", query_string={"query": query}, headers={"Accept": "text/html"})
    hits = answers.hits
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": EDITOR_ACCEPT})
    assert response.status_code == 200 and answers.hits == hits + 1  # YASGUI's request: from the cache



def test_asserted_facts_only_is_kept_by_every_link_the_page_gives(client: FlaskClient) -> None:
    """inference=none (the page's "asserted facts only" box): the page answers without the closure,
    and its share link, sort links, pages and downloads all keep it, so a shared link shows
    what the user saw; without it no link carries it."""
    types = "SELECT ?type WHERE { state:azerbaijan a ?type } ORDER BY ?type"

    def page(**extra: str) -> str:
        return client.get("/query", query_string={"query": types, **extra}, headers={"Accept": "text/html"}).get_data(as_text=True)

    asserted, full = page(inference="none"), page()
    assert "1 row</p>" in asserted and "1 row</p>" not in full  # ck:State alone, against its superclasses
    assert re.search(r'<input type="checkbox" id="asserted-only" form="editor" name="inference" value="none" checked>', asserted)
    assert 'id="asserted-only" form="editor" name="inference" value="none">' in full
    share = unescape(re.search(r'id="share-url" readonly value="([^"]+)"', asserted).group(1))  # type: ignore[union-attr]
    assert share.endswith("&inference=none") and "inference" not in unescape(
        re.search(r'id="share-url" readonly value="([^"]+)"', full).group(1))  # type: ignore[union-attr]
    assert editor_config(asserted)["inference"] == "none" and editor_config(full)["inference"] is None
    links = [unescape(h) for h in re.findall(r'<a class="sort" href="([^"]+)"', asserted)]
    links += [unescape(h) for h in re.findall(r'<a href="(/sparql\?[^"]+)" download>', asserted)]
    assert len(links) > 3 and all("inference=none" in h for h in links), links
    opened = client.get(share.removeprefix("http://localhost"), headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "1 row</p>" in opened  # the link reproduces the answer
    everything = client.get("/query", query_string={"query": "SELECT * WHERE { ?s ?p ?o }", "inference": "none"},
                            headers={"Accept": "text/html"}).get_data(as_text=True)
    nxt = unescape(re.search(r'<a href="([^"]+)" rel="next">', everything).group(1))  # type: ignore[union-attr]
    assert "inference=none" in nxt

# --- one error answer for every route -----------------------------------------------------------

ERRORS = [
    ("/no-such-page", 404), ("/queries/no-such-query", 404), ("/chart/no-such-chart", 404),
    ("/id/state/atlantis", 404), ("/id/state/atlantis.ttl", 404), ("/ontology/NoSuchTerm", 404),
    ("/graph/no-such-graph", 404), ("/query?example=no-such-query", 404), ("/static/no-such.css", 404),
    ("/search?q=a&q=b", 400), ("/queries/summits?inference=maybe", 400), ("/sparql?default-graph-uri=x", 400),
    ("/query?query=SELECT%20*%20%7B%7D&page=0", 400), ("/timeline?format=nonsense", 406),
]


@pytest.mark.parametrize("path, status", ERRORS)
def test_every_route_answers_an_error_the_same_way(client: FlaskClient, path: str, status: int) -> None:
    html = client.get(path, headers={"Accept": CHROMIUM_ACCEPT})
    assert html.status_code == status and html.mimetype == "text/html", (path, html.data[:200])
    page = html.get_data(as_text=True)
    assert '<html lang="en">' in page and "<title>" in page and 'aria-label="Main"' in page
    assert 'role="search"' in page and 'action="/search"' in page and 'rel="icon"' in page
    assert html.headers["Cache-Control"] == "no-store"
    as_json = client.get(path, headers={"Accept": "application/json"})
    assert as_json.status_code == status and as_json.mimetype == "application/json"
    body = as_json.get_json()
    assert body["status"] == status and body["message"] and "\n" not in body["message"]
    assert body["message"] in unescape(page)
    for accept in ("*/*", None):  # (a route that writes only HTML or JSON answers text/plain with 406)
        plain = client.get(path, headers={"Accept": accept} if accept else {})
        assert plain.status_code == status and plain.mimetype == "text/plain", (path, accept, plain.mimetype)
        assert plain.get_data(as_text=True).count("\n") == 1


def test_an_unknown_path_says_where_and_a_wrong_method_says_which(client: FlaskClient) -> None:
    text = client.get("/no-such-page").get_data(as_text=True)
    assert text == "no page or resource at /no-such-page\n"
    html = client.get("/no-such-page", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<title>Not found · caspian-kg</title>" in html and "<code>/no-such-page</code>" in html
    post = client.post("/query", headers={"Accept": "text/html"})
    assert post.status_code == 405 and post.mimetype == "text/html" and "GET" in post.headers["Allow"]


def test_favicon(client: FlaskClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    page = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    linked = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert linked and client.get(linked.group(1)).data == icon.data

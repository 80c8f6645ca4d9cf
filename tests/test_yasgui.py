"""The query editor (YASGUI, vendored) in a real browser, at desktop and phone sizes: it loads
from this server only, runs a query with Ctrl+Enter and pages its results, opens a saved query in
a new tab without touching the user's text, downloads CSV, gives short share links, works from
the keyboard alone, and passes axe-core with nothing wider than the screen (tests/a11y.py).

The server and browser are set up as in tests/test_browser.py (Debian's Chromium via Playwright;
every request leaving the server fails the test); screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from a11y import DESKTOP, PHONE, VIEWPORTS, assert_usable
from browsing import require_browser, screenshot

from caspian_kg.web.editor import EDITOR_ACCEPT

pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = require_browser()

# no PREFIX lines: the data's prefixes are predeclared (the editor must not mark them undeclared)
LABELS = "SELECT ?thing ?label WHERE { ?thing rdfs:label ?label . FILTER(?thing != state:azerbaijan) } ORDER BY ?label"
ONE_ROW = re.compile(r" of 1 entr")  # YASR's "Showing 1 to 1 of 1 entries"
CICA = "SELECT ?member ?label WHERE { orgn:cica org:hasMember ?member . ?member rdfs:label ?label } ORDER BY ?label"


@pytest.fixture()
def open_page(browser: Any, server: str) -> Iterator[Callable[..., Any]]:
    """Pages at a viewport, each failing the test on a script error, a console error (a CSP
    violation is one) or a request that leaves the server."""
    contexts: list[Any] = []
    problems: list[str] = []

    def make(viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
        context = browser.new_context(viewport=viewport, base_url=server, accept_downloads=True, **options)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
        expected = ("Failed to load resource: the server responded with a status of 4",)  # error pages on purpose
        page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error" and not msg.text.startswith(expected) else None)

        def guard(route: Any) -> None:
            if urlsplit(route.request.url).netloc != urlsplit(server).netloc:
                problems.append(f"external request: {route.request.url}")
                route.abort()
            else:
                route.continue_()

        page.route("**/*", guard)
        return page

    yield make
    for context in contexts:
        context.close()
    assert problems == []


def editor_ready(page: Any) -> None:
    page.locator(".yasqe .CodeMirror:visible").first.wait_for()


def editor_text(page: Any) -> str:
    return page.evaluate("caspianEditor.getTab().getYasqe().getValue()")  # type: ignore[no-any-return]


def type_query(page: Any, text: str) -> None:
    """Replace the active tab's text as a user does: click, select all, type."""
    page.locator(".yasqe .CodeMirror:visible").first.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def results_info(page: Any) -> str:
    info = page.locator(".yasr:visible .dt-info").first
    info.wait_for()
    return info.inner_text()  # type: ignore[no-any-return]


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_yasgui_runs_a_query_with_ctrl_enter_and_pages_its_results(open_page: Callable[..., Any], size: str) -> None:
    page = open_page(VIEWPORTS[size])
    page.goto("/query")
    editor_ready(page)
    assert page.locator("#plain").is_hidden()  # the no-JavaScript form gives way to YASGUI
    assert editor_text(page).startswith("# Members of CICA") and "PREFIX" not in editor_text(page)
    type_query(page, LABELS)
    assert page.locator(".yasqe:visible .parseErrorIcon").count() == 0  # state:, rdfs: count as declared
    page.keyboard.press("Control+Enter")
    first = results_info(page)
    assert first.startswith("Showing 1 to 50 of "), first
    total = int(first.split(" of ")[1].split()[0])
    assert total > 50
    assert page.locator(".yasr:visible tbody tr").count() == 50
    local = page.locator(".yasr:visible tbody a.iri").first.get_attribute("href")
    assert local.startswith("/id/"), local  # our IRIs open on this server
    page.locator(".yasr:visible .dt-paging-button.next").click()
    assert results_info(page).startswith("Showing 51 to "), results_info(page)
    screenshot(page, f"editor-{size}")
    assert_usable(page)


def test_a_saved_query_opens_in_a_new_tab_without_overwriting(open_page: Callable[..., Any]) -> None:
    page = open_page()
    page.goto("/query")
    editor_ready(page)
    mine = "# my own work\n" + CICA
    type_query(page, mine)
    tabs = page.locator(".tabsList .tab")
    before = tabs.count()
    page.get_by_label("Start from a saved query").select_option("org-observers")
    page.get_by_role("button", name="Open and run").click()
    assert tabs.count() == before + 1
    assert page.locator(".tabsList .tab.active").inner_text().strip().startswith("org-observers")
    assert "observer" in editor_text(page).lower() and editor_text(page) != mine
    assert int(results_info(page).split(" of ")[1].split()[0]) == 15
    assert page.url.endswith("/query")
    tabs.first.locator("a").click()
    assert editor_text(page) == mine  # the user's text is where it was


def test_example_links_and_share_links_open_the_query(open_page: Callable[..., Any], server: str) -> None:
    page = open_page()
    page.goto("/query?example=org-members")  # the saved-query pages and the home gallery link here
    editor_ready(page)
    assert page.locator(".tabsList .tab.active").inner_text().strip().startswith("org-members")
    results_info(page)
    type_query(page, CICA)
    page.locator(".yasqe_share:visible").click()
    link = page.locator(".yasqe_sharePopup input").first.input_value()
    assert len(link) < 300, link  # no PREFIX lines, no YASGUI settings
    assert urlsplit(link).path == "/query" and parse_qs(urlsplit(link).query)["query"] == [CICA]
    other = open_page()
    asked: list[str | None] = []
    other.on("request", lambda r: asked.append(r.headers.get("accept")) if "/sparql?" in r.url else None)
    other.goto(link[len(server):])
    editor_ready(other)
    assert editor_text(other) == CICA
    assert int(results_info(other).split(" of ")[1].split()[0]) == 28  # run on arrival
    assert asked == [EDITOR_ACCEPT]  # GET, as the page's own run: one answer-cache entry for both



@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_literals_show_as_text_not_as_n_triples(open_page: Callable[..., Any], size: str) -> None:
    """A language-tagged label reads "Azerbaijan", not "Azerbaijan"@en; its language (a number's
    or a year's kind) follows in small type, as on Wikidata's query service."""
    page = open_page(VIEWPORTS[size])
    page.goto("/query")
    editor_ready(page)
    type_query(page, 'SELECT ?label ?n ?year WHERE { state:azerbaijan rdfs:label ?label . BIND(28 AS ?n) '
                     'BIND("2020"^^xsd:gYear AS ?year) }')
    page.keyboard.press("Control+Enter")
    assert results_info(page).startswith("Showing 1 to 1 of 1")
    cells = page.locator(".yasr:visible tbody tr").first.locator("td")
    label, number, year = (cells.nth(i).inner_text().strip() for i in (1, 2, 3))
    assert label.startswith("Azerbaijan") and '"' not in label and "@" not in label, label
    assert '"' not in number + year and "^^" not in number + year and "xsd:" not in number + year, (number, year)
    notes = cells.locator(".literal-note")
    assert notes.all_inner_texts() == ["en", "number", "year"]
    assert notes.first.get_attribute("title") == "language: en"
    screenshot(page, f"editor-literals-{size}")
    assert_usable(page)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_asserted_facts_only_is_kept_by_the_share_link(open_page: Callable[..., Any], server: str, size: str) -> None:
    """The "asserted facts only" box sends inference=none; the tab's share link keeps it, and
    opening the link restores the box and gives the same answer."""
    types = "SELECT ?type WHERE { state:azerbaijan a ?type } ORDER BY ?type"
    page = open_page(VIEWPORTS[size])
    page.goto("/query")
    editor_ready(page)
    type_query(page, types)
    page.keyboard.press("Control+Enter")
    assert int(results_info(page).split(" of ")[1].split()[0]) > 1  # ck:State and its superclasses
    box = page.get_by_label("asserted facts only")
    assert not box.is_checked()
    with page.expect_request(lambda r: "/sparql?" in r.url) as asked:
        box.check()  # the results follow the box
    assert parse_qs(urlsplit(asked.value.url).query)["inference"] == ["none"]
    page.locator(".yasr:visible .dt-info", has_text=ONE_ROW).wait_for()  # (the page's CSP: no wait_for_function)
    page.locator(".yasqe_share:visible").click()
    link = page.locator(".yasqe_sharePopup input").first.input_value()
    params = parse_qs(urlsplit(link).query)
    assert urlsplit(link).path == "/query" and params == {"query": [types], "inference": ["none"]}, link
    screenshot(page, f"editor-asserted-{size}")
    assert_usable(page)
    other = open_page(VIEWPORTS[size])
    sent: list[str] = []
    other.on("request", lambda r: sent.append(r.url) if "/sparql?" in r.url else None)
    other.goto(link[len(server):])
    editor_ready(other)
    assert editor_text(other) == types
    assert results_info(other).startswith("Showing 1 to 1 of 1")  # what the user saw: ck:State alone
    assert other.get_by_label("asserted facts only").is_checked()
    assert sent and all(parse_qs(urlsplit(u).query).get("inference") == ["none"] for u in sent), sent
    other.get_by_label("asserted facts only").uncheck()  # and back: the closure again
    other.locator(".yasr:visible .dt-info").filter(has_not_text=ONE_ROW).wait_for()
    other.locator(".yasqe_share:visible").click()
    assert "inference" not in other.locator(".yasqe_sharePopup input").first.input_value()

def test_autocompletion_knows_this_datasets_prefixes_and_terms(open_page: Callable[..., Any]) -> None:
    """Completion comes from this server's data (never from LOV or prefix.cc: no request leaves)."""
    page = open_page()
    page.goto("/query")
    editor_ready(page)
    hints = page.locator(".CodeMirror-hints li")
    type_query(page, "PREFIX ")
    page.keyboard.press("Control+Space")
    hints.first.wait_for()
    assert "ck: <https://w3id.org/caspian-kg/ontology#>" in hints.all_inner_texts()
    page.keyboard.press("Escape")
    type_query(page, "SELECT * WHERE { ?s ck:observ")
    page.keyboard.press("Control+Space")
    hints.first.wait_for()
    offered = hints.all_inner_texts()
    assert "ck:observerOf" in offered and all(h.startswith("ck:observ") for h in offered)
    page.keyboard.press("Enter")  # takes the first
    assert editor_text(page) == "SELECT * WHERE { ?s " + offered[0]


def test_a_query_and_a_csv_download(open_page: Callable[..., Any]) -> None:
    page = open_page()
    page.goto("/query")
    editor_ready(page)
    type_query(page, CICA)
    page.get_by_role("button", name="Run query").click()
    results_info(page)
    with page.expect_download() as download:
        page.locator(".yasr:visible .yasr_downloadIcon").click()
    with open(download.value.path(), encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["member", "label"] and len(rows) == 29
    assert rows[1][1] == "Afghanistan"


def test_keyboard_only(open_page: Callable[..., Any]) -> None:
    """From the address bar to results and on, with no mouse: the editor is reached with Tab,
    runs with Ctrl+Enter, lets Tab leave it (no trap), and a saved query opens from the keyboard."""
    page = open_page(PHONE)
    page.goto("/query")
    editor_ready(page)
    in_editor = "document.activeElement.matches('.CodeMirror textarea')"  # (its buttons sit inside it)
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate(in_editor):
            break
    assert page.evaluate(in_editor), "Tab never reached the editor"
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(CICA + "\n")  # (ending on a variable, Tab would pick its completion)
    page.keyboard.press("Control+Enter")
    assert int(results_info(page).split(" of ")[1].split()[0]) == 28
    page.keyboard.press("Tab")
    assert not page.evaluate(in_editor)  # Tab leaves the editor
    page.keyboard.press("Shift+Tab")
    for _ in range(60):
        if page.evaluate("document.activeElement.id") == "example":
            break
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "example"
    page.keyboard.press("End")  # the last saved query
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.locator(".tabsList .tab").count() == 2
    results_info(page)
    screenshot(page, "editor-keyboard-phone")
    assert_usable(page)


def test_sparql_in_a_browser_is_the_editor_not_a_download(open_page: Callable[..., Any]) -> None:
    page = open_page()
    response = page.goto("/sparql")
    assert response.status == 200 and response.headers["content-type"].startswith("text/html")
    editor_ready(page)
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="SPARQL").get_attribute(
        "aria-current") == "page"


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_error_page(open_page: Callable[..., Any], size: str) -> None:
    page = open_page(VIEWPORTS[size])
    response = page.goto("/chart/no-such-chart")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert page.title() == "Not found · caspian-kg"
    page.get_by_label("Search names", exact=True).last.fill("kazakh")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=kazakh")
    page.go_back()
    screenshot(page, f"error-{size}")
    assert_usable(page)

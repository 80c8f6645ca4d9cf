"""End to end in a real browser: the server as it is deployed (`python -m caspian_kg.web.serve`), driven
by headless Chromium through Playwright. Debian's /usr/bin/chromium is used (Playwright never
downloads a browser here); `bash tests/setup.sh` installs it.

Each test leaves a full-page screenshot in test-output/screenshots/ and checks it is a real
picture (not blank), so a broken stylesheet or an empty page shows up as a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from browsing import require_browser, screenshot

QUERY = """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX orgn: <https://w3id.org/caspian-kg/id/org/>
SELECT ?member ?label WHERE {
  orgn:cica org:hasMember ?member . ?member rdfs:label ?label .
}"""

pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = require_browser()


# --- the server and the browser ---------------------------------------------------------------


@pytest.fixture()
def page(browser: Any, server: str) -> Iterator[Any]:
    """A fresh page that fails the test on a script error or any request leaving the server."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    # a failed query's page is answered with 400 on purpose; Chromium logs that as an error
    expected = "Failed to load resource: the server responded with a status of 400"
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and not msg.text.startswith(expected) else None)

    def guard(route: Any) -> None:
        if urlsplit(route.request.url).netloc != urlsplit(server).netloc:
            problems.append(f"external request: {route.request.url}")
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    yield page
    context.close()
    assert problems == []


# --- the pages ----------------------------------------------------------------------------------


def test_home_then_search_is_accent_insensitive(page: Any) -> None:
    page.goto("/")
    assert page.locator("h1").first.inner_text() == "Azerbaijan and Central Asia, as linked data"
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Timeline").is_visible()
    assert page.locator(".figures").inner_text().count("states") >= 1
    assert page.locator(".gallery li").count() >= 10
    screenshot(page, "home")
    page.get_by_label("Find a state, organisation, person, event or place").fill("turkiye")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=turkiye")
    first = page.locator("ol.results-list li a").first
    assert first.inner_text() == "Türkiye"
    screenshot(page, "search")
    first.click()
    page.wait_for_url("**/id/state/turkiye.html")
    assert page.locator("h1").inner_text() == "Türkiye"


def yasgui_query(page: Any, text: str) -> None:
    """Replace the query in the editor (YASGUI) as a user does, and run it with Ctrl+Enter."""
    editor = page.locator(".yasqe .CodeMirror:visible").first
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text + "\n")
    page.keyboard.press("Control+Enter")


def test_query_editor_runs_with_ctrl_enter_sorts_and_links(page: Any, server: str) -> None:
    page.goto("/query")
    page.locator(".yasqe .CodeMirror:visible").first.wait_for()
    assert "PREFIX" not in page.evaluate("caspianEditor.getTab().getYasqe().getValue()")  # predeclared
    yasgui_query(page, QUERY)
    page.locator(".yasr:visible .dt-info").wait_for()
    rows = page.locator(".yasr:visible tbody tr")
    assert rows.count() == 28
    labels = lambda: page.locator(".yasr:visible tbody tr td:nth-child(3)").evaluate_all(  # without the language note
        "cells => cells.map(c => { const t = c.cloneNode(true); t.querySelectorAll('.literal-note')"
        ".forEach(n => n.remove()); return t.textContent.trim(); })")
    header = page.locator(".yasr:visible thead th").nth(2)
    first = page.locator(".yasr:visible tbody tr td:nth-child(3)").first
    header.click()  # the table re-renders after the click: wait for it, then read it
    sync_api.expect(first).to_contain_text("Afghanistan")
    assert labels() == sorted(labels(), key=str.casefold) and labels()[0] == "Afghanistan"
    header.click()
    sync_api.expect(first).to_contain_text("Vietnam")
    assert labels()[0] == "Vietnam"
    screenshot(page, "query")
    href = rows.first.locator("a.iri").first.get_attribute("href")
    assert href == "/id/state/vietnam"  # our IRIs link to this server's pages
    page.goto(href)
    page.wait_for_url("**/id/state/vietnam.html")
    assert page.locator("h1").inner_text() == "Vietnam"
    assert page.locator("main section#member-of").is_visible()  # the entity page groups memberships by role
    screenshot(page, "resource")


def test_query_error_is_shown_in_place(page: Any) -> None:
    page.goto("/query")
    page.locator(".yasqe .CodeMirror:visible").first.wait_for()
    yasgui_query(page, "SELECT ?x WHERE { ?x ?y }")
    error = page.locator(".yasr:visible .errorResult")
    error.wait_for()
    assert "syntax error" in error.inner_text().lower()  # the endpoint's own message
    assert page.evaluate("caspianEditor.getTab().getYasqe().getValue()") == "SELECT ?x WHERE { ?x ?y }\n"  # kept
    assert page.locator(".yasqe:visible .parseErrorIcon").count() == 1  # and marked where it fails
    screenshot(page, "query-error")


def test_example_loads_into_the_editor(page: Any) -> None:
    page.goto("/query")
    page.locator(".yasqe .CodeMirror:visible").first.wait_for()
    page.get_by_label("Start from a saved query").select_option("org-observers")
    page.get_by_role("button", name="Open and run").click()
    assert "observer" in page.evaluate("caspianEditor.getTab().getYasqe().getValue()").lower()
    page.locator(".yasr:visible .dt-info").wait_for()
    assert page.locator(".yasr:visible tbody tr").count() == 15


def test_timeline(page: Any) -> None:
    page.goto("/timeline")
    svg = page.locator("svg.timeline.wide")
    assert svg.is_visible()
    assert svg.locator("a.mark").count() == 9  # 8 dated + 1 whose year is not stated
    assert "Year not stated" in svg.text_content()
    assert page.locator("#undated").is_visible()
    box = svg.bounding_box()
    assert box["width"] > 600 and box["height"] > 200
    screenshot(page, "timeline")
    svg.locator("a.mark").first.click()
    page.wait_for_url("**/id/event/cica-initiative-1992.html")


def test_cica_membership_chart(page: Any) -> None:
    page.goto("/chart/cica")
    svg = page.locator("svg.membership.wide")
    assert svg.is_visible()
    assert svg.locator("a.tile").count() == 1 + 28 + 10 + 5
    text = svg.text_content()
    assert "Members (28)" in text and "Observer states (10)" in text and "Observer organisations (5)" in text
    assert "Kazakhstan · since 2020" in text
    screenshot(page, "chart-cica")
    page.get_by_label("Highlight").fill("kaz")  # the progressive-enhancement filter
    assert svg.locator("a.tile.dim").count() == 44 - 2  # Kazakhstan as chair and as member stay


def test_keyboard_and_small_screen(browser: Any, server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server)
    page = context.new_page()
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling
    screenshot(page, "home-mobile")
    context.close()


def test_everything_works_without_javascript(browser: Any, server: str) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=server)
    page = context.new_page()
    page.goto("/query")
    page.get_by_label("SPARQL query").fill(QUERY)
    page.get_by_role("button", name="Run query").click()
    page.wait_for_url("**/query?query=*")
    assert page.locator("#results-table tbody tr").count() == 28
    page.locator("#results-table th a").nth(1).click()  # sorting falls back to the server
    page.wait_for_url("**sort=label*")
    assert page.locator("#results-table tbody tr td:nth-child(2)").first.inner_text() == "Afghanistan en"
    page.goto("/chart/cica")
    assert page.locator("svg.membership.wide a.tile").count() == 44
    assert not page.get_by_label("Highlight").is_visible()  # the filter needs the script
    context.close()

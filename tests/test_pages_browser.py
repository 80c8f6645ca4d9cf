"""The pages people read, in a real browser at desktop and phone sizes: entity pages, source
documents, saved queries, VoID, the ontology, home, search, timeline and charts.

Every page kind passes `a11y.assert_usable` (axe-core: no serious or critical violation; nothing
wider than the viewport) at both sizes and leaves a screenshot named `<page>-<viewport>.png` in
test-output/screenshots/. The users' tasks are scripted end to end: Azerbaijan's organisations,
the source passage behind Turkmenistan's observer status, March 2024 on the timeline, and a
saved query run with the keyboard only.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from a11y import VIEWPORTS, assert_usable
from browsing import require_browser, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = require_browser()  # on CI a missing Chromium fails the run (it used to skip this module)

PAGES = {
    "azerbaijan": "/id/state/azerbaijan.html",
    "cica": "/id/org/cica.html",
    "source-document": "/id/doc/azerbaijan-central-asia-relations.html",
    "event": "/id/event/kurmangazy-center-opening-2024.html",
    "queries": "/queries",
    "saved-query": "/queries/org-members",
    "void": "/void.html",
    "ontology": "/ontology.html",
    "home": "/",
    "search": "/search?q=turk",
    "timeline": "/timeline",
    "charts": "/chart",
    "chart-cica": "/chart/cica",
}


def open_page(browser: Any, server: str, viewport: str) -> Any:
    context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=server)
    return context.new_page()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_is_usable(browser: Any, server: str, name: str, viewport: str) -> None:
    page = open_page(browser, server, viewport)
    response = page.goto(PAGES[name])
    assert response is not None and response.status == 200, name
    assert_usable(page)
    if viewport == "phone":  # charts re-lay out: no chart text under 11 px on a phone
        sizes = page.evaluate("""() => [...document.querySelectorAll('svg.chart text')]
            .filter(t => t.ownerSVGElement.getBoundingClientRect().width > 0).map(t => {
            const svg = t.ownerSVGElement, scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return parseFloat(getComputedStyle(t).fontSize) * scale; })""")
        assert all(size >= 11 - 0.01 for size in sizes), (name, min(sizes))
    screenshot(page, f"{name}-{viewport}")
    page.context.close()


def test_azerbaijans_organisations(browser: Any, server: str) -> None:
    page = open_page(browser, server, "desktop")
    page.goto("/")
    page.get_by_role("searchbox").first.fill("Azerbaijan")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Azerbaijan", exact=True).first.click()
    page.wait_for_url("**/id/state/azerbaijan.html")
    page.get_by_role("navigation", name="Contents").get_by_role("link", name="Member of").click()
    member = page.locator("section#member-of")
    assert member.is_visible()
    assert "Conference on Interaction and Confidence Building Measures in Asia" in member.inner_text()
    affiliated = page.locator("section#affiliated-with-role-not-stated").inner_text()
    assert "Organization of Turkic States" in affiliated
    assert "inferred" in member.inner_text()  # org:memberOf, from the membership node
    page.context.close()


def test_turkmenistans_observer_status_to_its_source_passage(browser: Any, server: str) -> None:
    page = open_page(browser, server, "phone")
    page.goto("/id/state/turkmenistan.html")
    observer = page.locator("section#observer-of")
    observer.locator("details.ref summary").first.click()
    passage = observer.locator("blockquote.passage").first.inner_text().split("\n")[0].strip()
    observer.locator("blockquote.passage footer a").first.click()
    page.wait_for_url(re.compile(r".*/id/doc/[a-z-]+\.html#p-[0-9a-f]{10}$"))
    fragment = page.url.rsplit("#", 1)[1]
    target = page.locator(f"[id='{fragment}']")
    assert page.evaluate("(id) => document.getElementById(id).matches(':target')", fragment)
    page.wait_for_function("() => window.scrollY > 0")  # the browser scrolled to the passage
    box = page.evaluate("""(id) => { const r = document.getElementById(id).getBoundingClientRect();
        return [r.top, r.bottom, window.innerHeight, window.scrollY]; }""", fragment)
    assert box[1] > -1 and box[0] < box[2], f"the passage is on screen after following the link: {box}"
    following = page.evaluate("""(id) => { const r = document.createRange(); const a = document.getElementById(id);
        r.setStartAfter(a); r.setEndAfter(a.parentElement.lastChild); return r.toString(); }""", fragment)
    assert following.startswith(passage[:80]), (passage, following[:120])
    assert target.count() == 1
    screenshot(page, "source-passage-phone")
    page.context.close()


def test_march_2024_on_the_timeline(browser: Any, server: str) -> None:
    page = open_page(browser, server, "phone")
    page.goto("/timeline")
    marks = page.locator("svg.timeline.narrow a.mark")
    labels = [marks.nth(i).get_attribute("aria-label") or marks.nth(i).text_content() or "" for i in range(marks.count())]
    march = [i for i, text in enumerate(labels) if "March 2024" in text]
    assert march, labels
    marks.nth(march[0]).click()
    page.wait_for_url("**/id/event/*.html")
    assert "12 March 2024" in page.locator("main").inner_text()
    page.context.close()


def test_saved_query_with_the_keyboard_only(browser: Any, server: str) -> None:
    page = open_page(browser, server, "desktop")
    page.goto("/queries")
    link = page.get_by_role("link", name=re.compile("Full members of an organisation"))
    for _ in range(80):  # Tab until the query's link has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").strip().startswith("Full members of an organisation"):
            break
    assert link.evaluate("(el) => el === document.activeElement")
    page.keyboard.press("Enter")
    page.wait_for_url("**/queries/org-members")
    select = page.locator("form.params select").first
    select.focus()
    page.keyboard.press("Home")  # the keyboard picks the option: first, then type-ahead
    page.keyboard.type("Conference")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/queries/org-members?*")
    headers = page.locator("table.results th").all_inner_texts()
    assert "Member" in headers and "memberLabel" not in headers  # words, not variable names
    assert page.locator("table.results tbody tr").count() >= 28  # CICA's 28 members (a chair's two memberships)
    assert "@en" not in page.locator("main").inner_text()
    page.context.close()

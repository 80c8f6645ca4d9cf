"""The /explain page in a real browser: accessible (axe-core, no serious or critical violation)
and no sideways scrolling, on a desktop and on a 390 px phone, for long derivations too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from a11y import VIEWPORTS, assert_usable
from browsing import require_browser
from werkzeug.serving import make_server

from caspian_kg.config import Config
from caspian_kg.graph import KnowledgeGraph
from caspian_kg.web import create_app
from caspian_kg.web.state import of

pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = require_browser()

STATEMENTS = [("state:kazakhstan", "org:memberOf", "orgn:cica"),  # with an alternative (via the chair)
              ("event:aliyev-state-visit-kyrgyzstan", "ck:involvesState", "state:kyrgyzstan"),  # background
              ("state:india", "a", "ck:MemberState"),  # the deepest: intersection, restriction, chain
              ("mship:cica-chair-kazakhstan", "ck:chairIn", "orgn:cica")]  # asserted


@pytest.fixture(scope="module")
def server(config: Config, kg: KnowledgeGraph) -> Iterator[str]:
    app = create_app(config.with_(workers=1), kg)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    of(app).pool.close()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda t: t[0].split(":")[1] + "-" + t[1].split(":")[-1])
def test_the_explanation_page_is_usable(browser: Any, server: str, viewport: str, statement: tuple[str, str, str]) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=server)
    page = context.new_page()
    try:
        response = page.goto("/explain?" + urlencode(dict(zip("spo", statement))))
        assert response is not None and response.status == 200
        assert page.locator("h1").count() == 1
        assert page.locator("blockquote").count() >= 1  # the verbatim evidence is on the page
        assert_usable(page)
    finally:
        context.close()

"""What every browser test module shares: Debian's Chromium driven by Playwright (never a
downloaded browser; `bash tests/setup.sh` installs it), the rule that CI fails rather than skips
without it, and screenshots checked to be real pictures. The `server` (the deployed server) and
`browser` fixtures live in conftest.py; a module that needs another server overrides `server`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_browser() -> Any:
    """Playwright's sync API, for a browser test module to call at import: on CI a missing Chromium
    fails the run (the tests must run there), elsewhere the module is skipped with the fix."""
    if os.environ.get("CI") and not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing on CI: tests/setup.sh should have installed it", pytrace=False)
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: bash tests/setup.sh")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: bash tests/setup.sh installs it", allow_module_level=True)
    return sync_api


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG in test-output/screenshots/, checked to be a real picture."""
    from PIL import Image

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as image:
        width, height = image.size
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert width >= 300 and height >= 300, (name, image.size)
    assert len(colours) > 30, f"{name}.png looks blank ({len(colours)} colours)"
    return path

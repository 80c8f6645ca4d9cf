"""What every page must pass in a real browser, at every viewport: axe-core run in the page (no
serious or critical violation) and nothing wider than the viewport (no sideways scrolling).

axe-core comes bundled in the `axe-playwright-python` package (the test extra), so nothing is
fetched at test time. Used by every browser test module: one definition of "accessible".
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
BLOCKING = ("serious", "critical")

_axe = Axe()

# elements whose right edge passes the viewport, ignoring those inside a container that scrolls
# on its own (a wide table in an overflow-x:auto box is the intended reflow on phones)
_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p); if (s.overflowX === 'auto' || s.overflowX === 'scroll' || s.overflowX === 'hidden') return true; }
    return false; };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1 && !scrolls(el)) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') + ' ' + Math.round(r.right) + 'px');
      if (out.length >= 10) break;
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, wide: out};
}"""


def violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    results = _axe.run(page)
    found = []
    for v in results.response.get("violations", []):
        if v.get("impact") in BLOCKING:
            targets = ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:3])
            found.append(f"{v['impact']} {v['id']}: {v.get('help')} ({targets})")
    return found


def overflow(page: Any) -> list[str]:
    """Elements that stick out past the viewport (empty when nothing scrolls sideways)."""
    seen = page.evaluate(_WIDE)
    wide = list(seen["wide"])
    if seen["scrollWidth"] > seen["width"] + 1 and not wide:
        wide.append(f"document is {seen['scrollWidth']}px wide on a {seen['width']}px viewport")
    return wide


def assert_usable(page: Any) -> None:
    """Fail with every problem at once: axe's serious/critical violations and sideways overflow."""
    problems = violations(page) + [f"wider than the viewport: {w}" for w in overflow(page)]
    assert not problems, "\n".join(problems)

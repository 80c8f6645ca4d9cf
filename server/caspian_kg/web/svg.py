"""SVG pictures drawn on the server: a timeline of events and an organisation's membership chart.

Pure functions from plain dataclasses to SVG text, so they are tested without a graph or a
browser and the pages need no JavaScript. Every mark is a link to the resource page of what
it shows (keyboard-focusable in SVG) with a <title> tooltip; text is escaped here.

Dates are drawn as precisely as the source gives them, never more: an `xsd:date` is a dot, an
`xsd:gYearMonth` or `xsd:gYear` a bar over the whole month or year, and an `xsd:gMonthDay` (the
source gives no year) sits in its own lane on a January-December axis instead of being guessed
into some year.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from html import escape

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
# fills for event types, distinguishable and dark enough to read against white
PALETTE = ("#0b5cad", "#b8430b", "#1b7a3a", "#7a3aa6", "#a1123f", "#00727a", "#6b5a00", "#4b5563",
           "#c2185b", "#2e7d32", "#5d4037", "#1565c0")
CHAR_WIDTH = 6.9  # average advance of a 13px system sans-serif glyph, for label fitting
WIDTH = 960
NARROW = 330  # the phone layout: drawn at about 1:1 in a 390 px screen, so 11.5 px text stays >= 11 px
MARGIN = 16


# --- dates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class When:
    """A date as precise as its lexical form: `precision` is "day", "month", "year" or
    "monthday" (a day of a month in no stated year, from xsd:gMonthDay)."""

    precision: str
    year: int | None = None
    month: int | None = None
    day: int | None = None

    @property
    def span(self) -> tuple[float, float]:
        """Start and end as fractional years (for "monthday": fractions of a year, 0..1)."""
        year = float(self.year or 0)
        if self.precision == "year":
            return year, year + 1
        month = (self.month or 1) - 1
        if self.precision == "month":
            return year + month / 12, year + (month + 1) / 12
        at = year + (month + ((self.day or 1) - 1) / 31) / 12
        return at, at

    def text(self) -> str:
        """How people write it: "12 March 2024", "June 2021", "2020", "11 October (year not stated)"."""
        if self.precision == "year":
            return str(self.year)
        month = MONTHS[(self.month or 1) - 1]
        if self.precision == "month":
            return f"{month} {self.year}"
        if self.precision == "monthday":
            return f"{self.day} {month} (year not stated)"
        return f"{self.day} {month} {self.year}"


_PATTERNS = (
    ("day", re.compile(r"(-?\d{4,})-(\d\d)-(\d\d)")),
    ("month", re.compile(r"(-?\d{4,})-(\d\d)()")),
    ("monthday", re.compile(r"--()(\d\d)-(\d\d)")),
    ("year", re.compile(r"(-?\d{4,})()()")),
)
_DATATYPES = {"date": "day", "dateTime": "day", "gYearMonth": "month", "gYear": "year", "gMonthDay": "monthday"}


def parse_when(lexical: str, datatype: str | None = None) -> When | None:
    """A `When` from an XSD lexical form (a timezone suffix is ignored), or None when it is not a
    date. `datatype` (an XSD IRI or local name) decides when given; else the form does."""
    wanted = _DATATYPES.get((datatype or "").rsplit("#", 1)[-1])
    for precision, pattern in _PATTERNS:
        if wanted and precision != wanted:
            continue
        match = pattern.match(lexical.strip())
        if match:
            year, month, day = (int(g) if g else None for g in match.groups())
            if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
                return None
            return When(precision, year, month, day)
    return None


# --- the timeline -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    label: str
    href: str
    kind: str  # the event's type, e.g. "Summit"
    when: When | None


def kind_colours(kinds: list[str]) -> dict[str, str]:
    """A stable colour per event type (alphabetical order picks from the palette)."""
    return {kind: PALETTE[i % len(PALETTE)] for i, kind in enumerate(sorted(set(kinds)))}


def _ticks(start: float, end: float, most: int = 12) -> list[int]:
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100) if (end - start) / s <= most)
    first = math.ceil(start / step) * step
    return list(range(int(first), int(end) + 1, step))


def _fit(text: str, room: float) -> str:
    """Text cut to `room` pixels with an ellipsis (the full text stays in the <title>)."""
    chars = max(int(room / CHAR_WIDTH), 4)
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def _mark(event: TimelineEvent, x0: float, x1: float, y: float, colour: str, width: int = WIDTH) -> str:
    """A dot for a day, a bar for a month or a year; the label beside it, on the side with room
    (on a narrow picture, on its own line under the mark)."""
    assert event.when is not None
    length = x1 - x0
    if length < 1:
        shape = f'<circle cx="{x0:.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>'
        x0, x1 = x0 - 6, x0 + 6
    else:
        shape = (f'<rect x="{x0:.1f}" y="{y - 6:.1f}" width="{max(length, 4):.1f}" height="12" rx="3" '
                 f'fill="{colour}" fill-opacity=".85"/>')
        x1 = x0 + max(length, 4)
    when = event.when.text()
    text = event.label if when in event.label or f"({event.when.year})" in event.label else f"{event.label} · {when}"
    right, left = width - MARGIN - x1 - 8, x0 - 8 - MARGIN
    if width < WIDTH:
        label = f'<text x="{MARGIN + 4}" y="{y + 22:.1f}">{escape(_fit(text, width - 2 * MARGIN - 8))}</text>'
    elif len(text) * CHAR_WIDTH <= right or right >= left:
        label = f'<text x="{x1 + 8:.1f}" y="{y + 4.5:.1f}">{escape(_fit(text, right))}</text>'
    else:
        label = f'<text x="{x0 - 8:.1f}" y="{y + 4.5:.1f}" text-anchor="end">{escape(_fit(text, left))}</text>'
    title = escape(f"{event.label} — {event.when.text()} ({event.kind})")
    return (f'<a href="{escape(event.href)}" class="mark"><title>{title}</title>{shape}{label}</a>')


def timeline_svg(events: list[TimelineEvent], title: str = "Timeline of events", width: int = WIDTH) -> str:
    """Dated events one per row on a shared year axis, then the events whose year is not
    stated on a month axis. Undated events are not drawn (the page lists them). A narrow
    `width` (a phone) gives each event two lines: the mark, then its label under it."""
    narrow = width < WIDTH
    dated = sorted((e for e in events if e.when and e.when.precision != "monthday"),
                   key=lambda e: (e.when.span, e.label))  # type: ignore[union-attr]
    no_year = sorted((e for e in events if e.when and e.when.precision == "monthday"),
                     key=lambda e: (e.when.span, e.label))  # type: ignore[union-attr]
    colours = kind_colours([e.kind for e in dated + no_year])
    row, left, right = (46 if narrow else 28), MARGIN + 4, width - MARGIN - 4
    parts: list[str] = []
    y = 34
    if dated:
        start = math.floor(min(e.when.span[0] for e in dated))  # type: ignore[union-attr]
        end = math.ceil(max(e.when.span[1] for e in dated))  # type: ignore[union-attr]
        start, end = start - 1, max(end + 1, start + 3)
        scale = (right - left) / (end - start)
        bottom = y + 14 + row * len(dated)
        for tick in _ticks(start, end, 5 if narrow else 12):
            x = left + (tick - start) * scale
            parts.append(f'<line class="grid" stroke="#dde2ea" x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{bottom}"/>'
                         f'<text class="tick" fill="#5b6575" x="{x:.1f}" y="{y - 8}" text-anchor="middle">{tick}</text>')
        for i, event in enumerate(dated):
            x0, x1 = (left + (v - start) * scale for v in event.when.span)  # type: ignore[union-attr]
            parts.append(_mark(event, x0, x1, y + 14 + row * i + (12 if narrow else row / 2 - 4), colours[event.kind], width))
        y = bottom + 20
    if no_year:
        y += 34
        lane = "Year not stated" if narrow else "Year not stated: day and month only"
        parts.append(f'<text class="lane" font-weight="600" x="{left}" y="{y - 32}">{lane}</text>')
        scale = right - left
        bottom = y + 14 + row * len(no_year)
        for m, name in enumerate(MONTHS):
            x = left + m / 12 * scale
            parts.append(f'<line class="grid" stroke="#dde2ea" x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{bottom}"/>'
                         f'<text class="tick" fill="#5b6575" x="{x + scale / 24:.1f}" y="{y - 8}" text-anchor="middle">'
                         f'{name[:1] if narrow else name[:3]}</text>')
        for i, event in enumerate(no_year):
            x0, x1 = (left + v * scale for v in event.when.span)  # type: ignore[union-attr]
            parts.append(_mark(event, x0, x1, y + 14 + row * i + (12 if narrow else row / 2 - 4), colours[event.kind], width))
        y = bottom + 10
    if not parts:
        parts.append(f'<text class="lane" font-weight="600" x="{left}" y="{y}">No dated events.</text>')
    height = y + 10
    return _svg(title, f"{len(dated)} dated events and {len(no_year)} whose year is not stated", height,
                "".join(parts), "timeline", width)


# --- the membership chart ---------------------------------------------------------------------


@dataclass(frozen=True)
class Affiliate:
    """One actor's place in an organisation. `role` is "member", "observer", "chair" or None
    (the source does not say); `kind` is "state", "organisation" or "other"."""

    label: str
    href: str
    kind: str
    role: str | None
    short: str | None = None  # a shorter name (e.g. an acronym) for tiles the label overflows
    since: str | None = None


ROLE_STYLE = {  # fill, stroke
    "chair": ("#dff3e4", "#1b7a3a"),
    "member": ("#e3eefa", "#0b5cad"),
    "observer": ("#fcefd9", "#8a5a00"),
    None: ("#eef0f3", "#5b6575"),
}


def membership_groups(affiliates: list[Affiliate]) -> list[tuple[str, str | None, list[Affiliate]]]:
    """The sections of the chart, in reading order: (heading, role, affiliates sorted by label).
    Empty sections are left out; observers split into states and organisations."""
    def pick(role: str | None, kind: str | None = None) -> list[Affiliate]:
        return sorted((a for a in affiliates if a.role == role and (kind is None or
                       (a.kind == kind if kind != "other" else a.kind not in ("state",)))),
                      key=lambda a: a.label.casefold())

    groups = [("Chair", "chair", pick("chair")), ("Members", "member", pick("member")),
              ("Observer states", "observer", pick("observer", "state")),
              ("Observer organisations", "observer", pick("observer", "other")),
              ("Role not stated in the source", None, pick(None))]
    return [(heading, role, items) for heading, role, items in groups if items]


def _wrap(text: str, room: float) -> list[str]:
    """One line if it fits in `room` pixels, else two, split at the space nearest the middle
    (the second cut with an ellipsis if still too long)."""
    if len(text) * CHAR_WIDTH <= room or " " not in text:
        return [_fit(text, room)]
    spaces = [i for i, c in enumerate(text) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return [_fit(text[:cut], room), _fit(text[cut + 1:], room)]


def _tile(a: Affiliate, x: float, y: float, w: float, h: float, chairs: set[str]) -> str:
    fill, stroke = ROLE_STYLE[a.role]
    badge = " ★" if a.role == "member" and a.href in chairs else ""
    name = a.label if (len(a.label) + len(badge)) * CHAR_WIDTH <= w - 20 or not a.short else a.short
    text = name + badge + (f" · since {a.since}" if a.since else "")
    lines = _wrap(text, (w - 20) * 13 / 11.5)  # too long for one 13px line: 11.5px, in two if need be
    if len(text) * CHAR_WIDTH <= w - 20:
        label = f'<text x="{x + 10:.1f}" y="{y + h / 2 + 4.5:.1f}">{escape(text)}</text>'
    elif len(lines) == 1:
        label = f'<text x="{x + 10:.1f}" y="{y + h / 2 + 4:.1f}" font-size="11.5">{escape(lines[0])}</text>'
    else:
        label = (f'<text x="{x + 10:.1f}" y="{y + h / 2 - 2.5:.1f}" font-size="11.5">{escape(lines[0])}'
                 f'<tspan x="{x + 10:.1f}" dy="13">{escape(lines[1])}</tspan></text>')
    role = a.role or "role not stated"
    title = f"{a.label}: {role}" + (f" since {a.since}" if a.since else "") + (" (and chair)" if badge else "")
    bold = ' stroke-width="2"' if a.role == "chair" or badge else ""
    return (f'<a href="{escape(a.href)}" class="tile"><title>{escape(title)}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h}" rx="6" fill="{fill}" stroke="{stroke}"'
            f'{bold}/>{label}</a>')


def membership_svg(organisation: str, affiliates: list[Affiliate], columns: int = 4, width: int = WIDTH) -> str:
    """A summary bar (members vs observers, to scale) with a key that names every segment in
    full, over tiles grouped by role; the chair is also marked ★ among the members (a chair is
    a member). A narrow `width` (a phone) draws two columns of tiles."""
    groups = membership_groups(affiliates)
    chairs = {a.href for a in affiliates if a.role == "chair"}
    columns = 2 if width < WIDTH else columns
    left, right = MARGIN + 4, width - MARGIN - 4
    gap, h = 10, 34
    w = (right - left - gap * (columns - 1)) / columns
    parts: list[str] = []
    y = 8.0
    counted = [(heading, role, len(items)) for heading, role, items in groups if role != "chair"]
    total = sum(n for _, _, n in counted)
    if total:
        x = float(left)
        for heading, role, n in counted:
            length = (right - left) * n / total
            fill, stroke = ROLE_STYLE[role]
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="22" fill="{fill}" stroke="{stroke}">'
                         f'<title>{escape(heading)}: {n}</title></rect>')
            x += length
        y += 22
        x = float(left)  # the key: every segment named in full, wrapping to the next line
        for heading, role, n in counted:
            words = f"{n} {heading.lower()}"
            room = 18 + len(words) * CHAR_WIDTH * 1.15 + 22  # generous: the key must never overlap
            if x + room > right and x > left:
                x, y = float(left), y + 20
            fill, stroke = ROLE_STYLE[role]
            parts.append(f'<rect x="{x:.1f}" y="{y + 8}" width="12" height="12" fill="{fill}" stroke="{stroke}"/>'
                         f'<text class="count" x="{x + 18:.1f}" y="{y + 18.5}">{escape(words)}</text>')
            x += room
        y += 36
    for heading, role, items in groups:
        y += 20
        parts.append(f'<text class="lane" font-weight="600" x="{left}" y="{y}">{escape(heading)} ({len(items)})</text>')
        y += 10
        for i, a in enumerate(items):
            col, line = i % columns, i // columns
            parts.append(_tile(a, left + col * (w + gap), y + line * (h + 8), w, h, chairs))
        y += math.ceil(len(items) / columns) * (h + 8)
    if not groups:
        y += 20
        parts.append(f'<text class="lane" font-weight="600" x="{left}" y="{y}">No memberships recorded.</text>')
    summary = ", ".join(f"{len(items)} {heading.lower()}" for heading, _, items in groups) or "no memberships"
    return _svg(f"Membership of {organisation}", summary, y + 12, "".join(parts), "membership", width)


def _svg(title: str, description: str, height: float, body: str, css_class: str, width: int = WIDTH) -> str:
    """The outer <svg>: scales to its container, titled for assistive technology, styled by
    site.css (class names: `wide` or `narrow`, one shown per screen size) with presentation
    attributes as a fallback."""
    layout = "wide" if width >= WIDTH else "narrow"
    ids = f"{css_class}-{layout}"
    return (f'<svg class="chart {css_class} {layout}" viewBox="0 0 {width} {math.ceil(height)}" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="{ids}-title {ids}-desc" '
            f'font-family="system-ui, sans-serif" font-size="13">'
            f'<title id="{ids}-title">{escape(title)}</title>'
            f'<desc id="{ids}-desc">{escape(description)}</desc>{body}</svg>')

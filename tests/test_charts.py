"""The SVG builders on their own: dates parsed no more precisely than written, marks where the
dates put them, membership tiles grouped by role, text escaped, output well-formed XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from caspian_kg.web.svg import (
    Affiliate,
    TimelineEvent,
    When,
    membership_groups,
    membership_svg,
    parse_when,
    timeline_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.mark.parametrize(("lexical", "datatype", "expected", "text"), [
    ("2024-03-12", XSD + "date", When("day", 2024, 3, 12), "12 March 2024"),
    ("2020-11-10Z", "date", When("day", 2020, 11, 10), "10 November 2020"),
    ("2021-06", XSD + "gYearMonth", When("month", 2021, 6), "June 2021"),
    ("1992", XSD + "gYear", When("year", 1992), "1992"),
    ("--10-11", XSD + "gMonthDay", When("monthday", None, 10, 11), "11 October (year not stated)"),
    ("2021-06", None, When("month", 2021, 6), "June 2021"),  # no datatype: the form decides
])
def test_dates_keep_their_precision(lexical: str, datatype: str | None, expected: When, text: str) -> None:
    when = parse_when(lexical, datatype)
    assert when == expected and when.text() == text


@pytest.mark.parametrize(("lexical", "datatype"), [("2020-13", "gYearMonth"), ("someday", None),
                                                   ("2020", XSD + "gMonthDay"), ("--02-40", "gMonthDay")])
def test_non_dates_are_none(lexical: str, datatype: str | None) -> None:
    assert parse_when(lexical, datatype) is None


def test_spans_cover_the_whole_period() -> None:
    assert When("year", 2020).span == (2020, 2021)
    assert When("month", 2021, 6).span == pytest.approx((2021 + 5 / 12, 2021 + 6 / 12))
    start, end = When("day", 2024, 3, 12).span
    assert start == end and 2024.16 < start < 2024.2


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


EVENTS = [
    TimelineEvent("Initiative <1992>", "/id/event/a", "initiative", When("year", 1992)),
    TimelineEvent("War", "/id/event/b", "war", When("year", 2020)),
    TimelineEvent("Signing", "/id/event/c", "signing", When("day", 2020, 11, 10)),
    TimelineEvent("Visit", "/id/event/d", "state visit", When("monthday", None, 10, 11)),
    TimelineEvent("Summit", "/id/event/e", "summit", None),
]


def test_timeline_draws_dots_for_days_bars_for_years_and_a_lane_without_years() -> None:
    root = _parse(timeline_svg(EVENTS))
    marks = root.findall(f"{SVG}a")
    assert [m.get("href") for m in marks] == ["/id/event/a", "/id/event/b", "/id/event/c", "/id/event/d"]
    assert [m.find(f"{SVG}circle") is not None for m in marks] == [False, False, True, True]
    text = "".join(root.itertext())
    assert "Initiative <1992>" in text  # escaped in the source, intact once parsed
    assert "Year not stated" in text and "Summit" not in text  # undated: listed by the page, not drawn
    bar_1992, bar_2020 = (float(m.find(f"{SVG}rect").get("x")) for m in marks[:2])
    dot_2020 = float(marks[2].find(f"{SVG}circle").get("cx"))
    assert bar_1992 < bar_2020 < dot_2020  # time runs left to right
    assert root.find(f"{SVG}title").text == "Timeline of events"


def test_timeline_of_nothing_says_so() -> None:
    assert "No dated events" in "".join(_parse(timeline_svg([])).itertext())


def _affiliates() -> list[Affiliate]:
    members = [Affiliate(f"State {i:02}", f"/id/state/s{i}", "state", "member") for i in range(5)]
    return members + [
        Affiliate("State 01", "/id/state/s1", "state", "chair", since="2020"),
        Affiliate("Observer state", "/id/state/o", "state", "observer"),
        Affiliate("Organization for Security and Co-operation in Europe", "/id/org/osce", "organisation",
                  "observer", short="OSCE"),
        Affiliate("International Organization for Migration", "/id/org/iom", "organisation", "observer"),
        Affiliate("Unclear & Co", "/id/org/x", "organisation", None),
    ]


def test_membership_groups_in_reading_order() -> None:
    groups = membership_groups(_affiliates())
    assert [(heading, len(items)) for heading, _, items in groups] == [
        ("Chair", 1), ("Members", 5), ("Observer states", 1), ("Observer organisations", 2),
        ("Role not stated in the source", 1)]


def test_membership_chart_tiles_link_and_mark_the_chair() -> None:
    root = _parse(membership_svg("Test Org", _affiliates()))
    tiles = root.findall(f"{SVG}a")
    assert len(tiles) == 10
    text = "".join(root.itertext())
    assert "Members (5)" in text and "State 01 · since 2020" in text and "State 01 ★" in text
    assert "OSCE" in text  # the short name when the label does not fit a tile
    assert "Unclear & Co" in text
    iom = next(t for t in tiles if t.get("href") == "/id/org/iom")
    assert "".join(iom.find(f"{SVG}text").itertext()).replace("\xa0", " ") != ""  # wrapped, not lost
    assert "5 members" in text  # the summary bar


def test_membership_chart_of_nothing_says_so() -> None:
    assert "No memberships recorded" in "".join(_parse(membership_svg("Empty", [])).itertext())

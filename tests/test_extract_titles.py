"""Titles: a site's name taken off a declared title."""

from __future__ import annotations

import pytest

from bot.pipeline.extract.metadata import PageMetadata
from bot.pipeline.extract.titles import choose_title, first_line, site_names, strip_site_suffix, without_headline

LEDGER, LEDGER_URL = "The Coastal Ledger", "https://ledger.example/a"


@pytest.mark.parametrize(
    ("title", "site", "url", "expected"),
    [
        ("Flood barrier approved | The Coastal Ledger", LEDGER, LEDGER_URL, "Flood barrier approved"),
        ("Flood barrier approved - Coastal Ledger", None, "https://www.coastalledger.com/a", "Flood barrier approved"),
        ("The Coastal Ledger | Flood barrier approved", LEDGER, LEDGER_URL, "Flood barrier approved"),
        ("Flood barrier – a decade late | Opinion", LEDGER, LEDGER_URL, "Flood barrier – a decade late | Opinion"),
        ("Flood barrier approved | Opinion", None, LEDGER_URL, "Flood barrier approved | Opinion"),
        ("Plain headline", LEDGER, LEDGER_URL, "Plain headline"),
        ("The Coastal Ledger", LEDGER, LEDGER_URL, "The Coastal Ledger"),
    ],
)
def test_strip_site_suffix(title: str, site: str | None, url: str, expected: str) -> None:
    assert strip_site_suffix(title, site_names(site, url)) == expected


def metadata(titles: list[str], h1s: tuple[str, ...] = ()) -> PageMetadata:
    return PageMetadata(
        titles=titles, h1s=list(h1s), h2s=[], authors=[], bylines=[], organisations=[], published=[], modified=[],
        visible_dates=[], site_name=None, description=None, languages=[],
    )


@pytest.mark.parametrize(
    ("page", "fallback", "expected"),
    [
        # the visible headline agrees with a declared title
        (metadata(["Flood barrier approved | Ledger"], ("Flood barrier approved",)), None, "Flood barrier approved"),
        # a long prefix agrees too: a headline and its subtitle
        (metadata(["Flood barrier approved after decade"], ("Flood barrier approved after decade: what next",)), None,
         "Flood barrier approved after decade: what next"),
        # the <h1> is the site's name: the declared title without it
        (metadata(["Flood barrier approved - Ledger"], ("Ledger",)), None, "Flood barrier approved"),
        # nothing declared: trafilatura's guess
        (metadata([]), "Guessed title", "Guessed title"),
        (metadata([]), None, ""),
        (metadata(["T " * 400]), None, ("T " * 149).strip() + "…"),
    ],
    ids=["agrees", "prefix", "h1-is-site", "fallback", "nothing", "too-long"],
)
def test_choose_title(page: PageMetadata, fallback: str | None, expected: str) -> None:
    assert choose_title(page, fallback=fallback, site_name="Ledger", url="https://ledger.example/a") == expected


@pytest.mark.parametrize(
    ("text", "title", "expected"),
    [
        ("Flood barrier approved\nCouncillors voted.", "Flood Barrier Approved!", "Councillors voted."),
        ("Councillors voted.\nMore.", "Flood barrier approved", "Councillors voted.\nMore."),
        ("Flood barrier approved", "Flood barrier approved", "Flood barrier approved"),  # nothing else: kept
    ],
)
def test_without_headline(text: str, title: str, expected: str) -> None:
    assert without_headline(text, title) == expected


def test_first_line_as_a_title() -> None:
    assert first_line("\n  First line\nSecond") == "First line"
    assert first_line("   ") == ""

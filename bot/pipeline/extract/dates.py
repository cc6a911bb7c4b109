"""The publication date: declared dates and trafilatura's guess weighed against the dates on show.

A page declaring none is dated by the date printed under its headline; otherwise trafilatura's
guess stands unless it is the declared date with day and month swapped, not on show while the
declared date is, or an unseen update (see choose_date). Dates are read from ISO text, "14.03.2024",
words ("March 14, 2024") and both readings of an ambiguous "03/04/2024".
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from dateutil import parser as dateutil_parser
from lxml.html import HtmlElement

if TYPE_CHECKING:  # metadata reads bylines through authors, which takes MONTHS from here
    from bot.pipeline.extract.metadata import PageMetadata


MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|june?|july?|aug(?:ust)?|sep(?:t|tember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
DOTTED_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.((?:19|20)\d{2})\b")
URL_DATE = re.compile(r"/((?:19|20)\d{2})[/_-](0?[1-9]|1[0-2])(?:[/_-](0?[1-9]|[12]\d|3[01]))?(?:/|[_-]|$)")


def choose_date(
    page: PageMetadata, *, guess: str | None, shown_text: str, url: str, fetched_on: date | None
) -> date | None:
    """The publication date. A page declaring none is dated by the date printed under its headline
    (its <time> or trafilatura's guess settling an ambiguous "03/04"). Otherwise trafilatura's
    guess, as htmldate weighs the page's dates well, unless it is the declared date with day and
    month swapped, or it is not on show while the declared date is, or it is an unseen update."""

    def sane(raw: str | None) -> date | None:
        parsed = parse_date(raw)
        return parsed if parsed and plausible_date(parsed, url=url, fetched_on=fetched_on) else None

    in_metadata = next(filter(None, map(sane, page.published)), None)
    declared = in_metadata or next(filter(None, map(sane, page.visible_dates[:1])), None)
    guessed = sane(guess)
    modified = set(filter(None, map(parse_date, page.modified)))
    if not in_metadata:
        # undeclared: the date printed under the headline, rather than one from a list of other stories
        readings = [
            d for d in headline_dates(page.h1s, shown_text) if plausible_date(d, url=url, fetched_on=fetched_on)
        ]
        if readings:
            tagged = set(filter(None, map(parse_date, page.visible_dates)))
            settled = [d for d in readings if d in tagged] or [d for d in readings if d == guessed]
            return (settled or readings)[0]
    if declared and guessed and declared != guessed:
        if guessed == swapped(declared):
            return declared  # the page's "09/10/2024" read the other way round; metadata is unambiguous
        shown = dates_in_text(shown_text)
        if guessed in shown:
            return guessed
        return declared if declared in shown or guessed in modified else guessed  # not an unseen update
    return guessed or declared


def swapped(value: date) -> date | None:
    """The date with day and month exchanged, when that is a date at all."""
    try:
        return date(value.year, value.day, value.month)
    except ValueError:
        return None


HEADLINE_DATE_REACH = 400
HEADLINE_DATE_REACH_ABOVE = 150
"""How far after the headline, and before it when nothing follows, in characters of visible text,
a byline's date is looked for."""


def headline_dates(headlines: list[str], shown_text: str) -> list[date]:
    """The readings of the first date written within reach after the page's headline (<h1>), or
    else of the first just above it; both readings of an ambiguous "03/04/2024", the usual one
    first; [] when there is no such date."""
    for headline in headlines:
        start = shown_text.find(headline) if len(headline) >= 10 else -1
        if start < 0:
            continue
        end = start + len(headline)
        below = shown_text[end:end + HEADLINE_DATE_REACH]
        above = shown_text[max(0, start - HEADLINE_DATE_REACH_ABOVE):start]
        for window in (below, above):
            readings = next(filter(None, map(match_dates, SHOWN_DATE.finditer(window))), None)
            if readings:
                return readings
        return []
    return []


MONTH_NUMBERS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
)}
_MONTH = rf"({MONTHS}|may)\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"((?:19|20)\d{2})"
SHOWN_DATE = re.compile(
    rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b"  # March 14, 2024
    rf"|\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b"  # 14 March 2024
    rf"|\b{_YEAR}-(\d{{2}})-(\d{{2}})\b"  # 2024-03-14
    rf"|\b(\d{{1,2}})([./])(\d{{1,2}})\11{_YEAR}\b",  # 03/14/2024, 14.03.2024
    re.IGNORECASE,
)
SHOWN_TEXT = "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"


def visible_text(tree: HtmlElement) -> str:
    """The page's visible text on one line, whitespace collapsed (scripts, styles and templates left out)."""
    return " ".join(" ".join(text.split()) for text in tree.xpath(SHOWN_TEXT))


def dates_in_text(text: str) -> set[date]:
    """Dates written out in text; "03/04/2024" is read month first unless the first number is over 12."""
    return {readings[0] for readings in map(match_dates, SHOWN_DATE.finditer(text)) if readings}


def match_dates(match: re.Match[str]) -> list[date]:
    """The calendar date a SHOWN_DATE match stands for: [] when it is no real date; for an ambiguous
    "03/04/2024", both readings, the usual one first (month first, day first after "." or above 12)."""
    g = match.groups()
    try:
        if g[0]:
            return [date(int(g[2]), MONTH_NUMBERS[g[0][:3].lower()], int(g[1]))]
        if g[3]:
            return [date(int(g[5]), MONTH_NUMBERS[g[4][:3].lower()], int(g[3]))]
        if g[6]:
            return [date(int(g[6]), int(g[7]), int(g[8]))]
    except ValueError:
        return []
    first, separator, second, year = int(g[9]), g[10], int(g[11]), int(g[12])
    month, day = (second, first) if separator == "." or first > 12 else (first, second)
    try:
        usual = date(year, month, day)
    except ValueError:
        return []
    ambiguous = first <= 12 and second <= 12 and first != second
    return [usual, date(year, day, month)] if ambiguous else [usual]


def parse_date(raw: str | None) -> date | None:
    """A calendar date from ISO text ("2024-03-14T09:30:00Z"), "14.03.2024", or words ("March 14, 2024")."""
    if not raw or len(raw) > 100:
        return None
    try:
        match = ISO_DATE.search(raw)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = DOTTED_DATE.search(raw)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        if re.search(r"\b(?:19|20)\d{2}\b", raw) and re.search(r"[^\W\d_]{3}", raw):
            return dateutil_parser.parse(raw, fuzzy=True, ignoretz=True, default=datetime(1900, 1, 1)).date()
    except (ValueError, OverflowError, TypeError):
        return None
    return None


def url_date(url: str) -> date | None:
    """The date in a page's address ("/2024/03/14/story"; the 1st when it gives only a month), or None."""
    match = URL_DATE.search(urlsplit(url).path)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3] or 1))
    except ValueError:
        return None


def plausible_date(value: date, *, url: str, fetched_on: date | None) -> bool:
    """Reject dates after the fetch or well before the date in the page's own address."""
    today = fetched_on or date.today()
    if value > today + timedelta(days=1) or value.year < 1990:
        return False
    from_url = url_date(url)
    return from_url is None or value >= from_url - timedelta(days=31)

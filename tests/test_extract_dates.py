"""Dates: parsing, plausibility, dates on show, and the choice between declared, shown and guessed dates."""

from __future__ import annotations

from datetime import date

import pytest
import trafilatura

from bot.pipeline.extract.dates import choose_date, dates_in_text, parse_date, plausible_date, visible_text
from bot.pipeline.extract.metadata import read_page_metadata

FETCHED_ON = date(2024, 12, 1)
ENGLISH = (
    "The council said on Tuesday that the new bridge would open to traffic in the spring, "
    "and that the old one is to be kept for walkers."
)


@pytest.mark.parametrize(
    ("value", "url", "ok"),
    [
        (date(2024, 3, 14), "https://news.example/story", True),
        (date(2024, 12, 2), "https://news.example/story", True),  # a day ahead: time zones
        (date(2025, 1, 10), "https://news.example/story", False),  # after the fetch
        (date(1970, 1, 1), "https://news.example/story", False),
        (date(2024, 3, 14), "https://news.example/2024/03/14/story", True),
        (date(2024, 5, 1), "https://news.example/2024/03/14/story", True),  # updated later
        (date(2019, 1, 1), "https://news.example/2024/03/14/story", False),  # far before its own address
        (date(2024, 2, 20), "https://news.example/2024/03/story", True),
    ],
)
def test_plausible_date(value: date, url: str, ok: bool) -> None:
    assert plausible_date(value, url=url, fetched_on=FETCHED_ON) is ok


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-14T09:30:00+00:00", date(2024, 3, 14)),
        ("2024-03-14", date(2024, 3, 14)),
        ("Опубликовано: 05.10.2023", date(2023, 10, 5)),
        ("November 20, 2023", date(2023, 11, 20)),
        ("2024-02-30", None),
        ("yesterday", None),
        ("", None),
        ("9" * 5000, None),
    ],
)
def test_parse_date(raw: str, expected: date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Updated on March 14, 2024 by the desk", {date(2024, 3, 14)}),
        ("Published 5th May 2023 | Sept. 3, 2021", {date(2023, 5, 5), date(2021, 9, 3)}),
        ("2024-02-29 and 2024-13-01", {date(2024, 2, 29)}),
        ("03/04/2024, 13/02/2022 and 14.03.2024", {date(2024, 3, 4), date(2022, 2, 13), date(2024, 3, 14)}),
        ("February 30, 2024", set()),
        ("10 May 1850 or 12345-67-89", set()),
        ("", set()),
        ("May " * 5000, set()),
    ],
)
def test_dates_in_text(text: str, expected: set[date]) -> None:
    assert dates_in_text(text) == expected


def dated_page(shown: str, *, declared: str = "2024-03-14T09:00:00Z", modified: str = "", tagged: str = "") -> str:
    """A page declaring a publication (and perhaps a modification) date, showing `shown` under its headline."""
    head = f'<meta property="article:published_time" content="{declared}">' if declared else ""
    head += f'<meta property="article:modified_time" content="{modified}">' if modified else ""
    time = f'<time datetime="{tagged}">{shown}</time>' if tagged else shown
    return (
        f"<html><head>{head}</head><body><nav>Home · World · Business</nav><h1>The council opens a new bridge</h1>"
        f"<p class='meta'>{time}</p><script>var d = 'June 1, 2024';</script><p>Text.</p>"
        "<aside><h2>More stories</h2><p>Other story — August 2, 2023</p></aside></body></html>"
    )


def chosen_date(page: str, guess: str | None) -> date | None:
    tree = trafilatura.load_html(page)
    return choose_date(
        read_page_metadata(tree),
        guess=guess,
        shown_text=visible_text(tree),
        url="https://news.example/story",
        fetched_on=FETCHED_ON,
    )


@pytest.mark.parametrize(
    ("shown", "guess", "expected"),
    [
        ("Updated June 1, 2024", "2024-06-01", date(2024, 6, 1)),  # the guess, when the page shows it
        ("", "2024-06-01", date(2024, 6, 1)),  # the guess, when neither is shown
        ("Published March 14, 2024", "2024-06-01", date(2024, 3, 14)),  # only the declared date is on show
        ("", "2025-06-01", date(2024, 3, 14)),  # a guess after the fetch is no date
        ("", None, date(2024, 3, 14)),
        ("", "2024-14-03", date(2024, 3, 14)),  # not a date at all
    ],
)
def test_choose_date(shown: str, guess: str | None, expected: date) -> None:
    assert chosen_date(dated_page(shown), guess) == expected


def test_choose_date_the_declared_date_over_its_mirror_image() -> None:
    # htmldate read a shown "03/14/2024"-style date the other way round; the ISO metadata settles it
    assert chosen_date(dated_page("Published 09/10/2024", declared="2024-09-10"), "2024-10-09") == date(2024, 9, 10)


def test_choose_date_publication_over_an_unseen_update() -> None:
    page = dated_page("", declared="2024-03-14", modified="2024-05-03")
    assert chosen_date(page, "2024-05-03") == date(2024, 3, 14)
    # but an update the page shows stays the guess's call
    assert chosen_date(dated_page("Updated May 3, 2024", modified="2024-05-03"), "2024-05-03") == date(2024, 5, 3)


@pytest.mark.parametrize(
    ("shown", "tagged", "guess", "expected"),
    [
        ("By Ann Lee · March 5, 2024 · 9 min read", "", "2023-08-02", date(2024, 3, 5)),  # not the related story's
        ("By Ann Lee · March 5, 2024", "", None, date(2024, 3, 5)),
        ("10/12/2023 7:38 PM", "", None, date(2023, 10, 12)),  # month first, as usual
        ("10/12/2023 7:38 PM", "", "2023-12-10", date(2023, 12, 10)),  # the other reading, when the guess says so
        ("10/12/2023 7:38 PM", "2023-10-12T19:38:01Z", "2023-12-10", date(2023, 10, 12)),  # <time> settles it
        ("14.03.2024", "", None, date(2024, 3, 14)),
        ("No date here", "", "2023-08-02", date(2023, 8, 2)),  # nothing under the headline: the guess
        ("March 5, 2035", "", "2023-08-02", date(2023, 8, 2)),  # a date after the fetch is no date
    ],
)
def test_choose_date_without_metadata_takes_the_date_under_the_headline(
    shown: str, tagged: str, guess: str | None, expected: date
) -> None:
    assert chosen_date(dated_page(shown, declared="", tagged=tagged), guess) == expected


def test_choose_date_a_date_just_above_the_headline() -> None:
    page = (
        "<html><body><p>Blog · Last updated: Nov 12, 2024</p><h1>The seven best agencies for the job</h1>"
        f"<p>{ENGLISH * 4}</p><p>Other post · November 2, 2024</p></body></html>"
    )
    assert chosen_date(page, "2024-11-02") == date(2024, 11, 12)


def test_visible_text_leaves_scripts_out() -> None:
    shown = visible_text(trafilatura.load_html(dated_page("Posted 2 April 2024")))
    assert dates_in_text(shown) == {date(2024, 4, 2), date(2023, 8, 2)}
    assert "June 1, 2024" not in shown

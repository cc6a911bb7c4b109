"""The main text: the choice between readings, shingle overlap, block text and readability's reading."""

from __future__ import annotations

import copy
from pathlib import Path

import lxml.html
import pytest
import readability
import readability.cleaners
import readability.readability
import trafilatura

from bot.pipeline.extract.dates import visible_text
from bot.pipeline.extract.text import (
    SUPERSET_GROWTH,
    TEXT_CLEANER,
    block_text,
    choose_text,
    could_be_outdone,
    readability_text,
    share_within,
)

PAGES = Path(__file__).parent / "fixtures" / "pages"

LONG_TEXT = "\n".join(
    [
        "The committee heard evidence from residents about the proposed changes to the bus routes.",
        "Several speakers said the number 12 service was the only way for older people to reach the hospital.",
        "Officers replied that passenger numbers had fallen by a third since the pandemic.",
    ]
)


MORE_TEXT = LONG_TEXT + "\n" + "\n".join(
    [
        "A final decision on the timetable is expected when the full council meets again next month.",
        "Until then the current buses will run every twenty minutes, with fewer services on Sundays.",
    ]
)


OTHER_STORY = "\n".join(
    [
        "Cookies help us deliver our services and show you offers that suit your browsing habits today.",
        "Subscribe to the weekly newsletter for the best of our reporting, delivered straight to your inbox.",
        "Our partners may collect information about the pages you visit across many different websites.",
        "Manage your preferences at any time from the privacy centre linked at the foot of every page.",
    ]
)


STORY = "".join(f"<p>{line}</p>" for line in MORE_TEXT.splitlines())


@pytest.mark.parametrize(
    ("own", "other", "expected"),
    [
        (LONG_TEXT, MORE_TEXT, MORE_TEXT),  # the other holds all of ours and more: it found the rest
        (MORE_TEXT, LONG_TEXT, MORE_TEXT),  # ours is the longer: keep it
        (LONG_TEXT, LONG_TEXT + "\n" + OTHER_STORY, LONG_TEXT + "\n" + OTHER_STORY),
        (LONG_TEXT, OTHER_STORY * 2, LONG_TEXT),  # longer but about something else: keep ours
        ("", MORE_TEXT, MORE_TEXT),  # ours is empty
        ("Log in", LONG_TEXT, LONG_TEXT),  # ours is next to nothing
        (LONG_TEXT, "", LONG_TEXT),
        (LONG_TEXT, "Menu", LONG_TEXT),
        ("", "", ""),
    ],
    ids=[
        "superset", "subset", "superset-with-extra", "unrelated", "empty", "scanty", "other-empty", "other-scanty",
        "both-empty",
    ],
)
def test_choose_text(own: str, other: str, expected: str) -> None:
    assert choose_text(own, other) == expected


@pytest.mark.parametrize(
    ("text", "other", "expected"),
    [
        (LONG_TEXT, MORE_TEXT, 1.0),
        (LONG_TEXT, OTHER_STORY, 0.0),
        ("", LONG_TEXT, 0.0),
        ("one two", "one two", 1.0),  # shorter than a shingle: the whole text is one
        ("one two", "one two three", 0.0),
    ],
)
def test_share_within(text: str, other: str, expected: float) -> None:
    assert share_within(text, other) == expected


def test_share_within_counts_repeats() -> None:
    repeated = "the same four words " * 4
    assert share_within(repeated, "the same four words") < 0.5


def test_block_text_puts_blocks_on_lines() -> None:
    tree = trafilatura.load_html(
        "<html><body><div><h2>Heading</h2><p>First  <b>bold</b>\n paragraph.</p>"
        "<ul><li>one</li><li>two</li></ul>tail text<br>after break</div></body></html>"
    )
    assert block_text(tree) == "Heading\nFirst bold paragraph.\none\ntwo\ntail text\nafter break"


@pytest.mark.parametrize(
    "markup",
    ["<html></html>", "<html><body><p></p></body></html>", "<html><body><nav><a href='/'>Home</a></nav></body></html>"],
    ids=["no-body", "empty-paragraph", "menu-only"],
)
def test_readability_text_without_an_article_is_short(markup: str) -> None:
    assert len(readability_text(trafilatura.load_html(markup))) < 50


def test_readability_text_finds_the_story() -> None:
    tree = trafilatura.load_html(
        "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<div class='story'>{STORY}</div><footer>All rights reserved</footer></body></html>"
    )
    text = readability_text(tree)
    assert "number 12 service was the only way" in text
    assert "All rights reserved" not in text


def test_readability_s_module_is_left_as_it_is() -> None:
    # importing extraction used to swap readability's module-level cleaner for its own copy
    assert readability.readability.html_cleaner is readability.cleaners.html_cleaner
    assert readability.cleaners.html_cleaner.javascript is True
    assert TEXT_CLEANER is not readability.cleaners.html_cleaner
    assert TEXT_CLEANER.javascript is False


SCRIPTED_STORY = (
    "<html><head><style>p { color: red }</style><script>track()</script></head><body>"
    "<nav><a href='javascript:open()'>Menu</a></nav>"
    "<div class='story' onclick='track()'>"
    + "".join(
        f"<p style='background: url(javascript:alert(1))'>{line} <a href='javascript:share()'>Share</a></p>"
        for line in MORE_TEXT.splitlines()
    )
    + "<p hidden>Hidden note</p><p style='display: none'>Invisible note</p></div></body></html>"
)


@pytest.mark.parametrize(
    "markup",
    [
        SCRIPTED_STORY,
        *((PAGES / name).read_text("utf-8") for name in ("en_news_jsonld.html", "uk_article.html")),
        (PAGES / "comments_and_read_more.html").read_text("utf-8"),
    ],
    ids=["scripted", "en-jsonld", "uk", "comments"],
)
def test_readability_text_is_the_text_readability_finds_with_its_own_cleaner(markup: str) -> None:
    tree = trafilatura.load_html(markup)
    stock = readability.Document(copy.deepcopy(tree)).summary(html_partial=True)
    assert readability_text(copy.deepcopy(tree)) == block_text(lxml.html.fromstring(stock))
    assert "Hidden note" not in readability_text(tree)


@pytest.mark.parametrize(
    ("own_chars", "shown_chars", "outdone"),
    [
        (150, 150, True),  # next to nothing: any longer reading may win
        (1000, 5000, True),  # the page shows much more: another reading may hold more of the article
        (1000, 1300, False),  # another reading, never longer than what is shown, cannot be 1.3x longer
        (1000, 1000, False),
        (1000, 1301, True),
    ],
)
def test_a_second_reading_is_asked_for_only_when_it_could_win(own_chars: int, shown_chars: int, outdone: bool) -> None:
    assert could_be_outdone("w" * own_chars, "w" * shown_chars) is outdone


def test_a_skipped_second_reading_could_not_have_won() -> None:
    # a page with nothing but its article: readability's reading is no longer than the visible text
    page = "<html><body><article>" + "".join(
        f"<p>Sentence {n} of a page that holds nothing but its own article, written out in full.</p>" for n in range(30)
    ) + "</article></body></html>"
    tree = lxml.html.fromstring(page)
    shown = visible_text(tree)
    own = " ".join(f"Sentence {n} of a page that holds nothing but its own article, written out in full." for n in range(30))
    other = readability_text(copy.deepcopy(tree))
    assert len(other) <= len(shown) < SUPERSET_GROWTH * len(own)
    assert not could_be_outdone(own, shown)
    assert choose_text(own, other) == own

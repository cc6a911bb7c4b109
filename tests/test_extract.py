"""extract_article on hand-written article pages, and its helpers on tables that include hostile input."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import json

import pytest
import trafilatura

from bot.pipeline.errors import NoArticle
from bot.pipeline.extract import (
    block_text,
    choose_date,
    choose_language,
    choose_text,
    dates_in_text,
    visible_text,
    detect_language,
    extract_article,
    normalise_authors,
    parse_date,
    read_page_metadata,
    plausible_date,
    readability_text,
    share_within,
    site_names,
    strip_site_suffix,
    visible_bylines,
)

PAGES = Path(__file__).parent / "fixtures" / "pages"
FETCHED_ON = date(2024, 12, 1)


def extract(name: str, url: str, encoding: str | None = None):
    return extract_article((PAGES / name).read_bytes(), url, encoding, fetched_on=FETCHED_ON)


def test_english_news_article_with_json_ld() -> None:
    article = extract("en_news_jsonld.html", "https://ledger.example/news/harbour-barrier", "utf-8")

    assert article.title == "Harbour council approves flood barrier after decade of delays"
    assert article.authors == ("Margaret Okafor", "Tomasz Wielicki")
    assert article.published_date == date(2024, 3, 14)
    assert article.site_name == "The Coastal Ledger"
    assert article.language == "en"
    assert article.description == "Councillors voted 9-2 to fund a tidal barrier at the mouth of the harbour."
    assert "voted nine to two on Wednesday night" in article.text
    assert "insurance premiums until the barrier was finished" in article.text
    for unwanted in ("Subscribe today", "Most read", "Ferry timetable", "All rights reserved", "Privacy policy"):
        assert unwanted not in article.text


def test_ukrainian_article() -> None:
    article = extract("uk_article.html", "https://misto.example/novyny/biblioteka", "utf-8")

    assert article.title == "У Львові відкрили оновлену бібліотеку для дітей"
    assert article.authors == ("Олена Петренко",)
    assert article.published_date == date(2024, 9, 2)
    assert article.language == "uk"
    assert "фонд поповнили більш ніж трьома тисячами" in article.text
    assert "Усі права захищено" not in article.text
    assert "Контакти" not in article.text


def test_russian_windows_1251_page_without_charset_is_readable() -> None:
    body = (PAGES / "ru_cp1251_no_charset.html").read_bytes()
    assert b"charset" not in body.lower()

    article = extract_article(body, "https://agro.example/news/grechiha", None, fetched_on=FETCHED_ON)

    assert article.title == "Фермеры Поволжья собрали рекордный урожай гречихи"
    assert article.language == "ru"
    assert "Средняя урожайность в регионе превысила четырнадцать центнеров" in article.text
    assert "\ufffd" not in article.text
    assert "Перепечатка материалов" not in article.text


def test_russian_page_with_the_charset_given_by_the_fetcher() -> None:
    article = extract("ru_cp1251_no_charset.html", "https://agro.example/news/grechiha", "windows-1251")

    assert "рекордный урожай гречихи" in article.title


def test_page_with_comments_and_read_more_boxes() -> None:
    article = extract("comments_and_read_more.html", "https://valley.example/arts/regal-cinema", "utf-8")

    assert article.title == "Why the town's last cinema is staying open"
    assert article.authors == ("Daniel Fry",)
    assert article.published_date == date(2023, 11, 20)
    assert "raised enough through small donations" in article.text
    assert "live broadcasts of theatre and concerts" in article.text
    for unwanted in (
        "Festival line-up announced",
        "Read more:",
        "You may also like",
        "Bakery wins regional award",
        "first date at the Regal",
        "parking situation",
        "Leave a Reply",
    ):
        assert unwanted not in article.text


@pytest.mark.parametrize(
    "body",
    [
        (PAGES / "login_page.html").read_bytes(),
        b"",
        b"   ",
        b"<html><body></body></html>",
        b"\x00\x01\x02 binary junk \xff\xfe",
        b"<html><body><nav>" + b"<a href='/x'>Cheap deals</a> " * 300 + b"</nav></body></html>",
    ],
    ids=["login-and-link-farm", "empty", "blank", "empty-body", "binary", "link-farm"],
)
def test_pages_without_an_article_raise_no_article(body: bytes) -> None:
    with pytest.raises(NoArticle, match="no article text found"):
        extract_article(body, "https://portal.example/login", fetched_on=FETCHED_ON)


BUDGET_STORY = "".join(
    f"<p>{sentence}</p>"
    for sentence in (
        "The committee heard evidence from residents about the proposed changes to the bus routes on Monday.",
        "Several speakers said the number 12 service was the only way for older people to reach the hospital.",
        "Officers replied that passenger numbers had fallen by a third since the pandemic and costs had risen.",
        "A final decision on the timetable is expected when the full council meets again next month.",
    )
)


def test_hostile_headline_is_cleaned_and_bounded() -> None:
    headline = "Headline " * 600
    page = (
        f"<html><head><title>&lt;script&gt;alert(1)&lt;/script&gt;Budget vote</title></head><body>"
        f"<article><h1>{headline}</h1>{BUDGET_STORY}</article></body></html>"
    )
    article = extract_article(page.encode(), "https://news.example/budget", "utf-8", fetched_on=FETCHED_ON)

    assert len(article.title) <= 300
    assert "<script>" not in article.title
    assert "committee heard evidence" in article.text


def test_script_in_title_is_not_returned_as_markup() -> None:
    page = (
        "<html><head><title>Budget &lt;script&gt;alert(1)&lt;/script&gt; agreed | Town News</title>"
        '<meta property="og:site_name" content="Town News"></head>'
        f"<body><article>{BUDGET_STORY}</article></body></html>"
    )
    article = extract_article(page.encode(), "https://town.example/budget", "utf-8", fetched_on=FETCHED_ON)

    assert "<script" not in article.title
    assert "Town News" not in article.title


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("By Margaret Okafor", ("Margaret Okafor",)),
        ("By Jane Doe and John Roe, Staff Writers", ("Jane Doe", "John Roe")),
        ("Jane Doe; John Roe", ("Jane Doe", "John Roe")),
        ("Written by: Elise Nass", ("Elise Nass",)),
        ("Posted by Idle Cartulary", ("Idle Cartulary",)),
        ("Liz Kenny Former McKinsey Consultant", ("Liz Kenny",)),
        ("Jordana Cepelewicz December 3, 2024", ("Jordana Cepelewicz",)),
        ("Tom May", ("Tom May",)),
        ("Rui Ma, Heba Ledwon & Suparn Patra", ("Rui Ma", "Heba Ledwon", "Suparn Patra")),
        ("Podium Staff", ("Podium Staff",)),
        ("JANE DOE", ("Jane Doe",)),
        ("Автор: Олена Петренко", ("Олена Петренко",)),
        ("Guide by Priya Raman", ("Priya Raman",)),
        ("Authored by: Dr. Olu Bakare", ("Dr. Olu Bakare",)),
        ("Sponsored by Gadget Mart", ("Sponsored by Gadget Mart",)),
        ("Nadia Foss EdTech Content", ("Nadia Foss",)),
        ("Ivo Marsh Content Marketing Coordinator", ("Ivo Marsh",)),
        ("Ann Lee Associate Editor, Tech Weekly", ("Ann Lee",)),
        ("Rhea Cole ⋅ Editor-in-Chief ⋅", ("Rhea Cole",)),
        ("Mel North Facebook Tweet Pin", ("Mel North",)),
        ("Jo Kent, MS, RD", ("Jo Kent", "MS", "RD")),
        ("Lena Park, Ph.D.", ("Lena Park", "Ph.D.")),
        ("Staff Writer", ()),
        ("https://example.com/author/jane", ()),
        ("Sat, 20 Dec", ()),
        ("", ()),
        ("<script>alert(1)</script>", ()),
        ("A " * 3000, ()),
    ],
)
def test_normalise_authors(raw: str, expected: tuple[str, ...]) -> None:
    assert normalise_authors(raw) == expected


@pytest.mark.parametrize(
    ("title", "site", "url", "expected"),
    [
        ("Flood barrier approved | The Coastal Ledger", "The Coastal Ledger", "https://ledger.example/a", "Flood barrier approved"),
        ("Flood barrier approved - Coastal Ledger", None, "https://www.coastalledger.com/a", "Flood barrier approved"),
        ("The Coastal Ledger | Flood barrier approved", "The Coastal Ledger", "https://ledger.example/a", "Flood barrier approved"),
        ("Flood barrier – a decade late | Opinion", "The Coastal Ledger", "https://ledger.example/a", "Flood barrier – a decade late | Opinion"),
        ("Flood barrier approved | Opinion", None, "https://ledger.example/a", "Flood barrier approved | Opinion"),
        ("Plain headline", "The Coastal Ledger", "https://ledger.example/a", "Plain headline"),
        ("The Coastal Ledger", "The Coastal Ledger", "https://ledger.example/a", "The Coastal Ledger"),
    ],
)
def test_strip_site_suffix(title: str, site: str | None, url: str, expected: str) -> None:
    assert strip_site_suffix(title, site_names(site, url)) == expected


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
        read_page_metadata(tree), guess=guess, shown_text=visible_text(tree), url="https://news.example/story", fetched_on=FETCHED_ON
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


def test_choose_date_from_the_web_page_when_no_article_is_marked_up() -> None:
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "@id": "https://news.example/story#page", "datePublished": "2024-03-17T19:47:39+00:00"},
        {"@type": "WebSite", "@id": "https://news.example/#website", "datePublished": "2019-01-01"},
    ]}
    page = f'<html><head><script type="application/ld+json">{json.dumps(graph)}</script></head><body><p>Text.</p></body></html>'
    tree = trafilatura.load_html(page)
    assert read_page_metadata(tree).published == ["2024-03-17T19:47:39+00:00"]


def test_visible_text_leaves_scripts_out() -> None:
    shown = visible_text(trafilatura.load_html(dated_page("Posted 2 April 2024")))
    assert dates_in_text(shown) == {date(2024, 4, 2), date(2023, 8, 2)}
    assert "June 1, 2024" not in shown


ENGLISH = "The council said on Tuesday that the new bridge would open to traffic in the spring, and that the old one is to be kept for walkers."
UKRAINIAN = "Міська рада повідомила у вівторок, що новий міст відкриють для руху навесні, а старий залишать для пішоходів. Це рішення ухвалили після громадських слухань."
RUSSIAN = "Городской совет сообщил во вторник, что новый мост откроют для движения весной, а старый оставят для пешеходов. Это решение приняли после общественных слушаний."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ENGLISH, "en"),
        (UKRAINIAN, "uk"),
        (RUSSIAN, "ru"),
        ("Der Stadtrat hat am Dienstag mitgeteilt, dass die neue Brücke im Frühjahr für den Verkehr geöffnet wird und die alte für Fußgänger bleibt.", "de"),
        ("", None),
        ("12345 67890 !!!", None),
        ("OK", None),
        ("<script>alert(1)</script>", None),
        ("Київ", None),  # too short to be sure
    ],
)
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    ("declared", "text", "expected"),
    [
        (["uk"], UKRAINIAN, "uk"),
        (["en-US"], UKRAINIAN, "uk"),  # a template's default lang loses to plain Ukrainian text
        (["ru_RU"], RUSSIAN, "ru"),
        (["fr-FR"], "Bonjour", "fr"),  # too little text to doubt the page
        ([], "", None),
        (["not a language!"], "", None),
    ],
)
def test_choose_language(declared: list[str], text: str, expected: str | None) -> None:
    assert choose_language(declared, text) == expected


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ('<div class="meta"><span>Written by</span><span>Edzel Tabing</span></div>', "Edzel Tabing"),
        ('<span itemprop="author" itemscope><span itemprop="name">Sam O\'Brien</span></span>', "Sam O'Brien"),
        ('<p>By <a href="/producers/sofia-gonzalez">Sofia Gonzalez</a></p>', "Sofia Gonzalez"),
    ],
)
def test_visible_bylines(markup: str, expected: str) -> None:
    tree = trafilatura.load_html(f"<html><body><article><h1>Story</h1>{markup}<p>Text.</p></article></body></html>")
    names = {name for byline in visible_bylines(tree) for name in normalise_authors(byline)}
    assert expected in names


def test_visible_bylines_skip_comment_authors() -> None:
    tree = trafilatura.load_html(
        '<html><body><article><p>Text.</p></article>'
        '<ol class="comment-list"><li><div class="comment-author">By Gwen T.</div></li></ol></body></html>'
    )
    assert visible_bylines(tree) == []


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
    ids=["superset", "subset", "superset-with-extra", "unrelated", "empty", "scanty", "other-empty", "other-scanty", "both-empty"],
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
        f"<div class='story'>{BUDGET_STORY}</div><footer>All rights reserved</footer></body></html>"
    )
    text = readability_text(tree)
    assert "number 12 service was the only way" in text
    assert "All rights reserved" not in text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Why 5 < 6 > 4 matters", "Why 5 < 6 > 4 matters"),
        ("Coders 👩\u200d💻 at work", "Coders 👩\u200d💻 at work"),
        ("نمی\u200cخواهم", "نمی\u200cخواهم"),
        ("Title <b>bold</b> <script>alert(1)</script>end", "Title bold end"),
        ("Evil \u202eoverride\u202c and soft\u00adhyphen\u200b", "Evil override and softhyphen"),
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),
    ],
)
def test_clean_text_keeps_honest_characters(raw: str, clean: str) -> None:
    from bot.pipeline.extract import clean_text

    assert clean_text(raw) == clean


def test_a_short_recall_reading_gets_a_second_look_in_balanced_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    # trafilatura's recall mode now and then keeps a single block of a long page (seen on 16 of the 711
    # wcxb-dev pages); a page that does so is hard to build by hand, so this stands in a recall reading
    # that keeps only the last paragraph, and lets the balanced reading be trafilatura's own
    real = trafilatura.bare_extraction
    modes: list[str] = []

    def recall_keeps_one_block(*args, **kwargs):
        modes.append("recall" if kwargs.get("favor_recall") else "balanced")
        document = real(*args, **kwargs)
        if kwargs.get("favor_recall"):
            document.text = document.text.splitlines()[-1]
        return document

    monkeypatch.setattr(trafilatura, "bare_extraction", recall_keeps_one_block)
    article = extract("en_news_jsonld.html", "https://ledger.example/news/harbour-barrier", "utf-8")

    assert modes == ["recall", "balanced"]
    assert "voted nine to two on Wednesday night" in article.text
    assert "insurance premiums until the barrier was finished" in article.text


def test_a_full_recall_reading_is_not_read_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    real = trafilatura.bare_extraction
    modes: list[bool] = []
    monkeypatch.setattr(trafilatura, "bare_extraction", lambda *a, **k: modes.append(k.get("favor_recall")) or real(*a, **k))

    extract("en_news_jsonld.html", "https://ledger.example/news/harbour-barrier", "utf-8")

    assert modes == [True]

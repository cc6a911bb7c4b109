"""extract_article on hand-written article pages: each field, pages with no article, hostile markup."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import trafilatura

from bot.pipeline.errors import NoArticle
from bot.pipeline.extract import extract_article

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
    monkeypatch.setattr(
        trafilatura, "bare_extraction", lambda *a, **k: modes.append(k.get("favor_recall")) or real(*a, **k)
    )

    extract("en_news_jsonld.html", "https://ledger.example/news/harbour-barrier", "utf-8")

    assert modes == [True]

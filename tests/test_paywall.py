"""Paywalls and teasers (bot/pipeline/paywall.py): declared, named and shown; pages in several CMS
styles read directly and through the whole pipeline from a loopback server."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lxml_html

from bot.desk.feeds import follow, process_new_items
from bot.pipeline import paywall
from bot.pipeline.errors import PaywallNoText
from bot.pipeline.extract import extract_article
from bot.services import Services
from tests.conftest import settings_for
from tests.support import paywalls
from tests.support.feeds import BASE_TIME, Entry, LiveFeed
from tests.support.webserver import WebServer
from tests.test_ingest import ingest


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """What is tested here is the reading of pages, not the storage: SQLite only."""
    return str(tmp_path / "newsdesk.db")

URL = "https://news.example.com/2026/11/20/story"
CHAT = -1001516


@pytest.mark.parametrize(
    ("make", "kept", "dropped"),
    [
        (paywalls.wordpress_teaser, "Black Sea corridor", "Subscribe to continue reading"),
        (paywalls.json_ld_declared, "Kyiv School of Economics", "All rights reserved"),
        (paywalls.metered_piano, "naval escorts", "All rights reserved"),
        (paywalls.ukrainian_prompt, "резервних котелень", "Оформіть передплату"),
    ],
    ids=["wordpress-plugin", "json-ld", "metered-piano", "uk-words-only"],
)
def test_teasers_are_partial_without_the_prompt(make, kept: str, dropped: str) -> None:
    article = extract_article(make().encode(), URL, "utf-8")
    assert article.access == "partial"
    assert kept in article.text
    assert dropped not in article.text


@pytest.mark.parametrize("make", [paywalls.free_with_newsletter_box, paywalls.long_article_with_idle_paywall_box],
                         ids=["newsletter-box", "idle-paywall-box"])
def test_free_articles_stay_full(make) -> None:
    article = extract_article(make().encode(), URL, "utf-8")
    assert article.access == "full"


def test_a_login_wall_is_named_not_no_article() -> None:
    with pytest.raises(PaywallNoText) as caught:
        extract_article(paywalls.login_wall().encode(), URL, "utf-8")
    assert caught.value.reason == "paywall"
    assert str(caught.value) == "paywall: no article text visible"


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("Subscribe to continue reading", True),
        ("To keep reading, subscribe for $1 a week.", True),
        ("Log in to read the full story", True),
        ("This article is only available to subscribers.", True),
        ("Already a subscriber? Sign in", True),
        ("Підпишіться, щоб прочитати повністю", True),
        ("Матеріал доступний лише для передплатників", True),
        ("Увійдіть, щоб продовжити читання", True),
        ("Оформите подписку, чтобы читать дальше", True),
        ("Subscribe to our newsletter", False),
        ("Subscribe to our YouTube channel to see more videos", False),
        ("The minister said subscribers of the state broadcaster can watch for free.", False),
        ("Subscribe to continue reading " + "and more words " * 40, False),  # a long paragraph is no prompt box
        ("", False),
    ],
)
def test_what_counts_as_a_subscription_prompt(block: str, expected: bool) -> None:
    assert paywall.is_prompt(block) is expected


@pytest.mark.parametrize(("written", "declared"), [("false", True), ('"false"', True), ('"False"', True),
                                                  ("true", False), ('"True"', False)])
def test_is_accessible_for_free_as_a_boolean_or_text(written: str, declared: bool) -> None:
    page = f"""<html><head><script type="application/ld+json">
        {{"@type": "NewsArticle", "headline": "x", "isAccessibleForFree": {written}}}</script></head><body></body></html>"""
    assert paywall.page_signals(lxml_html.fromstring(page)).declared is declared


async def test_a_teaser_is_stored_partial_and_a_wall_fails_with_paywall(services: Services, web: WebServer) -> None:
    teaser = web.add("/paywall/teaser", paywalls.wordpress_teaser())
    wall = web.add("/paywall/wall", paywalls.login_wall())
    item = (await ingest(services, CHAT, teaser)).item
    assert item.status == "done", item.failure_detail
    assert item.access == "partial"
    failed = (await ingest(services, CHAT, wall)).item
    assert (failed.status, failed.failure_reason, failed.failure_detail) == ("failed", "paywall", "paywall: no article text visible")
    assert ("paywall", 1) in (await services.repository.stats(CHAT)).failure_reasons


async def test_a_login_wall_brought_by_a_feed_keeps_the_entry_words(tmp_path: Path, web: WebServer) -> None:
    svc = await Services.open(settings_for(tmp_path, FEED_FIRST_POLL_ITEMS="3"))
    try:
        live = LiveFeed(web, "/paywall/feed", title="Walled Times")
        wall = web.add("/paywall/from-feed", paywalls.login_wall())
        live.replace([Entry("w1", wall, "Exclusive: the audit the ministry kept quiet",
                            "<p>The ministry's own auditors found the tenders rigged.</p>", "Maria Kovalenko", BASE_TIME)])
        outcome = await follow(svc, CHAT, live.url)
        assert outcome.first_poll is not None
        [item] = await process_new_items(svc, [outcome.first_poll])
        assert item.status == "done" and item.from_feed
        assert item.failure_reason == "paywall"
        assert item.summary == "The ministry's own auditors found the tenders rigged."
    finally:
        await svc.aclose()


async def test_a_teaser_brought_by_a_feed_takes_the_entry_text_when_it_says_more(tmp_path: Path, web: WebServer) -> None:
    svc = await Services.open(settings_for(tmp_path, FEED_FIRST_POLL_ITEMS="3"))
    try:
        live = LiveFeed(web, "/paywall/feed-teaser", title="Walled Times")
        teaser = web.add("/paywall/teaser-from-feed", paywalls.metered_piano())
        long_entry = " ".join(["Winter wheat plantings grew by a tenth this autumn, the ministry said."] * 12)
        live.replace([Entry("t1", teaser, "Winter wheat plantings grow", f"<p>{long_entry}</p>", "Maria Kovalenko",
                            BASE_TIME)])
        outcome = await follow(svc, CHAT, live.url)
        assert outcome.first_poll is not None
        [item] = await process_new_items(svc, [outcome.first_poll])
        assert item.status == "done" and item.access == "partial" and not item.from_feed
        assert item.text == long_entry and item.summary == long_entry
        page = await svc.repository.search(CHAT, "ministry")
        assert [hit.item.id for hit in page.hits] == [item.id]  # the index follows the new text
    finally:
        await svc.aclose()

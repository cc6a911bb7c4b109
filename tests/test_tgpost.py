"""Telegram channel posts (bot/pipeline/tgpost.py): which links are posts, reading a post out of the
public preview page, and the whole pipeline against loopback previews (TELEGRAM_PREVIEW_URL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.cli.output import card_text
from bot.pipeline.errors import IngestError, PostNotFound, PrivateChannel
from bot.pipeline.tgpost import PostAddress, post_address, preview_url, read_post
from bot.services import Services
from tests.conftest import settings_for
from tests.support import tgpreview
from tests.support.webserver import WebServer
from tests.test_ingest import ingest

CHAT = -1001517
CHANNEL = "kyiv_desk_news"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://t.me/kyiv_desk_news/4521", PostAddress("kyiv_desk_news", 4521)),
        ("https://t.me/s/kyiv_desk_news/4521", PostAddress("kyiv_desk_news", 4521)),
        ("https://telegram.me/kyiv_desk_news/4521?single", PostAddress("kyiv_desk_news", 4521)),
        ("http://www.t.me/Kyiv_Desk_News/4521/", PostAddress("Kyiv_Desk_News", 4521)),
        ("https://t.me/c/1234567890/55", PostAddress("c/1234567890", 55, private=True)),
        ("https://t.me/kyiv_desk_news", None),
        ("https://t.me/s/kyiv_desk_news", None),
        ("https://t.me/joinchat/AAAAAE", None),
        ("https://t.me/+AbCdEf123", None),
        ("https://t.me/share/url?url=x", None),
        ("https://t.me/kyiv_desk_news/not-a-number", None),
        ("https://t.me/ab/12", None),  # too short for a channel name
        ("https://t.me.evil.example/kyiv_desk_news/1", None),
        ("https://example.com/kyiv_desk_news/4521", None),
        ("ftp://t.me/kyiv_desk_news/1", None),
        ("https://t.me/kyiv_desk_news/" + "9" * 40, None),
    ],
)
def test_which_links_are_channel_posts(url: str, expected: PostAddress | None) -> None:
    assert post_address(url) == expected


def test_the_preview_address_uses_the_setting_and_refuses_private_links() -> None:
    assert preview_url(PostAddress("kyiv_desk_news", 7), "http://127.0.0.2:8080/") == "http://127.0.0.2:8080/s/kyiv_desk_news/7"
    with pytest.raises(PrivateChannel):
        preview_url(PostAddress("c/1", 7, private=True), "https://t.me")


PAGE = tgpreview.channel_page(CHANNEL, "Київ Оперативний", [tgpreview.Post(4519, "Попередній допис."), tgpreview.TEXT_POST,
                                                           tgpreview.PHOTO_POST, tgpreview.PHOTO_ONLY]).encode()
PREVIEW = f"https://t.me/s/{CHANNEL}/4521"


def test_a_text_post_gives_channel_time_text_and_links() -> None:
    article = read_post(PAGE, PREVIEW, "utf-8", PostAddress(CHANNEL, 4521))
    assert article.content_kind == "telegram_post"
    assert article.site_name == "Київ Оперативний"
    assert article.title == "Уряд ухвалив програму відновлення енергетики."
    assert article.published_at == "2026-11-20T07:45:12+00:00"
    assert article.published_date == date(2026, 11, 20)
    assert "40 нових котелень" in article.text
    assert "повний текст рішення (https://minenergy.example.gov.ua/news/4521)" in article.text  # the link kept in the text
    assert "Попередній допис" not in article.text  # only this post, not its neighbours
    assert article.links == ("https://minenergy.example.gov.ua/news/4521",)  # hashtags are not links to follow
    assert article.language == "uk"


def test_a_photo_post_gives_its_caption_author_and_link_but_not_its_own_photo_link() -> None:
    article = read_post(PAGE, PREVIEW, "utf-8", PostAddress(CHANNEL, 4522))
    assert article.text.startswith("Рятувальники ліквідували пожежу")
    assert "news.example.com/fire-video" in article.text
    assert article.authors == ("Олена Коваленко",)
    assert article.links == ("https://news.example.com/fire-video",)
    assert article.published_at == datetime(2026, 11, 20, 8, 10, tzinfo=UTC).isoformat()


def test_a_photo_without_a_caption_has_nothing_to_store() -> None:
    with pytest.raises(IngestError, match="no text"):
        read_post(PAGE, PREVIEW, "utf-8", PostAddress(CHANNEL, 4523))


def test_a_deleted_post_and_a_private_channel_are_named() -> None:
    with pytest.raises(PostNotFound) as deleted:
        read_post(PAGE, f"https://t.me/s/{CHANNEL}/4520", "utf-8", PostAddress(CHANNEL, 4520))
    assert deleted.value.reason == "telegram_post_not_found"
    widget_error = b'<html><body><div class="tgme_widget_message_error">Post not found</div></body></html>'
    with pytest.raises(PostNotFound):
        read_post(widget_error, f"https://t.me/s/{CHANNEL}/1", "utf-8", PostAddress(CHANNEL, 1))
    with pytest.raises(PrivateChannel) as private:
        read_post(tgpreview.private_channel_page("closed_desk").encode(), "https://t.me/closed_desk", "utf-8",
                  PostAddress("closed_desk", 7))
    assert private.value.reason == "telegram_private"


def test_hostile_text_stays_text() -> None:
    page = tgpreview.channel_page(CHANNEL, "<script>x</script>", [tgpreview.Post(
        9, '&lt;img src=x onerror=alert(1)&gt; <a href="javascript:alert(1)">click</a> ' + "слово " * 3000)]).encode()
    article = read_post(page, PREVIEW, "utf-8", PostAddress(CHANNEL, 9))
    assert article.site_name == "<script>x</script>"  # escaped by render, like any site name
    assert article.links == ()  # javascript: is never offered
    assert article.text.startswith("<img src=x onerror=alert(1)>")
    assert len(article.title) <= 121


@pytest.fixture
async def svc(tmp_path: Path, web: WebServer) -> AsyncIterator[Services]:
    base = tgpreview.serve_channel(web)
    opened = await Services.open(settings_for(tmp_path, TELEGRAM_PREVIEW_URL=base))
    yield opened
    await opened.aclose()


async def test_a_post_link_becomes_an_item_through_the_preview(svc: Services, web: WebServer) -> None:
    item = (await ingest(svc, CHAT, f"https://t.me/{CHANNEL}/4521")).item
    assert item.status == "done", item.failure_detail
    assert (item.content_kind, item.source) == ("telegram_post", "Київ Оперативний")
    assert item.published_at == datetime(2026, 11, 20, 7, 45, 12, tzinfo=UTC)
    assert item.post_links == ("https://minenergy.example.gov.ua/news/4521",)
    assert item.final_url == f"https://t.me/{CHANNEL}/4521"
    assert len(web.requests_to(f"/s/{CHANNEL}/4521")) == 1
    # the same post by its other spellings is the same item
    for spelling in (f"https://t.me/s/{CHANNEL}/4521", f"https://telegram.me/{CHANNEL}/4521?single"):
        again = await ingest(svc, CHAT, spelling)
        assert not again.is_new and again.item.id == item.id
    photo = (await ingest(svc, CHAT, f"https://t.me/s/{CHANNEL}/4522")).item
    assert photo.status == "done" and photo.authors == ("Олена Коваленко",)
    assert photo.canonical_url == f"https://t.me/{CHANNEL}/4522"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"https://t.me/{CHANNEL}/4520", "telegram_post_not_found"),
        ("https://telegram.me/closed_desk/7", "telegram_private"),
        ("https://t.me/c/1234567890/55", "telegram_private"),
    ],
)
async def test_deleted_posts_and_private_channels_fail_with_their_reason(svc: Services, url: str, reason: str) -> None:
    item = (await ingest(svc, CHAT, url)).item
    assert (item.status, item.failure_reason) == ("failed", reason)


async def test_newsdesk_show_prints_what_kind_of_document_an_item_is(svc: Services) -> None:
    item = (await ingest(svc, CHAT, f"https://t.me/{CHANNEL}/4521")).item
    text = card_text(item)
    assert "posted: 2026-11-20T07:45:12+00:00" in text
    assert "the post links to: https://minenergy.example.gov.ua/news/4521" in text

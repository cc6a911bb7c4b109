"""The pipeline end to end: a local web server, real worker processes, a real SQLite file."""

from datetime import date
from pathlib import Path

import pytest

from bot.pipeline.errors import InvalidUrl
from bot.pipeline.ingest import Submission, Submitter
from bot.services import Services
from storage.models import FAILED
from tests.support import articles
from tests.support.webserver import WebServer


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """These tests count requests to the session's one web server by path: one backend (SQLite)
    each, or the other backend's run would be counted too. The stores run on both elsewhere."""
    return str(tmp_path / "newsdesk.db")

CHAT = -1001234


async def ingest(services: Services, chat_id: int, url: str, submitter: Submitter | None = None) -> Submission:
    """Submit one link and, when it is new or failed before, process it."""
    submission = await services.ingestor.submit(chat_id, url, submitter or Submitter())
    if submission.is_new or submission.item.status == FAILED:
        return Submission(await services.ingestor.process(submission.item), submission.is_new)
    return submission


async def test_an_article_is_stored_with_metadata_and_summary(services: Services, web: WebServer) -> None:
    url = web.add("/ingest/grain", articles.english_article(authors=("Maria Kovalenko", "Thomas Harris")))
    submission = await ingest(services, CHAT, url, Submitter(user_id=7, name="Olena", message_id=5))
    item = submission.item
    assert submission.is_new
    assert item.status == "done", item.failure_detail
    assert item.title == "Black Sea grain exports hit a record"
    assert item.authors == ("Maria Kovalenko", "Thomas Harris")
    assert item.site_name == "Example Times"
    assert item.published_date == date(2026, 11, 20)
    assert item.language == "en"
    assert "Black Sea corridor" in (item.text or "")
    assert "Celebrity chef" not in (item.text or "") and "All rights reserved" not in (item.text or "")
    assert item.summary and item.summary.startswith("Grain exports")
    assert (item.submitted_by, item.submitted_by_name, item.message_id) == (7, "Olena", 5)


async def test_reposting_with_tracking_parameters_adds_nothing(services: Services, web: WebServer) -> None:
    url = web.add("/ingest/dupe", articles.english_article(title="Duplicate check article"))
    first = await ingest(services, CHAT, url)
    again = await ingest(services, CHAT, url + "?utm_source=x#frag")
    assert first.is_new and not again.is_new
    assert again.item.id == first.item.id
    assert len(web.requests_to("/ingest/dupe")) == 1
    assert len(await services.repository.latest(CHAT)) == 1


async def test_windows_1251_page_without_charset(services: Services, web: WebServer) -> None:
    url = web.add("/ingest/cp1251", articles.russian_article_cp1251(), content_type="text/html")
    item = (await ingest(services, CHAT, url)).item
    assert item.status == "done", item.failure_detail
    assert item.title == "Центробанк сохранил ключевую ставку"
    assert "ключевую ставку" in (item.text or "")
    assert item.language == "ru"


async def test_ukrainian_article_is_searchable(services: Services, web: WebServer) -> None:
    url = web.add("/ingest/kyiv", articles.ukrainian_article())
    item = (await ingest(services, CHAT, url)).item
    assert item.status == "done" and item.language == "uk"
    page = await services.repository.search(CHAT, "котельні")
    assert [hit.item.id for hit in page.hits] == [item.id]


@pytest.mark.parametrize(
    ("path", "setup", "reason"),
    [
        ("/ingest/none", lambda w: w.add("/ingest/none", articles.no_article_page()), "no_article"),
        ("/ingest/404", lambda w: w.add("/ingest/404", "gone", status=404), "http_404"),
        ("/ingest/pdf", lambda w: w.add("/ingest/pdf", b"%PDF-1.7 ...", content_type="application/pdf"), "pdf_broken"),
        ("/ingest/private", lambda w: w.redirect("/ingest/private", "http://10.0.0.1/secret"), "blocked_address"),
        ("/ingest/metadata", lambda w: w.redirect("/ingest/metadata", "http://169.254.169.254/latest/meta-data/"), "blocked_address"),
        ("/ingest/big", lambda w: w.huge("/ingest/big", 6_000_000), "too_large"),
    ],
)
async def test_failures_are_stored_with_a_reason(services: Services, web: WebServer, path, setup, reason) -> None:
    setup(web)
    item = (await ingest(services, CHAT, web.url(path))).item
    assert (item.status, item.failure_reason) == ("failed", reason)
    assert item.failure_detail


async def test_loopback_is_refused_without_the_allow_list(tmp_path, web: WebServer) -> None:
    from tests.conftest import settings_for

    opened = await Services.open(settings_for(tmp_path, FETCH_ALLOW_NETWORKS=""))
    try:
        url = web.add("/ingest/refused", articles.english_article())
        item = (await ingest(opened, CHAT, url)).item
    finally:
        await opened.aclose()
    assert item.failure_reason == "blocked_address"
    assert web.requests_to("/ingest/refused") == []


async def test_a_failed_link_is_retried_when_posted_again(services: Services, web: WebServer) -> None:
    web.add("/ingest/flaky", "down", status=500)
    first = (await ingest(services, CHAT, web.url("/ingest/flaky"))).item
    assert first.failure_reason == "http_500"
    web.add("/ingest/flaky", articles.english_article(title="Back online"))
    second = (await ingest(services, CHAT, web.url("/ingest/flaky"))).item
    assert (second.id, second.status, second.title) == (first.id, "done", "Back online")


async def test_pending_links_are_resumed(services: Services, web: WebServer) -> None:
    url = web.add("/ingest/resume", articles.english_article(title="Left pending by a crash"))
    submission = await services.ingestor.submit(CHAT, url)
    assert submission.item.status == "pending"
    resumed = await services.ingestor.resume_pending()
    assert [(i.id, i.status) for i in resumed] == [(submission.item.id, "done")]


async def test_not_a_url_is_refused(services: Services) -> None:
    with pytest.raises(InvalidUrl):
        await services.ingestor.submit(CHAT, "javascript:alert(1)")


async def test_one_chat_flooding_links_does_not_starve_another(tmp_path, web: WebServer) -> None:
    import asyncio
    import time as clock

    from tests.conftest import settings_for

    page = articles.english_article(title="Fairness article")

    opened = await Services.open(settings_for(tmp_path, INGEST_CONCURRENCY="4"))
    try:
        flood = [web.delayed(f"/fair/flood/{n}", page, 0.3) for n in range(24)]
        finished: dict[str, float] = {}

        async def take(chat: int, url: str) -> None:
            await ingest(opened, chat, url)
            finished[url] = clock.monotonic()

        tasks = [asyncio.create_task(take(1, url)) for url in flood]
        await asyncio.sleep(0.1)
        other = web.delayed("/fair/other", page, 0.3)
        await take(2, other)
        await asyncio.gather(*tasks)
    finally:
        await opened.aclose()
    later_flood = sum(1 for url in flood if finished[url] > finished[other])
    assert later_flood >= 12  # the other chat's link did not wait for the flood to drain

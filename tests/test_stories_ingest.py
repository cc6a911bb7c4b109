"""One article under many addresses is one item; one event from many outlets is one story: the
pipeline end to end against a local web server, real worker processes and a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.pipeline.ingest import Submission, Submitter
from bot.services import Services
from storage.models import FAILED
from tests.support import stories
from tests.support.webserver import WebServer


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """These tests count requests to the session's one web server by path: one backend (SQLite)
    each, or the other backend's run would be counted too. The stores run on both elsewhere."""
    return str(tmp_path / "newsdesk.db")

CHAT = -1001414


async def ingest(services: Services, url: str) -> Submission:
    submission = await services.ingestor.submit(CHAT, url, Submitter())
    if submission.is_new or submission.item.status == FAILED:
        return Submission(await services.ingestor.process(submission.item), submission.is_new)
    return submission


def quake(site: str, **kwargs: str | None) -> str:
    title, paragraphs = stories.QUAKE[site]
    return stories.story_page(title=title, paragraphs=paragraphs, site=site, **kwargs)


async def test_amp_forms_of_a_stored_article_are_already_saved(services: Services, web: WebServer) -> None:
    url = web.add("/s1/world/quake", quake("Reuters Wire"))
    web.add("/s1/world/quake/amp", quake("Reuters Wire"))
    first = await ingest(services, url)
    assert first.item.status == "done", first.item.failure_detail
    for form in (url + "/amp", url + "?amp=1", url + "?outputType=amp", url + "/"):
        again = await ingest(services, form)
        assert not again.is_new and again.item.id == first.item.id, form
    assert web.requests_to("/s1/world/quake/amp") == []
    assert len(await services.repository.latest(CHAT)) == 1


async def test_a_page_naming_a_stored_article_as_canonical_is_merged(services: Services, web: WebServer) -> None:
    url = web.add("/s2/world/quake", quake("Reuters Wire"))
    mobile = web.add("/s2/m/world/quake", quake("Reuters Wire", canonical=url, og_url=url))
    first = await ingest(services, url)
    second = await ingest(services, mobile)
    assert second.item.status == FAILED and second.item.failure_reason == "same_article"
    assert second.item.same_as == first.item.id
    again = await ingest(services, mobile + "?utm_source=x")  # known now, before any fetch
    assert again.item.id in (first.item.id, second.item.id)
    assert len(web.requests_to("/s2/m/world/quake")) == 1
    assert [item.id for item in await services.repository.latest(CHAT)] == [first.item.id]


async def test_the_address_after_redirects_is_the_same_article(services: Services, web: WebServer) -> None:
    target = web.add("/s3/world/quake", quake("Daily Courier"))
    short = web.redirect("/s3/go/abc", target)
    first = await ingest(services, short)
    assert first.item.status == "done", first.item.failure_detail
    again = await ingest(services, target)  # known by its final address: nothing is fetched
    assert not again.is_new and again.item.id == first.item.id
    assert len(web.requests_to("/s3/world/quake")) == 1


async def test_pages_differing_in_one_path_segment_are_never_merged(services: Services, web: WebServer) -> None:
    title, paragraphs = stories.NEAR_MISS
    one = web.add("/s4/2026/12/04/quake", quake("Reuters Wire"))
    # same template and path but for one segment, and a site that names its home page as canonical
    two = web.add("/s4/2026/12/05/quake", stories.story_page(title=title, paragraphs=paragraphs, site="Reuters Wire",
                                                             canonical=web.url("/"), og_url=web.url("/")))
    three = web.add("/s4/2026/12/04/amp-quake", stories.story_page(title=title, paragraphs=paragraphs,
                                                                   site="Reuters Wire"))
    items = [(await ingest(services, url)).item for url in (one, two, three)]
    assert [item.status for item in items] == ["done"] * 3
    assert len({item.id for item in items}) == 3


async def test_a_page_wrongly_naming_another_article_canonical_is_not_merged(services: Services,
                                                                             web: WebServer) -> None:
    title, paragraphs = stories.NEAR_MISS
    url = web.add("/s5/world/quake", quake("Reuters Wire"))
    other = web.add("/s5/world/greece", stories.story_page(title=title, paragraphs=paragraphs, site="Reuters Wire",
                                                           canonical=url))
    await ingest(services, url)
    assert (await ingest(services, other)).item.status == "done"


async def test_three_outlets_are_one_story_and_near_misses_are_not(services: Services, web: WebServer) -> None:
    items = [(await ingest(services, web.add(f"/s6/{n}", quake(site)))).item for n, site in enumerate(stories.QUAKE)]
    title, paragraphs = stories.NEAR_MISS
    greece = (await ingest(services, web.add("/s6/greece", stories.story_page(
        title=title, paragraphs=paragraphs, site="Daily Courier")))).item
    title, paragraphs = stories.FOLLOW_UP
    follow_up = (await ingest(services, web.add("/s6/follow", stories.story_page(
        title=title, paragraphs=paragraphs, site="Reuters Wire")))).item
    assert all(item.story_id is not None for item in [*items, greece, follow_up])
    assert len({item.story_id for item in items}) == 1
    assert greece.story_id != items[0].story_id
    assert follow_up.story_id != items[0].story_id
    story = await services.repository.story(items[0].story_id or 0)
    assert story is not None and story.sources == tuple(stories.QUAKE)

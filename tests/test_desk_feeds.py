"""bot/desk/feeds.py with real parts: a real SQLite file, the worker pool, the safe fetcher, and
feeds served by the loopback web server (tests/support/feeds.py) that change between polls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import utc_now
from bot.desk import feeds as desk
from bot.desk.feeds import PollStatus, follow, poll_due, poll_feed, process_new_items
from bot.desk.links import resume_pending, submit_links
from bot.pipeline.feeds import OpmlFeed
from bot.pipeline.ingest import Submitter
from bot.services import Services
from storage.errors import StorageUnavailable
from storage.models import DONE, FAILED, FeedMode, FeedStatus, OutboxKind
from tests.conftest import settings_for
from tests.support import articles
from tests.support.feeds import BASE_TIME, Entry, LiveFeed, billion_laughs, many_entries, site_page
from tests.support.webserver import ConnectionRecorder, WebServer

CHAT = -100700


@pytest.fixture
async def svc(tmp_path: Path, database_url: str) -> AsyncIterator[Services]:
    opened = await Services.open(settings_for(tmp_path, NEWSDESK_DB=database_url, FEED_FIRST_POLL_ITEMS="3",
                                              FEED_MAX_NEW_PER_POLL="5"))
    yield opened
    await opened.aclose()


_paths = iter(range(10**6))


def unique(prefix: str) -> str:
    return f"/feeds/{prefix}/{next(_paths)}"


def article(web: WebServer, title: str) -> str:
    return web.add(unique("a"), articles.english_article(title=title))


async def make_due(svc: Services, feed_id: int | None = None) -> None:
    """Bring the next check forward to now (tests do not wait a quarter of an hour)."""
    await svc.repository._db.execute(  # the test reaches into storage on purpose
        "UPDATE feeds SET next_check_at = ? WHERE ? IS NULL OR id = ?",
        ((utc_now() - timedelta(seconds=1)).isoformat(), feed_id, feed_id))
    await svc.repository._db.commit()


async def test_follow_takes_the_newest_entries_then_only_new_ones_with_conditional_requests(
        svc: Services, web: WebServer) -> None:
    live = LiveFeed(web, unique("live"), title="Desk wire")
    live.replace([Entry(f"e{n}", article(web, f"Wire story {n}"), f"Wire story {n}",
                        published=BASE_TIME + timedelta(minutes=n)) for n in range(6)][::-1])
    outcome = await follow(svc, CHAT, live.url)
    assert outcome.feed is not None and outcome.is_new and outcome.feed.title == "Desk wire"
    assert outcome.first_poll is not None
    first = await process_new_items(svc, [outcome.first_poll])
    assert sorted(item.title or "" for item in first) == ["Wire story 3", "Wire story 4", "Wire story 5"]
    assert all(item.status == DONE and item.feed_id == outcome.feed.id for item in first)
    assert [i.id for i in first] == sorted(i.id for i in first)

    await make_due(svc)
    [unchanged] = await poll_due(svc)
    assert unchanged.status == PollStatus.NOT_MODIFIED and unchanged.new == 0
    assert live.statuses[-1] == 304 and web.requests_to(live.path)[-1].headers["if-none-match"].startswith('"')

    live.publish(Entry("e6", article(web, "Wire story 6"), "Wire story 6", published=BASE_TIME + timedelta(hours=1)))
    await make_due(svc)
    [changed] = await poll_due(svc)
    assert changed.status == PollStatus.OK and changed.new == 1 and changed.skipped == 0
    [item] = await process_new_items(svc, [changed])
    assert item.title == "Wire story 6"
    feed = await svc.repository.feed(outcome.feed.id)
    assert feed is not None and feed.last_new_at is not None and feed.errors == 0 and feed.etag
    # announce mode: a card for each new item, written once
    cards = [m for m in await svc.repository.outbox(CHAT) if m.kind == OutboxKind.CARD]
    assert len(cards) == 4 and len({m.item_id for m in cards}) == 4


async def test_last_modified_alone_is_used_when_there_is_no_etag(svc: Services, web: WebServer) -> None:
    live = LiveFeed(web, unique("lm"), validators=("last-modified",))
    live.replace([Entry("lm1", article(web, "LM story"), "LM story")])
    outcome = await follow(svc, CHAT, live.url, mode=FeedMode.DIGEST)
    assert outcome.feed is not None
    await make_due(svc)
    [result] = await poll_due(svc)
    assert result.status == PollStatus.NOT_MODIFIED
    assert "if-modified-since" in web.requests_to(live.path)[-1].headers
    assert "if-none-match" not in web.requests_to(live.path)[-1].headers
    # digest mode: nothing is announced
    assert await svc.repository.outbox(CHAT) == []


async def test_a_site_page_with_two_feeds_follows_the_first_and_names_the_other(svc: Services, web: WebServer) -> None:
    first = LiveFeed(web, unique("site-all"), title="All news")
    first.replace([Entry("s1", article(web, "Site story"), "Site story")])
    second = LiveFeed(web, unique("site-politics"), kind="atom", title="Politics")
    page = web.add(unique("site"), site_page([("application/rss+xml", first.path, "All news"),
                                              ("application/atom+xml", second.path, "Politics")]))
    outcome = await follow(svc, CHAT, page)
    assert outcome.feed is not None and outcome.feed.url == first.url
    assert [(o.url, o.title) for o in outcome.others] == [(second.url, "Politics")]


async def test_json_feed_and_atom_with_relative_links(svc: Services, web: WebServer) -> None:
    json_live = LiveFeed(web, unique("json"), kind="json")
    json_live.replace([Entry("j1", article(web, "JSON story"), "JSON story")])
    outcome = await follow(svc, CHAT, json_live.url)
    assert outcome.first_poll is not None
    [item] = await process_new_items(svc, [outcome.first_poll])
    assert item.title == "JSON story" and item.status == DONE

    atom_path = unique("atom")
    web.add(f"{atom_path}/stories/relative.html", articles.english_article(title="Relative story"))
    atom_live = LiveFeed(web, f"{atom_path}/feed.atom", kind="atom")
    atom_live.replace([Entry("tag:rel", "stories/relative.html", "Relative story")])
    outcome = await follow(svc, CHAT, atom_live.url)
    assert outcome.first_poll is not None
    [item] = await process_new_items(svc, [outcome.first_poll])
    assert item.url == web.url(f"{atom_path}/stories/relative.html") and item.title == "Relative story"


@pytest.mark.slow  # 5,000 entries parsed twice: seconds
async def test_a_flood_is_capped_with_one_notice(svc: Services, web: WebServer) -> None:
    live = LiveFeed(web, unique("flood"))
    live.replace([Entry("calm", article(web, "Calm story"), "Calm story")])
    outcome = await follow(svc, CHAT, live.url, mode=FeedMode.DIGEST)
    assert outcome.feed is not None
    links = web.url(unique("flood-missing")) + "/"
    live.publish(*many_entries(5000, links))
    await make_due(svc)
    [result] = await poll_due(svc)
    assert result.status == PollStatus.OK and result.new == 5 and result.skipped == 5000 - 5
    assert sorted(item.url for item in result.items) == sorted(f"{links}{n}" for n in range(5))  # the newest
    notices = [m for m in await svc.repository.outbox(CHAT) if m.kind == OutboxKind.NOTICE]
    assert len(notices) == 1 and notices[0].payload["key"] == "feed_capped"
    assert notices[0].payload["values"] == {"new": 5000, "taken": 5, "skipped": 4995}
    # the same list again (no validators this time): nothing new, no second notice
    live.validators = ()
    await make_due(svc)
    [again] = await poll_due(svc)
    assert again.status == PollStatus.OK and again.new == 0
    assert len([m for m in await svc.repository.outbox(CHAT) if m.kind == OutboxKind.NOTICE]) == 1


async def test_a_20_mb_feed_is_refused_without_reading_it(svc: Services, web: WebServer) -> None:
    live = LiveFeed(web, unique("ok"))
    live.replace([Entry("x", article(web, "Before the bloat"), "Before the bloat")])
    outcome = await follow(svc, CHAT, live.url)
    assert outcome.feed is not None
    web.huge(live.path, 20_000_000, declare_length=False)  # the same address now streams 20 MB
    await make_due(svc)
    started = time.monotonic()
    [result] = await poll_due(svc)
    assert result.status == PollStatus.ERROR and "larger than" in (result.error or "")
    assert time.monotonic() - started < 5
    failed = await svc.repository.feed(outcome.feed.id)
    assert failed is not None and failed.errors == 1 and failed.status == FeedStatus.ACTIVE
    assert failed.next_check_at > utc_now()


async def test_a_broken_feed_backs_off_is_reported_after_a_day_and_paused_after_a_week(
        svc: Services, web: WebServer) -> None:
    live = LiveFeed(web, unique("broken"))
    live.replace([Entry("b", article(web, "Before it broke"), "Before it broke")])
    outcome = await follow(svc, CHAT, live.url)
    assert outcome.feed is not None
    feed_id = outcome.feed.id
    web.add(live.path, b'<?xml version="1.0"?><rss><channel><title>Broken', content_type="text/html")
    intervals = []
    for _ in range(3):
        await make_due(svc)
        [result] = await poll_due(svc)
        assert result.status == PollStatus.ERROR
        found = await svc.repository.feed(feed_id)
        assert found is not None
        intervals.append(found.interval_seconds)
    assert intervals[0] < intervals[1] < intervals[2]  # doubling
    db = svc.repository._db
    await db.execute("UPDATE feeds SET failing_since = ? WHERE id = ?",
                     ((utc_now() - timedelta(hours=25)).isoformat(), feed_id))
    await db.commit()
    for _ in range(2):
        await make_due(svc)
        await poll_due(svc)
    notices = [m.payload["key"] for m in await svc.repository.outbox(CHAT) if m.kind == OutboxKind.NOTICE]
    assert notices == ["feed_failing"]
    await db.execute("UPDATE feeds SET failing_since = ? WHERE id = ?",
                     ((utc_now() - timedelta(days=8)).isoformat(), feed_id))
    await db.commit()
    await make_due(svc)
    [result] = await poll_due(svc)
    assert result.status == PollStatus.PAUSED
    notices = [m.payload["key"] for m in await svc.repository.outbox(CHAT) if m.kind == OutboxKind.NOTICE]
    assert notices == ["feed_failing", "feed_paused"]
    await make_due(svc)
    assert await poll_due(svc) == []  # paused feeds are not polled
    # following it again resumes it
    live.replace([Entry("b", article(web, "Back again"), "Back again")])
    web.route(live.path, live._serve)
    again = await follow(svc, CHAT, live.url)
    assert again.feed is not None and again.feed.status == FeedStatus.ACTIVE and not again.is_new


async def test_entries_pointing_or_redirecting_to_private_addresses_are_never_fetched(
        svc: Services, web: WebServer) -> None:
    recorder = ConnectionRecorder("127.0.0.1")
    try:
        hop = web.redirect(unique("hop"), recorder.url("/secret"))
        live = LiveFeed(web, unique("private"))
        live.replace([Entry("p1", recorder.url("/admin"), "Direct"), Entry("p2", hop, "Redirected"),
                      Entry("p3", "http://10.0.0.1/internal", "Private network")])
        outcome = await follow(svc, CHAT, live.url)
        assert outcome.first_poll is not None
        finished = await process_new_items(svc, [outcome.first_poll])
        assert len(finished) == 3
        assert all(item.status == FAILED and item.failure_reason == "blocked_address" for item in finished)
        assert recorder.connections() == 0
        from bot.desk.outbox import deliver_outbox

        class Nowhere:
            async def send(self, *args: object) -> int:
                raise AssertionError("nothing about a blocked link is announced")

        await deliver_outbox(svc, Nowhere())
        assert all(m.status == "dropped" for m in await svc.repository.outbox(CHAT))
    finally:
        recorder.close()


async def test_a_page_that_cannot_be_read_keeps_the_entry_words(svc: Services, web: WebServer) -> None:
    live = LiveFeed(web, unique("paywall"), title="Paywalled Times")
    missing = web.add(unique("paywalled"), "Subscribe", status=403)
    live.replace([Entry("pw", missing, "Exclusive: grain deal signed", "<p>The deal was signed at dawn.</p>",
                        "Olena Kovalenko", BASE_TIME)])
    outcome = await follow(svc, CHAT, live.url)
    assert outcome.first_poll is not None
    [item] = await process_new_items(svc, [outcome.first_poll])
    assert item.status == DONE and item.from_feed and item.failure_reason == "http_403"
    assert item.title == "Exclusive: grain deal signed" and item.summary == "The deal was signed at dawn."
    assert item.authors == ("Olena Kovalenko",) and item.published_date == BASE_TIME.date()
    assert item.source == "Paywalled Times"
    page = await svc.repository.search(CHAT, "dawn")
    assert [hit.item.id for hit in page.hits] == [item.id]


async def test_entries_are_deduplicated_by_id_and_by_canonical_url(svc: Services, web: WebServer) -> None:
    posted = article(web, "Posted by an editor")
    await submit_links(svc, CHAT, [posted], Submitter(name="Olena"))
    shared = article(web, "In two feeds")
    one = LiveFeed(web, unique("dup-one"))
    one.replace([Entry("shared-guid", shared, "In two feeds"), Entry("posted", posted + "?utm_source=rss", "Posted")])
    two = LiveFeed(web, unique("dup-two"))
    two.replace([Entry("shared-guid", shared + "?utm_medium=feed", "In two feeds"), Entry("other-id", shared, "Again")])
    first = await follow(svc, CHAT, one.url)
    second = await follow(svc, CHAT, two.url)
    assert first.first_poll is not None and second.first_poll is not None
    assert [i.title or i.url for i in first.first_poll.items] == [shared]  # the editor's link stays the editor's
    assert second.first_poll.items == ()
    all_items = [item async for item in svc.repository.all_items(CHAT)]
    assert sorted(item.canonical_url for item in all_items) == sorted({posted, shared})
    # feeds have caps of their own: they do not use up the editors' MAX_LINKS_PER_HOUR
    assert await svc.repository.count_recent_links(CHAT, since=utc_now() - timedelta(hours=1)) == 1


async def test_a_poll_cut_short_by_a_fault_loses_and_doubles_nothing(
        svc: Services, web: WebServer, monkeypatch: pytest.MonkeyPatch) -> None:
    live = LiveFeed(web, unique("crash"))
    live.replace([Entry("c0", article(web, "Crash story 0"), "Crash story 0")])
    outcome = await follow(svc, CHAT, live.url)
    assert outcome.feed is not None and outcome.first_poll is not None
    await process_new_items(svc, [outcome.first_poll])
    live.publish(*[Entry(f"c{n}", article(web, f"Crash story {n}"), f"Crash story {n}",
                         published=BASE_TIME + timedelta(minutes=n)) for n in range(1, 5)][::-1])
    real = svc.repository.record_entries
    calls = 0

    async def failing(*args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 4:  # after the skipped, the link-less and two taken entries were written
            raise StorageUnavailable("disk I/O error (injected)")
        await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(svc.repository, "record_entries", failing)
    await make_due(svc)
    [cut] = await poll_due(svc)
    assert cut.status == PollStatus.ERROR
    monkeypatch.setattr(svc.repository, "record_entries", real)
    await svc.repository._db.execute("UPDATE feeds SET claimed_until = NULL")  # the lease would run out
    await svc.repository._db.commit()
    await make_due(svc)
    [again] = await poll_due(svc)
    assert again.status == PollStatus.OK
    await process_new_items(svc, [again])
    await resume_pending(svc)  # the items remembered before the fault, as the bot's resume-stuck job does
    items = [item async for item in svc.repository.all_items(CHAT)]
    assert sorted(item.title or "" for item in items) == [f"Crash story {n}" for n in range(5)]
    cards = [m.item_id for m in await svc.repository.outbox(CHAT) if m.kind == OutboxKind.CARD]
    assert sorted(cards) == sorted(item.id for item in items)


async def test_two_pollers_sharing_the_database_poll_each_feed_once(tmp_path: Path, web: WebServer) -> None:
    settings = settings_for(tmp_path)
    first, second = await Services.open(settings), await Services.open(settings)
    try:
        lives = []
        for n in range(6):
            live = LiveFeed(web, unique("shared"))
            live.replace([Entry(f"sh{n}", article(web, f"Shared {n}"), f"Shared {n}")])
            await first.repository.add_feed(-1, live.url, title=None, site_url=None, mode=FeedMode.DIGEST,
                                            thread_id=None, added_by=None, interval_seconds=900,
                                            next_check_at=utc_now() - timedelta(seconds=1))
            lives.append(live)
        one, two = await asyncio.gather(poll_due(first), poll_due(second))
        assert len(one) + len(two) == 6
        assert all(len(live.statuses) == 1 for live in lives)
    finally:
        await first.aclose()
        await second.aclose()


async def test_opml_import_spreads_first_polls(svc: Services) -> None:
    listed = [OpmlFeed(f"https://feeds{n}.example/rss", f"Feed {n}") for n in range(20)] + [OpmlFeed("javascript:x")]
    imported = await desk.import_opml(svc, CHAT, listed)
    assert sum(feed is None for _, feed in imported) == 1
    feeds = await svc.repository.feeds(CHAT)
    assert len(feeds) == 20 and feeds[0].title == "Feed 0"
    spread = sorted(feed.next_check_at for feed in feeds)
    assert spread[-1] - spread[0] > timedelta(minutes=3)


async def test_poll_feed_survives_the_unexpected(svc: Services, web: WebServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    live = LiveFeed(web, unique("odd"))
    live.replace([Entry("o", article(web, "Odd"), "Odd")])
    outcome = await follow(svc, CHAT, live.url)
    assert outcome.feed is not None

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(svc.workers, "read_feed", broken)
    live.publish(Entry("o2", article(web, "Odd 2"), "Odd 2"))
    feed = await svc.repository.feed(outcome.feed.id)
    assert feed is not None
    result = await poll_feed(svc, feed)
    assert result.status == PollStatus.ERROR and "RuntimeError" in (result.error or "")


async def test_an_entity_bomb_feed_is_followed_harmlessly(svc: Services, web: WebServer) -> None:
    bomb = web.add(unique("bomb"), billion_laughs(), content_type="application/rss+xml")
    started = time.monotonic()
    outcome = await follow(svc, CHAT, bomb, mode=FeedMode.DIGEST)
    assert time.monotonic() - started < 10
    assert outcome.feed is not None and len(outcome.feed.title or "") < 100
    assert outcome.first_poll is not None and all(len(i.url) < 100 for i in outcome.first_poll.items)

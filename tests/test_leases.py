"""Leases on pending links and turns on chats (storage/leases.py), on both backends, and how the
pipeline uses them on a database shared by several processes (bot/pipeline/ingest.py)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bot.pipeline.ingest import Submitter
from bot.pipeline.models import Article
from bot.services import Services
from storage.errors import LeaseLost
from storage.repository import Repository
from tests.conftest import settings_for
from tests.support import articles
from tests.support.postgres import TestDatabase
from tests.support.webserver import Exchange, WebServer

MINUTE = timedelta(minutes=1)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def clocked(database_url: str) -> tuple[Repository, Clock]:
    clock = Clock()
    repository = await Repository.open(database_url, clock=clock)
    yield repository, clock
    await repository.close()


async def pending_links(repository: Repository, count: int, chat_id: int = 5) -> list[int]:
    ids = []
    for n in range(count):
        item, _ = await repository.add_link(chat_id, f"https://example.org/{n}", f"https://example.org/{n}")
        ids.append(item.id)
    return ids


def article(title: str = "A title") -> Article:
    return Article(title=title, text="Some text of the article. " * 20)


async def test_claims_take_each_pending_link_once_oldest_first(clocked: tuple[Repository, Clock]) -> None:
    repository, _ = clocked
    ids = await pending_links(repository, 5)
    first = await repository.claim_pending("a", MINUTE, limit=3)
    second = await repository.claim_pending("b", MINUTE, limit=3)
    assert [item.id for item in first] == ids[:3]
    assert [item.id for item in second] == ids[3:]
    assert await repository.claim_pending("c", MINUTE, limit=3) == []


async def test_an_expired_lease_is_taken_over_and_a_renewed_one_is_not(clocked: tuple[Repository, Clock]) -> None:
    repository, clock = clocked
    [kept, lost] = await pending_links(repository, 2)
    assert len(await repository.claim_pending("dead-or-alive", MINUTE, limit=2)) == 2
    assert await repository.pending_held_elsewhere("other") == 2
    assert await repository.pending_held_elsewhere("dead-or-alive") == 0
    clock.now += timedelta(seconds=40)
    assert await repository.renew("dead-or-alive", [kept], MINUTE) == 1
    clock.now += timedelta(seconds=30)  # `lost`'s lease expired; `kept`'s was renewed
    assert await repository.pending_held_elsewhere("other") == 1  # an expired lease holds nothing
    assert [item.id for item in await repository.claim_pending("other", MINUTE, limit=5)] == [lost]
    assert await repository.pending_held_elsewhere("other") == 1
    assert not await repository.claim_item(kept, "other", MINUTE)
    assert await repository.claim_item(kept, "dead-or-alive", MINUTE)  # its holder taking it again


async def test_storing_the_outcome_or_releasing_ends_the_lease(clocked: tuple[Repository, Clock]) -> None:
    repository, _ = clocked
    [done, failed, released] = await pending_links(repository, 3)
    assert len(await repository.claim_pending("a", MINUTE, limit=3)) == 3
    await repository.mark_done(done, article(), "Summary.", final_url="https://example.org/0")
    await repository.mark_failed(failed, reason="timeout", detail="too slow")
    assert await repository.renew("a", [done, failed, released], MINUTE) == 1  # only the pending one
    assert await repository.release("a") == 1
    assert [item.id for item in await repository.claim_pending("b", MINUTE, limit=5)] == [released]
    retried = await repository.retry(failed)  # a failed link queued again is free to claim
    assert retried.status == "pending"
    assert await repository.claim_item(failed, "c", MINUTE)


async def test_a_stalled_process_s_outcome_is_not_stored_once_another_took_the_link(
        clocked: tuple[Repository, Clock]) -> None:
    repository, clock = clocked
    [done, failed, merged] = await pending_links(repository, 3)
    assert len(await repository.claim_pending("stalled", MINUTE, limit=3)) == 3
    clock.now += 2 * MINUTE
    assert len(await repository.claim_pending("other", MINUTE, limit=3)) == 3
    await repository.mark_done(done, article("The other's reading"), "Theirs.", final_url="https://example.org/0",
                               held_by="other")
    with pytest.raises(LeaseLost):
        await repository.mark_done(done, article("A late reading"), "Late.", final_url="https://example.org/0",
                                   held_by="stalled")
    with pytest.raises(LeaseLost):
        await repository.mark_failed(failed, reason="timeout", detail="too slow", held_by="stalled")
    into = await repository.get(done)
    assert into is not None
    with pytest.raises(LeaseLost):
        await repository.merge_same_article(merged, into, ["example.org/2"], held_by="stalled")
    stored = [await repository.get(item_id) for item_id in (done, failed, merged)]
    assert [(item.status, item.title, item.attempts) for item in stored if item] == [
        ("done", "The other's reading", 1), ("pending", None, 0), ("pending", None, 0)]
    await repository.mark_failed(failed, reason="timeout", detail="too slow", held_by="other")
    assert (await repository.search(5, "late")).hits == ()  # the late reading's words were not counted


async def test_a_chat_turn_is_held_by_one_process_until_it_expires(clocked: tuple[Repository, Clock]) -> None:
    repository, clock = clocked
    assert await repository.take_chat_turn(7, "a", MINUTE)
    assert not await repository.take_chat_turn(7, "b", MINUTE)
    assert await repository.take_chat_turn(8, "b", MINUTE)  # another chat's turn is apart
    assert await repository.take_chat_turn(7, "a", MINUTE)  # renewed
    clock.now += timedelta(seconds=61)
    assert await repository.take_chat_turn(7, "b", MINUTE)
    assert not await repository.take_chat_turn(7, "a", MINUTE)
    assert await repository.give_up_chat_turns("b") == 2
    assert await repository.take_chat_turn(7, "a", MINUTE)


# --- two processes on one PostgreSQL database --------------------------------------------------

@pytest.fixture
def shared_url(postgres_database: TestDatabase) -> str:
    return postgres_database.fresh_schema()


async def open_process(tmp_path: Path, url: str, *, lease: timedelta) -> Services:
    folder = tmp_path / uuid.uuid4().hex[:6]
    folder.mkdir()
    return await Services.open(settings_for(folder, NEWSDESK_DB=url), lease=lease)


@pytest.mark.postgres
async def test_a_link_another_process_holds_is_waited_for_not_processed_twice(
        tmp_path: Path, web: WebServer, shared_url: str) -> None:
    path = f"/leases/held-{uuid.uuid4().hex[:6]}"
    url = web.add(path, articles.english_article(title="Held by the other process"))
    first = await open_process(tmp_path, shared_url, lease=timedelta(seconds=30))
    second = await open_process(tmp_path, shared_url, lease=timedelta(seconds=30))
    try:
        item = (await first.ingestor.submit(5, url, Submitter())).item
        assert await first.repository.claim_item(item.id, first.owner, timedelta(seconds=30))
        waiting = asyncio.create_task(second.ingestor.process(item))
        await asyncio.sleep(1.0)
        assert not waiting.done()  # it waits for the link to end where it is being processed
        finished = await first.ingestor.process(item)
        ended = await asyncio.wait_for(waiting, 10)
        assert finished.status == ended.status == "done"
        assert len(web.requests_to(path)) == 1
    finally:
        await first.aclose()
        await second.aclose()


@pytest.mark.postgres
async def test_a_dead_process_s_link_is_taken_over_when_its_lease_expires(
        tmp_path: Path, web: WebServer, shared_url: str) -> None:
    path = f"/leases/orphan-{uuid.uuid4().hex[:6]}"
    url = web.add(path, articles.english_article(title="Left by a dead process"))
    survivor = await open_process(tmp_path, shared_url, lease=timedelta(seconds=2))
    try:
        item = (await survivor.ingestor.submit(5, url, Submitter())).item
        assert await survivor.repository.claim_item(item.id, "dead-process", timedelta(seconds=2))
        assert await survivor.ingestor.resume_pending() == []  # held by someone else: left to it
        ended = await asyncio.wait_for(survivor.ingestor.process(item), 20)
        assert ended.status == "done"
        assert len(web.requests_to(path)) == 1
    finally:
        await survivor.aclose()


@pytest.mark.postgres
async def test_a_process_that_lost_its_lease_mid_item_stores_nothing(
        tmp_path: Path, web: WebServer, shared_url: str) -> None:
    path = f"/leases/stalled-{uuid.uuid4().hex[:6]}"
    page = articles.english_article(title="Read too late by a stalled process").encode()
    reading = threading.Event()

    def slow(exchange: Exchange) -> None:
        reading.set()
        time.sleep(1.5)
        exchange.start(200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(page))})
        exchange.write(page)

    web.route(path, slow)
    stalled = await open_process(tmp_path, shared_url, lease=timedelta(seconds=30))
    try:
        item = (await stalled.ingestor.submit(5, web.url(path), Submitter())).item
        processing = asyncio.create_task(stalled.ingestor.process(item))
        assert await asyncio.to_thread(reading.wait, 20)
        # as if the process had stalled past its lease and another had taken the link over
        async with await psycopg.AsyncConnection.connect(shared_url, autocommit=True) as other:
            await other.execute("UPDATE items SET lease_owner = 'other', lease_until = now() + interval '1 hour' "
                                "WHERE id = %s", (item.id,))
            ended = await asyncio.wait_for(processing, 20)
            row = await (await other.execute("SELECT status, lease_owner, attempts FROM items WHERE id = %s",
                                             (item.id,))).fetchone()
        assert ended.status == "pending"
        assert row == ("pending", "other", 0)  # left to the process that holds it
        assert (await stalled.repository.search(5, "stalled")).hits == ()
    finally:
        await stalled.aclose()


async def test_a_chat_lock_is_one_task_at_a_time_across_processes(database_url: str) -> None:
    """Two repositories on one PostgreSQL database stand for two processes (a SQLite file has one
    process, and its tasks share one repository); each chat's step runs one at a time, another
    chat's alongside."""
    first = await Repository.open(database_url)
    second = await Repository.open(database_url) if first.shares_work else first
    inside: list[str] = []
    overlapped = False

    async def step(repository: Repository, chat_id: int, name: str) -> None:
        nonlocal overlapped
        async with repository.chat_lock("intake", chat_id):
            if any(entry.startswith(f"{chat_id}:") for entry in inside):
                overlapped = True
            inside.append(f"{chat_id}:{name}")
            await asyncio.sleep(0.1)
            inside.remove(f"{chat_id}:{name}")

    try:
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(step(repository, 5, f"{n}") for n, repository in enumerate([first, second] * 3)),
                             step(first, 6, "other"))
        assert not overlapped
        assert asyncio.get_running_loop().time() - started >= 0.55  # chat 5's six steps in turn
    finally:
        await first.close()
        if second is not first:
            await second.close()


async def test_searches_are_remembered_by_token_the_last_ones_kept(repository: Repository) -> None:
    first = await repository.remember_search(5, "grain exports", keep=3)
    assert await repository.remember_search(5, "grain exports", keep=3) == first  # the same query, its token
    assert await repository.remembered_search(5, first) == "grain exports"
    assert await repository.remembered_search(6, first) is None  # another chat's token says nothing
    for n in range(3):
        await repository.remember_search(5, f"query {n}", keep=3)
    assert await repository.remembered_search(5, first) is None  # the oldest went
    assert await repository.remembered_search(5, 12345) is None


@pytest.mark.postgres
async def test_a_shared_token_bucket_books_turns_past_its_capacity(shared_url: str) -> None:
    repository = await Repository.open(shared_url)
    try:
        waits = [await repository.take_token("t", capacity=2, per_second=10) for _ in range(4)]
        assert waits[:2] == [0.0, 0.0]  # the bucket's two tokens
        assert 0.05 < waits[2] < waits[3] <= 0.2 + 0.05  # then the next ones to come, a tenth of a second apart
    finally:
        await repository.close()


@pytest.mark.postgres
async def test_two_replicas_keep_the_bot_s_overall_flood_limit_together(shared_url: str) -> None:
    """Two bots on one token (two FloodLimiters, each with a connection of its own) sending into
    different chats: the overall rate is the bot's, not each replica's."""
    from bot.telegram.ratelimit import FloodLimiter, Rate, Window

    overall = Rate(capacity=3, per_second=10)
    repositories = [await Repository.open(shared_url) for _ in range(2)]
    limiters = [FloodLimiter(per_chat=Window(calls=1000, seconds=0.001), overall=overall) for _ in range(2)]
    for limiter, repository in zip(limiters, repositories, strict=True):
        limiter.share_overall(lambda capacity, per_second, r=repository: r.take_token(
            "overall", capacity=capacity, per_second=per_second))

    async def call() -> bool:
        return True

    async def send(limiter: FloodLimiter, chat_id: int) -> None:
        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat_id}, None)

    try:
        started = time.monotonic()
        await asyncio.gather(*(send(limiters[n % 2], 1000 + n) for n in range(13)))
        elapsed = time.monotonic() - started
    finally:
        for repository in repositories:
            await repository.close()
    # 3 at once, then 10 more at 10 a second between both replicas: about 1 s (each replica's own
    # bucket alone would let its 6 or 7 calls through in 0.4 s)
    assert elapsed >= 0.9, f"{elapsed:.2f} s"

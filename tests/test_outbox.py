"""bot/desk/outbox.py and storage/outbox.py on a real SQLite file. The outlet here is a recording
stand-in for Telegram (the Telegram one is exercised end to end in tests/test_monitoring_e2e.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import utc_now
from bot.desk.digests import DeliveryFailed, DeliveryRefused
from bot.desk.outbox import ATTEMPTS, deliver_outbox
from bot.pipeline.models import Article
from bot.services import Services
from storage.models import Item, OutboxKind, OutboxMessage, OutboxStatus, Watch
from tests.conftest import settings_for

CHAT = -100900


class Recorder:
    """Records what would be sent; fails as told."""

    def __init__(self, failure: Exception | None = None, delay: float = 0.0) -> None:
        self.sent: list[tuple[int, str, int | None]] = []
        self.failure = failure
        self.delay = delay

    async def send(self, message: OutboxMessage, item: Item | None, watches: list[Watch], language: str) -> int:
        await asyncio.sleep(self.delay)
        if self.failure is not None:
            raise self.failure
        self.sent.append((message.id, message.kind, item.id if item else None))
        return 1000 + len(self.sent)


@pytest.fixture
async def svc(tmp_path: Path, database_url: str) -> AsyncIterator[Services]:
    opened = await Services.open(settings_for(tmp_path, NEWSDESK_DB=database_url))
    yield opened
    await opened.aclose()


async def pending_item(svc: Services, n: int) -> Item:
    url = f"https://news.example/{n}"
    item, _ = await svc.repository.add_link(CHAT, url, url)
    return item


async def test_cards_wait_for_their_item_and_go_out_once(svc: Services) -> None:
    item = await pending_item(svc, 1)
    assert await svc.repository.enqueue(CHAT, OutboxKind.CARD, dedupe_key=f"card:{item.id}", item_id=item.id)
    assert not await svc.repository.enqueue(CHAT, OutboxKind.CARD, dedupe_key=f"card:{item.id}", item_id=item.id)
    await svc.repository.enqueue(CHAT, OutboxKind.NOTICE, dedupe_key="n1", payload={"key": "feed_capped"})
    outlet = Recorder()
    assert await deliver_outbox(svc, outlet) == 1  # the notice; the card waits for its page
    await svc.repository.mark_done(item.id, Article(title="T", text="Body"), "Body", final_url=item.url)
    assert await deliver_outbox(svc, outlet) == 1
    assert await deliver_outbox(svc, outlet) == 0
    assert [kind for _, kind, _ in outlet.sent] == ["notice", "card"]


async def test_two_deliverers_send_each_message_once(svc: Services) -> None:
    for n in range(10):
        await svc.repository.enqueue(CHAT, OutboxKind.NOTICE, dedupe_key=f"n{n}", payload={"key": "x"})
    first, second = Recorder(delay=0.001), Recorder(delay=0.001)
    await asyncio.gather(deliver_outbox(svc, first), deliver_outbox(svc, second))
    sent = [message_id for message_id, _, _ in first.sent + second.sent]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 10


async def test_failures_are_retried_then_dropped_and_refusals_dropped_at_once(svc: Services) -> None:
    await svc.repository.enqueue(CHAT, OutboxKind.NOTICE, dedupe_key="retry", payload={"key": "x"})
    for _ in range(ATTEMPTS):
        await deliver_outbox(svc, Recorder(DeliveryFailed("flood")))
    [message] = await svc.repository.outbox(CHAT)
    assert message.status == OutboxStatus.DROPPED and message.attempts == ATTEMPTS
    await svc.repository.enqueue(CHAT, OutboxKind.NOTICE, dedupe_key="refused", payload={"key": "x"})
    await deliver_outbox(svc, Recorder(DeliveryRefused("bot was kicked")))
    assert (await svc.repository.outbox(CHAT))[-1].status == OutboxStatus.DROPPED


async def test_a_send_cut_short_is_never_repeated_and_old_messages_expire(svc: Services) -> None:
    await svc.repository.enqueue(CHAT, OutboxKind.NOTICE, dedupe_key="cut", payload={"key": "x"})
    [message] = await svc.repository.outbox(CHAT)
    assert await svc.repository.claim_message(message.id)  # a process claimed it and died mid-send
    outlet = Recorder()
    await deliver_outbox(svc, outlet)
    assert outlet.sent == []
    await svc.repository.drop_stale_messages(waiting_before=utc_now() - timedelta(days=1),
                                             sending_before=utc_now() + timedelta(seconds=1))
    assert (await svc.repository.outbox(CHAT))[0].status == OutboxStatus.DROPPED
    await svc.repository.enqueue(CHAT, OutboxKind.NOTICE, dedupe_key="late", payload={"key": "x"})
    await svc.repository.drop_stale_messages(waiting_before=utc_now() + timedelta(seconds=1),
                                             sending_before=utc_now() - timedelta(minutes=10))
    await deliver_outbox(svc, outlet)
    assert outlet.sent == [] and (await svc.repository.outbox(CHAT))[-1].status == OutboxStatus.DROPPED

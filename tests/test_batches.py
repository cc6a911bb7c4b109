"""Batches (storage/batches.py, bot/desk/batches.py) on a real SQLite file: the status message
recorded with the items, what a crash leaves open, and cards claimed page by page, once."""

from __future__ import annotations

from bot.desk.batches import items_in_open_batches, left_over_batches, next_cards, open_batch
from bot.pipeline.models import Article
from bot.services import Services
from storage.models import Item

CHAT, OTHER = -100500, -100600


async def links(services: Services, count: int, *, chat: int = CHAT) -> list[Item]:
    made = []
    for n in range(count):
        item, _ = await services.repository.add_link(chat, f"https://e.example/{n}", f"https://e.example/{n}")
        made.append(item)
    return made


async def finish(services: Services, item: Item, *, ok: bool = True) -> Item:
    if ok:
        return await services.repository.mark_done(item.id, Article(title="T", text="B"), "S", final_url=item.url)
    return await services.repository.mark_failed(item.id, reason="timeout", detail="slow")


async def test_a_batch_keeps_its_items_in_order_and_its_status_message(services: Services) -> None:
    items = await links(services, 4)
    batch = await open_batch(services, CHAT, list(reversed(items)), reply_to=10, thread_id=42, cards_at_once=3)
    assert batch.item_ids == tuple(item.id for item in reversed(items))
    assert (batch.reply_to, batch.thread_id, batch.cards_shown, batch.status_message_id) == (10, 42, 3, None)
    await services.repository.set_batch_message(batch.id, 11)
    found = await services.repository.batch(batch.id)
    assert found is not None and found.status_message_id == 11 and found.finished_at is None
    assert [i.id for i in await services.repository.batch_items(batch.id)] == list(batch.item_ids)
    assert await items_in_open_batches(services) == {item.id for item in items}
    assert await services.repository.finish_batch(batch.id)
    assert not await services.repository.finish_batch(batch.id)  # only one finisher
    assert await services.repository.open_batches() == []


async def test_only_ended_batches_nobody_is_answering_are_left_over(services: Services) -> None:
    first, second, third = await links(services, 3)
    ended = await open_batch(services, CHAT, [first, second], reply_to=1, thread_id=None, cards_at_once=3)
    waiting = await open_batch(services, CHAT, [third], reply_to=2, thread_id=None, cards_at_once=3)
    live = await open_batch(services, CHAT, [first], reply_to=3, thread_id=None, cards_at_once=3)
    services.intake.live_batches.add(live.id)
    await finish(services, first)
    await finish(services, second, ok=False)
    found = await left_over_batches(services)
    assert [(batch.id, [i.status for i in items]) for batch, items in found] == [(ended.id, ["done", "failed"])]
    assert waiting.id not in [batch.id for batch, _ in found]


async def test_cards_on_request_are_claimed_a_page_at_a_time_once(services: Services) -> None:
    items = await links(services, 12)
    for n, item in enumerate(items):
        await finish(services, item, ok=n != 4)
    batch = await open_batch(services, CHAT, items, reply_to=1, thread_id=None, cards_at_once=3)
    page = await next_cards(services, CHAT, batch.id, 3, 5)
    assert page is not None
    assert [i.id for i in page.items] == [items[n].id for n in (3, 5, 6, 7)]  # item 4 failed: no card
    assert (page.shown, page.left) == (8, 4)
    assert await next_cards(services, CHAT, batch.id, 3, 5) is None  # the same press again
    assert await next_cards(services, OTHER, batch.id, 8, 5) is None  # another chat's batch
    assert await next_cards(services, CHAT, batch.id, 12, 5) is None  # past the end
    assert await next_cards(services, CHAT, 10**12, 0, 5) is None  # no such batch
    last = await next_cards(services, CHAT, batch.id, 8, 5)
    assert last is not None and len(last.items) == 4 and last.left == 0

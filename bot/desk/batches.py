"""Batches: the new links of one message, processed together and reported in one status message.

The status message is recorded with the batch's items as soon as it is sent, so a batch that a
crash interrupted is found on the next start (`left_over_batches`) and its status message turned
into its outcome, instead of saying "processing" for ever. Cards are posted for a batch's first
few links; the rest are taken page by page on request (`next_cards`), each page claimed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.models import DONE, PENDING, Batch, Item

if TYPE_CHECKING:
    from bot.services import Services


async def open_batch(services: Services, chat_id: int, items: Sequence[Item], *, reply_to: int | None,
                     thread_id: int | None, cards_at_once: int) -> Batch:
    """Record one message's new links as a batch whose status is still to be told; the cards of
    its first `cards_at_once` links are posted unasked."""
    return await services.repository.open_batch(chat_id, [item.id for item in items], reply_to=reply_to,
                                                thread_id=thread_id, cards_shown=min(cards_at_once, len(items)))


async def left_over_batches(services: Services) -> list[tuple[Batch, list[Item]]]:
    """Unfinished batches that no one in this process is answering and whose links have all
    ended, with their items: what a crash left saying "processing"."""
    found = []
    for batch in await services.repository.open_batches():
        if batch.id in services.intake.live_batches:
            continue
        items = await services.repository.batch_items(batch.id)
        if all(item.status != PENDING for item in items):
            found.append((batch, items))
    return found


async def items_in_open_batches(services: Services) -> set[int]:
    """The items of every unfinished batch: their status message will tell of them."""
    return {item_id for batch in await services.repository.open_batches() for item_id in batch.item_ids}


@dataclass(frozen=True)
class Cards:
    """A page of a batch's cards taken on request, and how many saved items follow it."""

    batch: Batch
    items: list[Item]
    shown: int
    """Positions of the batch covered once this page is posted."""
    left: int


async def next_cards(services: Services, chat_id: int, batch_id: int, shown: int, count: int) -> Cards | None:
    """Claim the page of cards after the first `shown` links of a batch of the chat; None when the
    request is stale or forged (no such batch here, or that page was already taken)."""
    batch = await services.repository.batch(batch_id)
    if batch is None or batch.chat_id != chat_id or not 0 <= shown < len(batch.item_ids):
        return None
    if not await services.repository.claim_cards(batch_id, shown=shown, more=count):
        return None
    items = await services.repository.batch_items(batch_id)
    page = [item for item in items[shown:shown + count] if item.status == DONE]
    left = sum(1 for item in items[shown + count:] if item.status == DONE)
    return Cards(batch, page, shown + count, left)

"""Delivering the outbox: feed cards, watch alerts and feed notices, written to the database by
the poller and the watch matcher, sent by the bot through an outlet that renders and sends them.

Each message is claimed before it is sent and closed right after, so it goes out at most once
across processes and restarts (storage/outbox.py). Bot replicas sharing a database take turns by
chat (storage/leases.py): the replica holding a chat's turn delivers all its messages, in order,
under its own flood limits for that chat. A message that waited a day (its item never
stored, or no bot was running) is dropped rather than sent late.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from bot.clock import utc_now
from bot.desk.digests import DeliveryFailed, DeliveryRefused
from storage.models import Item, OutboxKind, OutboxMessage, OutboxStatus, Watch

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

MAX_AGE = timedelta(hours=24)
SENDING_STALE_AFTER = timedelta(minutes=10)
ATTEMPTS = 5
CHAT_TURN = timedelta(seconds=30)
"""How long a replica holds a chat's turn after its last delivery there: a stopped replica's chats
pass to another after this."""


class Outlet(Protocol):
    """Where the outbox goes: renders one message in the chat's language and sends it."""

    async def send(self, message: OutboxMessage, item: Item | None, watches: list[Watch], language: str) -> int:
        """Send it; its message id. Raises DeliveryFailed or DeliveryRefused."""
        ...


async def deliver_outbox(services: Services, outlet: Outlet, *, limit: int = 200) -> int:
    """Send what is waiting and can go now, the chats side by side and each chat's messages in
    order; how many were sent."""
    repository = services.repository
    now = utc_now()
    await repository.drop_stale_messages(waiting_before=now - MAX_AGE, sending_before=now - SENDING_STALE_AFTER)
    by_chat: dict[int, list[OutboxMessage]] = {}
    for message in await repository.deliverable(limit=limit):
        by_chat.setdefault(message.chat_id, []).append(message)
    sent = await asyncio.gather(*(_deliver_chat(services, outlet, chat_id, messages)
                                  for chat_id, messages in by_chat.items()))
    return sum(sent)


async def _deliver_chat(services: Services, outlet: Outlet, chat_id: int, messages: list[OutboxMessage]) -> int:
    if not await _my_turn(services, chat_id):
        return 0  # another replica delivers this chat's messages
    repository = services.repository
    sent = 0
    for message in messages:
        item = await repository.get(message.item_id) if message.item_id is not None else None
        watches: list[Watch] = []
        if message.kind == OutboxKind.ALERT:
            found = [await repository.watch(watch_id) for watch_id in message.payload.get("watches", [])]
            watches = [watch for watch in found if watch is not None]
        if not await repository.claim_message(message.id):
            continue  # another process took it
        language = await services.language_of(message.chat_id)
        try:
            message_id = await outlet.send(message, item, watches, language)
        except DeliveryRefused as error:
            log.warning("outbox %s to chat %s refused: %s", message.id, message.chat_id, error)
            await repository.close_message(message.id, OutboxStatus.DROPPED, error=str(error)[:500])
            continue
        except DeliveryFailed as error:
            again = OutboxStatus.WAITING if message.attempts + 1 < ATTEMPTS else OutboxStatus.DROPPED
            log.warning("outbox %s to chat %s failed (%s): %s", message.id, message.chat_id, again, error)
            await repository.close_message(message.id, again, error=str(error)[:500])
            continue
        await repository.close_message(message.id, OutboxStatus.SENT, telegram_message_id=message_id)
        sent += 1
    return sent


async def _my_turn(services: Services, chat_id: int) -> bool:
    """Whether this process delivers the chat's messages now: always on a database it owns."""
    if not services.repository.shares_work:
        return True
    return await services.repository.take_chat_turn(chat_id, services.owner, CHAT_TURN)

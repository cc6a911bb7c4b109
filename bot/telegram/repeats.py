"""Links a chat already has, posted again: answered once per burst, not once per post.

A member who posts the same link fifty times in three seconds gets one answer ("already saved:
50 links, the same article"), not fifty cards. Repeats are gathered per chat and forum topic;
the answer goes out, as a reply to the first of them, once `quiet` seconds pass without another
(or `longest` after the first, under a continuous flood). Repeats within `window` of an answer
edit it with the new counts instead of posting again. Everything goes in the BULK lane.

The gathering lives in this process's memory: a restart forgets at most an answer not yet given
about links that are stored anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Message
from telegram.error import BadRequest, TelegramError

from bot.services import Services
from bot.telegram import render
from bot.telegram.context import edit, send
from bot.telegram.ratelimit import Lane
from storage.errors import StorageUnavailable
from storage.models import Item

log = logging.getLogger(__name__)

QUIET = 2.0
"""Seconds without another repeat before the answer goes out."""
LONGEST = 10.0
"""Under a continuous flood, the answer goes out (or is updated) at least this often."""
WINDOW = 600.0
"""Repeats this soon after an answer update it rather than post a new one."""


@dataclass
class _Gathering:
    chat_id: int
    thread_id: int | None
    reply_to: int | None
    items: dict[int, Item] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    """Times each item was posted again since the window began, in the order first seen."""
    first: float | None = None
    """When the first repeat not yet answered came."""
    last: float = 0.0
    answer: Message | None = None
    answered_at: float = 0.0
    task: asyncio.Task[Any] | None = None


class Repeats:
    """Gathers re-posted links per chat and topic, and answers each burst once."""

    def __init__(self, bot: Bot, services: Services, *, quiet: float = QUIET, longest: float = LONGEST,
                 window: float = WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self._bot = bot
        self._services = services
        self._quiet, self._longest, self._window = quiet, longest, window
        self._clock = clock
        self._gatherings: dict[tuple[int, int | None], _Gathering] = {}

    def note(self, chat_id: int, thread_id: int | None, reply_to: int | None, items: Sequence[Item]) -> None:
        """Items of the chat posted again in one message (the answer quotes the first such message)."""
        now = self._clock()
        key = (chat_id, thread_id)
        gathering = self._gatherings.get(key)
        if gathering is None or (gathering.task is None and now - gathering.answered_at > self._window
                                 and gathering.answer is not None):
            self._forget_stale(now)
            gathering = self._gatherings[key] = _Gathering(chat_id, thread_id, reply_to)
        for item in items:
            gathering.items[item.id] = item
            gathering.counts[item.id] = gathering.counts.get(item.id, 0) + 1
        gathering.first = gathering.first if gathering.first is not None else now
        gathering.last = now
        if gathering.task is None:
            gathering.task = asyncio.create_task(self._answer_when_quiet(gathering),
                                                 name=f"repeats:{chat_id}:{thread_id}")

    async def aclose(self) -> None:
        """Cancel the answers still waiting (the links themselves are stored)."""
        tasks = [g.task for g in self._gatherings.values() if g.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _forget_stale(self, now: float) -> None:
        for key, gathering in list(self._gatherings.items()):
            if gathering.task is None and now - gathering.answered_at > self._window:
                del self._gatherings[key]

    async def _answer_when_quiet(self, gathering: _Gathering) -> None:
        try:
            while gathering.first is not None:
                due = min(gathering.last + self._quiet, gathering.first + self._longest)
                if due > self._clock():  # another repeat may have moved `last` meanwhile: look again
                    await asyncio.sleep(due - self._clock())
                    continue
                gathering.first = None  # repeats noted while answering start the next round
                await self._answer(gathering, dict(gathering.counts))
        except (TelegramError, StorageUnavailable) as error:
            log.warning("could not answer repeated links in chat %s: %s", gathering.chat_id, error)
        finally:
            gathering.task = None

    async def _answer(self, gathering: _Gathering, counts: dict[int, int]) -> None:
        services = self._services
        language = await services.language_of(gathering.chat_id)
        entries = []
        for item_id, count in counts.items():
            current = gathering.items[item_id]
            with contextlib.suppress(StorageUnavailable):  # as it was when posted, then
                current = await services.repository.get(item_id) or current
            entries.append((current, count))
        text = render.repeats(entries, language)
        if gathering.answer is not None and self._clock() - gathering.answered_at <= self._window:
            try:
                await edit(gathering.answer, text, lane=Lane.BULK)
                gathering.answered_at = self._clock()
                return
            except BadRequest as error:  # deleted, or too old to edit: answer anew
                log.info("repeats answer in chat %s not edited (%s); posting it again", gathering.chat_id, error)
        gathering.answer = await send(self._bot, gathering.chat_id, text, reply_to=gathering.reply_to,
                                      thread_id=gathering.thread_id, lane=Lane.BULK)
        gathering.answered_at = self._clock()

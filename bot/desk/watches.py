"""Watches: standing searches of a chat in the /search syntax. Every new item of the chat, posted
or from a feed, is matched against the chat's watches once, when it is stored; an item that
matches gets one alert (however many watches it matched), in the topic where the first of them
was set, and a mark in the digest.

Matching is FTS5 restricted to the new item's row: one indexed lookup per watch, no regular
expression over text, so no query can be made slow (see storage/watches.py). Each item is
checked once (`set_watch_ids` succeeds for one process only) and its alert is written before
that mark, keyed by the item, so a crash in between neither loses nor doubles it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.config import LOCAL_CHAT
from storage.fts import parse_query
from storage.models import Item, OutboxKind, Watch

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

QUERY_LIMIT = 500


class WatchProblem(StrEnum):
    NO_WORDS = "no_words"
    """The query has no word to look for (only filters or exclusions)."""
    TOO_LONG = "too_long"
    TOO_MANY = "too_many"
    """The chat has MAX_WATCHES_PER_CHAT watches already."""


@dataclass(frozen=True)
class WatchAnswer:
    watch: Watch | None
    is_new: bool = False
    problem: WatchProblem | None = None


async def add_watch(services: Services, chat_id: int, query: str, *, thread_id: int | None = None,
                    created_by: int | None = None) -> WatchAnswer:
    """Keep a standing search for the chat; alerts go to `thread_id` (a forum topic), if given."""
    query = " ".join(query.split())
    if len(query) > QUERY_LIMIT:
        return WatchAnswer(None, problem=WatchProblem.TOO_LONG)
    if parse_query(query).match is None:
        return WatchAnswer(None, problem=WatchProblem.NO_WORDS)
    known = await services.repository.watches(chat_id)
    if all(watch.query != query for watch in known) and len(known) >= services.settings.max_watches_per_chat:
        return WatchAnswer(None, problem=WatchProblem.TOO_MANY)
    watch, is_new = await services.repository.add_watch(chat_id, query, thread_id=thread_id, created_by=created_by)
    return WatchAnswer(watch, is_new)


async def check_new_items(services: Services, *, item_ids: Sequence[int] | None = None, limit: int = 200
                          ) -> dict[int, list[int]]:
    """Match stored items not yet checked (only `item_ids`, if given) against their chat's
    watches set before they were stored; write an alert for each that matched. The watches each
    item matched, by item id."""
    repository = services.repository
    items = await repository.unchecked_items(limit=limit, ids=item_ids)
    by_chat: dict[int, list[Watch]] = {}
    matched: dict[int, list[int]] = {}
    for item in items:
        if item.chat_id not in by_chat:
            by_chat[item.chat_id] = await repository.watches(item.chat_id)
        stored_at = item.fetched_at or item.submitted_at
        watches = [watch for watch in by_chat[item.chat_id] if watch.created_at <= stored_at]
        found = await repository.matching_watches(item, watches) if watches else []
        if found and item.chat_id != LOCAL_CHAT:
            first = next(watch for watch in watches if watch.id == found[0])
            await repository.enqueue(item.chat_id, OutboxKind.ALERT, dedupe_key=f"alert:{item.id}",
                                     thread_id=first.thread_id, item_id=item.id, payload={"watches": found})
        if await repository.set_watch_ids(item.id, found):
            matched[item.id] = found
            if found:
                log.info("item %s of chat %s matched watches %s", item.id, item.chat_id, found)
    return matched


async def watches_of(services: Services, items: Sequence[Item]) -> dict[int, Watch]:
    """The watches named by these items' matches, by id (those since removed are left out)."""
    wanted = {watch_id for item in items for watch_id in item.watch_ids}
    found = [await services.repository.watch(watch_id) for watch_id in sorted(wanted)]
    return {watch.id: watch for watch in found if watch is not None}

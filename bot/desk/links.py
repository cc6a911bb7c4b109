"""Links submitted to a chat: the one use case behind a link posted in Telegram, `newsdesk add`
and `newsdesk import` (and, to come, the feed poller).

`submit_links` commits each link as pending before anything else happens to it, within the
chat's hourly limit and one submission per chat at a time, and says what became of each:
new, already saved, still being processed, refused, over the limit, or held. A link that a
storage fault keeps from being written is held in this process's memory and written when storage
works again (`release_held_links`); nothing is lost. `process_links` then takes the new links
through the pipeline (fetch, extract, summarise, store), each on its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.clock import utc_now
from bot.pipeline.errors import IngestError
from bot.pipeline.ingest import Submitter
from storage.errors import StorageUnavailable
from storage.models import DONE, FAILED, PENDING, Item

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)


class Fate(StrEnum):
    """What became of one submitted link."""

    NEW = "new"
    """Committed as pending: to be processed."""
    RETRY = "retry"
    """Failed before; queued again: to be processed."""
    ALREADY_SAVED = "already_saved"
    IN_PROGRESS = "in_progress"
    """Submitted earlier and still pending."""
    REFUSED = "refused"
    """Not a link that can be fetched at all (`error` says why)."""
    OVER_LIMIT = "over_limit"
    """Not taken: the chat reached its hourly limit."""
    HELD = "held"
    """Not yet written: storage is unavailable; kept in memory until it works again."""


@dataclass(frozen=True)
class LinkOutcome:
    url: str
    fate: Fate
    item: Item | None = None
    error: IngestError | None = None


@dataclass(frozen=True)
class SubmitOutcome:
    """What became of each link of one submission, in the order they were given."""

    chat_id: int
    submitter: Submitter
    links: tuple[LinkOutcome, ...]

    def having(self, *fates: Fate) -> list[LinkOutcome]:
        return [link for link in self.links if link.fate in fates]

    @property
    def to_process(self) -> list[Item]:
        return [link.item for link in self.having(Fate.NEW, Fate.RETRY) if link.item is not None]

    @property
    def already_saved(self) -> list[Item]:
        return [link.item for link in self.having(Fate.ALREADY_SAVED) if link.item is not None]


@dataclass(frozen=True)
class HeldLink:
    chat_id: int
    url: str
    submitter: Submitter


@dataclass
class Intake:
    """This process's state of link submission: a lock per chat, so that the hourly count and the
    writes are one step, and the links held through a storage fault."""

    locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    held: list[HeldLink] = field(default_factory=list)

    def lock(self, chat_id: int) -> asyncio.Lock:
        return self.locks.setdefault(chat_id, asyncio.Lock())


async def submit_links(
    services: Services, chat_id: int, urls: Sequence[str], submitter: Submitter, *, hourly_limit: bool = True
) -> SubmitOutcome:
    """Commit each link as pending unless the chat has it; with `hourly_limit`, only as many as
    MAX_LINKS_PER_HOUR still allows (the command line is not limited)."""
    urls = list(dict.fromkeys(urls))
    async with services.intake.lock(chat_id):
        room = len(urls)
        if hourly_limit:
            room = max(0, services.settings.max_links_per_hour - await _recent_links(services, chat_id))
        outcomes = [await _submit(services, chat_id, url, submitter) for url in urls[:room]]
    outcomes += [LinkOutcome(url, Fate.OVER_LIMIT) for url in urls[room:]]
    services.intake.held.extend(HeldLink(chat_id, o.url, submitter) for o in outcomes if o.fate == Fate.HELD)
    fates = Counter(outcome.fate for outcome in outcomes)
    log.info("chat %s: %d links submitted (%s)", chat_id, len(outcomes),
             ", ".join(f"{fate} {count}" for fate, count in fates.items()))
    return SubmitOutcome(chat_id, submitter, tuple(outcomes))


async def _submit(services: Services, chat_id: int, url: str, submitter: Submitter) -> LinkOutcome:
    try:
        submission = await services.ingestor.submit(chat_id, url, submitter)
    except IngestError as error:
        return LinkOutcome(url, Fate.REFUSED, error=error)
    except StorageUnavailable as error:
        log.error("database fault, holding link %s for chat %s in memory: %s", url, chat_id, error)
        return LinkOutcome(url, Fate.HELD)
    item = submission.item
    if submission.is_new:
        return LinkOutcome(url, Fate.NEW, item)
    fate = {FAILED: Fate.RETRY, DONE: Fate.ALREADY_SAVED, PENDING: Fate.IN_PROGRESS}[item.status]
    return LinkOutcome(url, fate, item)


async def _recent_links(services: Services, chat_id: int) -> int:
    try:
        return await services.repository.count_recent_links(chat_id, since=utc_now() - HOUR)
    except StorageUnavailable:
        return 0  # the submits will be held anyway; the limit applies when they are written


async def release_held_links(services: Services) -> list[SubmitOutcome]:
    """Submit again the links held through a storage fault, grouped as they were posted; those
    storage still refuses are held again."""
    held, services.intake.held = services.intake.held, []
    if held:
        log.info("retrying %d links held during a database fault", len(held))
    groups: dict[tuple[int, Submitter], list[str]] = {}
    for link in held:
        groups.setdefault((link.chat_id, link.submitter), []).append(link.url)
    return [await submit_links(services, chat_id, urls, submitter) for (chat_id, submitter), urls in groups.items()]


async def process_links(
    services: Services, items: Sequence[Item], *, on_finished: Callable[[Item], Awaitable[None]] | None = None
) -> list[Item]:
    """Take each item through the pipeline, concurrently; each ends done or failed on its own.
    `on_finished` hears of each as soon as it ends (to show its card at once)."""

    async def one(item: Item) -> Item:
        finished = await services.ingestor.process(item)
        if on_finished is not None:
            await on_finished(finished)
        return finished

    return list(await asyncio.gather(*(one(item) for item in items)))


async def resume_pending(
    services: Services, *, older_than: datetime | None = None, chat_id: int | None = None
) -> list[Item]:
    """Finish the links left pending by a crash or a database fault (with `older_than`, only those
    untouched since then; with `chat_id`, only that chat's); return them as they ended."""
    return await services.ingestor.resume_pending(older_than=older_than, chat_id=chat_id)

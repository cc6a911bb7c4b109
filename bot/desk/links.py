"""Links submitted to a chat: the one use case behind a link posted in Telegram, `newsdesk add`
and `newsdesk import` (and, to come, the feed poller).

`submit_links` commits each link as pending before anything else happens to it, within the
chat's hourly limit and one submission per chat at a time, and says what became of each:
new, already saved, still being processed, refused, put aside over the limit, or held.

The hourly limit (MAX_LINKS_PER_HOUR) counts new links and failed links posted again (they are
fetched again); a link the chat already has counts once an hour however often it is re-posted, so
a burst of the same link neither uses up the chat's hour nor is free. A link the chat already has
is answered as such even when the limit is reached. Links over the limit are put aside in the
database, in a list the chat releases with `release_deferred` (/later), at most an hour's worth.

A link that a storage fault keeps from being written is held in this process's memory and
written when storage works again (`release_held_links`); nothing is lost. `process_links` then
takes the new links through the pipeline (fetch, extract, summarise, store), each on its own.
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
from bot.pipeline.links import canonicalise
from bot.pipeline.urlforms import article_key
from storage.errors import StorageUnavailable
from storage.models import DONE, FAILED, PENDING, DeferredLink, Item, LinkAllowance

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
    DEFERRED = "deferred"
    """Not taken now: the chat reached its hourly limit; put aside for the chat to release later."""
    OVER_LIMIT = "over_limit"
    """Not taken: the chat reached its hourly limit and its list of links for later is full."""
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
    room_at: datetime | None = None
    """When the hourly limit has room again, if it was reached."""

    def having(self, *fates: Fate) -> list[LinkOutcome]:
        return [link for link in self.links if link.fate in fates]

    @property
    def to_process(self) -> list[Item]:
        return [link.item for link in self.having(Fate.NEW, Fate.RETRY) if link.item is not None]

    @property
    def already_saved(self) -> list[Item]:
        return [link.item for link in self.having(Fate.ALREADY_SAVED) if link.item is not None]

    @property
    def repeated(self) -> list[Item]:
        """The items the chat already had: saved, or still being processed."""
        return [link.item for link in self.having(Fate.ALREADY_SAVED, Fate.IN_PROGRESS) if link.item is not None]


@dataclass(frozen=True)
class HeldLink:
    chat_id: int
    url: str
    submitter: Submitter


@dataclass
class Intake:
    """This process's state of link submission: the links held through a storage fault (they are
    held because the database is down, so they stay in memory). The chat's submissions are one
    at a time across processes (`chat_lock("intake", ...)`), so the hourly count and the writes
    are one step."""

    held: list[HeldLink] = field(default_factory=list)
    live_batches: set[int] = field(default_factory=set)
    """Batches this process is still answering: the resume jobs leave their status messages alone."""


async def submit_links(
    services: Services, chat_id: int, urls: Sequence[str], submitter: Submitter, *, hourly_limit: bool = True
) -> SubmitOutcome:
    """Commit each link as pending unless the chat has it; with `hourly_limit`, only as many as
    MAX_LINKS_PER_HOUR still allows, the rest put aside (the command line is not limited)."""
    distinct: dict[str, str] = {}
    for url in urls:
        distinct.setdefault(canonicalise(url) or url, url)  # the same article twice is one link
    links = [(url, submitter) for url in distinct.values()]
    outcome = await _submit_all(services, chat_id, links, submitter, hourly_limit=hourly_limit)
    deferred = [link.url for link in outcome.having(Fate.OVER_LIMIT)]
    if deferred:
        outcome = await _defer(services, outcome, deferred)
    return outcome


async def _submit_all(services: Services, chat_id: int, links: Sequence[tuple[str, Submitter]],
                      answer_to: Submitter, *, hourly_limit: bool) -> SubmitOutcome:
    async with services.repository.chat_lock("intake", chat_id):
        since = utc_now() - HOUR
        allowance = await _allowance(services, chat_id, since) if hourly_limit else LinkAllowance(0)
        room = services.settings.max_links_per_hour - allowance.used if hourly_limit else len(links)
        outcomes: list[LinkOutcome] = []
        for url, submitter in links:
            known = await _known(services, chat_id, url)
            if known is not None and known.status != FAILED:
                # answered as already there even at the limit; counted once an hour however often
                if hourly_limit and room > 0 and await _charge(services, known, since, every_time=False):
                    room -= 1
                outcomes.append(LinkOutcome(url, Fate.ALREADY_SAVED if known.status == DONE else Fate.IN_PROGRESS,
                                            known))
                continue
            if room <= 0:
                outcomes.append(LinkOutcome(url, Fate.OVER_LIMIT))
                continue
            outcome = await _submit(services, chat_id, url, submitter)
            if outcome.fate in (Fate.NEW, Fate.RETRY):
                room -= 1
            if hourly_limit and outcome.fate == Fate.RETRY and outcome.item is not None:
                await _charge(services, outcome.item, since, every_time=True)
            outcomes.append(outcome)
    room_at = None
    if any(o.fate == Fate.OVER_LIMIT for o in outcomes):
        room_at = (allowance.oldest or utc_now()) + HOUR
    services.intake.held.extend(HeldLink(chat_id, o.url, submitter)
                                for o, (_, submitter) in zip(outcomes, links, strict=True) if o.fate == Fate.HELD)
    fates = Counter(outcome.fate for outcome in outcomes)
    log.info("chat %s: %d links submitted (%s)", chat_id, len(outcomes),
             ", ".join(f"{fate} {count}" for fate, count in fates.items()))
    return SubmitOutcome(chat_id, answer_to, tuple(outcomes), room_at)


async def _known(services: Services, chat_id: int, url: str) -> Item | None:
    canonical = canonicalise(url)
    if canonical is None:
        return None
    try:
        known = await services.repository.find_link(chat_id, canonical)
        if known is not None and known.same_as is not None:  # another address of a stored article
            return await services.repository.get(known.same_as) or known
        if known is None and (key := article_key(canonical)):  # an AMP or www. form of one
            return await services.repository.find_alias(chat_id, [key])
        return known
    except StorageUnavailable:
        return None  # submitting it will hold it


async def _charge(services: Services, item: Item, since: datetime, *, every_time: bool) -> bool:
    try:
        return await services.repository.charge_link(item.chat_id, item.id, since=since, every_time=every_time)
    except StorageUnavailable as error:
        log.warning("chat %s: a re-posted link was not counted (%s)", item.chat_id, error)
        return False


async def _defer(services: Services, outcome: SubmitOutcome, urls: list[str]) -> SubmitOutcome:
    """Put the links over the limit aside for later, while the chat's list has room."""
    submitter = outcome.submitter
    try:
        kept = set(await services.repository.defer_links(
            outcome.chat_id, urls, keep_at_most=services.settings.max_links_per_hour,
            submitted_by=submitter.user_id, submitted_by_name=submitter.name,
            message_id=submitter.message_id, thread_id=submitter.thread_id))
    except StorageUnavailable as error:
        log.error("chat %s: links over the limit could not be put aside: %s", outcome.chat_id, error)
        return outcome
    links = tuple(LinkOutcome(link.url, Fate.DEFERRED) if link.fate == Fate.OVER_LIMIT and link.url in kept
                  else link for link in outcome.links)
    return SubmitOutcome(outcome.chat_id, submitter, links, outcome.room_at)


async def _allowance(services: Services, chat_id: int, since: datetime) -> LinkAllowance:
    try:
        return await services.repository.link_allowance(chat_id, since=since)
    except StorageUnavailable:
        return LinkAllowance(0)  # the submits will be held anyway; the limit applies when they are written


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


@dataclass(frozen=True)
class Released:
    """What became of the links a chat had put aside: `outcome` for those taken now, how many
    still wait (the hourly limit is reached again), and when there is room again."""

    outcome: SubmitOutcome
    waiting: int
    room_at: datetime | None = None


@dataclass(frozen=True)
class Waiting:
    """The links a chat has put aside over the hourly limit, the room it has now, and when it
    has room again if it has none."""

    links: list[DeferredLink]
    room: int
    room_at: datetime | None = None


async def waiting_links(services: Services, chat_id: int) -> Waiting:
    """The chat's links waiting for room under the hourly limit (oldest first), and that room."""
    allowance = await services.repository.link_allowance(chat_id, since=utc_now() - HOUR)
    room = max(0, services.settings.max_links_per_hour - allowance.used)
    room_at = allowance.oldest + HOUR if allowance.oldest is not None and room == 0 else None
    return Waiting(await services.repository.deferred_links(chat_id), room, room_at)


async def release_deferred(services: Services, chat_id: int, releaser: Submitter) -> Released:
    """Submit the chat's waiting links, oldest first, as far as the hourly limit allows; each keeps
    the provenance of the message it came in. Answers go to `releaser`'s message."""
    waiting = await services.repository.deferred_links(chat_id)
    links = [(link.url, Submitter(link.submitted_by, link.submitted_by_name, link.message_id, link.thread_id))
             for link in waiting]
    outcome = await _submit_all(services, chat_id, links, releaser, hourly_limit=True)
    taken = [link.id for link, result in zip(waiting, outcome.links, strict=True)
             if result.fate not in (Fate.OVER_LIMIT, Fate.HELD)]
    await services.repository.drop_deferred(chat_id, taken)
    taken_now = tuple(link for link in outcome.links if link.fate not in (Fate.OVER_LIMIT, Fate.HELD))
    return Released(SubmitOutcome(chat_id, releaser, taken_now, outcome.room_at), len(waiting) - len(taken),
                    outcome.room_at)


async def forget_deferred(services: Services, chat_id: int) -> int:
    """Drop the chat's waiting links; how many there were."""
    return await services.repository.drop_deferred(chat_id)


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

"""Feeds a chat follows: following one (a feed's address, or a site page that names its feeds),
polling each on its own schedule, and taking each new entry in as an item through the same
`submit_links` use case as a link posted in the chat.

Polling. A feed is checked every FEED_POLL_MINUTES, with conditional requests (ETag,
Last-Modified: a 304 costs no parsing); less often the longer it has brought nothing new (about
24 checks over its quiet time) and, after failures, at doubling intervals; never more than
FEED_MAX_INTERVAL_HOURS apart. Each next check is moved by up to 15 % either way, so feeds
followed together drift apart. A poller claims a feed with a lease before polling it, so
processes sharing the database never poll one feed twice at once.

Floods. On a feed's first poll only the newest FEED_FIRST_POLL_ITEMS entries are taken; later,
beyond FEED_MAX_NEW_PER_POLL new entries in one poll the oldest are passed over, and the chat is
told once. A feed failing for 24 hours is reported once; failing for a week, it is paused.

Crash safety. An entry's writes are ordered so that a crash anywhere loses and doubles nothing:
the item is committed (pending) first, then the card to announce it (keyed by the item, so
writing it twice writes it once), and last the entry is remembered as seen. A poll cut short
is done again, finding the same items already there; the feed's validators are saved only after
its entries, so an unfinished poll is never answered with a 304.

When an entry's page cannot be read (a paywall, an error), the item keeps the entry's own title,
summary, date and author, marked as taken from the feed (`keep_feed_words`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.clock import utc_now
from bot.config import LOCAL_CHAT
from bot.desk.links import Fate, LinkOutcome, process_links, submit_links
from bot.pipeline.errors import IngestError
from bot.pipeline.feeds import Alternate, Document, FeedEntry, FeedTooCostly, NotAFeed, OpmlFeed, ParsedFeed
from bot.pipeline.ingest import Submitter
from bot.pipeline.links import canonicalise
from bot.pipeline.models import FetchedPage
from storage.errors import StorageUnavailable
from storage.models import Feed, FeedEntryRecord, FeedMode, Item, OutboxKind

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

REPORT_FAILING_AFTER = timedelta(hours=24)
PAUSE_FAILING_AFTER = timedelta(days=7)
CLAIM_LEASE = timedelta(minutes=10)
"""How long a poller holds a feed: longer than a fetch and a parse can take."""
JITTER = 0.15
QUIET_CHECKS = 24
"""A feed quiet for a time is checked about this many times over a span as long again."""


class PollStatus(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"
    PAUSED = "paused"
    """It failed again, for a week now, and is paused."""


@dataclass(frozen=True)
class PollResult:
    """One feed's poll: what it answered, the items its new entries became, what a cap passed over."""

    feed: Feed
    status: PollStatus
    items: tuple[Item, ...] = ()
    """The items new entries became (pending until processed), oldest entry first."""
    to_process: tuple[Item, ...] = ()
    skipped: int = 0
    """New entries passed over by the first-poll or per-poll cap."""
    error: str | None = None

    @property
    def new(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class FollowOutcome:
    """The feed followed (and its first poll), or why not (`problem`: a fetch error's reason,
    "invalid_url", "not_a_feed", "too_costly")."""

    feed: Feed | None
    is_new: bool = False
    others: tuple[Alternate, ...] = ()
    """Further feeds the site page named; the first was followed."""
    first_poll: PollResult | None = None
    problem: str | None = None
    detail: str = ""


# -- following ---------------------------------------------------------------------------------


async def follow(services: Services, chat_id: int, url: str, *, mode: FeedMode = FeedMode.ANNOUNCE,
                 thread_id: int | None = None, added_by: int | None = None) -> FollowOutcome:
    """Follow a feed, or the first feed a site page names; a new feed is polled at once (its newest
    FEED_FIRST_POLL_ITEMS entries are taken). Following one again changes its mode and topic, and
    resumes it if it was paused."""
    address = canonicalise(url)
    if address is None:
        return FollowOutcome(None, problem="invalid_url", detail=f"not a web address: {url[:200]}")
    others: tuple[Alternate, ...] = ()
    try:
        page, document = await _read(services, address)
        if document.feed is None:
            first, *rest = document.alternates
            others = tuple(rest)
            page, document = await _read(services, first.url)
            if document.feed is None:
                raise NotAFeed("the feed the page names is itself a web page")
    except IngestError as error:
        return FollowOutcome(None, problem=error.reason, detail=str(error))
    except NotAFeed as error:
        return FollowOutcome(None, problem="not_a_feed", detail=str(error))
    except FeedTooCostly as error:
        return FollowOutcome(None, problem="too_costly", detail=str(error))
    parsed = document.feed
    now = utc_now()
    interval = _base_interval(services)
    feed, is_new = await services.repository.add_feed(
        chat_id, canonicalise(page.final_url) or page.final_url, title=parsed.title, site_url=parsed.site_url,
        mode=mode, thread_id=thread_id, added_by=added_by, interval_seconds=int(interval.total_seconds()),
        next_check_at=now + _jittered(interval),
    )
    first_poll = None
    if is_new:
        log.info("chat %s follows feed %s (%s, %d entries)", chat_id, feed.id, feed.url, len(parsed.entries))
        first_poll = await _take(services, feed, parsed, page, now=now)
    return FollowOutcome(feed, is_new, others, first_poll)


async def _read(services: Services, url: str, feed: Feed | None = None) -> tuple[FetchedPage, Document]:
    page = await services.fetcher.fetch_feed(url, etag=feed.etag if feed else None,
                                             last_modified=feed.last_modified if feed else None)
    if page.not_modified:
        return page, Document()
    return page, await services.workers.read_feed(page.body, page.final_url, page.content_type)


async def import_opml(services: Services, chat_id: int, feeds: Sequence[OpmlFeed], *,
                      mode: FeedMode = FeedMode.ANNOUNCE) -> list[tuple[OpmlFeed, Feed | None]]:
    """Follow every feed of an OPML list without fetching any now: their first polls are spread
    over the next FEED_POLL_MINUTES. Each with the feed it became (None: not a web address)."""
    now = utc_now()
    interval = _base_interval(services)
    imported: list[tuple[OpmlFeed, Feed | None]] = []
    for listed in feeds:
        address = canonicalise(listed.url)
        if address is None:
            imported.append((listed, None))
            continue
        feed, _ = await services.repository.add_feed(
            chat_id, address, title=listed.title, site_url=listed.site_url, mode=mode, thread_id=None,
            added_by=None, interval_seconds=int(interval.total_seconds()),
            next_check_at=now + interval * random.random(),
        )
        imported.append((listed, feed))
    return imported


# -- polling -------------------------------------------------------------------------------------


async def poll_due(services: Services, *, chat_id: int | None = None, now: datetime | None = None
                   ) -> list[PollResult]:
    """Poll every due feed (of one chat, with `chat_id`) once, FEED_POLL_CONCURRENCY at a time;
    those another poller holds are left to it."""
    due = await services.repository.due_feeds(now or utc_now(), chat_id=chat_id)
    slots = asyncio.Semaphore(services.settings.feed_poll_concurrency)

    async def one(feed: Feed) -> PollResult | None:
        async with slots:
            moment = utc_now()
            try:
                if not await services.repository.claim_feed(feed.id, now=moment, until=moment + CLAIM_LEASE):
                    return None
            except StorageUnavailable as error:
                log.warning("feed %s not polled, the database is unavailable: %s", feed.id, error)
                return None
            return await poll_feed(services, feed)

    return [result for result in await asyncio.gather(*(one(feed) for feed in due)) if result is not None]


async def poll_feed(services: Services, feed: Feed) -> PollResult:
    """Check one (claimed) feed and take its new entries in; one feed's failure is only its own."""
    try:
        try:
            page, document = await _read(services, feed.url, feed)
            if page.not_modified:
                await _finish(services, feed, page, got_new=False)
                return PollResult(feed, PollStatus.NOT_MODIFIED)
            if document.feed is None:
                raise NotAFeed("the feed's address now answers with a web page, not a feed")
        except (IngestError, NotAFeed, FeedTooCostly) as error:
            return await _failed(services, feed, str(error))
        return await _take(services, feed, document.feed, page, now=utc_now())
    except StorageUnavailable as error:
        log.warning("feed %s: poll stopped, the database is unavailable (%s); it is polled again later", feed.id, error)
        return PollResult(feed, PollStatus.ERROR, error="the database is unavailable")
    except Exception as error:
        log.exception("feed %s: poll failed unexpectedly", feed.id)
        return await _failed(services, feed, f"unexpected error: {type(error).__name__}")


async def _take(services: Services, feed: Feed, parsed: ParsedFeed, page: FetchedPage, *, now: datetime
                ) -> PollResult:
    """Take the feed's unseen entries in (within the caps), then note the poll."""
    repository, settings = services.repository, services.settings
    unique = list({entry.key: entry for entry in reversed(parsed.entries)}.values())[::-1]  # first of each key
    seen = await repository.seen_entries(feed.chat_id, [entry.key for entry in unique])
    unseen = [entry for entry in unique if entry.key not in seen]
    room = settings.feed_max_new_per_poll if feed.polled_once else settings.feed_first_poll_items
    taken, passed = unseen[:room], unseen[room:]
    if passed and feed.polled_once:
        log.warning("feed %s listed %d new entries; %d taken, %d skipped", feed.id, len(unseen), len(taken),
                    len(passed))
        await _tell(services, feed, "feed_capped", f"capped:{feed.id}:{_digest(passed[0].key)}",
                    new=len(unseen), taken=len(taken), skipped=len(passed))
    await repository.record_entries(feed.chat_id, feed.id, [_record(entry) for entry in passed])
    items: list[Item] = []
    to_process: list[Item] = []
    without_link = [entry for entry in taken if not entry.link]
    await repository.record_entries(feed.chat_id, feed.id, [_record(entry) for entry in without_link])
    linked = [entry for entry in reversed(taken) if entry.link]  # oldest first: items numbered in time order
    if linked:
        submitter = Submitter(name=feed.name[:100], thread_id=feed.thread_id, feed_id=feed.id)
        outcome = await submit_links(services, feed.chat_id, [entry.link or "" for entry in linked], submitter,
                                     hourly_limit=False)
        by_url = {link.url: link for link in outcome.links}
        for entry in linked:
            link = by_url[entry.link or ""]
            item = await _keep(services, feed, entry, link)
            if item is not None and all(item.id != known.id for known in items):  # two entries, one link
                items.append(item)
                # pending from a poll cut short before its entry was remembered: nobody is on it
                if link.fate in (Fate.NEW, Fate.RETRY, Fate.IN_PROGRESS):
                    to_process.append(item)
    await _finish(services, feed, page, got_new=bool(items), title=parsed.title)
    return PollResult(feed, PollStatus.OK, tuple(items), tuple(to_process), skipped=len(passed))


async def _keep(services: Services, feed: Feed, entry: FeedEntry, link: LinkOutcome) -> Item | None:
    """One taken entry: announce its item if it is this feed's, then remember the entry as seen."""
    if link.fate == Fate.HELD:
        # The database refused the item: the entry stays unseen and the next poll takes it again.
        services.intake.held = [held for held in services.intake.held if held.url != link.url]
        raise StorageUnavailable("the item of a feed entry could not be written")
    item = link.item
    if item is not None and item.feed_id == feed.id and feed.mode == FeedMode.ANNOUNCE and \
            feed.chat_id != LOCAL_CHAT:
        await services.repository.enqueue(feed.chat_id, OutboxKind.CARD, dedupe_key=f"card:{item.id}",
                                          thread_id=feed.thread_id, item_id=item.id, payload={"feed": feed.id})
    await services.repository.record_entries(feed.chat_id, feed.id, [_record(entry)],
                                             item_id=item.id if item is not None else None)
    return item if item is not None and item.feed_id == feed.id else None


async def _finish(services: Services, feed: Feed, page: FetchedPage, *, got_new: bool, title: str | None = None
                  ) -> None:
    now = utc_now()
    interval = _interval(services, feed, now=now, errors=0, got_new=got_new)
    await services.repository.finish_poll(
        feed.id, now=now, next_check_at=now + _jittered(interval), interval_seconds=int(interval.total_seconds()),
        etag=page.etag or (feed.etag if page.not_modified else None),
        last_modified=page.last_modified or (feed.last_modified if page.not_modified else None),
        title=title, got_new=got_new,
    )


async def _failed(services: Services, feed: Feed, error: str) -> PollResult:
    """Count a failure; tell the chat after a day of them, pause the feed after a week."""
    now = utc_now()
    interval = _interval(services, feed, now=now, errors=feed.errors + 1, got_new=False)
    log.info("feed %s failed (%d in a row): %s", feed.id, feed.errors + 1, error)
    updated = await services.repository.fail_poll(feed.id, now=now, error=error, interval_seconds=int(
        interval.total_seconds()), next_check_at=now + _jittered(interval)) or feed
    since = updated.failing_since or now
    if now - since >= PAUSE_FAILING_AFTER:
        await _tell(services, updated, "feed_paused", f"paused:{feed.id}:{since.isoformat()}", error=error)
        if await services.repository.pause_feed(feed.id, now=now):
            log.warning("feed %s paused after failing since %s: %s", feed.id, since.isoformat(), error)
            return PollResult(updated, PollStatus.PAUSED, error=error)
    elif now - since >= REPORT_FAILING_AFTER and updated.failure_reported_at is None:
        await _tell(services, updated, "feed_failing", f"failing:{feed.id}:{since.isoformat()}", error=error,
                    since=since.isoformat())
        await services.repository.note_failure_reported(feed.id, now=now)
    return PollResult(updated, PollStatus.ERROR, error=error)


async def _tell(services: Services, feed: Feed, key: str, dedupe_key: str, **values: object) -> None:
    """A notice about a feed for its chat (in the topic where it was followed), written once."""
    if feed.chat_id == LOCAL_CHAT:
        return
    await services.repository.enqueue(feed.chat_id, OutboxKind.NOTICE, dedupe_key=dedupe_key,
                                      thread_id=feed.thread_id,
                                      payload={"key": key, "feed": feed.id, "title": feed.name, "url": feed.url,
                                               "values": values})


# -- after a poll ------------------------------------------------------------------------------


async def process_new_items(services: Services, results: Sequence[PollResult]) -> list[Item]:
    """Fetch and store the pages of the polls' new items; those whose page cannot be read keep
    the feed's words, and paywalled ones the entry's text when it says more. Every new item as it ended."""
    to_process = [item for result in results for item in result.to_process]
    await process_links(services, to_process)
    ids = [item.id for result in results for item in result.items]
    await services.repository.keep_feed_words(item_ids=ids)
    await services.repository.prefer_feed_words_for_teasers(ids)  # a paywall showed less than the entry
    finished = [await services.repository.get(item_id) for item_id in ids]
    return [item for item in finished if item is not None]


async def keep_feed_words(services: Services) -> int:
    """Any feed item whose page could not be read (left by a crash, say) takes the feed's words."""
    return len(await services.repository.keep_feed_words())


# -- scheduling ----------------------------------------------------------------------------------


def _base_interval(services: Services) -> timedelta:
    return timedelta(minutes=services.settings.feed_poll_minutes)


def _interval(services: Services, feed: Feed, *, now: datetime, errors: int, got_new: bool) -> timedelta:
    """The time to the next check: the base; more after failures (doubling) or a long quiet."""
    base = _base_interval(services)
    longest = timedelta(hours=services.settings.feed_max_interval_hours)
    if errors:
        return min(base * 2 ** min(errors - 1, 16), longest)
    quiet = timedelta(0) if got_new else now - (feed.last_new_at or feed.created_at)
    return min(max(base, quiet / QUIET_CHECKS), longest)


def _jittered(interval: timedelta) -> timedelta:
    return interval * random.uniform(1 - JITTER, 1 + JITTER)


def _record(entry: FeedEntry) -> FeedEntryRecord:
    return FeedEntryRecord(entry_key=entry.key, title=entry.title, summary=entry.summary, author=entry.author,
                           published=entry.published.date() if entry.published else None)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]



async def chat_zone(services: Services, chat_id: int) -> ZoneInfo:
    """The zone a chat reads times in: its digest's, else DEFAULT_TIMEZONE."""
    found = await services.repository.digest_schedule(chat_id)
    return ZoneInfo(found.timezone if found else services.settings.default_timezone)

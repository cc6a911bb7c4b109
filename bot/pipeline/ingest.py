"""Ingest: one link from submission to a stored item — fetch, extract, summarise, store.

A link is written to the database as `pending` and committed before anything else happens to
it, so a crash at any later point loses nothing: `resume_pending` picks it up on the next start.
Each link then ends `done` or `failed` with a reason, on its own: one bad link never stops others.

On a database other processes share (PostgreSQL), a link is claimed with a lease before it is
processed (storage/leases.py) and the lease renewed every third of it while the link is worked on.
A caller whose claim fails waits for the link to end in the process holding it, and takes it over
if that lease expires: it never returns before the link has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.clock import utc_now
from bot.pipeline import minhash
from bot.pipeline.errors import IngestError, InvalidUrl
from bot.pipeline.fetch import Fetcher
from bot.pipeline.links import canonicalise, domain_of
from bot.pipeline.stories import DEFAULT_GROUPING, Grouping, group
from bot.pipeline.tgpost import post_address, preview_url
from bot.pipeline.urlforms import article_key, declared_addresses
from bot.pipeline.workers import WorkerPool
from storage.errors import LeaseLost, StorageUnavailable
from storage.models import FAILED, PENDING, Item
from storage.repository import Repository

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=60)
"""How long a claim on a link lasts unless renewed: a dead process's links wait this long."""
WAIT_POLL_SECONDS = 0.5
"""How often a caller waiting for a link another process holds looks at it again."""


def process_owner() -> str:
    """A name for this process's leases, unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Submitter:
    """Who posted a link, and where: kept with the item as its provenance."""

    user_id: int | None = None
    name: str | None = None
    message_id: int | None = None
    thread_id: int | None = None
    feed_id: int | None = None
    """The feed whose entry this is, when a feed brought it."""


@dataclass(frozen=True)
class Submission:
    item: Item
    is_new: bool
    """False when the chat already had this article (stored, pending, or failed)."""


class Ingestor:
    """Turns submitted links into stored items, a bounded number at a time.

    At most `concurrency` links are processed at once, and one chat may hold at most half of
    those slots, so a chat that posts hundreds of links queues behind itself, not others.
    """

    def __init__(
        self, *, repository: Repository, fetcher: Fetcher, workers: WorkerPool, concurrency: int,
        telegram_preview_url: str = "https://t.me",
        grouping: Grouping = DEFAULT_GROUPING, owner: str | None = None, lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.repository = repository
        self.telegram_preview_url = telegram_preview_url
        self.grouping = grouping
        self.fetcher = fetcher
        self.workers = workers
        self._slots = asyncio.Semaphore(concurrency)
        self._per_chat = max(1, concurrency // 2)
        self._chat_slots: dict[int, asyncio.Semaphore] = {}
        self._in_flight: dict[int, asyncio.Event] = {}
        """The links being processed in this process, each with the event of its end."""
        self.owner = owner or process_owner()
        """Whose leases this process's claims are (storage/leases.py)."""
        self.lease = lease

    async def submit(self, chat_id: int, url: str, submitter: Submitter = Submitter()) -> Submission:
        """Record a link as pending (committed) unless the chat already has it."""
        canonical = canonicalise(url)
        if canonical is None:
            raise InvalidUrl(f"not a web address: {url[:200]}")
        if (post := post_address(canonical)) is not None and not post.private:
            canonical = post.url  # t.me/s/..., telegram.me/... and ?single are one post
        key = article_key(canonical)
        known = await self.repository.find_alias(chat_id, [key] if key else [])
        if known is not None and known.canonical_url != canonical:
            return Submission(known, False)  # another form (AMP, www.) of an article the chat has
        item, is_new = await self.repository.add_link(
            chat_id,
            url,
            canonical,
            domain=domain_of(canonical),
            submitted_by=submitter.user_id,
            submitted_by_name=submitter.name,
            message_id=submitter.message_id,
            thread_id=submitter.thread_id,
            feed_id=submitter.feed_id,
        )
        if is_new and key:
            await self.repository.add_aliases(chat_id, item.id, [key])
        if item.same_as is not None:  # set aside as another address of a stored article
            item = await self.repository.get(item.same_as) or item
        return Submission(item, is_new)

    async def process(self, item: Item) -> Item:
        """Fetch, extract, summarise and store one item; it ends `done` or `failed`.
        A failed item is put back in the queue first: processing it again is a retry."""
        if item.status == FAILED:
            item = await self.repository.retry(item.id)
        if (ending := self._in_flight.get(item.id)) is not None:  # being processed here already
            await ending.wait()
            return await self.repository.get(item.id) or item
        chat_slots = self._chat_slots.setdefault(item.chat_id, asyncio.Semaphore(self._per_chat))
        self._in_flight[item.id] = asyncio.Event()
        try:
            while not await self._claim(item.id):  # another process holds it: wait for it to end there
                await asyncio.sleep(WAIT_POLL_SECONDS)
                current = await self.repository.get(item.id)
                if current is None or current.status != PENDING:
                    return current or item
            async with self._renewing(item.id), chat_slots, self._slots:
                try:
                    return await self._process(item)
                except LeaseLost:  # stalled past the lease: another process took the link and ends it
                    log.warning("link %s was taken over by another process; its outcome is theirs", item.id)
                    return await self.repository.get(item.id) or item
        finally:
            self._in_flight.pop(item.id).set()

    async def _claim(self, item_id: int) -> bool:
        """Whether this process may process the link now: always on a database it owns; on a shared
        one, when it holds the link's lease: taken now, or taken over once its holder's expired."""
        if not self.repository.shares_work:
            return True
        return await self.repository.claim_item(item_id, self.owner, self.lease)

    @contextlib.asynccontextmanager
    async def _renewing(self, item_id: int) -> AsyncIterator[None]:
        """Renew the link's lease every third of it while the block runs (queued or processed)."""
        if not self.repository.shares_work:
            yield
            return

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.lease.total_seconds() / 3)
                try:
                    if not await self.repository.renew(self.owner, [item_id], self.lease):
                        return  # stored meanwhile, or (after a long stall) taken over: nothing to renew
                except StorageUnavailable as error:
                    log.warning("lease on link %s not renewed: %s", item_id, error)

        renewer = asyncio.create_task(renew(), name=f"lease:{item_id}")
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _process(self, item: Item) -> Item:
        clock = _Stopwatch()
        held_by = self.owner if self.repository.shares_work else None  # the outcome only while it holds the lease
        final_url = None
        try:
            if (post := post_address(item.canonical_url)) is not None:
                # a channel post is read from Telegram's public preview of it (bot/pipeline/tgpost.py)
                page = await self.fetcher.fetch(preview_url(post, self.telegram_preview_url))
                clock.fetched()
                article, summary = await self.workers.analyse_post(page.body, page.final_url, page.encoding, post)
                final_url = post.url
            else:
                page = await self.fetcher.fetch(item.canonical_url)
                clock.fetched()
                article, summary = await self.workers.analyse(
                    page.body, page.final_url, page.encoding, fetched_on=utc_now().date()
                )
        except IngestError as error:
            _log_outcome(item, clock, reason=error.reason, detail=str(error))
            return await self.repository.mark_failed(item.id, reason=error.reason, detail=str(error), held_by=held_by)
        except StorageUnavailable:
            raise  # a database fault: the link stays pending for the next attempt
        except Exception as error:
            log.exception("link %s failed unexpectedly", item.id)
            _log_outcome(item, clock, reason="internal_error", detail=type(error).__name__)
            return await self.repository.mark_failed(
                item.id, reason="internal_error", detail=f"unexpected error: {type(error).__name__}", held_by=held_by
            )
        final = final_url or page.final_url
        # a post's preview page names the preview's own address, not the post's: not an alias
        declared = [] if final_url else await asyncio.to_thread(declared_addresses, page.body, page.final_url)
        keys = [article_key(address) for address in (item.url, item.canonical_url, final, *declared)]
        found = [key for key in keys if key]
        same = await self.repository.find_alias(item.chat_id, found, other_than=item.id)
        if same is not None and _same_text(same, article.title, article.text):
            _log_outcome(item, clock, reason="same_article", detail=f"item {same.id}")
            return await self.repository.merge_same_article(item.id, same, found, held_by=held_by)
        stored = await self.repository.mark_done(item.id, article, summary, final_url=final, held_by=held_by)
        await self.repository.add_aliases(item.chat_id, item.id, found)
        stored = replace(stored, story_id=await group(self.repository, stored, self.grouping))
        _log_outcome(stored, clock)
        return stored

    async def resume_pending(
        self, *, older_than: datetime | None = None, chat_id: int | None = None
    ) -> list[Item]:
        """Process the pending links nobody is working on — left by a crash or a database
        fault; with `older_than`, only those untouched since then; with `chat_id`, only that
        chat's. Return them as they ended."""
        pending = [item for item in await self.repository.pending(older_than=older_than)
                   if item.id not in self._in_flight and chat_id in (None, item.chat_id)]
        if self.repository.shares_work:  # those another process holds are its to finish
            pending = [item for item in pending
                       if await self.repository.claim_item(item.id, self.owner, self.lease)]
        if pending:
            log.info("resuming %d pending links", len(pending))
        return list(await asyncio.gather(*(self.process(item) for item in pending)))


def _same_text(item: Item, title: str, text: str) -> bool:
    """Whether a page read under a declared address is the stored item's article, not another
    page that names the same canonical (a misconfigured site): their words mostly agree."""
    if not item.text:
        return True
    mine = minhash.features(title, text)
    theirs = minhash.features(item.title or "", item.text)
    return len(mine & theirs) >= 0.5 * max(1, min(len(mine), len(theirs)))


class _Stopwatch:
    """How long a link took, and how much of it was fetching."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.fetch_ms: int | None = None

    def fetched(self) -> None:
        self.fetch_ms = self.elapsed_ms()

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)


def _log_outcome(item: Item, clock: _Stopwatch, *, reason: str | None = None, detail: str | None = None) -> None:
    """One line per link: its outcome, its timing and, when it failed, the reason."""
    total = clock.elapsed_ms()
    fields = {"event": "link", "item_id": item.id, "chat_id": item.chat_id, "url": item.canonical_url,
              "outcome": "failed" if reason else "done", "reason": reason, "ms": total, "fetch_ms": clock.fetch_ms}
    timing = f"{total} ms" + (f" (fetch {clock.fetch_ms} ms)" if clock.fetch_ms is not None else "")
    if reason:
        log.info("link %s failed in %s: %s (%s) %s", item.id, timing, reason, detail, item.canonical_url, extra=fields)
    else:
        log.info("link %s done in %s: %s", item.id, timing, item.canonical_url, extra=fields)


__all__ = ["Ingestor", "Submission", "Submitter"]

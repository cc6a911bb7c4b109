"""The worker: links and feed polls processed apart from the bot (`newsdesk worker`), by any
number of processes sharing one PostgreSQL database.

A worker claims pending links with a lease (storage/leases.py), as many as it has room for, and
takes each through the pipeline (bot/pipeline/ingest.py renews the lease while it works); it
polls due feeds, each claimed by one poller (storage/feeds.py). A link a chat posted, processed
while NEWSDESK_PROCESSING=workers, gets its card written to the outbox as an answer to that
message: the bot replica holding the chat's turn sends it (bot/desk/outbox.py).

A worker that dies keeps its links only until their leases expire; then another takes them. One
told to stop (`stop` set: SIGTERM) claims nothing more, gives the links it is on a moment to
end, and lets go of the rest at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from bot.config import LOCAL_CHAT
from bot.desk.feeds import poll_due, process_new_items
from storage.errors import StorageUnavailable
from storage.models import DONE, Item, OutboxKind

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

IDLE_SECONDS = 0.5
"""How long a worker with room and nothing to claim waits before looking again."""
STOP_GRACE_SECONDS = 10.0
"""How long a stopping worker lets the links it is on finish before letting go of them."""
FEED_TICK_SECONDS = 60.0
"""How often a worker looks for due feeds (at most; FEED_POLL_MINUTES / 3 when shorter)."""


@dataclass
class WorkerTally:
    """What one run of a worker did."""

    done: int = 0
    failed: int = 0
    cards: int = 0
    """Answers to chats' messages written to the outbox."""
    feeds_polled: int = 0
    abandoned: int = 0
    """Links it let go of when it stopped (another worker finishes them)."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


async def run_worker(services: Services, *, concurrency: int, once: bool = False, feeds: bool = True,
                     stop: asyncio.Event | None = None) -> WorkerTally:
    """Claim and process pending links (and poll due feeds, with `feeds`) until `stop` is set;
    with `once`, until no pending link is left (one another process holds is waited for: it ends
    there, or its holder's lease runs out and this worker takes it over)."""
    stop = stop or asyncio.Event()
    tally = WorkerTally()
    running: set[asyncio.Task[None]] = set()
    feed_task: asyncio.Task[None] | None = None
    next_poll = 0.0
    tick = min(FEED_TICK_SECONDS, services.settings.feed_poll_minutes * 20)
    # the extraction workers started first (seconds of imports): a claimed link is not held through that
    await services.workers.worker_state()
    log.info("worker %s: claiming up to %d links at a time (lease %ds)%s", services.owner, concurrency,
             services.ingestor.lease.total_seconds(), "" if feeds else ", no feeds")
    try:
        while not stop.is_set():
            if feeds and (feed_task is None or feed_task.done()) and time.monotonic() >= next_poll \
                    and not (once and feed_task is not None):
                feed_task = asyncio.create_task(_poll_feeds(services, tally), name="worker-feeds")
                next_poll = time.monotonic() + tick
            claimed = await _claim(services, concurrency - len(running))
            for item in claimed:
                task = asyncio.create_task(_work(services, item, tally), name=f"worker-link:{item.id}")
                running.add(task)
                task.add_done_callback(running.discard)
            if once and not claimed and not running and (feed_task is None or feed_task.done()) \
                    and not await _held_elsewhere(services):
                break
            if not claimed:
                await _idle(stop, running)
    finally:
        tally.abandoned = await _stop(services, running, feed_task)
    return tally


async def _claim(services: Services, room: int) -> list[Item]:
    if room <= 0:
        return []
    try:
        return await services.repository.claim_pending(services.owner, services.ingestor.lease, limit=room)
    except StorageUnavailable as error:
        log.warning("worker: nothing claimed, the database is unavailable: %s", error)
        return []


async def _held_elsewhere(services: Services) -> int:
    try:
        return await services.repository.pending_held_elsewhere(services.owner)
    except StorageUnavailable:
        return 0  # a drain that cannot look ends; what is left is claimable by the next run


async def _idle(stop: asyncio.Event, running: set[asyncio.Task[None]]) -> None:
    """Wait a moment, or less when a link ends (room to claim another) or the worker is stopped."""
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({stopping, *running}, timeout=IDLE_SECONDS, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopping


async def _work(services: Services, item: Item, tally: WorkerTally) -> None:
    try:
        ended = await services.ingestor.process(item)
    except StorageUnavailable as error:
        log.warning("link %s left pending, the database is unavailable: %s", item.id, error)
        with contextlib.suppress(StorageUnavailable):  # claimable again at once, here or elsewhere
            await services.repository.release(services.owner, [item.id])
        return
    if ended.status == DONE:
        tally.done += 1
    else:
        tally.failed += 1
    if await _answer(services, ended):
        tally.cards += 1


async def _answer(services: Services, item: Item) -> bool:
    """With NEWSDESK_PROCESSING=workers, the card of a link a chat posted, written to the outbox as
    an answer to its message (once: the dedupe key is the item's); False when there is none."""
    if services.settings.processing != "workers" or item.chat_id == LOCAL_CHAT or item.feed_id is not None \
            or item.message_id is None:
        return False  # the bot answers links it processes; the command line prints its own
    shown = item.same_as or item.id  # a link set aside as another address of an item: that item
    try:
        return await services.repository.enqueue(
            item.chat_id, OutboxKind.CARD, dedupe_key=f"card:{item.id}", thread_id=item.thread_id, item_id=shown,
            reply_to=item.message_id, payload={"already_saved": True} if item.same_as else None)
    except StorageUnavailable as error:
        log.error("chat %s: the card of item %s was not written: %s", item.chat_id, item.id, error)
        return False


async def _poll_feeds(services: Services, tally: WorkerTally) -> None:
    try:
        results = await poll_due(services)
        tally.feeds_polled += len(results)
        if any(result.items for result in results):
            await process_new_items(services, results)
    except StorageUnavailable as error:
        log.warning("worker: feeds not polled, the database is unavailable: %s", error)


async def _stop(services: Services, running: set[asyncio.Task[None]], feed_task: asyncio.Task[None] | None) -> int:
    """Let the links in hand end for a moment, then cancel the rest and let go of their leases;
    how many were let go."""
    if running:
        await asyncio.wait(set(running), timeout=STOP_GRACE_SECONDS)
    unfinished = [task for task in running if not task.done()]
    for task in [*unfinished, *([feed_task] if feed_task is not None and not feed_task.done() else [])]:
        task.cancel()
    await asyncio.gather(*unfinished, *([feed_task] if feed_task is not None else []), return_exceptions=True)
    await services.let_go()
    if unfinished:
        log.info("worker %s: let go of %d links for another worker", services.owner, len(unfinished))
    return len(unfinished)

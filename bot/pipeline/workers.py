"""The pool of worker processes that runs extraction and the extractive summary.

Extraction is CPU-heavy and, on pathological pages, unbounded: trafilatura has been seen to take
43 s and nearly 800 MB on one page of links. Each page therefore runs in a worker process with a
deadline (pebble kills the worker and starts a fresh one when it passes) and an address-space
limit, so one page can neither stall the bot nor swell it, and every core is used.

Workers start warm. A cold process spends about 3 s on its first pages: importing trafilatura and
readability, and above all dateparser compiling its patterns for some 200 locales the first time
htmldate asks it about a date. `warm_up` does that work once, in the fork server (Linux), so every
worker forked from it, first or recycled, starts with it done; where there is no fork server, each
worker warms itself in its initialiser, before its first page. A worker is replaced after
`pages_per_worker` pages, or sooner when its resident memory passes `worker_rss_mb`: a slow leak,
or one large page's heap kept by the allocator, cannot accumulate.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import resource
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import date
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

import pebble.pool.process as pebble_process
from pebble import ProcessExpired, ProcessPool

from bot.pipeline.errors import ExtractTimeout
from bot.pipeline.extract import extract_article
from bot.pipeline.feeds import Document, FeedTooCostly, read_document
from bot.pipeline.models import Article
from bot.pipeline.pdf import extract_pdf, is_pdf
from bot.pipeline.summarise import summarise_extractive
from bot.pipeline.tgpost import PostAddress, read_post

PAGES_PER_WORKER = 1000
"""Pages a worker reads before it is replaced (with warm workers a new one costs a few milliseconds)."""
WORKER_RSS_MB = 250
"""A worker whose resident memory passes this after a page is replaced before the next one."""
T = TypeVar("T")
WARM_UP_MODULE = "bot.pipeline.warm"
"""Imported by the fork server: it calls warm_up, so the workers forked from it start warm."""


def analyse_page(
    body: bytes, url: str, encoding: str | None, fetched_on: date | None
) -> tuple[Article, str]:
    """Extract the article from a page (or a PDF) and summarise it (runs inside a worker process)."""
    if is_pdf(body):
        article = extract_pdf(body, url, fetched_on=fetched_on)
    else:
        article = extract_article(body, url, encoding, fetched_on=fetched_on)
    return article, summarise_extractive(article.text)  # the text no longer repeats the headline


_warm_ups = 0
"""How many times this process (or the fork server it was forked from) has warmed up: 0 or 1."""
_warmed_in = 0
"""The process that did the warm-up: the fork server's, inherited by its workers."""


def warm_up() -> None:
    """Do once what every process's first pages would otherwise pay for: dateparser compiles its
    split patterns for every locale the first time a date string matches none of them (~2 s), and
    htmldate hands it such strings. A string in no language makes it try, and keep, them all."""
    global _warm_ups, _warmed_in
    if _warm_ups:
        return
    from htmldate.extractors import get_external_parser

    get_external_parser().get_date_data("zzqx 2021 qq")
    # the rest of the first page's lazy work: trafilatura's and readability's own first-use setup
    with contextlib.suppress(Exception):  # warming is an optimisation: a real page reports any fault
        analyse_page(WARM_UP_PAGE, "https://newsdesk.invalid/warm-up", "utf-8", None)
    _warm_ups += 1
    _warmed_in = os.getpid()


WARM_UP_PAGE = (
    "<html lang='en'><head><title>Warm-up page</title>"
    "<meta property='article:published_time' content='2024-03-14T09:30:00Z'></head><body>"
    "<h1>A page read once when a worker starts</h1><p class='byline'>By Ann Example, March 14, 2024</p>"
    + "".join(f"<p>Paragraph {n} says what the warm-up page is for: it runs the extractor once, so the first "
              "real page does not pay for trafilatura's and readability's first use.</p>" for n in range(6))
    + "</body></html>"
).encode()


def resident_mb() -> float:
    """This process's resident memory now, in MB (its peak where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024


@dataclass(frozen=True)
class WorkerLimits:
    memory_mb: int
    """The address-space limit: a page needing more fails with MemoryError."""
    pages: int
    rss_mb: int


_served = 0


def _start_worker(limits: WorkerLimits) -> None:
    """A worker's initialiser: its memory limit, its warm-up (already done when forked warm), and
    the rule that retires it."""
    _limit_memory(limits.memory_mb)
    warm_up()

    def next_tasks(channel: pebble_process.WorkerChannel, max_tasks: int) -> Iterator[pebble_process.Task]:
        # pebble's own loop retires a worker after a number of tasks only; this one counts pages
        # (not questions about the worker itself) and looks at its memory after each, once the
        # page's result has been sent and before it takes another
        global _served
        while not _served or (_served < limits.pages and resident_mb() <= limits.rss_mb):
            task = pebble_process.fetch_task(channel)
            yield task
            if task.payload.function is not worker_state:
                _served += 1
        # the worker exits cleanly; the pool starts a fresh one

    pebble_process.worker_get_next_task = next_tasks  # this worker process's copy of pebble only


def analyse_post(body: bytes, final_url: str, encoding: str | None, post: PostAddress) -> tuple[Article, str]:
    """Read a Telegram channel post from its preview page and summarise it (runs inside a worker process)."""
    article = read_post(body, final_url, encoding, post)
    return article, summarise_extractive(article.text)


def _limit_memory(memory_mb: int) -> None:
    try:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # not on this platform: the deadline still holds
        pass


@dataclass(frozen=True)
class WorkerState:
    """What a worker says about itself (for tests and the health check)."""

    pid: int
    pages_served: int
    """Pages this worker has read (questions like this one are not counted)."""
    warm_ups: int
    """1 when it started warm (forked from a warmed server, or warmed in its initialiser)."""
    warmed_in: int
    """The process that warmed it up: the fork server, or the worker itself where there is none."""
    rss_mb: float


def worker_state() -> WorkerState:
    return WorkerState(os.getpid(), _served, _warm_ups, _warmed_in, resident_mb())


def _context() -> BaseContext:
    """A fork server that imported and warmed everything once, where there is one; else spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([WARM_UP_MODULE])  # no effect once the server runs: it is warm
    return context


class WorkerPool:
    """A few worker processes; `await pool.analyse(...)` runs one page with a deadline."""

    def __init__(
        self,
        *,
        workers: int,
        timeout: float,
        memory_mb: int,
        pages_per_worker: int = PAGES_PER_WORKER,
        worker_rss_mb: int = WORKER_RSS_MB,
    ) -> None:
        self._timeout = timeout
        limits = WorkerLimits(memory_mb=memory_mb, pages=pages_per_worker, rss_mb=worker_rss_mb)
        self._pool = ProcessPool(
            max_workers=workers,
            initializer=_start_worker,  # it retires the worker too, after pages_per_worker pages or past worker_rss_mb
            initargs=(limits,),
            context=_context(),
        )
        self._started = False
        self._starting = asyncio.Lock()
        self._start: asyncio.Future[Future[Any]] | None = None
        with contextlib.suppress(RuntimeError):  # made outside an event loop: started at the first task
            # started now, in a thread: the fork server warms up while the bot connects, not at its first link
            self._start = asyncio.get_running_loop().run_in_executor(None, self._pool.schedule, worker_state)

    async def _schedule(self, function: Callable[..., Any], args: tuple[Any, ...] = ()) -> Future[Any]:
        """function's task in a worker, with the deadline. The pool starts at its first task, and
        that start waits for the fork server to warm up (seconds): it is made off the event loop."""
        if not self._started:
            async with self._starting:
                if not self._started:
                    start = self._start or asyncio.to_thread(self._pool.schedule, worker_state)
                    # a start that failed (a worker that cannot start) fails the real task the same way
                    # below, where its caller maps it (ExtractTimeout, FeedTooCostly)
                    with contextlib.suppress(Exception):
                        await asyncio.wrap_future(await start)
                    self._started = True
        return self._pool.schedule(function, args=args, timeout=self._timeout)

    async def analyse(
        self, body: bytes, url: str, encoding: str | None, *, fetched_on: date | None = None
    ) -> tuple[Article, str]:
        """The article and its extractive summary; ExtractTimeout when the page is too costly."""
        return await self._costly(analyse_page, (body, url, encoding, fetched_on), "extraction", ExtractTimeout)

    async def analyse_post(
        self, body: bytes, final_url: str, encoding: str | None, post: PostAddress
    ) -> tuple[Article, str]:
        """A Telegram channel post read from its preview page, and its extractive summary."""
        return await self._costly(analyse_post, (body, final_url, encoding, post), "reading the post", ExtractTimeout)

    async def read_feed(self, body: bytes, url: str, content_type: str) -> Document:
        """A fetched feed address read in a worker (a large feed takes seconds of CPU); FeedTooCostly
        when it passes the deadline or the memory limit."""
        return await self._costly(read_document, (body, url, content_type), "reading the feed", FeedTooCostly)

    async def _costly(self, function: Callable[..., T], args: tuple[Any, ...], what: str,
                      failure: type[Exception]) -> T:
        """`function(*args)` in a worker; `failure`, naming `what`, when it passes the deadline or
        the memory limit (the worker is then replaced)."""
        future = await self._schedule(function, args)
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            raise failure(f"{what} took longer than {self._timeout:g} s and was stopped") from None
        except MemoryError:
            raise failure(f"{what} needed too much memory and was stopped") from None
        except ProcessExpired as error:
            raise failure(f"{what} was stopped ({error})") from None
        except asyncio.CancelledError:
            future.cancel()
            raise

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Any picklable function of the workers' own (a benchmark's, a check's), with the deadline;
        concurrent.futures.TimeoutError when it passes it."""
        return await asyncio.wrap_future(await self._schedule(function, args))

    async def worker_state(self) -> WorkerState:
        """What the worker that takes this question says about itself."""
        return await asyncio.wrap_future(await self._schedule(worker_state))

    async def aclose(self) -> None:
        if self._start is not None:
            with contextlib.suppress(Exception):  # a pool that never started has nothing to stop but this
                await self._start
        self._pool.stop()
        await asyncio.to_thread(self._pool.join, 10)

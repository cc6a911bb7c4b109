"""The pool of worker processes that runs extraction and the extractive summary.

Extraction is CPU-heavy and, on pathological pages, unbounded: trafilatura has been seen to take
43 s and nearly 800 MB on one page of links. Each page therefore runs in a worker process with a
deadline (pebble kills the worker and starts a fresh one when it passes) and an address-space
limit, so one page can neither stall the bot nor swell it, and every core is used.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import date

from pebble import ProcessExpired, ProcessPool

from bot.pipeline.errors import ExtractTimeout
from bot.pipeline.extract import extract_article
from bot.pipeline.feeds import Document, FeedTooCostly, read_document
from bot.pipeline.models import Article
from bot.pipeline.pdf import extract_pdf, is_pdf
from bot.pipeline.summarise import summarise_extractive
from bot.pipeline.tgpost import PostAddress, read_post


def analyse_page(
    body: bytes, url: str, encoding: str | None, fetched_on: date | None
) -> tuple[Article, str]:
    """Extract the article from a page (or a PDF) and summarise it (runs inside a worker process)."""
    if is_pdf(body):
        article = extract_pdf(body, url, fetched_on=fetched_on)
    else:
        article = extract_article(body, url, encoding, fetched_on=fetched_on)
    return article, summarise_extractive(article.text)  # the text no longer repeats the headline


def analyse_post(body: bytes, final_url: str, encoding: str | None, post: PostAddress) -> tuple[Article, str]:
    """Read a Telegram channel post from its preview page and summarise it (runs inside a worker process)."""
    article = read_post(body, final_url, encoding, post)
    return article, summarise_extractive(article.text)


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this platform: the deadline still holds
        pass


class WorkerPool:
    """A few worker processes; `await pool.analyse(...)` runs one page with a deadline."""

    def __init__(self, *, workers: int, timeout: float, memory_mb: int) -> None:
        self._timeout = timeout
        self._pool = ProcessPool(
            max_workers=workers,
            max_tasks=200,  # recycle workers now and then so a slow leak cannot accumulate
            initializer=_limit_memory,
            initargs=(memory_mb,),
            context=multiprocessing.get_context("spawn"),
        )

    async def analyse(
        self, body: bytes, url: str, encoding: str | None, *, fetched_on: date | None = None
    ) -> tuple[Article, str]:
        """The article and its extractive summary; ExtractTimeout when the page is too costly."""
        future = self._pool.schedule(
            analyse_page, args=(body, url, encoding, fetched_on), timeout=self._timeout
        )
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            raise ExtractTimeout(
                f"extraction took longer than {self._timeout:g} s and was stopped"
            ) from None
        except MemoryError:
            raise ExtractTimeout("extraction needed too much memory and was stopped") from None
        except ProcessExpired as error:
            raise ExtractTimeout(f"extraction was stopped ({error})") from None
        except asyncio.CancelledError:
            future.cancel()
            raise

    async def analyse_post(
        self, body: bytes, final_url: str, encoding: str | None, post: PostAddress
    ) -> tuple[Article, str]:
        """A Telegram channel post read from its preview page, and its extractive summary."""
        future = self._pool.schedule(analyse_post, args=(body, final_url, encoding, post), timeout=self._timeout)
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            raise ExtractTimeout(f"reading the post took longer than {self._timeout:g} s and was stopped") from None
        except (MemoryError, ProcessExpired) as error:
            raise ExtractTimeout(f"reading the post was stopped ({type(error).__name__})") from None
        except asyncio.CancelledError:
            future.cancel()
            raise

    async def read_feed(self, body: bytes, url: str, content_type: str) -> Document:
        """A fetched feed address read in a worker (a large feed takes seconds of CPU); FeedTooCostly
        when it passes the deadline or the memory limit."""
        future = self._pool.schedule(read_document, args=(body, url, content_type), timeout=self._timeout)
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            raise FeedTooCostly(f"reading the feed took longer than {self._timeout:g} s") from None
        except (MemoryError, ProcessExpired) as error:
            raise FeedTooCostly(f"reading the feed was stopped ({type(error).__name__})") from None
        except asyncio.CancelledError:
            future.cancel()
            raise

    async def aclose(self) -> None:
        self._pool.stop()
        await asyncio.to_thread(self._pool.join, 10)

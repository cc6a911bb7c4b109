"""The worker pool: workers start warm, are replaced after a number of pages or past a memory
limit, and no page is lost when they are. Real worker processes throughout; timings are left to
bench/throughput.py."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import AsyncIterator

import pytest

from bot.pipeline.workers import WorkerPool, resident_mb
from tests.support.articles import english_article, ukrainian_article

FORK_SERVER = "forkserver" in multiprocessing.get_all_start_methods()


@pytest.fixture
async def one_worker_pool() -> AsyncIterator[WorkerPool]:
    pool = WorkerPool(workers=1, timeout=30, memory_mb=1024, pages_per_worker=2)
    yield pool
    await pool.aclose()


async def read(pool: WorkerPool, n: int) -> str:
    article, _summary = await pool.analyse(english_article(title=f"Page {n}").encode(), f"https://example.org/{n}", "utf-8")
    return article.title


async def test_a_worker_is_replaced_after_its_number_of_pages(one_worker_pool: WorkerPool) -> None:
    first = await one_worker_pool.worker_state()
    assert await read(one_worker_pool, 1) == "Page 1"
    same = await one_worker_pool.worker_state()
    assert await read(one_worker_pool, 2) == "Page 2"
    second = await one_worker_pool.worker_state()
    assert await read(one_worker_pool, 3) == "Page 3"
    assert await read(one_worker_pool, 4) == "Page 4"
    third = await one_worker_pool.worker_state()
    assert first.pid == same.pid != second.pid != third.pid != first.pid
    assert [first.pages_served, same.pages_served, second.pages_served, third.pages_served] == [0, 1, 0, 0]


async def test_every_worker_starts_warm_and_is_warmed_once(one_worker_pool: WorkerPool) -> None:
    states = []
    for n in range(3):  # three workers, one after another
        states.append(await one_worker_pool.worker_state())
        await read(one_worker_pool, 2 * n)
        await read(one_worker_pool, 2 * n + 1)
    assert len({state.pid for state in states}) == 3
    assert {state.warm_ups for state in states} == {1}
    if FORK_SERVER:
        # warmed once, in the fork server, before any worker existed; none of them warmed again
        assert len({state.warmed_in for state in states}) == 1
        assert all(state.warmed_in not in {state.pid, os.getpid()} for state in states)
    else:
        assert all(state.warmed_in == state.pid for state in states)


async def test_a_worker_past_its_memory_limit_is_replaced_after_each_page() -> None:
    # every worker is past 1 MB: each one reads one page, returns it, and is replaced
    pool = WorkerPool(workers=1, timeout=30, memory_mb=1024, worker_rss_mb=1)
    try:
        states, titles = [], []
        for n in range(3):
            states.append(await pool.worker_state())
            titles.append(await read(pool, n))
    finally:
        await pool.aclose()
    assert len({state.pid for state in states}) == 3
    assert all(state.pages_served == 0 and state.rss_mb > 1 for state in states)
    assert titles == ["Page 0", "Page 1", "Page 2"]


async def test_a_worker_under_its_memory_limit_keeps_going() -> None:
    pool = WorkerPool(workers=1, timeout=30, memory_mb=1024, worker_rss_mb=100_000)
    try:
        states = []
        for n in range(3):
            await read(pool, n)
            states.append(await pool.worker_state())
    finally:
        await pool.aclose()
    assert len({state.pid for state in states}) == 1
    assert [state.pages_served for state in states] == [1, 2, 3]


async def test_no_page_is_lost_while_workers_are_replaced() -> None:
    pool = WorkerPool(workers=2, timeout=30, memory_mb=1024, pages_per_worker=2)
    pages = [english_article(title=f"English story {n}") if n % 2 else ukrainian_article(title=f"Українська історія {n}")
             for n in range(9)]
    try:
        results = await asyncio.gather(*(pool.analyse(page.encode(), f"https://example.org/{n}", "utf-8")
                                         for n, page in enumerate(pages)))
    finally:
        await pool.aclose()
    assert [article.title for article, _ in results] == [
        f"English story {n}" if n % 2 else f"Українська історія {n}" for n in range(9)
    ]
    assert all(summary for _, summary in results)


def test_resident_memory_is_read_for_this_process() -> None:
    before = resident_mb()
    ballast = bytearray(64 * 2**20)
    ballast[:: 4096] = b"x" * len(ballast[:: 4096])  # touch every page so it is resident
    assert resident_mb() >= before + 50
    del ballast


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
    pool = WorkerPool(workers=1, timeout=30, memory_mb=1024, pages_per_worker=3)
    yield pool
    await pool.aclose()


async def test_a_worker_is_replaced_after_its_number_of_pages(one_worker_pool: WorkerPool) -> None:
    states = [await one_worker_pool.worker_state() for _ in range(7)]
    pids = [state.pid for state in states]
    assert pids[0] == pids[1] == pids[2]
    assert pids[3] == pids[4] == pids[5] != pids[0]
    assert pids[6] not in {pids[0], pids[3]}
    assert [state.pages_served for state in states] == [0, 1, 2, 0, 1, 2, 0]


async def test_every_worker_starts_warm_and_is_warmed_once(one_worker_pool: WorkerPool) -> None:
    states = [await one_worker_pool.worker_state() for _ in range(7)]  # three workers, one after another
    assert {state.warm_ups for state in states} == {1}
    if FORK_SERVER:
        # warmed once, in the fork server, before any worker existed; none of them warmed again
        assert len({state.warmed_in for state in states}) == 1
        assert all(state.warmed_in not in {state.pid, os.getpid()} for state in states)
    else:
        assert all(state.warmed_in == state.pid for state in states)


async def test_a_worker_past_its_memory_limit_is_replaced_after_the_page() -> None:
    # every worker is past 1 MB: each one reads one page, returns it, and is replaced
    pool = WorkerPool(workers=1, timeout=30, memory_mb=1024, worker_rss_mb=1)
    try:
        states = [await pool.worker_state() for _ in range(3)]
        articles = [await pool.analyse(english_article(title=f"Page {n}").encode(), f"https://example.org/{n}", "utf-8")
                    for n in range(2)]
        after = await pool.worker_state()
    finally:
        await pool.aclose()
    assert len({state.pid for state in [*states, after]}) == 4
    assert all(state.pages_served == 0 and state.rss_mb > 1 for state in states)
    assert [article.title for article, _summary in articles] == ["Page 0", "Page 1"]


async def test_a_worker_under_its_memory_limit_keeps_going() -> None:
    pool = WorkerPool(workers=1, timeout=30, memory_mb=1024, worker_rss_mb=100_000)
    try:
        states = [await pool.worker_state() for _ in range(3)]
    finally:
        await pool.aclose()
    assert len({state.pid for state in states}) == 1


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

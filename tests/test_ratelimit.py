"""The flood limiter on its own: replies ahead of bulk output, the reserve, 429s and what is counted.

The limiter is called exactly as PTB's ExtBot calls it; the callbacks stand in for the HTTP call
and record when they ran (what they would send is of no interest here). Rates are fast so the
tests take a fraction of a second; timing margins are wide because the machine is shared.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.telegram.ratelimit import FloodLimiter, Lane, Rate, Window

GROUP, OTHER_GROUP, PRIVATE = -100500, -100600, 501
FAST = Rate(capacity=100, per_second=1000)
"""A rate that never limits, to study another alone."""
WIDE = Window(calls=1000, seconds=0.001)
"""A per-chat window that never limits."""


class Calls:
    """Callbacks that record when and in which order they ran."""

    def __init__(self) -> None:
        self.done: list[tuple[str, float]] = []
        self.started = time.monotonic()

    def callback(self, name: str, *, fail_first: int = 0):
        failures = {"left": fail_first}

        async def call() -> dict[str, Any]:
            if failures["left"]:
                failures["left"] -= 1
                raise RetryAfter(timedelta(seconds=1))
            self.done.append((name, time.monotonic() - self.started))
            return {"ok": True}

        return call

    def names(self) -> list[str]:
        return [name for name, _ in self.done]

    def at(self, name: str) -> float:
        return dict(self.done)[name]


async def send(limiter: FloodLimiter, calls: Calls, name: str, *, chat_id: int | str = GROUP,
               lane: Lane | None = None, endpoint: str = "sendMessage", fail_first: int = 0) -> Any:
    return await limiter.process_request(calls.callback(name, fail_first=fail_first), (), {}, endpoint,
                                         {"chat_id": chat_id, "text": name}, lane)


async def test_a_reply_jumps_the_queue_of_bulk_output() -> None:
    limiter = FloodLimiter(per_chat=WIDE, per_group=Rate(capacity=4, per_second=5, reserve=1))
    calls = Calls()
    bulk = [asyncio.create_task(send(limiter, calls, f"card {n}", lane=Lane.BULK)) for n in range(12)]
    await asyncio.sleep(0.05)  # the burst has gone out; the rest of the cards queue
    asked = time.monotonic() - calls.started
    await send(limiter, calls, "/latest")
    await asyncio.gather(*bulk)
    names = calls.names()
    assert names[:3] == ["card 0", "card 1", "card 2"]  # the burst, less the reserve
    assert names.index("/latest") == 3  # straight after it, ahead of nine waiting cards
    assert calls.at("/latest") - asked < 0.15
    assert names[4:] == [f"card {n}" for n in range(3, 12)]  # the cards keep their order


async def test_bulk_output_never_takes_the_reserve_and_drains_at_the_rate() -> None:
    limiter = FloodLimiter(per_chat=WIDE, per_group=Rate(capacity=5, per_second=10, reserve=2))
    calls = Calls()
    await asyncio.gather(*(send(limiter, calls, f"card {n}", lane=Lane.BULK) for n in range(13)))
    times = [t for _, t in calls.done]
    assert len([t for t in times if t < 0.05]) == 3  # capacity 5 less a reserve of 2
    assert times[-1] >= 0.9  # ten more at ten a second
    replies = Calls()
    await asyncio.gather(*(send(limiter, replies, f"reply {n}") for n in range(2)))
    assert all(t < 0.1 for _, t in replies.done)  # the reserve was there for them


async def test_no_more_than_the_window_allows_in_any_chat_and_bulk_leaves_a_place() -> None:
    limiter = FloodLimiter(per_chat=Window(calls=2, seconds=0.2, reserve=1), per_group=FAST)
    calls = Calls()
    await asyncio.gather(*(send(limiter, calls, f"message {n}", chat_id=PRIVATE) for n in range(6)))
    times = [t for _, t in calls.done]
    assert all(later - earlier >= 0.18 for earlier, later in zip(times, times[2:], strict=False))  # 2 a 0.2 s
    assert len([t for t in times if t < 0.05]) == 2 and times[-1] >= 0.4
    bulk = Calls()
    await asyncio.gather(*(send(limiter, bulk, f"card {n}", chat_id=GROUP, lane=Lane.BULK) for n in range(4)))
    cards = [t for _, t in bulk.done]
    assert all(later - earlier >= 0.18 for earlier, later in itertools.pairwise(cards))  # one place kept


async def test_a_429_pauses_that_chat_only_and_the_call_is_retried() -> None:
    limiter = FloodLimiter(per_chat=WIDE, per_group=FAST)
    calls = Calls()
    flooded = asyncio.create_task(send(limiter, calls, "flooded", fail_first=1))
    await asyncio.sleep(0.05)
    await send(limiter, calls, "other chat", chat_id=OTHER_GROUP)
    waiting = asyncio.create_task(send(limiter, calls, "same chat"))
    assert await flooded == {"ok": True}
    await waiting
    assert calls.at("other chat") < 0.5  # not held up by the other chat's 429
    assert calls.at("flooded") >= 1.0 and calls.at("same chat") >= 1.0


async def test_after_its_retries_a_429_is_raised() -> None:
    limiter = FloodLimiter(per_chat=WIDE, per_group=FAST, max_retries=0)
    with pytest.raises(RetryAfter):
        await send(limiter, Calls(), "flooded", fail_first=1)


@pytest.mark.parametrize("endpoint", ["getChatMember", "answerCallbackQuery", "sendChatAction", "getChat"])
async def test_calls_that_post_nothing_are_not_held(endpoint: str) -> None:
    limiter = FloodLimiter(per_chat=Window(calls=1, seconds=100), per_group=FAST)
    calls = Calls()
    await send(limiter, calls, "the only message")
    await asyncio.wait_for(send(limiter, calls, endpoint, endpoint=endpoint), timeout=1)


async def test_edits_and_documents_count_like_messages() -> None:
    limiter = FloodLimiter(per_chat=Window(calls=1, seconds=100), per_group=FAST)
    calls = Calls()
    await send(limiter, calls, "first", endpoint="editMessageText")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(send(limiter, calls, "second", endpoint="sendDocument"), timeout=0.3)


async def test_a_caller_that_gives_up_leaves_its_place_to_the_next() -> None:
    limiter = FloodLimiter(per_chat=WIDE, per_group=Rate(capacity=1, per_second=4))
    calls = Calls()
    await send(limiter, calls, "first")
    impatient = asyncio.create_task(send(limiter, calls, "impatient"))
    await asyncio.sleep(0.05)
    impatient.cancel()
    await send(limiter, calls, "patient")
    assert calls.names() == ["first", "patient"]
    assert calls.at("patient") < 0.6


async def test_channel_usernames_and_many_chats() -> None:
    limiter = FloodLimiter(per_chat=WIDE, per_group=Rate(capacity=1, per_second=0.01),
                           overall=Rate(capacity=10_000, per_second=1e6))
    calls = Calls()
    await send(limiter, calls, "@desk", chat_id="@desk")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(send(limiter, calls, "@desk again", chat_id="@desk"), timeout=0.2)
    await asyncio.wait_for(asyncio.gather(*(send(limiter, calls, f"chat {n}", chat_id=-n - 1) for n in range(2500))),
                           timeout=10)
    assert len(calls.done) == 2501

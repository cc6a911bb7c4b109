"""Telegram's flood limits, with answers to commands ahead of bulk output.

Telegram lets a bot post about 30 messages a second in all, about one a second into any one chat
(short bursts allowed) and 20 a minute into one group or channel; past that it answers 429 and
makes the chat wait. PTB's AIORateLimiter queues every request to a group in one line, so after a
member's flood of cards an administrator's /latest waited minutes behind them. Here every chat has
its limits (a sliding `Window` of calls a second, and a `Rate` of 20 a minute for a group) and two
lanes:

- `Lane.REPLY` (the default): answers to commands and button presses, served first;
- `Lane.BULK`: cards, progress edits, a batch's list of links, digests. They go only while each
  limit keeps its `reserve` for replies, so an answer to a command finds room at once while the
  bulk drains at nearly the chat's full rate.

Only calls that put something in a chat (send*, edit*, copy and forward) are counted; reading
calls such as getChatMember pass straight through. A 429 pauses just the chat it was for, for the
time Telegram asks, and the call is tried again (at most `max_retries` times).

The buckets live in this process. Replicas sharing one bot token (on PostgreSQL) also take the
overall limit's tokens from a bucket on the server (`share_overall`), so together they keep the
bot's ~30 a second. A chat's cards are delivered by one replica at a time (its turn), but an
answer to a command or the day's digest may come from another at the same moment and pass the
chat's limit: Telegram's 429 then pauses that chat here and the call is tried again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
SharedBucket = Callable[[float, float], Awaitable[float]]
"""Takes a token from a bucket shared by every replica (capacity, per second): seconds to wait."""


class Lane(IntEnum):
    """How urgent a call is: passed to the bot's methods as `rate_limit_args`."""

    REPLY = 0
    BULK = 1


@dataclass(frozen=True)
class Rate:
    """A token bucket: `capacity` calls at once, refilled at `per_second`; BULK calls leave
    `reserve` tokens for replies."""

    capacity: float
    per_second: float
    reserve: float = 0.0


@dataclass(frozen=True)
class Window:
    """At most `calls` in any `seconds`; BULK calls leave `reserve` of them for replies."""

    calls: int
    seconds: float
    reserve: int = 0


PER_CHAT = Window(calls=2, seconds=1.1, reserve=1)
"""Telegram: about one message a second in one chat, short bursts allowed (a tenth of a second
more for the time a call takes to reach it)."""
PER_GROUP = Rate(capacity=20, per_second=20 / 60, reserve=3)
"""Telegram: no more than 20 messages a minute in one group or channel."""
OVERALL = Rate(capacity=30, per_second=30.0, reserve=3)
"""Telegram: about 30 messages a second across all chats."""
COUNTED_PREFIXES = ("send", "edit", "copymessage", "forwardmessage")
NOT_COUNTED = frozenset({"sendchataction"})
BUCKETS_BEFORE_SWEEP = 1000
"""Buckets kept before the idle ones (full, nobody waiting) are dropped."""


class _Bucket:
    """One chat's limits (token buckets and a sliding window, all to be met) and its waiters in
    two lanes, REPLY first."""

    def __init__(self, rates: tuple[Rate, ...], window: Window | None = None, *,
                 clock: Callable[[], float]) -> None:
        self.rates = rates
        self.window = window
        self.tokens = [rate.capacity for rate in rates]
        self.paused_until = 0.0
        self._clock = clock
        self._updated = clock()
        self._recent: deque[float] = deque()
        """When the calls within the window were let through."""
        self._lanes: dict[Lane, deque[asyncio.Future[None]]] = {lane: deque() for lane in Lane}
        self._timer: asyncio.TimerHandle | None = None

    @property
    def idle(self) -> bool:
        self._refill()
        return all(t >= r.capacity for t, r in zip(self.tokens, self.rates, strict=True)) and \
            not self._recent and not any(self._lanes.values())

    async def take(self, lane: Lane) -> None:
        """Wait until a call in `lane` may go."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._lanes[lane].append(future)
        self._serve()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # let through, but the caller went away first
                self.tokens = [t + 1 for t in self.tokens]
                if self._recent:
                    self._recent.pop()
            self._serve()
            raise

    def pause(self, seconds: float) -> None:
        """Telegram asked this chat to wait: nothing goes until then."""
        self.paused_until = max(self.paused_until, self._clock() + seconds)
        self._serve()

    def _refill(self) -> None:
        now = self._clock()
        elapsed, self._updated = now - self._updated, now
        self.tokens = [min(r.capacity, t + elapsed * r.per_second)
                       for t, r in zip(self.tokens, self.rates, strict=True)]
        if self.window is not None:
            while self._recent and self._recent[0] <= now - self.window.seconds:
                self._recent.popleft()

    def _wait_for(self, lane: Lane) -> float:
        """Seconds until a call in `lane` may go (0 when it may now)."""
        bulk = lane == Lane.BULK
        waits = [(1 + (r.reserve if bulk else 0) - t) / r.per_second
                 for t, r in zip(self.tokens, self.rates, strict=True)]
        if self.window is not None:
            allowed = self.window.calls - (self.window.reserve if bulk else 0)
            if len(self._recent) >= allowed:
                oldest_to_go = self._recent[len(self._recent) - allowed]
                waits.append(oldest_to_go + self.window.seconds - self._clock())
        return max([0.0, *waits])

    def _serve(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._refill()
        for queue in self._lanes.values():
            while queue and queue[0].done():  # cancelled while waiting
                queue.popleft()
        reply, bulk = self._lanes[Lane.REPLY], self._lanes[Lane.BULK]
        paused = self._clock() < self.paused_until
        while not paused and reply and self._wait_for(Lane.REPLY) == 0:
            self._give(reply)
        while not paused and not reply and bulk and self._wait_for(Lane.BULK) == 0:
            self._give(bulk)
        if reply or bulk:
            wait = max(self._wait_for(Lane.REPLY if reply else Lane.BULK), self.paused_until - self._clock(), 0.001)
            self._timer = asyncio.get_running_loop().call_later(wait, self._serve)

    def _give(self, queue: deque[asyncio.Future[None]]) -> None:
        future = queue.popleft()
        if not future.done():
            self.tokens = [t - 1 for t in self.tokens]
            if self.window is not None:
                self._recent.append(self._clock())
            future.set_result(None)


class FloodLimiter(BaseRateLimiter[Lane]):
    """Per-chat and overall token buckets with a REPLY lane ahead of a BULK lane."""

    def __init__(
        self,
        *,
        per_chat: Window = PER_CHAT,
        per_group: Rate = PER_GROUP,
        overall: Rate = OVERALL,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Every chat is held to `per_chat`; a group or channel to `per_group` as well."""
        self._per_chat = per_chat
        self._per_group = per_group
        self._overall = _Bucket((overall,), clock=clock)
        self._max_retries = max_retries
        self._clock = clock
        self._chats: dict[int | str, _Bucket] = {}
        self._sweep_at = BUCKETS_BEFORE_SWEEP
        self._overall_rate = overall
        self._shared: SharedBucket | None = None

    def share_overall(self, take: SharedBucket) -> None:
        """Take the overall limit's tokens from `take` as well (a bucket every replica shares:
        called with the capacity and rate, it answers the seconds to wait)."""
        self._shared = take

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Lane | None,
    ) -> JSONResult:
        chat_id = data.get("chat_id")
        if chat_id is None or not _counted(endpoint):
            return await callback(*args, **kwargs)
        lane = Lane.REPLY if rate_limit_args is None else rate_limit_args
        bucket = self._bucket(chat_id)
        for attempt in range(self._max_retries + 1):
            await bucket.take(lane)
            await self._overall.take(lane)
            await self._take_shared()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == self._max_retries:
                    raise
                seconds = _seconds(error.retry_after) + 0.1
                log.info("Telegram asked chat %s to wait %.1f s (%s)", chat_id, seconds, endpoint)
                bucket.pause(seconds)
        raise AssertionError("unreachable")

    async def _take_shared(self) -> None:
        if self._shared is None:
            return
        wait = await self._shared(self._overall_rate.capacity, self._overall_rate.per_second)
        if wait > 0:
            await asyncio.sleep(wait)

    def _bucket(self, chat_id: object) -> _Bucket:
        key: int | str
        try:
            key = int(chat_id)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            key = str(chat_id)  # "@channelname"
        bucket = self._chats.get(key)
        if bucket is None:
            if len(self._chats) >= self._sweep_at:
                for old in [k for k, b in self._chats.items() if b.idle]:
                    del self._chats[old]
                self._sweep_at = max(BUCKETS_BEFORE_SWEEP, 2 * len(self._chats))
            is_group = isinstance(key, str) or key < 0
            bucket = _Bucket((self._per_group,) if is_group else (), self._per_chat, clock=self._clock)
            self._chats[key] = bucket
        return bucket


def _counted(endpoint: str) -> bool:
    name = endpoint.lower()
    return name.startswith(COUNTED_PREFIXES) and name not in NOT_COUNTED


def _seconds(retry_after: int | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)

"""Leases: which process works on a pending link, and which bot process delivers a chat's outbox.

A process claims pending links (`claim_pending`, `claim_item`) for a while (`lease`), renews its
leases while it works on them (`renew`) and lets go when it stops (`release`); storing the link's
outcome (mark_done, mark_failed) ends the lease too. A process that dies keeps its leases only
until they expire: then another claims the link and finishes it. On PostgreSQL the claim reads
with FOR UPDATE SKIP LOCKED, so processes claiming at once take different links without waiting
for each other; on SQLite one process owns the file and the same statement runs without it.

A chat's turn (`take_chat_turn`) is the same kind of lease on a chat's outbox: one bot process
delivers a chat's messages at a time, so they keep their order and one process paces the chat.

`chat_lock` is a short lock on one chat's step (its submissions, placing an item in a story): an
asyncio lock in the process, and on PostgreSQL then an advisory lock across processes. The
advisory lock is tried (pg_try_advisory_lock) rather than waited for: the process's one shared
connection blocked in pg_advisory_lock would stop every other task of the process, including the
one that holds a lock another process is waiting for.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

from storage.base import Store, iso, item_of
from storage.errors import StorageUnavailable
from storage.models import Item

ADVISORY_RETRY_SECONDS = 0.02
"""How often a chat lock another process holds is tried again."""


def advisory_key(purpose: str, chat_id: int) -> int:
    """The 64-bit key of one chat's lock for one purpose, the same in every process."""
    digest = hashlib.blake2b(f"newsdesk:{purpose}:{chat_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class LeaseStore(Store):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._chat_locks: dict[tuple[str, int], asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def chat_lock(self, purpose: str, chat_id: int) -> AsyncIterator[None]:
        """Held while one task, in any process sharing the database, does `purpose` for the chat."""
        async with self._chat_locks.setdefault((purpose, chat_id), asyncio.Lock()):
            if not self.shares_work:
                yield
                return
            key = advisory_key(purpose, chat_id)
            while True:
                taken = await self._fetchone("SELECT pg_try_advisory_lock(?)", (key,))
                if taken is not None and taken[0]:
                    break
                await asyncio.sleep(ADVISORY_RETRY_SECONDS)
            try:
                yield
            finally:
                with contextlib.suppress(StorageUnavailable):
                    await self._fetchone("SELECT pg_advisory_unlock(?)", (key,))

    @property
    def shares_work(self) -> bool:
        """Whether other processes may work on this database at once (PostgreSQL): then a link is
        claimed before it is processed. SQLite's file belongs to one process (DatabaseLock)."""
        return self._dialect == "postgresql"

    async def claim_pending(self, owner: str, lease: timedelta, *, limit: int) -> list[Item]:
        """Take up to `limit` pending links nobody holds (or whose holder's lease expired), oldest
        first, for `lease`; the links taken."""
        now = self._clock()
        skip_locked = " FOR UPDATE SKIP LOCKED" if self._dialect == "postgresql" else ""
        rows = await self._write_returning(
            f"""UPDATE items SET lease_owner = ?, lease_until = ?
                WHERE id IN (SELECT id FROM items WHERE status = 'pending'
                                 AND (lease_until IS NULL OR lease_until < ?)
                             ORDER BY id LIMIT ?{skip_locked})
                RETURNING *""",
            (owner, iso(now + lease), iso(now), limit))
        return sorted((item_of(row) for row in rows), key=lambda item: item.id)

    async def pending_held_elsewhere(self, owner: str) -> int:
        """How many pending links another process holds now: they end there, or their lease runs
        out and they can be claimed again."""
        row = await self._fetchone(
            "SELECT count(*) FROM items WHERE status = 'pending' AND lease_until >= ? AND lease_owner <> ?",
            (iso(self._clock()), owner))
        return int(row[0]) if row else 0

    async def claim_item(self, item_id: int, owner: str, lease: timedelta) -> bool:
        """Take one pending link for `lease` unless another process holds it; True when `owner`
        holds it now (taking it again is renewing it)."""
        now = self._clock()
        return await self._write(
            """UPDATE items SET lease_owner = ?, lease_until = ?
               WHERE id = ? AND status = 'pending'
                 AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?)""",
            (owner, iso(now + lease), item_id, iso(now), owner)) == 1

    async def renew(self, owner: str, item_ids: Sequence[int], lease: timedelta) -> int:
        """Extend `owner`'s leases on these links; how many it still held."""
        if not item_ids:
            return 0
        marks = ", ".join("?" * len(item_ids))
        return await self._write(
            f"UPDATE items SET lease_until = ? WHERE lease_owner = ? AND status = 'pending' AND id IN ({marks})",
            (iso(self._clock() + lease), owner, *item_ids))

    async def release(self, owner: str, item_ids: Sequence[int] | None = None) -> int:
        """Let go of `owner`'s leases (on these links, or all of them): others may take them now."""
        if item_ids is not None and not item_ids:
            return 0
        sql = "UPDATE items SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?"
        params: tuple[object, ...] = (owner,)
        if item_ids is not None:
            sql += f" AND id IN ({', '.join('?' * len(item_ids))})"
            params += tuple(item_ids)
        return await self._write(sql, params)

    async def take_chat_turn(self, chat_id: int, owner: str, lease: timedelta) -> bool:
        """Hold (or keep holding) the turn to deliver a chat's outbox for `lease`; False while
        another process holds it."""
        now = self._clock()
        return await self._write(
            """INSERT INTO chat_turns (chat_id, owner, until) VALUES (?, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET owner = excluded.owner, until = excluded.until
               WHERE chat_turns.owner = excluded.owner OR chat_turns.until < ?""",
            (chat_id, owner, iso(now + lease), iso(now))) == 1

    async def take_token(self, bucket: str, *, capacity: float, per_second: float) -> float:
        """Take a call's token from a bucket that every process shares (PostgreSQL): the seconds
        the call must wait for its turn, 0 when a token was there. A call past the bucket books
        the next token to come (the bucket goes below zero), so the waits of all processes
        together keep the rate."""
        now = "extract(epoch from clock_timestamp())"
        rows = await self._write_returning(
            f"""INSERT INTO rate_buckets AS b (name, tokens, updated) VALUES (?, ?, {now})
                ON CONFLICT (name) DO UPDATE
                    SET tokens = least(excluded.tokens + 1, b.tokens + ({now} - b.updated) * ?) - 1, updated = {now}
                RETURNING tokens""",
            (bucket, float(capacity) - 1, float(per_second)))
        tokens = float(rows[0][0]) if rows else 0.0
        return max(0.0, -tokens / per_second)

    async def give_up_chat_turns(self, owner: str) -> int:
        """Let go of every chat turn `owner` holds (a bot stopping)."""
        return await self._write("DELETE FROM chat_turns WHERE owner = ?", (owner,))

"""What a chat has submitted recently, for MAX_LINKS_PER_HOUR, and the links it was refused over
that limit and may release later.

New links count through their item's submission time. A failed link posted again counts each
time (it is fetched again); a link the chat already has counts once an hour however often it is
re-posted, so a burst of the same link cannot use up a chat's hour, yet re-posting is not free.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from storage.base import Store, instant, iso, item_of
from storage.models import DeferredLink, Item, LinkAllowance


class IntakeStore(Store):
    async def find_link(self, chat_id: int, canonical_url: str) -> Item | None:
        """The chat's item for a canonical URL, if it has one."""
        row = await self._fetchone(
            "SELECT * FROM items WHERE chat_id = ? AND canonical_url = ?", (chat_id, canonical_url))
        return item_of(row) if row else None

    async def charge_link(self, chat_id: int, item_id: int, *, since: datetime, every_time: bool) -> bool:
        """Count an existing item's link against the chat's hour. With `every_time` (a retry) it
        always counts; otherwise only when neither the item's submission nor a charge for it
        falls after `since`. True when it was counted."""
        now = self._now()
        if every_time:
            await self._write("INSERT INTO link_charges (chat_id, item_id, charged_at) VALUES (?, ?, ?)",
                              (chat_id, item_id, now))
            return True
        added = await self._write(
            """INSERT INTO link_charges (chat_id, item_id, charged_at)
               SELECT ?, ?, ? WHERE NOT EXISTS (
                   SELECT 1 FROM items WHERE id = ? AND submitted_at >= ?)
               AND NOT EXISTS (
                   SELECT 1 FROM link_charges WHERE chat_id = ? AND item_id = ? AND charged_at >= ?)""",
            (chat_id, item_id, now, item_id, iso(since), chat_id, item_id, iso(since)),
        )
        return added == 1

    async def link_allowance(self, chat_id: int, *, since: datetime) -> LinkAllowance:
        """The links counted against the chat since `since`, and the oldest of them."""
        row = await self._fetchone(
            """SELECT count(*) AS used, min(at) AS oldest FROM (
                   SELECT submitted_at AS at FROM items WHERE chat_id = ? AND submitted_at >= ?
                   UNION ALL
                   SELECT charged_at FROM link_charges WHERE chat_id = ? AND charged_at >= ?) AS counted""",
            (chat_id, iso(since), chat_id, iso(since)),
        )
        return LinkAllowance(row["used"], instant(row["oldest"])) if row else LinkAllowance(0)

    async def defer_links(
        self, chat_id: int, urls: Sequence[str], *, keep_at_most: int, submitted_by: int | None = None,
        submitted_by_name: str | None = None, message_id: int | None = None, thread_id: int | None = None,
    ) -> list[str]:
        """Keep links for later, while the chat has fewer than `keep_at_most` waiting; the ones
        kept (a link already waiting is kept once, and counts as kept)."""
        kept: list[str] = []
        for url in urls:
            added = await self._write(
                """INSERT INTO deferred_links (chat_id, url, submitted_by, submitted_by_name, message_id,
                       thread_id, deferred_at)
                   SELECT ?, ?, ?, ?, ?, ?, ?
                   WHERE (SELECT count(*) FROM deferred_links WHERE chat_id = ?) < ?
                   ON CONFLICT (chat_id, url) DO NOTHING""",
                (chat_id, url, submitted_by, submitted_by_name, message_id, thread_id, self._now(),
                 chat_id, keep_at_most),
            )
            if added or await self._fetchone(
                    "SELECT 1 FROM deferred_links WHERE chat_id = ? AND url = ?", (chat_id, url)):
                kept.append(url)
        return kept

    async def deferred_links(self, chat_id: int, *, limit: int = 1000) -> list[DeferredLink]:
        """The chat's links waiting to be released, oldest first."""
        rows = await self._fetchall(
            "SELECT * FROM deferred_links WHERE chat_id = ? ORDER BY id LIMIT ?", (chat_id, limit))
        return [_deferred(row) for row in rows]

    async def count_deferred(self, chat_id: int) -> int:
        row = await self._fetchone("SELECT count(*) FROM deferred_links WHERE chat_id = ?", (chat_id,))
        return row[0] if row else 0

    async def drop_deferred(self, chat_id: int, ids: Sequence[int] | None = None) -> int:
        """Forget the chat's waiting links (those with `ids`, or all); how many were dropped."""
        if ids is None:
            return await self._write("DELETE FROM deferred_links WHERE chat_id = ?", (chat_id,))
        dropped = 0
        for start in range(0, len(ids), 500):
            part = list(ids[start:start + 500])
            dropped += await self._write(
                f"DELETE FROM deferred_links WHERE chat_id = ? AND id IN ({', '.join('?' * len(part))})",
                (chat_id, *part))
        return dropped


def _deferred(row: sqlite3.Row) -> DeferredLink:
    return DeferredLink(
        id=row["id"], chat_id=row["chat_id"], url=row["url"], deferred_at=datetime.fromisoformat(row["deferred_at"]),
        submitted_by=row["submitted_by"], submitted_by_name=row["submitted_by_name"],
        message_id=row["message_id"], thread_id=row["thread_id"],
    )

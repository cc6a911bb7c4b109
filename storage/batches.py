"""Batches: the links of one message processed together, and the bot's status message about them.

The status message's id is recorded as soon as it is sent, with the batch's items, so that after
a crash the next start can edit that very message into the batch's outcome. `finish_batch` is a
claim: only one caller turns a batch's status into its outcome.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence

import psycopg

from storage.base import Store, instant, unavailable_on_fault
from storage.models import Batch, Item


class BatchStore(Store):
    async def open_batch(self, chat_id: int, item_ids: Sequence[int], *, thread_id: int | None = None,
                         reply_to: int | None = None, cards_shown: int = 0) -> Batch:
        """Record the items of one message as a batch not yet finished; the cards of its first
        `cards_shown` links are posted without being asked for."""
        now = self._now()
        with unavailable_on_fault():
            try:
                cursor = await self._run(
                    """INSERT INTO batches (chat_id, thread_id, reply_to, cards_shown, created_at)
                       VALUES (?, ?, ?, ?, ?)""",
                    (chat_id, thread_id, reply_to, cards_shown, now))
                batch_id = cursor.lastrowid
                await self._run_many(
                    "INSERT INTO batch_items (batch_id, item_id, position) VALUES (?, ?, ?)",
                    [(batch_id, item_id, position) for position, item_id in enumerate(item_ids)])
                await self._db.commit()
            except BaseException:
                with contextlib.suppress(sqlite3.Error, psycopg.Error):
                    await self._db.rollback()
                raise
        assert batch_id is not None
        found = await self.batch(batch_id)
        assert found is not None
        return found

    async def set_batch_message(self, batch_id: int, message_id: int) -> None:
        """Note the bot's status message about the batch, once it is sent."""
        await self._write("UPDATE batches SET status_message_id = ? WHERE id = ?", (message_id, batch_id))

    async def batch(self, batch_id: int) -> Batch | None:
        row = await self._fetchone("SELECT * FROM batches WHERE id = ?", (batch_id,))
        return await self._batch(row) if row else None

    async def open_batches(self, *, chat_id: int | None = None) -> list[Batch]:
        """Batches whose status message has not been turned into their outcome, oldest first."""
        rows = await self._fetchall(
            "SELECT * FROM batches WHERE finished_at IS NULL AND (? IS NULL OR chat_id = ?) ORDER BY id",
            (chat_id, chat_id))
        return [await self._batch(row) for row in rows]

    async def batch_items(self, batch_id: int) -> list[Item]:
        """The batch's items as they are now, in the order they were posted."""
        return await self._items(
            """SELECT items.* FROM batch_items JOIN items ON items.id = batch_items.item_id
               WHERE batch_items.batch_id = ? ORDER BY batch_items.position""", (batch_id,))

    async def finish_batch(self, batch_id: int) -> bool:
        """Mark the batch's status as final; False if it already was (someone else finished it)."""
        return await self._write(
            "UPDATE batches SET finished_at = ? WHERE id = ? AND finished_at IS NULL", (self._now(), batch_id)) == 1

    async def claim_cards(self, batch_id: int, *, shown: int, more: int) -> bool:
        """Take the batch's next `more` cards to post, when `shown` were posted so far; False when
        someone else took them first (a second press of the same button)."""
        return await self._write(
            "UPDATE batches SET cards_shown = ? WHERE id = ? AND cards_shown = ?", (shown + more, batch_id, shown)) == 1

    async def _batch(self, row: sqlite3.Row) -> Batch:
        ids = await self._fetchall(
            "SELECT item_id FROM batch_items WHERE batch_id = ? ORDER BY position", (row["id"],))
        created = instant(row["created_at"])
        assert created is not None
        return Batch(
            id=row["id"], chat_id=row["chat_id"], item_ids=tuple(r[0] for r in ids), created_at=created,
            thread_id=row["thread_id"], reply_to=row["reply_to"], status_message_id=row["status_message_id"],
            cards_shown=row["cards_shown"], finished_at=instant(row["finished_at"]),
        )

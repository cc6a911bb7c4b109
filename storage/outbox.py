"""The outbox: what is still to be said in a chat (a feed item's card, a watch alert, a notice
about a feed), written with the change that causes it and delivered by whichever bot process
claims it first. A message is claimed ('sending') just before it is sent and closed as 'sent'
right after, so a crash in between leaves it 'sending': it may have reached the chat, and it is
dropped rather than sent twice. Each row has a dedupe key, so writing it again does nothing.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from storage.base import Store, iso
from storage.models import OutboxKind, OutboxMessage, OutboxStatus


class OutboxStore(Store):
    async def enqueue(self, chat_id: int, kind: OutboxKind, *, dedupe_key: str, thread_id: int | None = None,
                      item_id: int | None = None, payload: dict[str, Any] | None = None,
                      reply_to: int | None = None) -> bool:
        """Write a message to be delivered (with `reply_to`, as an answer to that message of the
        chat); False if one with this key was written before."""
        now = self._now()
        return await self._write(
            """INSERT INTO outbox (chat_id, thread_id, kind, item_id, payload, dedupe_key, created_at, updated_at,
                   reply_to)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING""",
            (chat_id, thread_id, kind, item_id, json.dumps(payload or {}, ensure_ascii=False), dedupe_key, now, now,
             reply_to),
        ) == 1

    async def deliverable(self, *, limit: int = 50) -> list[OutboxMessage]:
        """Waiting messages that can go now: notices, cards and alerts whose item is stored, and the
        answers to posted links that ended (stored or failed)."""
        rows = await self._fetchall(
            """SELECT outbox.* FROM outbox LEFT JOIN items ON items.id = outbox.item_id
               WHERE outbox.status = 'waiting' AND (outbox.item_id IS NULL OR items.status = 'done'
                   OR (outbox.reply_to IS NOT NULL AND items.status = 'failed'))
               ORDER BY outbox.id LIMIT ?""",
            (limit,),
        )
        return [message_of(row) for row in rows]

    async def claim_message(self, message_id: int) -> bool:
        """Take a waiting message for sending now; False if another process took it."""
        return await self._write(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ? "
            "WHERE id = ? AND status = 'waiting'",
            (self._now(), message_id),
        ) == 1

    async def close_message(self, message_id: int, status: OutboxStatus, *, telegram_message_id: int | None = None,
                            error: str | None = None) -> None:
        """After a send: 'sent', 'dropped', or 'waiting' again for a later attempt."""
        await self._write(
            """UPDATE outbox SET status = ?, message_id = coalesce(?, message_id), error = ?, updated_at = ?
               WHERE id = ?""",
            (status, telegram_message_id, error, self._now(), message_id),
        )

    async def drop_stale_messages(self, *, waiting_before: datetime, sending_before: datetime) -> int:
        """Drop what waited too long (its item failed for good, or nobody delivered it in time),
        and claims left by a process that stopped mid-send; how many were dropped."""
        dropped = await self._write(
            """UPDATE outbox SET status = 'dropped', error = 'interrupted while sending; it may not have arrived',
                   updated_at = ? WHERE status = 'sending' AND updated_at < ?""",
            (self._now(), iso(sending_before)),
        )
        dropped += await self._write(
            """UPDATE outbox SET status = 'dropped', error = 'expired', updated_at = ?
               WHERE status = 'waiting' AND created_at < ?""",
            (self._now(), iso(waiting_before)),
        )
        dropped += await self._write(
            """UPDATE outbox SET status = 'dropped', error = 'the link is not to be followed', updated_at = ?
               WHERE status = 'waiting' AND item_id IN (SELECT id FROM items WHERE status = 'failed'
                   AND failure_reason IN ('blocked_address', 'invalid_url'))""",
            (self._now(),),
        )
        return dropped

    async def outbox(self, chat_id: int) -> list[OutboxMessage]:
        """Everything written for a chat, oldest first (for tests and the command line)."""
        rows = await self._fetchall("SELECT * FROM outbox WHERE chat_id = ? ORDER BY id", (chat_id,))
        return [message_of(row) for row in rows]


def message_of(row: sqlite3.Row) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=OutboxKind(row["kind"]),
        status=OutboxStatus(row["status"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        thread_id=row["thread_id"],
        item_id=row["item_id"],
        payload=json.loads(row["payload"] or "{}"),
        attempts=row["attempts"],
        reply_to=row["reply_to"],
    )

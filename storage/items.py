"""Items: a link from the moment it is submitted (pending) to its stored article (done) or the
reason it failed; the lists and counts the chat asks for."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from storage.base import Store, iso, item_of, unavailable_on_fault
from storage.errors import LeaseLost
from storage.models import ArticleRecord, Item, ItemStatus, Stats

_HELD = " AND (CAST(? AS TEXT) IS NULL OR lease_owner = ?)"
"""An outcome's condition: no holder named, or the named one still holds the link's lease."""


def _check_held(changed: int, item_id: int, held_by: str | None) -> None:
    if not changed and held_by is not None:
        raise LeaseLost(f"link {item_id} was taken over by another process")


class ItemStore(Store):
    async def add_link(
        self,
        chat_id: int,
        url: str,
        canonical_url: str,
        *,
        domain: str = "",
        submitted_by: int | None = None,
        submitted_by_name: str | None = None,
        message_id: int | None = None,
        thread_id: int | None = None,
        feed_id: int | None = None,
    ) -> tuple[Item, bool]:
        """Record a submitted link as pending, committed; return it and whether it is new."""
        now = self._now()
        created = await self._write(
            """INSERT INTO items (chat_id, url, canonical_url, domain, status, submitted_by,
                   submitted_by_name, message_id, thread_id, submitted_at, updated_at, feed_id)
               VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (chat_id, canonical_url) DO NOTHING""",
            (chat_id, url, canonical_url, domain, submitted_by, submitted_by_name,
             message_id, thread_id, now, now, feed_id),
        )
        row = await self._fetchone(
            "SELECT * FROM items WHERE chat_id = ? AND canonical_url = ?", (chat_id, canonical_url)
        )
        assert row is not None  # inserted or already there, and items are never deleted
        return item_of(row), created == 1

    async def get(self, item_id: int, *, chat_id: int | None = None) -> Item | None:
        """One item by id; with chat_id, only if it belongs to that chat."""
        if chat_id is None:
            row = await self._fetchone("SELECT * FROM items WHERE id = ?", (item_id,))
        else:
            row = await self._fetchone("SELECT * FROM items WHERE id = ? AND chat_id = ?", (item_id, chat_id))
        return item_of(row) if row else None

    async def mark_done(self, item_id: int, article: ArticleRecord, summary: str, *, final_url: str,
                        held_by: str | None = None) -> Item:
        """Store the article read from `final_url` and its extractive summary; the item becomes `done`.
        With `held_by`, only while that process holds the link's lease (else LeaseLost)."""
        authors = list(article.authors)
        now = self._now()
        stored = await self._write(
            """UPDATE items SET status = 'done', failure_reason = NULL, failure_detail = NULL,
                   attempts = attempts + 1, final_url = ?, title = ?, text = ?, text_hash = ?,
                   authors = ?, authors_text = ?, site_name = ?,
                   source_text = trim(coalesce(?, '') || ' ' || domain),
                   published_date = ?, language = ?, description = ?, summary = ?,
                   summary_language = ?, fetched_at = ?, updated_at = ?,
                   lease_owner = NULL, lease_until = NULL,
                   content_kind = ?, access = ?, page_count = ?, published_at = ?, post_links = ?
               WHERE id = ?""" + _HELD,
            (
                final_url, article.title, article.text, hashlib.sha256(article.text.encode()).hexdigest(),
                json.dumps(authors, ensure_ascii=False), "; ".join(authors), article.site_name,
                article.site_name,
                article.published_date.isoformat() if article.published_date else None,
                article.language, article.description, summary, article.language, now, now,
                article.content_kind, article.access, article.page_count, article.published_at,
                json.dumps(list(article.links), ensure_ascii=False) if article.links else None, item_id,
                held_by, held_by,
            ),
        )
        _check_held(stored, item_id, held_by)
        await self._add_terms((article.title, article.text, "; ".join(authors), article.site_name))
        return await self._require(item_id)

    async def mark_failed(self, item_id: int, *, reason: str, detail: str, held_by: str | None = None) -> Item:
        """Record why a link failed; it can be retried later. `held_by` as for mark_done."""
        now = self._now()
        stored = await self._write(
            """UPDATE items SET status = 'failed', failure_reason = ?, failure_detail = ?,
                   attempts = attempts + 1, fetched_at = ?, updated_at = ?,
                   lease_owner = NULL, lease_until = NULL
               WHERE id = ?""" + _HELD,
            (reason, detail, now, now, item_id, held_by, held_by),
        )
        _check_held(stored, item_id, held_by)
        return await self._require(item_id)

    async def set_translation(
        self, item_id: int, *, language: str, title: str | None, summary: str | None, note: str | None
    ) -> Item:
        """Store the language model's title and summary (or, with none, the reason why not)."""
        await self._write(
            """UPDATE items SET title_translated = ?, summary_translated = ?,
                   translation_language = ?, translation_note = ?, updated_at = ?
               WHERE id = ?""",
            (title, summary, language, note, self._now(), item_id),
        )
        await self._add_terms((title, summary))
        return await self._require(item_id)

    async def retry(self, item_id: int) -> Item:
        """Put a failed link back in the queue."""
        await self._write(
            "UPDATE items SET status = 'pending', lease_owner = NULL, lease_until = NULL, updated_at = ? "
            "WHERE id = ? AND status = 'failed'",
            (self._now(), item_id),
        )
        return await self._require(item_id)

    async def pending(self, *, limit: int = 1000, older_than: datetime | None = None) -> list[Item]:
        """Links not yet processed, oldest first: left by a crash, or queued."""
        if older_than is None:
            return await self._items("SELECT * FROM items WHERE status = 'pending' ORDER BY id LIMIT ?", (limit,))
        return await self._items(
            "SELECT * FROM items WHERE status = 'pending' AND updated_at < ? ORDER BY id LIMIT ?",
            (iso(older_than), limit),
        )

    async def latest(self, chat_id: int, *, limit: int = 10, offset: int = 0, before: int | None = None) -> list[Item]:
        """The chat's most recently submitted stored items; with `before` (an item id), the ones
        listed after that item, read by keyset (as fast at any depth; `offset` walks the index)."""
        if before is None:
            return await self._items(
                """SELECT * FROM items INDEXED BY items_latest WHERE chat_id = ? AND status = 'done'
                   ORDER BY submitted_at DESC, id DESC LIMIT ? OFFSET ?""",
                (chat_id, limit, offset),
            )
        return await self._items(
            """SELECT * FROM items INDEXED BY items_latest WHERE chat_id = ? AND status = 'done'
                   AND (submitted_at, id) < (SELECT submitted_at, id FROM items WHERE id = ?)
               ORDER BY submitted_at DESC, id DESC LIMIT ? OFFSET ?""",
            (chat_id, before, limit, offset),
        )

    async def items_between(self, chat_id: int, start: datetime, end: datetime) -> list[Item]:
        """Stored items submitted in [start, end), oldest first."""
        return await self._items(
            """SELECT * FROM items WHERE chat_id = ? AND status = 'done'
                   AND submitted_at >= ? AND submitted_at < ?
               ORDER BY submitted_at, id""",
            (chat_id, iso(start), iso(end)),
        )

    async def all_items(self, chat_id: int, *, status: ItemStatus | None = None) -> AsyncIterator[Item]:
        """Every item of a chat, oldest first, without holding them all in memory."""
        sql = "SELECT * FROM items WHERE chat_id = ?"
        params: tuple[Any, ...] = (chat_id,)
        if status:
            sql += " AND status = ?"
            params += (status,)
        with unavailable_on_fault():
            async with self._db.execute(sql + " ORDER BY id", params) as cursor:
                async for row in cursor:
                    yield item_of(row)

    async def count_recent_links(self, chat_id: int, *, since: datetime) -> int:
        """Links the chat's people submitted since then (feeds have limits of their own)."""
        row = await self._fetchone(
            "SELECT count(*) FROM items WHERE chat_id = ? AND submitted_at >= ? AND feed_id IS NULL",
            (chat_id, iso(since)),
        )
        return row[0] if row else 0

    async def stats(self, chat_id: int, *, now: datetime | None = None) -> Stats:
        """Counts for /stats: items, sources, failures, and the last seven days. The totals are
        kept as items change (storage/migrations/0009_search.sql); only the week is counted."""
        week_ago = iso((now or self._clock()) - timedelta(days=7))
        counts = {row["status"]: row["n"] for row in await self._fetchall(
            "SELECT status, n FROM chat_counts WHERE chat_id = ?", (chat_id,))}
        sources = await self._fetchone("SELECT count(*) FROM chat_sources WHERE chat_id = ? AND n > 0", (chat_id,))
        top = await self._fetchall(
            """SELECT source, n FROM chat_sources WHERE chat_id = ? AND n > 0
               ORDER BY n DESC, source LIMIT 5""",
            (chat_id,),
        )
        reasons = await self._fetchall(
            """SELECT reason, n FROM chat_failures WHERE chat_id = ? AND n > 0
               ORDER BY n DESC, reason LIMIT 5""",
            (chat_id,),
        )
        days = await self._fetchall(
            """SELECT substr(submitted_at, 1, 10) AS day, count(*) AS n FROM items INDEXED BY items_latest
               WHERE chat_id = ? AND status = 'done' AND submitted_at >= ?
               GROUP BY day ORDER BY day""",
            (chat_id, week_ago),
        )
        return Stats(
            items=counts.get("done", 0), pending=counts.get("pending", 0), failed=counts.get("failed", 0),
            sources=sources[0] if sources else 0, last_7_days=sum(r["n"] for r in days),
            top_sources=tuple((r["source"], r["n"]) for r in top),
            failure_reasons=tuple((r["reason"], r["n"]) for r in reasons),
            per_day=tuple((r["day"], r["n"]) for r in days),
        )

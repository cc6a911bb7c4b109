"""Feeds a chat follows, the state of their polling, and the entries the chat has seen in them.

A poller claims a due feed with a lease (`claim_feed`) before polling it, so several processes
sharing the database never poll the same feed at once; a poller that dies leaves only a lease
that runs out. How a poll writes its entries so that a crash loses and doubles nothing is told
in bot/desk/feeds.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from storage.base import Store, instant, iso
from storage.models import Feed, FeedEntryRecord, FeedMode, FeedStatus

ROWS_PER_INSERT = 200
"""Entries written per INSERT: well under SQLite's limit of bound parameters."""
NOT_FALLEN_BACK = ("blocked_address", "invalid_url")
"""Failures whose feed entry is not kept as the item: the link itself is not to be followed."""


class FeedStore(Store):
    async def add_feed(self, chat_id: int, url: str, *, title: str | None, site_url: str | None, mode: FeedMode,
                       thread_id: int | None, added_by: int | None, interval_seconds: int,
                       next_check_at: datetime) -> tuple[Feed, bool]:
        """Follow a feed in a chat; return it and whether it is new. Following one already followed
        changes its mode and topic and resumes it if it was paused."""
        now = self._now()
        created = await self._write(
            """INSERT INTO feeds (chat_id, url, site_url, title, mode, thread_id, added_by, interval_seconds,
                   next_check_at, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (chat_id, url) DO NOTHING""",
            (chat_id, url, site_url, title, mode, thread_id, added_by, interval_seconds, iso(next_check_at), now, now),
        )
        if not created:
            await self._write(
                """UPDATE feeds SET mode = ?, thread_id = ?, title = coalesce(title, ?),
                       status = 'active', errors = CASE WHEN status = 'paused' THEN 0 ELSE errors END,
                       failing_since = CASE WHEN status = 'paused' THEN NULL ELSE failing_since END,
                       failure_reported_at = CASE WHEN status = 'paused' THEN NULL ELSE failure_reported_at END,
                       next_check_at = CASE WHEN status = 'paused' THEN ? ELSE next_check_at END, updated_at = ?
                   WHERE chat_id = ? AND url = ?""",
                (mode, thread_id, title, iso(next_check_at), now, chat_id, url),
            )
        row = await self._fetchone("SELECT * FROM feeds WHERE chat_id = ? AND url = ?", (chat_id, url))
        assert row is not None
        return feed_of(row), bool(created)

    async def feed(self, feed_id: int, *, chat_id: int | None = None) -> Feed | None:
        row = await self._fetchone("SELECT * FROM feeds WHERE id = ? AND (? IS NULL OR chat_id = ?)",
                                   (feed_id, chat_id, chat_id))
        return feed_of(row) if row else None

    async def feeds(self, chat_id: int | None = None) -> list[Feed]:
        """The chat's feeds (every chat's, with None), in the order they were followed."""
        rows = await self._fetchall("SELECT * FROM feeds WHERE ? IS NULL OR chat_id = ? ORDER BY id",
                                    (chat_id, chat_id))
        return [feed_of(row) for row in rows]

    async def remove_feed(self, feed_id: int, *, chat_id: int | None = None) -> Feed | None:
        """Stop following a feed; the removed feed, or None. Its items stay, and so does the memory
        of its entries, so following it again brings no old entries back."""
        found = await self.feed(feed_id, chat_id=chat_id)
        if found is not None:
            await self._write("DELETE FROM feeds WHERE id = ?", (feed_id,))
        return found

    async def due_feeds(self, now: datetime, *, chat_id: int | None = None, limit: int = 1000) -> list[Feed]:
        """Active feeds whose next check has come and that nobody holds, soonest first."""
        moment = iso(now)
        rows = await self._fetchall(
            """SELECT * FROM feeds WHERE status = 'active' AND next_check_at <= ?
                   AND (claimed_until IS NULL OR claimed_until < ?) AND (? IS NULL OR chat_id = ?)
               ORDER BY next_check_at LIMIT ?""",
            (moment, moment, chat_id, chat_id, limit),
        )
        return [feed_of(row) for row in rows]

    async def claim_feed(self, feed_id: int, *, now: datetime, until: datetime) -> bool:
        """Take a due feed for polling until `until`; False if another poller holds it or it is not due."""
        moment = iso(now)
        return await self._write(
            """UPDATE feeds SET claimed_until = ? WHERE id = ? AND status = 'active' AND next_check_at <= ?
                   AND (claimed_until IS NULL OR claimed_until < ?)""",
            (iso(until), feed_id, moment, moment),
        ) == 1

    async def finish_poll(self, feed_id: int, *, now: datetime, next_check_at: datetime, interval_seconds: int,
                          etag: str | None, last_modified: str | None, title: str | None, got_new: bool) -> None:
        """A poll succeeded (new entries or none, or 304): note it, plan the next one, release the claim."""
        moment = iso(now)
        await self._write(
            """UPDATE feeds SET last_check_at = ?, next_check_at = ?, interval_seconds = ?, etag = ?,
                   last_modified = ?, title = coalesce(?, title), polled_once = 1, errors = 0, last_error = NULL,
                   failing_since = NULL, failure_reported_at = NULL, claimed_until = NULL,
                   last_new_at = CASE WHEN ? = 1 THEN ? ELSE last_new_at END, updated_at = ?
               WHERE id = ?""",
            (moment, iso(next_check_at), interval_seconds, etag, last_modified, title, int(got_new), moment,
             moment, feed_id),
        )

    async def fail_poll(self, feed_id: int, *, now: datetime, error: str, next_check_at: datetime,
                        interval_seconds: int) -> Feed | None:
        """A poll failed: count it, plan the next try, release the claim; the feed as it is now."""
        moment = iso(now)
        await self._write(
            """UPDATE feeds SET last_check_at = ?, next_check_at = ?, interval_seconds = ?, errors = errors + 1,
                   last_error = ?, failing_since = coalesce(failing_since, ?), claimed_until = NULL, updated_at = ?
               WHERE id = ?""",
            (moment, iso(next_check_at), interval_seconds, error[:500], moment, moment, feed_id),
        )
        return await self.feed(feed_id)

    async def note_failure_reported(self, feed_id: int, *, now: datetime) -> bool:
        """Remember that the chat was told the feed is failing; True only the first time."""
        return await self._write(
            "UPDATE feeds SET failure_reported_at = ? WHERE id = ? AND failure_reported_at IS NULL",
            (iso(now), feed_id),
        ) == 1

    async def pause_feed(self, feed_id: int, *, now: datetime) -> bool:
        """Stop polling a feed that has failed for too long; True if it was active."""
        return await self._write(
            """UPDATE feeds SET status = 'paused', claimed_until = NULL, updated_at = ?
               WHERE id = ? AND status = 'active'""",
            (iso(now), feed_id),
        ) == 1

    async def seen_entries(self, chat_id: int, keys: Sequence[str]) -> set[str]:
        """Which of these entry keys the chat has already seen, in any feed."""
        seen: set[str] = set()
        for start in range(0, len(keys), ROWS_PER_INSERT * 4):
            chunk = list(keys[start:start + ROWS_PER_INSERT * 4])
            marks = ", ".join("?" * len(chunk))
            rows = await self._fetchall(
                f"SELECT entry_key FROM feed_entries WHERE chat_id = ? AND entry_key IN ({marks})", [chat_id, *chunk])
            seen.update(row[0] for row in rows)
        return seen

    async def record_entries(self, chat_id: int, feed_id: int, entries: Iterable[FeedEntryRecord], *,
                             item_id: int | None = None) -> None:
        """Remember entries as seen (taken as `item_id`, or passed over with None); those already
        remembered stay as they are."""
        rows: list[tuple[Any, ...]] = [
            (chat_id, entry.entry_key, feed_id, item_id, entry.title, entry.summary, entry.author,
             entry.published.isoformat() if entry.published else None)
            for entry in entries
        ]
        now = self._now()
        for start in range(0, len(rows), ROWS_PER_INSERT):
            chunk = rows[start:start + ROWS_PER_INSERT]
            values = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in chunk)
            await self._write(
                f"""INSERT INTO feed_entries (chat_id, entry_key, feed_id, item_id, title, summary, author,
                        published, seen_at) VALUES {values} ON CONFLICT (chat_id, entry_key) DO NOTHING""",
                [value for row in chunk for value in (*row, now)],
            )

    async def keep_feed_words(self, *, item_ids: Sequence[int] | None = None) -> list[int]:
        """Items from feeds whose page could not be read become items in the feed entry's own words
        (title, summary, author, date), marked from_feed; with `item_ids`, only those. Their ids."""
        where = ""
        params: list[Any] = []
        if item_ids is not None:
            if not item_ids:
                return []
            where = f"AND items.id IN ({', '.join('?' * len(item_ids))})"
            params = list(item_ids)
        refused = ", ".join("?" * len(NOT_FALLEN_BACK))
        rows = await self._fetchall(
            f"""SELECT items.id FROM items JOIN feed_entries ON feed_entries.item_id = items.id
                WHERE items.status = 'failed' AND items.feed_id IS NOT NULL AND feed_entries.title IS NOT NULL
                    AND coalesce(items.failure_reason, '') NOT IN ({refused}) {where}""",
            [*NOT_FALLEN_BACK, *params],
        )
        ids = [row[0] for row in rows]
        now = self._now()
        for item_id in ids:
            await self._write(
                """UPDATE items SET status = 'done', from_feed = 1, title = e.title, summary = e.summary,
                       summary_language = NULL, description = e.summary, text = e.summary,
                       authors = CASE WHEN e.author IS NULL THEN '[]' ELSE json_array(e.author) END,
                       authors_text = e.author, published_date = e.published,
                       site_name = coalesce(items.site_name, f.title),
                       source_text = trim(coalesce(f.title, '') || ' ' || items.domain), updated_at = ?
                   FROM feed_entries AS e LEFT JOIN feeds AS f ON f.id = e.feed_id
                   WHERE e.item_id = items.id AND items.id = ? AND items.status = 'failed'""",
                (now, item_id),
            )
            row = await self._fetchone("SELECT title, text, authors_text, site_name FROM items WHERE id = ?",
                                       (item_id,))
            await self._add_terms(tuple(row) if row else ())
        return ids


    async def prefer_feed_words_for_teasers(self, item_ids: Sequence[int]) -> list[int]:
        """Paywalled items (access 'partial') whose feed entry says more than the page showed take the
        entry's words as their text and summary. Their ids."""
        if not item_ids:
            return []
        rows = await self._fetchall(
            f"""SELECT items.id FROM items JOIN feed_entries AS e ON e.item_id = items.id
                WHERE items.status = 'done' AND items.access = 'partial' AND e.summary IS NOT NULL
                    AND length(e.summary) > length(coalesce(items.text, ''))
                    AND items.id IN ({', '.join('?' * len(item_ids))})""",
            list(item_ids),
        )
        ids = [row[0] for row in rows]
        for item_id in ids:
            await self._write(
                """UPDATE items SET text = e.summary, summary = e.summary, updated_at = ?
                   FROM feed_entries AS e WHERE e.item_id = items.id AND items.id = ?""",
                (self._now(), item_id),
            )
        return ids


def feed_of(row: sqlite3.Row) -> Feed:
    return Feed(
        id=row["id"],
        chat_id=row["chat_id"],
        url=row["url"],
        mode=FeedMode(row["mode"]),
        status=FeedStatus(row["status"]),
        interval_seconds=row["interval_seconds"],
        next_check_at=datetime.fromisoformat(row["next_check_at"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        title=row["title"],
        site_url=row["site_url"],
        thread_id=row["thread_id"],
        added_by=row["added_by"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_check_at=instant(row["last_check_at"]),
        last_new_at=instant(row["last_new_at"]),
        errors=row["errors"],
        last_error=row["last_error"],
        failing_since=instant(row["failing_since"]),
        failure_reported_at=instant(row["failure_reported_at"]),
        polled_once=bool(row["polled_once"]),
    )


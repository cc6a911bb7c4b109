"""Repository: the one owner of the SQLite database. One method per question the bot asks.

aiosqlite runs every statement on its own thread, so the event loop never waits on the disk.
The schema comes from the numbered files in storage/migrations/, applied in order and
recorded in PRAGMA user_version.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from storage.fts import parse_query
from storage.models import (
    DONE,
    FAILED,
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    PENDING,
    ChatSettings,
    Item,
    SearchHit,
    SearchPage,
    Stats,
)

SEARCH_WEIGHTS = "10.0, 8.0, 3.0, 3.0, 1.0, 2.0, 2.0"  # title above summaries above the body
SNIPPETS = ", ".join(
    f"snippet(items_fts, {column}, '{HIGHLIGHT_START}', '{HIGHLIGHT_END}', '…', 16) AS {name}"
    for column, name in ((2, "summary_snippet"), (4, "text_snippet"))
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Repository:
    """Items, chat settings and their full-text index in one SQLite file."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    @classmethod
    async def open(cls, path: Path | str) -> Repository:
        """Open (creating if needed) the database at `path` and bring its schema up to date."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(str(path), timeout=30)
        connection.row_factory = sqlite3.Row
        repository = cls(connection)
        try:
            await repository._configure()
        except BaseException:
            await connection.close()
            raise
        return repository

    async def close(self) -> None:
        await self._db.close()

    async def _configure(self) -> None:
        await self._db.execute("PRAGMA journal_mode = WAL")
        await self._db.execute("PRAGMA synchronous = NORMAL")
        await self._db.execute("PRAGMA foreign_keys = ON")
        await self._db.execute("PRAGMA busy_timeout = 30000")
        version = (await self._fetchone("PRAGMA user_version"))[0]
        for number, script in _migrations():
            if number > version:
                await self._db.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                )

    @property
    def schema_version(self) -> int:
        return max(number for number, _ in _migrations())

    # -- links and items -------------------------------------------------------------

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
    ) -> tuple[Item, bool]:
        """Record a submitted link as pending, committed; return it and whether it is new."""
        now = _iso(utc_now())
        cursor = await self._db.execute(
            """INSERT INTO items (chat_id, url, canonical_url, domain, status, submitted_by,
                   submitted_by_name, message_id, thread_id, submitted_at, updated_at)
               VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)
               ON CONFLICT (chat_id, canonical_url) DO NOTHING""",
            (chat_id, url, canonical_url, domain, submitted_by, submitted_by_name,
             message_id, thread_id, now, now),
        )
        created = cursor.rowcount == 1
        await self._db.commit()
        row = await self._fetchone(
            "SELECT * FROM items WHERE chat_id = ? AND canonical_url = ?", (chat_id, canonical_url)
        )
        return _item(row), created

    async def get(self, item_id: int, *, chat_id: int | None = None) -> Item | None:
        """One item by id; with chat_id, only if it belongs to that chat."""
        if chat_id is None:
            row = await self._fetchone("SELECT * FROM items WHERE id = ?", (item_id,))
        else:
            row = await self._fetchone(
                "SELECT * FROM items WHERE id = ? AND chat_id = ?", (item_id, chat_id)
            )
        return _item(row) if row else None

    async def mark_done(
        self,
        item_id: int,
        *,
        final_url: str,
        title: str,
        text: str,
        authors: Iterable[str],
        site_name: str | None,
        published_date: date | None,
        language: str | None,
        description: str | None,
        summary: str,
        summary_language: str | None,
    ) -> Item:
        """Store the article and its extractive summary; the item becomes `done`."""
        authors = list(authors)
        now = _iso(utc_now())
        await self._db.execute(
            """UPDATE items SET status = 'done', failure_reason = NULL, failure_detail = NULL,
                   attempts = attempts + 1, final_url = ?, title = ?, text = ?, text_hash = ?,
                   authors = ?, authors_text = ?, site_name = ?,
                   source_text = trim(coalesce(?, '') || ' ' || domain),
                   published_date = ?, language = ?, description = ?, summary = ?,
                   summary_language = ?, fetched_at = ?, updated_at = ?
               WHERE id = ?""",
            (
                final_url, title, text, hashlib.sha256(text.encode()).hexdigest(),
                json.dumps(authors, ensure_ascii=False), "; ".join(authors), site_name,
                site_name,
                published_date.isoformat() if published_date else None,
                language, description, summary, summary_language, now, now, item_id,
            ),
        )
        await self._db.commit()
        return await self._require(item_id)

    async def mark_failed(self, item_id: int, *, reason: str, detail: str) -> Item:
        """Record why a link failed; it can be retried later."""
        now = _iso(utc_now())
        await self._db.execute(
            """UPDATE items SET status = 'failed', failure_reason = ?, failure_detail = ?,
                   attempts = attempts + 1, fetched_at = ?, updated_at = ?
               WHERE id = ?""",
            (reason, detail, now, now, item_id),
        )
        await self._db.commit()
        return await self._require(item_id)

    async def set_translation(
        self,
        item_id: int,
        *,
        language: str,
        title: str | None,
        summary: str | None,
        note: str | None,
    ) -> Item:
        """Store the language model's title and summary (or, with none, the reason why not)."""
        await self._db.execute(
            """UPDATE items SET title_translated = ?, summary_translated = ?,
                   translation_language = ?, translation_note = ?, updated_at = ?
               WHERE id = ?""",
            (title, summary, language, note, _iso(utc_now()), item_id),
        )
        await self._db.commit()
        return await self._require(item_id)

    async def retry(self, item_id: int) -> Item:
        """Put a failed link back in the queue."""
        await self._db.execute(
            "UPDATE items SET status = 'pending', updated_at = ? WHERE id = ? AND status = 'failed'",
            (_iso(utc_now()), item_id),
        )
        await self._db.commit()
        return await self._require(item_id)

    async def pending(self, *, limit: int = 1000, older_than: datetime | None = None) -> list[Item]:
        """Links not yet processed, oldest first: left by a crash, or queued."""
        if older_than is None:
            return await self._items(
                "SELECT * FROM items WHERE status = 'pending' ORDER BY id LIMIT ?", (limit,)
            )
        return await self._items(
            "SELECT * FROM items WHERE status = 'pending' AND updated_at < ? ORDER BY id LIMIT ?",
            (_iso(older_than), limit),
        )

    async def latest(self, chat_id: int, *, limit: int = 10, offset: int = 0) -> list[Item]:
        """The chat's most recently submitted stored items."""
        return await self._items(
            """SELECT * FROM items WHERE chat_id = ? AND status = 'done'
               ORDER BY submitted_at DESC, id DESC LIMIT ? OFFSET ?""",
            (chat_id, limit, offset),
        )

    async def items_between(self, chat_id: int, start: datetime, end: datetime) -> list[Item]:
        """Stored items submitted in [start, end), oldest first."""
        return await self._items(
            """SELECT * FROM items WHERE chat_id = ? AND status = 'done'
                   AND submitted_at >= ? AND submitted_at < ?
               ORDER BY submitted_at, id""",
            (chat_id, _iso(start), _iso(end)),
        )

    async def all_items(self, chat_id: int, *, status: str | None = None) -> AsyncIterator[Item]:
        """Every item of a chat, oldest first, without holding them all in memory."""
        sql = "SELECT * FROM items WHERE chat_id = ?"
        params: tuple[Any, ...] = (chat_id,)
        if status:
            sql += " AND status = ?"
            params += (status,)
        async with self._db.execute(sql + " ORDER BY id", params) as cursor:
            async for row in cursor:
                yield _item(row)

    async def count_recent_links(self, chat_id: int, *, since: datetime) -> int:
        row = await self._fetchone(
            "SELECT count(*) FROM items WHERE chat_id = ? AND submitted_at >= ?",
            (chat_id, _iso(since)),
        )
        return row[0]

    # -- search ----------------------------------------------------------------------

    async def search(self, chat_id: int, query: str, *, limit: int = 5, offset: int = 0) -> SearchPage:
        """Full-text search in one chat's items, best first; user text never raises."""
        parsed = parse_query(query)
        if parsed.is_empty:
            return SearchPage(query, (), 0, offset, limit)
        where = ["items.chat_id = ?", "items.status = 'done'"]
        params: list[Any] = [chat_id]
        if parsed.exclude:
            where.append("items.id NOT IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
            params.append(parsed.exclude)
        if parsed.language:
            where.append("items.language = ?")
            params.append(parsed.language)
        day = "coalesce(items.published_date, substr(items.submitted_at, 1, 10))"
        if parsed.after:
            where.append(f"{day} >= ?")
            params.append(parsed.after.isoformat())
        if parsed.before:
            where.append(f"{day} <= ?")
            params.append(parsed.before.isoformat())
        if parsed.match:
            # CROSS JOIN keeps the index outermost; otherwise SQLite may scan the chat's items
            # and run the MATCH once per row (30-120 ms instead of 1 ms on 700 articles).
            source = "items_fts CROSS JOIN items ON items.id = items_fts.rowid"
            where.insert(0, "items_fts MATCH ?")
            params.insert(0, parsed.match)
            order = f"bm25(items_fts, {SEARCH_WEIGHTS}), items.id DESC"
        else:
            source = "items"
            order = "items.submitted_at DESC, items.id DESC"
        condition = " AND ".join(where)
        total = (await self._fetchone(f"SELECT count(*) FROM {source} WHERE {condition}", params))[0]
        # Rank ids alone first: sorting whole rows (texts, snippets) of every match is what is slow.
        ids = [row[0] for row in await self._fetchall(
            f"SELECT items.id FROM {source} WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )]
        marks = ", ".join("?" * len(ids))
        if parsed.match:
            rows = await self._fetchall(
                f"""SELECT items.*, {SNIPPETS} FROM items_fts CROSS JOIN items ON items.id = items_fts.rowid
                    WHERE items_fts MATCH ? AND items.id IN ({marks})""",
                [parsed.match, *ids],
            )
        else:
            rows = await self._fetchall(
                f"""SELECT items.*, substr(coalesce(items.summary, ''), 1, 200) AS summary_snippet,
                        '' AS text_snippet FROM items WHERE items.id IN ({marks})""",
                ids,
            )
        by_id = {row["id"]: row for row in rows}
        hits = tuple(SearchHit(_item(by_id[i]), _best_snippet(by_id[i])) for i in ids if i in by_id)
        return SearchPage(query, hits, total, offset, limit)

    # -- statistics ------------------------------------------------------------------

    async def stats(self, chat_id: int, *, now: datetime | None = None) -> Stats:
        """Counts for /stats: items, sources, failures, and the last seven days."""
        now = now or utc_now()
        week_ago = _iso(now - timedelta(days=7))
        row = await self._fetchone(
            """SELECT
                   count(*) FILTER (WHERE status = 'done') AS items,
                   count(*) FILTER (WHERE status = 'pending') AS pending,
                   count(*) FILTER (WHERE status = 'failed') AS failed,
                   count(DISTINCT CASE WHEN status = 'done' THEN coalesce(site_name, domain) END) AS sources,
                   count(*) FILTER (WHERE status = 'done' AND submitted_at >= ?) AS last_7_days
               FROM items WHERE chat_id = ?""",
            (week_ago, chat_id),
        )
        top = await self._fetchall(
            """SELECT coalesce(site_name, domain) AS source, count(*) AS n FROM items
               WHERE chat_id = ? AND status = 'done' GROUP BY source ORDER BY n DESC, source LIMIT 5""",
            (chat_id,),
        )
        reasons = await self._fetchall(
            """SELECT failure_reason, count(*) AS n FROM items WHERE chat_id = ? AND status = 'failed'
               GROUP BY failure_reason ORDER BY n DESC LIMIT 5""",
            (chat_id,),
        )
        days = await self._fetchall(
            """SELECT substr(submitted_at, 1, 10) AS day, count(*) AS n FROM items
               WHERE chat_id = ? AND status = 'done' AND submitted_at >= ?
               GROUP BY day ORDER BY day""",
            (chat_id, week_ago),
        )
        return Stats(
            items=row["items"], pending=row["pending"], failed=row["failed"],
            sources=row["sources"], last_7_days=row["last_7_days"],
            top_sources=tuple((r["source"], r["n"]) for r in top),
            failure_reasons=tuple((r["failure_reason"] or "?", r["n"]) for r in reasons),
            per_day=tuple((r["day"], r["n"]) for r in days),
        )

    # -- chats -----------------------------------------------------------------------

    async def chat_settings(self, chat_id: int) -> ChatSettings:
        row = await self._fetchone("SELECT * FROM chats WHERE chat_id = ?", (chat_id,))
        return ChatSettings(chat_id, language=row["language"] if row else None)

    async def set_chat_language(self, chat_id: int, language: str) -> None:
        await self._db.execute(
            """INSERT INTO chats (chat_id, language, updated_at) VALUES (?, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language,
                   updated_at = excluded.updated_at""",
            (chat_id, language, _iso(utc_now())),
        )
        await self._db.commit()

    async def note_denied(self, chat_id: int) -> bool:
        """Remember that a stranger chat was told the bot is private; True only the first time."""
        cursor = await self._db.execute(
            """INSERT INTO chats (chat_id, denied_notice_at, updated_at) VALUES (?, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET denied_notice_at = excluded.denied_notice_at
               WHERE chats.denied_notice_at IS NULL""",
            (chat_id, _iso(utc_now()), _iso(utc_now())),
        )
        await self._db.commit()
        return cursor.rowcount == 1

    # -- digests -----------------------------------------------------------------------
    # Rows are handed out as plain dicts; bot/digest.py turns them into its own values.

    async def digest_schedule(self, chat_id: int) -> dict[str, Any] | None:
        row = await self._fetchone("SELECT * FROM digest_schedules WHERE chat_id = ?", (chat_id,))
        return dict(row) if row else None

    async def digest_schedules(self) -> list[dict[str, Any]]:
        """Every enabled schedule."""
        return [dict(row) for row in await self._fetchall(
            "SELECT * FROM digest_schedules WHERE enabled = 1 ORDER BY chat_id")]

    async def set_digest_schedule(self, chat_id: int, *, at: str, timezone: str, now: datetime | None = None) -> None:
        """Set (and enable) a chat's digest time; runs already past today do not count as missed."""
        now_text = _iso(now or utc_now())
        await self._db.execute(
            """INSERT INTO digest_schedules (chat_id, time, timezone, enabled, since, updated_at)
               VALUES (?, ?, ?, 1, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET time = excluded.time, timezone = excluded.timezone,
                   enabled = 1, since = excluded.since, updated_at = excluded.updated_at""",
            (chat_id, at, timezone, now_text, now_text),
        )
        await self._db.commit()

    async def set_digest_flags(self, chat_id: int, *, enabled: bool | None = None, quiet: bool | None = None,
                               now: datetime | None = None) -> bool:
        """Turn a schedule on or off, or quiet or loud; False when the chat has no schedule."""
        now_text = _iso(now or utc_now())
        cursor = await self._db.execute(
            """UPDATE digest_schedules SET enabled = coalesce(?, enabled), quiet = coalesce(?, quiet),
                   since = CASE WHEN ? = 1 AND enabled = 0 THEN ? ELSE since END, updated_at = ?
               WHERE chat_id = ?""",
            (None if enabled is None else int(enabled), None if quiet is None else int(quiet),
             int(bool(enabled)), now_text, now_text, chat_id),
        )
        await self._db.commit()
        return cursor.rowcount == 1

    async def digest_run(self, chat_id: int, day: date) -> dict[str, Any] | None:
        row = await self._fetchone(
            "SELECT * FROM digest_runs WHERE chat_id = ? AND local_date = ?", (chat_id, day.isoformat()))
        return self._digest_run(row) if row else None

    async def claim_digest(self, chat_id: int, day: date, *, scheduled_for: datetime,
                           now: datetime | None = None) -> bool:
        """Claim the chat's run for a local date before sending; False if it was already claimed."""
        return await self._insert_run(chat_id, day, "sending", scheduled_for, now, None)

    async def skip_digest(self, chat_id: int, day: date, *, scheduled_for: datetime, reason: str,
                          now: datetime | None = None) -> bool:
        """Record a run that will not be sent (missed beyond the grace); False if one exists."""
        return await self._insert_run(chat_id, day, "skipped", scheduled_for, now, reason)

    async def _insert_run(self, chat_id: int, day: date, status: str, scheduled_for: datetime,
                          now: datetime | None, error: str | None) -> bool:
        now_text = _iso(now or utc_now())
        cursor = await self._db.execute(
            """INSERT INTO digest_runs (chat_id, local_date, status, scheduled_for, claimed_at, finished_at, error)
               VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, local_date) DO NOTHING""",
            (chat_id, day.isoformat(), status, _iso(scheduled_for), now_text,
             None if status == "sending" else now_text, error),
        )
        await self._db.commit()
        return cursor.rowcount == 1

    async def start_digest_sending(self, chat_id: int, day: date, *, since: datetime, until: datetime,
                                   item_count: int, language: str | None = None,
                                   now: datetime | None = None) -> None:
        """Note the window the digest covers and that sending begins (see bot/digest.py on crashes)."""
        await self._db.execute(
            """UPDATE digest_runs SET since_at = ?, until_at = ?, item_count = ?, language = ?,
                   send_started_at = coalesce(send_started_at, ?)
               WHERE chat_id = ? AND local_date = ? AND status = 'sending'""",
            (_iso(since), _iso(until), item_count, language, _iso(now or utc_now()), chat_id, day.isoformat()),
        )
        await self._db.commit()

    async def mark_digest_part_sending(self, chat_id: int, day: date, part: int) -> None:
        """Note that part `part` (0-based) is about to be sent: a crash now leaves it uncertain."""
        await self._db.execute(
            "UPDATE digest_runs SET sending_part = ? WHERE chat_id = ? AND local_date = ?",
            (part, chat_id, day.isoformat()),
        )
        await self._db.commit()

    async def add_digest_message(self, chat_id: int, day: date, message_id: int) -> None:
        """Record one delivered part at once, so a crash afterwards knows it went out."""
        await self._db.execute(
            """UPDATE digest_runs SET message_ids = json_insert(message_ids, '$[#]', ?), sending_part = NULL
               WHERE chat_id = ? AND local_date = ?""",
            (message_id, chat_id, day.isoformat()),
        )
        await self._db.commit()

    async def note_digest_attempt(self, chat_id: int, day: date, *, error: str | None = None) -> None:
        await self._db.execute(
            "UPDATE digest_runs SET attempts = attempts + 1, error = ? WHERE chat_id = ? AND local_date = ?",
            (error, chat_id, day.isoformat()),
        )
        await self._db.commit()

    async def finish_digest(self, chat_id: int, day: date, *, status: str, error: str | None = None,
                            now: datetime | None = None) -> None:
        """Close a claimed run as 'sent' or 'failed'."""
        await self._db.execute(
            """UPDATE digest_runs SET status = ?, error = coalesce(?, error), finished_at = ?
               WHERE chat_id = ? AND local_date = ? AND status = 'sending'""",
            (status, error, _iso(now or utc_now()), chat_id, day.isoformat()),
        )
        await self._db.commit()

    async def last_sent_digest(self, chat_id: int, *, before: date | None = None) -> dict[str, Any] | None:
        """The chat's latest sent run (before a local date, if given): where the next one starts."""
        row = await self._fetchone(
            """SELECT * FROM digest_runs WHERE chat_id = ? AND status = 'sent' AND until_at IS NOT NULL
                   AND local_date < ? ORDER BY local_date DESC LIMIT 1""",
            (chat_id, (before or date.max).isoformat()),
        )
        return self._digest_run(row) if row else None

    async def interrupted_digests(self) -> list[dict[str, Any]]:
        """Runs still 'sending'. Asked at start, before this process claims any: so an earlier
        process claimed them and stopped before finishing (even within the same second)."""
        rows = await self._fetchall("SELECT * FROM digest_runs WHERE status = 'sending' ORDER BY id")
        return [self._digest_run(row) for row in rows]

    async def release_digest(self, chat_id: int, day: date) -> None:
        """Drop an interrupted claim that never began sending, so the run can be claimed again."""
        await self._db.execute(
            """DELETE FROM digest_runs WHERE chat_id = ? AND local_date = ? AND status = 'sending'
                   AND send_started_at IS NULL""",
            (chat_id, day.isoformat()),
        )
        await self._db.commit()

    @staticmethod
    def _digest_run(row: sqlite3.Row) -> dict[str, Any]:
        run = dict(row)
        run["message_ids"] = json.loads(run["message_ids"] or "[]")
        return run

    # -- language model usage ----------------------------------------------------------

    async def llm_tokens_used(self, day: date) -> int:
        row = await self._fetchone("SELECT tokens FROM llm_usage WHERE day = ?", (day.isoformat(),))
        return row["tokens"] if row else 0

    async def add_llm_tokens(self, day: date, tokens: int) -> int:
        """Count tokens spent on `day`; return the day's total."""
        await self._db.execute(
            """INSERT INTO llm_usage (day, tokens, calls) VALUES (?, ?, 1)
               ON CONFLICT (day) DO UPDATE SET tokens = tokens + excluded.tokens, calls = calls + 1""",
            (day.isoformat(), tokens),
        )
        await self._db.commit()
        return await self.llm_tokens_used(day)

    # -- helpers ---------------------------------------------------------------------

    async def _require(self, item_id: int) -> Item:
        item = await self.get(item_id)
        if item is None:
            raise LookupError(f"item {item_id} does not exist")
        return item

    async def _fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        async with self._db.execute(sql, tuple(params)) as cursor:
            return await cursor.fetchone()

    async def _fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._db.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    async def _items(self, sql: str, params: Iterable[Any] = ()) -> list[Item]:
        return [_item(row) for row in await self._fetchall(sql, params)]


def _best_snippet(row: sqlite3.Row) -> str:
    """The summary's excerpt if the match is there, else the body's, else the summary's start."""
    summary, text = row["summary_snippet"] or "", row["text_snippet"] or ""
    if HIGHLIGHT_START not in summary and HIGHLIGHT_START in text:
        return text
    return summary


def _item(row: sqlite3.Row) -> Item:
    return Item(
        id=row["id"],
        chat_id=row["chat_id"],
        url=row["url"],
        canonical_url=row["canonical_url"],
        domain=row["domain"],
        status=row["status"],
        failure_reason=row["failure_reason"],
        failure_detail=row["failure_detail"],
        attempts=row["attempts"],
        final_url=row["final_url"],
        title=row["title"],
        authors=tuple(json.loads(row["authors"] or "[]")),
        site_name=row["site_name"],
        published_date=date.fromisoformat(row["published_date"]) if row["published_date"] else None,
        language=row["language"],
        description=row["description"],
        text=row["text"],
        text_hash=row["text_hash"],
        summary_extractive=row["summary"],
        summary_extractive_language=row["summary_language"],
        title_translated=row["title_translated"],
        summary_translated=row["summary_translated"],
        translation_language=row["translation_language"],
        translation_note=row["translation_note"],
        submitted_by=row["submitted_by"],
        submitted_by_name=row["submitted_by_name"],
        message_id=row["message_id"],
        thread_id=row["thread_id"],
        submitted_at=datetime.fromisoformat(row["submitted_at"]),
        fetched_at=datetime.fromisoformat(row["fetched_at"]) if row["fetched_at"] else None,
    )


__all__ = ["Repository", "PENDING", "DONE", "FAILED", "utc_now"]

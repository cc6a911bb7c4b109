"""The SQLite connection every part of the repository shares, and the row conversions they use.

aiosqlite runs each statement on the connection's own thread, so the event loop never waits on
the disk. Every statement goes through `_fetchone`, `_fetchall` or `_write`, which turn the
driver's operational errors into StorageUnavailable: nothing above storage sees sqlite3.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import aiosqlite
import psycopg

from storage.errors import unavailable_on_fault
from storage.models import Item, ItemStatus
from storage.postgres import PgConnection
from storage.readers import Reader, Readers

if TYPE_CHECKING:
    from storage.pg_search import PgReaders
from storage.tokens import words

Clock = Callable[[], datetime]
"""The current time, aware, in UTC."""


def system_clock() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """How instants are stored: ISO 8601 in UTC, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Ran:
    """What a statement did: the rows it changed, the last row it inserted."""

    rowcount: int
    lastrowid: int | None


class Store:
    """One open SQLite connection and the clock the rows are stamped with."""

    def __init__(self, connection: aiosqlite.Connection | PgConnection, clock: Clock = system_clock,
                 readers: Readers | PgReaders | None = None) -> None:
        self._db: Any = connection
        """aiosqlite's connection, or storage/postgres.py's, which answers as it does."""
        self._clock = clock
        self._readers = readers

    @property
    def _dialect(self) -> str:
        """'sqlite' or 'postgresql': for the few statements the two spell differently."""
        return getattr(self._db, "dialect", "sqlite")

    @contextlib.asynccontextmanager
    async def _reading(self, budget: float) -> AsyncIterator[Reader]:
        """A read connection apart from the writer (storage/readers.py) whose reads end within
        `budget` seconds; an in-memory database has only its one connection."""
        if self._readers is None:
            reader = Reader(self._db)
            reader.deadline = time.monotonic() + budget
            yield reader
        else:
            async with self._readers.reading(budget) as reader:
                yield reader

    async def _run(self, sql: str, params: Iterable[Any] = ()) -> Ran:
        """Run one statement, without committing. Its cursor is closed on the database's thread:
        a cursor left to the garbage collector resets its statement from the event loop's thread,
        and SQLite's statement cache may have handed that statement to another cursor meanwhile
        ("bad parameter or other API misuse", seen with concurrent ingests)."""
        async with self._db.execute(sql, tuple(params)) as cursor:
            return Ran(cursor.rowcount, cursor.lastrowid)

    async def _run_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> Ran:
        """Run one statement for each of `rows`, without committing; its cursor closed as `_run`'s."""
        async with self._db.executemany(sql, rows) as cursor:
            return Ran(cursor.rowcount, cursor.lastrowid)

    async def _write_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """Run one statement for each of `rows` and commit them together."""
        async with self._committing():
            await self._run_many(sql, rows)

    async def _add_terms(self, texts: Iterable[str | None]) -> None:
        """Count the words of a newly stored text in the search dictionary (storage/search.py)."""
        found = words(texts)
        if found:
            # in one order everywhere: processes counting words at once on PostgreSQL lock the
            # rows they share in the same order, so neither waits for a lock the other holds
            await self._write_many(
                """INSERT INTO search_terms (term) VALUES (?)
                   ON CONFLICT (term) DO UPDATE SET docs = search_terms.docs + 1""",
                ((word,) for word in sorted(found)))

    def _now(self) -> str:
        return iso(self._clock())

    async def _fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        with unavailable_on_fault():
            async with self._db.execute(sql, tuple(params)) as cursor:
                return await cursor.fetchone()

    async def _fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with unavailable_on_fault():
            async with self._db.execute(sql, tuple(params)) as cursor:
                return list(await cursor.fetchall())

    async def _write(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement and commit it; the number of rows it changed."""
        async with self._committing():
            ran = await self._run(sql, params)
        return ran.rowcount

    async def _write_returning(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Run one statement with RETURNING and commit it; the rows it returned."""
        async with self._committing(), self._db.execute(sql, tuple(params)) as cursor:
            rows = list(await cursor.fetchall())
        return rows

    @contextlib.asynccontextmanager
    async def _committing(self) -> AsyncIterator[None]:
        """Commit what the block wrote, or roll it back if the block fails; a fault of the
        database's own is StorageUnavailable."""
        with unavailable_on_fault():
            try:
                yield
                await self._db.commit()
            except BaseException:
                with contextlib.suppress(sqlite3.Error, psycopg.Error):
                    await self._db.rollback()
                raise

    async def _items(self, sql: str, params: Iterable[Any] = ()) -> list[Item]:
        return [item_of(row) for row in await self._fetchall(sql, params)]

    async def _require(self, item_id: int) -> Item:
        row = await self._fetchone("SELECT * FROM items WHERE id = ?", (item_id,))
        if row is None:
            raise LookupError(f"item {item_id} does not exist")
        return item_of(row)


def item_of(row: sqlite3.Row) -> Item:
    return Item(
        id=row["id"],
        chat_id=row["chat_id"],
        url=row["url"],
        canonical_url=row["canonical_url"],
        domain=row["domain"],
        status=ItemStatus(row["status"]),
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
        fetched_at=instant(row["fetched_at"]),
        feed_id=row["feed_id"],
        from_feed=bool(row["from_feed"]),
        watch_ids=tuple(json.loads(row["watch_ids"] or "[]")),
        content_kind=row["content_kind"],
        access=row["access"],
        page_count=row["page_count"],
        published_at=instant(row["published_at"]),
        post_links=tuple(json.loads(row["post_links"] or "[]")),
        story_id=row["story_id"],
        same_as=row["same_as"],
    )

"""Watches: standing searches of a chat, and matching one new item against them.

A watch is matched against a new item by FTS5 itself: the item's indexed columns are copied into
a one-row FTS5 table of the connection's own (TEMP, with the tokenizer and columns of items_fts,
read from the schema), and each watch is one MATCH on it. So each watch costs one indexed lookup
whose price does not grow with the archive (on the chat's whole index a prefix watch costs more
as the archive grows), never a scan and never a regular expression over text. A chat's watches
are asked in one compound statement, 100 watches at a time, so 200 of them cost two trips to the
database thread.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.base import Store
from storage.fts import ParsedQuery, parse_query
from storage.models import Item, Watch
from storage.pg_search import tsquery_text

WATCHES_PER_STATEMENT = 100
"""Compound SELECTs are limited (500 terms by default); 100 watches a statement stays well inside."""
_parsed = functools.lru_cache(maxsize=4096)(parse_query)
"""A chat's watches are parsed once, not at every new item."""
_TOKENIZE = re.compile(r"tokenize\s*=\s*(\"(?:[^\"]|\"\")*\"|'(?:[^']|'')*')", re.IGNORECASE)


class WatchStore(Store):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._probe_lock = asyncio.Lock()
        """The probe holds one item: matches are made one item at a time on this connection."""
        self._probe_columns: str | None = None

    async def add_watch(self, chat_id: int, query: str, *, thread_id: int | None,
                        created_by: int | None) -> tuple[Watch, bool]:
        """Keep a standing search; return it and whether it is new (the same query again moves it to
        the topic where it was set again)."""
        created = await self._write(
            """INSERT INTO watches (chat_id, query, thread_id, created_by, created_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (chat_id, query) DO NOTHING""",
            (chat_id, query, thread_id, created_by, self._now()),
        )
        if not created:
            await self._write("UPDATE watches SET thread_id = ? WHERE chat_id = ? AND query = ?",
                              (thread_id, chat_id, query))
        row = await self._fetchone("SELECT * FROM watches WHERE chat_id = ? AND query = ?", (chat_id, query))
        assert row is not None
        return watch_of(row), bool(created)

    async def watches(self, chat_id: int) -> list[Watch]:
        rows = await self._fetchall("SELECT * FROM watches WHERE chat_id = ? ORDER BY id", (chat_id,))
        return [watch_of(row) for row in rows]

    async def watch(self, watch_id: int) -> Watch | None:
        row = await self._fetchone("SELECT * FROM watches WHERE id = ?", (watch_id,))
        return watch_of(row) if row else None

    async def remove_watch(self, watch_id: int, *, chat_id: int | None = None) -> Watch | None:
        row = await self._fetchone("SELECT * FROM watches WHERE id = ? AND (? IS NULL OR chat_id = ?)",
                                   (watch_id, chat_id, chat_id))
        if row is None:
            return None
        await self._write("DELETE FROM watches WHERE id = ?", (watch_id,))
        return watch_of(row)

    async def unchecked_items(self, *, limit: int = 200, ids: Sequence[int] | None = None) -> list[Item]:
        """Stored items not yet matched against their chat's watches (of `ids`, if given), oldest first."""
        if ids is None:
            return await self._items(
                "SELECT * FROM items WHERE watch_ids IS NULL AND status = 'done' ORDER BY id LIMIT ?", (limit,))
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        return await self._items(
            f"SELECT * FROM items WHERE watch_ids IS NULL AND status = 'done' AND id IN ({marks}) ORDER BY id",
            list(ids))

    async def set_watch_ids(self, item_id: int, watch_ids: Sequence[int]) -> bool:
        """Record the watches an item matched; False if it had been checked already (by another process)."""
        return await self._write("UPDATE items SET watch_ids = ? WHERE id = ? AND watch_ids IS NULL",
                                 (json.dumps(list(watch_ids)), item_id)) == 1

    async def matching_watches(self, item: Item, watches: Sequence[Watch]) -> list[int]:
        """The ids of the watches that `item` matches, in the order given."""
        if self._dialect == "postgresql":
            return await self._match_row(item, watches)
        async with self._probe_lock:
            if not await self._load_probe(item.id):
                return []  # no such item
            return await self._match_probe(item, watches)

    async def _match_row(self, item: Item, watches: Sequence[Watch]) -> list[int]:
        """On PostgreSQL the item's own row is the probe: each watch is its search_vector @@ tsquery."""
        lookups: list[tuple[int, str]] = []
        for watch in watches:
            parsed = _parsed(watch.query)
            if parsed.match is None or not _passes_filters(item, parsed):
                continue
            positive, excluded, possible = tsquery_text(parsed)
            if possible and positive:
                lookups.append((watch.id, f"({positive}) & !({excluded})" if excluded else positive))
        matched: set[int] = set()
        for start in range(0, len(lookups), WATCHES_PER_STATEMENT):
            chunk = lookups[start:start + WATCHES_PER_STATEMENT]
            values = ", ".join("(?::bigint, ?::text)" for _ in chunk)
            rows = await self._fetchall(
                f"""SELECT watch.id FROM (VALUES {values}) AS watch (id, query) JOIN items ON items.id = ?
                    WHERE items.search_vector @@ to_tsquery('newsdesk', watch.query)""",
                [*(value for lookup in chunk for value in lookup), item.id])
            matched.update(row[0] for row in rows)
        return [watch.id for watch in watches if watch.id in matched]

    async def _load_probe(self, item_id: int) -> bool:
        columns = self._probe_columns
        if columns is None:
            names = [row[1] for row in await self._fetchall("PRAGMA main.table_info(items_fts)")]
            row = await self._fetchone("SELECT sql FROM main.sqlite_master WHERE name = 'items_fts'")
            found = _TOKENIZE.search(row[0] if row else "")
            columns = ", ".join(names)
            tokenize = f", tokenize = {found.group(1)}" if found else ""
            await self._write(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.watch_probe USING fts5({columns}{tokenize})")
            self._probe_columns = columns
        # One row, always rowid 1: replacing it is one statement.
        return await self._write(
            f"INSERT OR REPLACE INTO temp.watch_probe (rowid, {columns}) SELECT 1, {columns} FROM items WHERE id = ?",
            (item_id,)) == 1

    async def _match_probe(self, item: Item, watches: Sequence[Watch]) -> list[int]:
        lookups: list[tuple[str, list[Any]]] = []
        for watch in watches:
            parsed = _parsed(watch.query)
            if parsed.match is None or not _passes_filters(item, parsed):
                continue  # a watch needs a word to look for; the desk refuses others
            expression = f"({parsed.match}) NOT ({parsed.exclude})" if parsed.exclude else parsed.match
            sql = "SELECT ? WHERE EXISTS (SELECT 1 FROM temp.watch_probe WHERE watch_probe MATCH ?)"
            lookups.append((sql, [watch.id, expression]))
        matched: set[int] = set()
        for start in range(0, len(lookups), WATCHES_PER_STATEMENT):
            chunk = lookups[start:start + WATCHES_PER_STATEMENT]
            rows = await self._fetchall(" UNION ALL ".join(sql for sql, _ in chunk),
                                        [value for _, params in chunk for value in params])
            matched.update(row[0] for row in rows)
        return [watch.id for watch in watches if watch.id in matched]


def _passes_filters(item: Item, parsed: ParsedQuery) -> bool:
    """The watch's language and day filters, checked on the item itself."""
    if parsed.language and (item.language or "") != parsed.language:
        return False
    if parsed.after and item.display_date < parsed.after:
        return False
    return not (parsed.before and item.display_date > parsed.before)


def watch_of(row: sqlite3.Row) -> Watch:
    return Watch(id=row["id"], chat_id=row["chat_id"], query=row["query"],
                 created_at=datetime.fromisoformat(row["created_at"]), thread_id=row["thread_id"],
                 created_by=row["created_by"])



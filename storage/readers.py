"""Read connections for searches, apart from the one connection that writes.

In WAL mode readers and the writer do not wait for each other, so a search never holds up an
ingest write, a /latest or a digest, which stay on the writer's connection; and each read runs
under a deadline: SQLite calls a progress handler every few thousand steps of the statement, and
once the deadline has passed the handler interrupts it (sqlite3 raises OperationalError
"interrupted"), so no search string can hold a connection longer than its budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import aiosqlite

from storage.errors import unavailable_on_fault

READERS = 2
"""Searches that can run at once; a third waits for one of them (the machine has 2 cores)."""
READER_CACHE_KB = 8192
"""Each reader's page cache: the index's upper pages and the filter index stay in it."""
PROGRESS_STEPS = 2000
"""Virtual machine steps between two looks at the clock (a few microseconds of work)."""


class Interrupted(Exception):
    """The read ran past its deadline and was stopped."""


class Reader:
    """One read-only connection and the deadline its current read must keep."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        self.deadline = float("inf")

    def _over_time(self) -> int:
        return 1 if time.monotonic() > self.deadline else 0

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one statement; Interrupted when the deadline passes while it runs."""
        if time.monotonic() > self.deadline:
            raise Interrupted
        with unavailable_on_fault():
            try:
                async with self.connection.execute(sql, tuple(params)) as cursor:
                    return list(await cursor.fetchall())
            except sqlite3.OperationalError as error:
                if "interrupt" in str(error):
                    raise Interrupted from error
                raise


class Readers:
    """A small pool of read connections to one database file."""

    def __init__(self, path: str, size: int = READERS) -> None:
        self._path = path
        self._size = size
        self._idle: asyncio.Queue[Reader] = asyncio.Queue()
        self._all: list[Reader] = []
        self._opening = asyncio.Lock()

    async def _open_one(self) -> Reader:
        with unavailable_on_fault():
            connection = await aiosqlite.connect(self._path, timeout=30)
            connection.row_factory = sqlite3.Row
            await connection.execute("PRAGMA query_only = ON")
            await connection.execute("PRAGMA busy_timeout = 30000")
            await connection.execute(f"PRAGMA cache_size = -{READER_CACHE_KB}")
        reader = Reader(connection)
        await connection.set_progress_handler(reader._over_time, PROGRESS_STEPS)
        return reader

    @contextlib.asynccontextmanager
    async def reading(self, budget: float) -> AsyncIterator[Reader]:
        """A reader whose reads must end within `budget` seconds from now."""
        async with self._opening:
            if self._idle.empty() and len(self._all) < self._size:
                reader = await self._open_one()
                self._all.append(reader)
                self._idle.put_nowait(reader)
        reader = await self._idle.get()
        reader.deadline = time.monotonic() + budget
        try:
            yield reader
        finally:
            reader.deadline = float("inf")
            self._idle.put_nowait(reader)

    async def close(self) -> None:
        for reader in self._all:
            await reader.connection.close()
        self._all.clear()

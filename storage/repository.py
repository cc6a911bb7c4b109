"""Repository: the one owner of the database. One method per question the bot asks.

The methods live with the part of the schema they serve (items, search, digests, chats); this
class opens the SQLite file, brings its schema up to date from the numbered files in
storage/migrations/ (recorded in PRAGMA user_version), and closes it.
"""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

import aiosqlite

from storage import postgres
from storage.base import Clock, system_clock, unavailable_on_fault
from storage.batches import BatchStore
from storage.chats import ChatStore
from storage.costs import CostStore
from storage.digests import DigestStore
from storage.errors import SchemaTooNew, StorageUnavailable
from storage.feeds import FeedStore
from storage.intake import IntakeStore
from storage.items import ItemStore
from storage.leases import LeaseStore
from storage.loads import LoadStore
from storage.operations import OperationsStore
from storage.outbox import OutboxStore
from storage.pg_search import PgReaders
from storage.readers import Readers
from storage.search import SearchStore
from storage.stories import StoryStore
from storage.watches import WatchStore


def migrations() -> list[tuple[int, str]]:
    """The schema's numbered migration scripts, in order."""
    folder = resources.files("storage") / "migrations"
    found = [
        (int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(found)


def latest_version() -> int:
    """The schema version the migrations bring a database to."""
    return max(number for number, _ in migrations())


class Repository(ItemStore, SearchStore, DigestStore, ChatStore, OperationsStore, FeedStore, WatchStore, OutboxStore,
                 IntakeStore, BatchStore, CostStore, LoadStore, StoryStore, LeaseStore):
    """Items, their full-text index, chat settings and digests in one SQLite file."""

    @classmethod
    async def open(cls, path: Path | str, *, clock: Clock = system_clock) -> Repository:
        """Open (creating if needed) the database at `path` and bring its schema up to date.
        `path` is a SQLite file, or a `postgresql://` URL of a database on a PostgreSQL server.
        `clock` stamps the rows (tests pass their own)."""
        if postgres.is_postgres(path):
            return await cls._open_postgres(str(path), clock)
        if str(path) != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StorageUnavailable(f"cannot create the folder of the database {path}: "
                                         f"{error.strerror or error}") from error
        with unavailable_on_fault():
            connection = await aiosqlite.connect(str(path), timeout=30)
        connection.row_factory = sqlite3.Row
        readers = None if str(path) == ":memory:" else Readers(str(path))
        repository = cls(connection, clock, readers)
        try:
            with unavailable_on_fault():
                await repository._configure()
        except BaseException:
            await connection.close()
            raise
        return repository

    @classmethod
    async def _open_postgres(cls, url: str, clock: Clock) -> Repository:
        with unavailable_on_fault():
            connection = await postgres.PgConnection.connect(url)
        repository = cls(connection, clock, PgReaders(url))
        try:
            with unavailable_on_fault():
                await postgres.migrate(connection)
        except BaseException:
            await connection.close()
            raise
        return repository

    async def close(self) -> None:
        if self._readers is not None:
            await self._readers.close()
        await self._db.close()

    async def _configure(self) -> None:
        await self._db.execute("PRAGMA busy_timeout = 30000")
        row = await self._fetchone("PRAGMA user_version")
        version = row[0] if row else 0
        if version > latest_version():  # forward only, and before anything is written to the file
            raise SchemaTooNew(f"the database has schema {version}, written by a newer Newsdesk (this one knows "
                               f"up to {latest_version()}): upgrade Newsdesk, or restore a backup made by this one")
        await self._db.execute("PRAGMA journal_mode = WAL")
        await self._db.execute("PRAGMA synchronous = NORMAL")
        await self._db.execute("PRAGMA foreign_keys = ON")
        for number, script in migrations():
            if number > version:
                await self._db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")

    @property
    def schema_version(self) -> int:
        if self._dialect == "postgresql":
            return max(number for number, _ in postgres.migrations())
        return latest_version()


__all__ = ["Repository"]

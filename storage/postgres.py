"""PostgreSQL behind the same Repository: a connection that speaks as aiosqlite's does.

The stores (storage/*.py) write their statements once, in the SQL both databases share, with `?`
placeholders, and call `execute`, `executemany`, `commit` and `rollback` on `self._db`. On
PostgreSQL `self._db` is a `PgConnection`: it rewrites the few SQLite spellings the stores use
(`translate`), begins a transaction before the first write as Python's sqlite3 does, and hands
back rows that answer both `row[0]` and `row["name"]`. Where the two databases differ in more
than spelling (full-text search, the watch probe, leases), a store asks `self._dialect`.

psycopg 3 (not asyncpg): it has the same async and blocking API (the benchmarks and the
migration use the blocking one), pipelined `executemany` and COPY for bulk loads, and its
row factories and type adapters are small hooks rather than a different result type.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

import psycopg
from psycopg.adapt import Loader
from psycopg.rows import RowMaker
from psycopg.types.numeric import IntDumper

from storage.errors import SchemaTooNew, unavailable_on_fault

SCHEMES = ("postgresql://", "postgres://")
MIGRATION_LOCK = 7_406_500_001
"""The advisory lock replicas starting at once take in turn to bring the schema up to date."""
ID_TABLES = frozenset({"batches", "deferred_links", "digest_runs", "feeds", "items", "link_charges",
                       "member_actions", "outbox", "stories", "watches"})
"""Tables whose rows get an identity `id`: an INSERT into them returns it, as `lastrowid`."""


def is_postgres(location: object) -> bool:
    return str(location).startswith(SCHEMES)


def migrations() -> list[tuple[int, str]]:
    """PostgreSQL's numbered migration scripts, in order (forward only, as SQLite's)."""
    folder = resources.files("storage") / "migrations_pg"
    found = [(int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8"))
             for entry in folder.iterdir() if entry.name.endswith(".sql")]
    return sorted(found)


class Row(tuple[Any, ...]):
    """A result row read by position or by column name, as sqlite3.Row is."""

    _names: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self._names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: psycopg.AsyncCursor[Any]) -> RowMaker[Row]:
    names = {column.name: n for n, column in enumerate(cursor.description or ())}
    return lambda values: Row(values, names)


class _NumericLoader(Loader):
    """sum() of integers is numeric on PostgreSQL: read it back as int, as SQLite gives it."""

    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


# --- SQL spelling ------------------------------------------------------------------------------

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|%|[A-Za-z_][A-Za-z0-9_.]*|\s+|.", re.DOTALL)


def _tokens(sql: str) -> list[str]:
    return _TOKENS.findall(sql)


def _scalar_extremes(tokens: list[str]) -> None:
    """SQLite's two-argument max(a, b) / min(a, b) are greatest / least on PostgreSQL."""
    for n, token in enumerate(tokens):
        if token.lower() not in ("max", "min") or n + 1 >= len(tokens) or tokens[n + 1] != "(":
            continue
        depth = 0
        for token_after in tokens[n + 1:]:
            if token_after == "(":
                depth += 1
            elif token_after == ")":
                depth -= 1
                if depth == 0:
                    break
            elif token_after == "," and depth == 1:
                tokens[n] = "greatest" if token.lower() == "max" else "least"
                break


@functools.lru_cache(maxsize=2048)
def translate(sql: str, *, returning_id: bool = True) -> str:
    """A statement in the stores' SQL, as PostgreSQL spells it."""
    tokens = _tokens(sql)
    words = [t.upper() for t in tokens]
    _scalar_extremes(tokens)
    out: list[str] = []
    ignore = False
    n = 0
    while n < len(tokens):
        token, word = tokens[n], words[n]
        if token == "?" and _next_word(words, n) == "IS":
            out.append("%s::text")  # `? IS NULL`: a parameter PostgreSQL cannot type from its context
        elif token == "?":
            out.append("%s")
        elif token == "%" or token.startswith("'"):
            out.append(token.replace("%", "%%"))  # psycopg reads every % as a placeholder's start
        elif word == "OR" and out and _last_word(out) == "INSERT" and n + 2 < len(tokens) \
                and words[n + 2] == "IGNORE":
            ignore = True
            n += 3  # "OR", " ", "IGNORE"
            continue
        elif word == "IS" and _next_word(words, n) == "?":
            out.append("IS NOT DISTINCT FROM")
        elif word == "IS" and _next_word(words, n) == "NOT" and _next_word(words, _next_index(words, n)) == "?":
            out.append("IS DISTINCT FROM")
            n = _next_index(words, n) + 1
            continue
        elif word in ("INDEXED", "NOT") and _next_word(words, n) in ("BY", "INDEXED"):
            # SQLite's planner hints: INDEXED BY name / NOT INDEXED
            m = _next_index(words, n)
            if words[m] == "BY":
                m = _next_index(words, m)
            n = m + 1
            continue
        elif word == "JSON_ARRAY":
            out.append("json_build_array")
        elif word == "IFNULL":
            out.append("coalesce")
        elif word == "GROUP_CONCAT":
            out.append("string_agg")
        else:
            out.append(token)
        n += 1
    text = "".join(out).rstrip().rstrip(";")
    head = text.lstrip().upper()
    if ignore:
        at = _returning_at(text)
        text = f"{text[:at].rstrip()} ON CONFLICT DO NOTHING {text[at:]}".rstrip()
    if returning_id and head.startswith("INSERT") and "RETURNING" not in head:
        table = re.match(r"\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)", text, re.IGNORECASE)
        if table and table.group(1).lower() in ID_TABLES:
            text += " RETURNING id"
    return text


def _last_word(out: list[str]) -> str:
    for token in reversed(out):
        if not token.isspace():
            return token.upper()
    return ""


def _next_index(words: list[str], n: int) -> int:
    for m in range(n + 1, len(words)):
        if not words[m].isspace():
            return m
    return len(words)


def _next_word(words: list[str], n: int) -> str:
    m = _next_index(words, n)
    return words[m] if m < len(words) else ""


def _returning_at(text: str) -> int:
    found = re.search(r"\bRETURNING\b", text, re.IGNORECASE)
    return found.start() if found else len(text)


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


# --- the connection ----------------------------------------------------------------------------

class PgCursor:
    """The part of an aiosqlite cursor the stores use, over a psycopg result."""

    def __init__(self, rows: list[Row], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self._at = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    async def fetchone(self) -> Row | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    async def fetchall(self) -> list[Row]:
        rows, self._at = self._rows[self._at:], len(self._rows)
        return rows

    def __aiter__(self) -> AsyncIterator[Row]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Row]:
        while (row := await self.fetchone()) is not None:
            yield row

    async def close(self) -> None:
        self._rows = []


class _Pending:
    """What `execute` returns: awaited, the cursor; in `async with`, the cursor, closed after."""

    def __init__(self, running: Any) -> None:
        self._running = running
        self._cursor: PgCursor | None = None

    def __await__(self) -> Any:
        return self._running.__await__()

    async def __aenter__(self) -> PgCursor:
        self._cursor = await self._running
        return self._cursor

    async def __aexit__(self, *_: object) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class PgConnection:
    """One PostgreSQL connection shared by a process's stores, as the one SQLite connection is:
    statements run one at a time, a transaction begins at the first write and ends at `commit`.

    One task's transaction at a time: a task's first write waits until another task's transaction
    has ended. Without it, tasks sharing the connection share its one transaction, so a statement
    failing in one task rolls back another's writes (PostgreSQL aborts the whole transaction), and
    a transaction kept open by one task's slow step holds row locks that another process waits
    for while it holds locks this one needs: a deadlock across workers. Reads never wait."""

    dialect = "postgresql"

    def __init__(self, connection: psycopg.AsyncConnection[Row]) -> None:
        self.raw = connection
        self._in_transaction = False
        self._writing = asyncio.Lock()
        self._writer: asyncio.Task[Any] | None = None

    @classmethod
    async def connect(cls, url: str) -> PgConnection:
        connection = await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=_row_factory)
        connection.adapters.register_dumper(bool, IntDumper)  # flags are 0/1 integers, as on SQLite
        connection.adapters.register_loader("numeric", _NumericLoader)
        return cls(connection)

    @property
    def in_transaction(self) -> bool:
        return self._in_transaction

    def execute(self, sql: str, params: Iterable[Any] = ()) -> _Pending:
        return _Pending(self._execute(sql, tuple(params)))

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> _Pending:
        return _Pending(self._executemany(sql, [tuple(row) for row in rows]))

    def _mine(self) -> bool:
        """Whether the open transaction, if any, is the current task's."""
        return self._in_transaction and self._writer is asyncio.current_task()

    async def _begin(self) -> None:
        if self._mine():
            return
        await self._writing.acquire()
        try:
            await self.raw.execute("BEGIN")
        except BaseException:
            self._writing.release()
            raise
        self._writer = asyncio.current_task()
        self._in_transaction = True

    def _ended(self) -> None:
        self._in_transaction = False
        self._writer = None
        self._writing.release()

    async def _begin_for(self, sql: str) -> None:
        if sql.lstrip()[:7].upper().startswith(_WRITES):
            await self._begin()

    async def _execute(self, sql: str, params: tuple[Any, ...]) -> PgCursor:
        statement = translate(sql)
        if statement.upper().startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE: a write transaction from here
            await self._begin()
            return PgCursor([], -1, None)
        try:
            await self._begin_for(statement)
            async with self.raw.cursor() as cursor:
                await cursor.execute(statement, params)
                rows = await cursor.fetchall() if cursor.description else []
                lastrowid = None
                if statement.endswith(" RETURNING id") and rows and " RETURNING id" not in sql:
                    lastrowid = rows[0][0]
                    rows = []
                return PgCursor(rows, cursor.rowcount, lastrowid)
        except psycopg.Error:
            await self._abandon()
            raise

    async def _executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> PgCursor:
        statement = translate(sql, returning_id=False)
        if not rows:
            return PgCursor([], 0, None)
        try:
            await self._begin_for(statement)
            async with self.raw.cursor() as cursor:
                await cursor.executemany(statement, rows)
                return PgCursor([], cursor.rowcount, None)
        except psycopg.Error:
            await self._abandon()
            raise

    async def _abandon(self) -> None:
        """A failed statement aborts PostgreSQL's whole transaction: end it, so the connection
        takes the next statement (SQLite would have kept the others; callers roll back anyway)."""
        if self._mine():
            self._ended()
            with contextlib.suppress(psycopg.Error):
                await self.raw.execute("ROLLBACK")

    async def commit(self) -> None:
        """End the current task's transaction; another task's is left alone."""
        if self._mine():
            try:
                await self.raw.execute("COMMIT")
            finally:
                self._ended()

    async def rollback(self) -> None:
        if self._mine():
            try:
                await self.raw.execute("ROLLBACK")
            finally:
                self._ended()

    async def executescript(self, script: str) -> None:
        await self.raw.execute(script.encode())  # several statements, no parameters

    async def close(self) -> None:
        await self.raw.close()


def latest_version() -> int:
    return max(number for number, _ in migrations())


@dataclass(frozen=True)
class ServerReport:
    server_version: str
    schema_version: int
    """0 before the first start has made the schema."""
    items: int
    """The planner's estimate: counting a million rows is not a health check."""


async def inspect(url: str) -> ServerReport:
    """What `newsdesk check` says of a PostgreSQL database, without changing it."""
    with unavailable_on_fault():
        async with await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=10) as connection:
            server = (await (await connection.execute("SHOW server_version")).fetchone() or ("?",))[0]
            version = 0
            if (await (await connection.execute("SELECT to_regclass('newsdesk_schema')")).fetchone() or (None,))[0]:
                row = await (await connection.execute("SELECT max(version) FROM newsdesk_schema")).fetchone()
                version = int(row[0]) if row and row[0] is not None else 0
            estimate = await (await connection.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass('items')")).fetchone()
    return ServerReport(str(server), version, max(0, int(estimate[0])) if estimate else 0)


async def migrate(connection: PgConnection) -> int:
    """Bring the database's schema up to date, one replica at a time; the version it has."""
    raw = connection.raw
    async with raw.transaction():
        await raw.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        await raw.execute("CREATE TABLE IF NOT EXISTS newsdesk_schema (version BIGINT NOT NULL)")
        found = await (await raw.execute("SELECT max(version) FROM newsdesk_schema")).fetchone()
        version = int(found[0]) if found and found[0] is not None else 0
        latest = max(number for number, _ in migrations())
        if version > latest:
            raise SchemaTooNew(f"the database has schema {version}, written by a newer Newsdesk (this one knows "
                               f"up to {latest}): upgrade Newsdesk")
        for number, script in migrations():
            if number > version:
                await raw.execute(script.encode())
                await raw.execute("INSERT INTO newsdesk_schema (version) VALUES (%s)", (number,))
                version = number
    return version

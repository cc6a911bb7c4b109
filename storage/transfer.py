"""Moving a desk from its SQLite file to a PostgreSQL database: every table, as it is.

`newsdesk migrate --to postgresql://…` runs this. The copy is one transaction on the server
(a failure leaves the target as it was) through COPY; the SQLite file is only read, under the
bot's lock, so no bot writes to it meanwhile. Tables derived by triggers (the per-chat counts of
/stats) are not copied: the server's triggers count the items as they arrive. The target must
be empty: a second run does not merge two desks.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from storage.errors import StorageError, unavailable_on_fault

TABLES = ("stories", "items", "batches", "batch_items", "chats", "deferred_links", "digest_schedules", "digest_runs",
          "feeds", "feed_entries", "link_charges", "llm_usage", "llm_chat_usage", "member_actions", "outbox",
          "search_terms", "story_bands", "story_signatures", "url_aliases", "watches", "backup_runs")
"""In an order that keeps references valid (stories before items, items before what names them)."""
DEFERRED_REFERENCES = {"items": ("same_as",)}
"""Columns pointing at rows of the same table that may come later: set after the copy."""
COUNT_TRIGGERS = ("items_counts_insert", "items_counts_update")
"""The items' triggers that keep /stats's counts: off during the copy, the counts made after it."""


@dataclass
class TransferReport:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def items(self) -> int:
        return self.rows.get("items", 0)


def copy_desk(source: Path, target_url: str) -> TransferReport:
    """Copy every table of the SQLite database at `source` into the (migrated, empty) PostgreSQL
    database at `target_url`; how many rows each took. Blocking: run it off the event loop."""
    started = time.monotonic()
    report = TransferReport()
    with unavailable_on_fault():
        reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            with psycopg.connect(target_url) as writer:
                _refuse_unless_empty(writer)
                for trigger in COUNT_TRIGGERS:
                    writer.execute(f"ALTER TABLE items DISABLE TRIGGER {trigger}")
                for table in TABLES:
                    report.rows[table] = _copy_table(reader, writer, table)
                _count_items(writer)
                for trigger in COUNT_TRIGGERS:
                    writer.execute(f"ALTER TABLE items ENABLE TRIGGER {trigger}")
                _restart_identities(writer)
                writer.execute("ANALYZE")
                writer.commit()
        finally:
            reader.close()
    report.seconds = time.monotonic() - started
    return report


def _refuse_unless_empty(writer: psycopg.Connection[tuple[object, ...]]) -> None:
    for table in ("items", "feeds", "digest_schedules", "watches"):
        row = writer.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()
        if row and row[0]:
            raise StorageError(f"the target database already has {table}: migrate into an empty database "
                               "(create a new one, e.g. createdb newsdesk)")


def _columns(reader: sqlite3.Connection, writer: psycopg.Connection[tuple[object, ...]], table: str) -> list[str]:
    """The columns both databases store (not SQLite's or PostgreSQL's generated ones)."""
    theirs = {row[0] for row in writer.execute(
        """SELECT column_name FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = %s AND is_generated = 'NEVER'""", (table,))}
    return [row[1] for row in reader.execute(f"PRAGMA table_info({table})") if row[1] in theirs]


def _copy_table(reader: sqlite3.Connection, writer: psycopg.Connection[tuple[object, ...]], table: str) -> int:
    columns = _columns(reader, writer, table)
    later = [name for name in DEFERRED_REFERENCES.get(table, ()) if name in columns]
    positions = [columns.index(name) for name in later]
    names = ", ".join(columns)
    count = 0
    kept: list[tuple[object, ...]] = []
    with writer.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in reader.execute(f"SELECT {names} FROM {table}"):
            values = list(row)
            if positions and any(values[n] is not None for n in positions):
                kept.append((values[columns.index("id")], *(values[n] for n in positions)))
                for n in positions:
                    values[n] = None
            copy.write_row(values)
            count += 1
    if kept:
        assignments = ", ".join(f"{name} = %s" for name in later)
        with writer.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s",
                               [(*values, row_id) for row_id, *values in kept])
    return count


def _count_items(writer: psycopg.Connection[tuple[object, ...]]) -> None:
    """The counts the items' triggers keep (migrations_pg/0001_schema.sql), counted once after the
    copy: counted row by row, every item's trigger updates the same few rows in one transaction,
    whose versions cannot be cleared until it ends, so each update walks all the earlier ones
    (100,000 items took 328 s that way; 1,000,000 was stopped after 28 minutes, now 976 s)."""
    writer.execute(
        "INSERT INTO chat_counts (chat_id, status, n) SELECT chat_id, status, count(*) FROM items GROUP BY 1, 2")
    writer.execute(
        """INSERT INTO chat_sources (chat_id, source, n)
           SELECT chat_id, coalesce(site_name, domain), count(*) FROM items WHERE status = 'done' GROUP BY 1, 2""")
    writer.execute(
        """INSERT INTO chat_failures (chat_id, reason, n)
           SELECT chat_id, coalesce(failure_reason, '?'), count(*) FROM items WHERE status = 'failed' GROUP BY 1, 2""")


def _restart_identities(writer: psycopg.Connection[tuple[object, ...]]) -> None:
    """Ids were copied as they were: the next new row of each table takes the one after the last."""
    tables = [row[0] for row in writer.execute(
        """SELECT table_name FROM information_schema.columns
           WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'""")]
    for table in tables:
        writer.execute(
            f"""SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL)
                FROM {table}""")

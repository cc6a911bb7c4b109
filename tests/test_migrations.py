"""Migrations go forward only, from every schema version shipped, on a database with data in it.

Each earlier schema is built from the migration files as they were when they were committed (read
with `git show` when the tests run in a git checkout, else from the package, which the next test
proves to be the same), filled with rows of every kind that version had, then opened by the
Repository as the bot opens it at start.
"""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import storage.repository
from storage.errors import SchemaTooNew, StorageUnavailable
from storage.repository import Repository, latest_version, migrations

ROOT = Path(__file__).resolve().parents[1]
FOLDER = "storage/migrations"
NOW = "2026-11-28T09:00:00+00:00"


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def shipped_script(number: int) -> str:
    """Migration `number` as it was committed (the package's copy outside a git checkout)."""
    path = next(p for p in (ROOT / FOLDER).glob(f"{number:04d}_*.sql"))
    added = _git("log", "--diff-filter=A", "--format=%H", "--", f"{FOLDER}/{path.name}")
    commit = added.split()[-1] if added and added.split() else None
    if commit:
        text = _git("show", f"{commit}:{FOLDER}/{path.name}")
        if text is not None:
            return text
    return path.read_text(encoding="utf-8")


def test_shipped_migrations_are_never_edited() -> None:
    """Forward only: a migration, once committed, is never changed (a new one is added instead)."""
    if _git("rev-parse", "--is-inside-work-tree") is None:
        pytest.skip("not a git checkout: the migrations' history cannot be read")
    for number, script in migrations():
        assert shipped_script(number) == script, f"migration {number} was changed after it was committed"


def build_old_database(path: Path, version: int) -> None:
    """A database at schema `version`, made from the shipped migrations, with rows in every table."""
    with sqlite3.connect(path) as connection:
        for number, _ in migrations():
            if number <= version:
                connection.executescript(f"BEGIN;\n{shipped_script(number)}\nPRAGMA user_version = {number};\nCOMMIT;")
        insert = ("INSERT INTO items (chat_id, url, canonical_url, domain, status, failure_reason, title, authors, "
                  "authors_text, site_name, source_text, text, summary, summary_language, submitted_by, "
                  "submitted_by_name, submitted_at, updated_at, published_date, language) "
                  "VALUES (?, ?, ?, 'example.com', ?, ?, ?, ?, ?, 'Example Times', 'Example Times example.com', ?, ?, "
                  "'en', 501, 'Olena', ?, ?, '2026-11-20', 'en')")
        connection.execute(insert, (-100, "https://example.com/grain", "https://example.com/grain", "done", None,
                                    "Black Sea grain exports hit a record", '["Maria Kovalenko"]', "Maria Kovalenko",
                                    "Grain exports through the corridor rose.", "Grain exports rose.", NOW, NOW))
        connection.execute(insert, (-100, "https://example.com/wait", "https://example.com/wait", "pending", None,
                                    None, "[]", None, None, None, NOW, NOW))
        connection.execute(insert, (-100, "https://example.com/gone", "https://example.com/gone", "failed",
                                    "http_404", None, "[]", None, None, None, NOW, NOW))
        connection.execute("INSERT INTO chats (chat_id, language, updated_at) VALUES (-100, 'en', ?)", (NOW,))
        if version >= 2:
            connection.execute("INSERT INTO llm_usage (day, tokens, calls) VALUES ('2026-11-28', 1234, 3)")
        if version >= 3:
            connection.execute("INSERT INTO digest_schedules (chat_id, time, timezone, since, updated_at) "
                               "VALUES (-100, '08:30', 'Europe/Kyiv', ?, ?)", (NOW, NOW))
            connection.execute("INSERT INTO digest_runs (chat_id, local_date, status, scheduled_for, claimed_at, "
                               "message_ids) VALUES (-100, '2026-11-27', 'sent', ?, ?, '[11, 12]')", (NOW, NOW))


def schema_of(path: Path) -> dict[str, list[str]]:
    """Each table, index and trigger with its columns (tables) or its SQL, as SQLite reports them."""
    with sqlite3.connect(path) as connection:
        found: dict[str, list[str]] = {}
        for kind, name, sql in connection.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"):
            if kind == "table":
                found[name] = [f"{row[1]} {row[2]} {row[3]} {row[4]}" for row in
                               connection.execute(f"PRAGMA table_info('{name}')")]
            else:
                found[name] = [kind, " ".join((sql or "").split())]
        return found


@pytest.mark.parametrize("version", range(latest_version()))
async def test_every_earlier_schema_is_brought_up_to_date_with_its_data(tmp_path: Path, version: int) -> None:
    old, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    if version:
        build_old_database(old, version)
    repository = await Repository.open(old)
    try:
        with sqlite3.connect(old) as connection:
            assert connection.execute("PRAGMA user_version").fetchone()[0] == latest_version()
        if version:
            grain = await repository.get(1, chat_id=-100)
            assert grain is not None and grain.title == "Black Sea grain exports hit a record"
            assert grain.authors == ("Maria Kovalenko",) and grain.published_date == date(2026, 11, 20)
            assert [hit.item.id for hit in (await repository.search(-100, "corridor", limit=5)).hits] == [1]
            stats = await repository.stats(-100)
            assert (stats.items, stats.pending, stats.failed) == (1, 1, 1)
            assert (await repository.chat_settings(-100)).language == "en"
        if version >= 2:
            assert await repository.llm_tokens_used(date(2026, 11, 28)) == 1234
        if version >= 3:
            schedule = await repository.digest_schedule(-100)
            assert schedule is not None and schedule.timezone == "Europe/Kyiv"
            run = await repository.digest_run(-100, date(2026, 11, 27))
            assert run is not None and run.status == "sent"
        # what the newest migrations added works on the upgraded file
        assert await repository.claim_backup(date(2026, 11, 28), stale_before=datetime(2026, 11, 28, tzinfo=UTC))
        new, _ = await repository.add_link(-100, "https://example.com/new", "https://example.com/new")
        assert new.id == (4 if version else 1)
    finally:
        await repository.close()
    repository = await Repository.open(fresh)
    await repository.close()
    assert schema_of(old) == schema_of(fresh)


async def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    database = tmp_path / "old.db"
    build_old_database(database, latest_version())
    broken = [*migrations(), (latest_version() + 1, "CREATE TABLE half_done (x);\nTHIS IS NOT SQL;")]
    monkeypatch.setattr(storage.repository, "migrations", lambda: broken)
    with pytest.raises(StorageUnavailable):
        await Repository.open(database)
    monkeypatch.undo()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == latest_version()
        assert connection.execute("SELECT count(*) FROM items").fetchone()[0] == 3
        assert not connection.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchall()
    repository = await Repository.open(database)
    assert (await repository.get(1)) is not None
    await repository.close()


async def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    database = tmp_path / "newer.db"
    build_old_database(database, latest_version())
    with sqlite3.connect(database) as connection:
        connection.execute(f"PRAGMA user_version = {latest_version() + 1}")
    before = database.read_bytes()
    with pytest.raises(SchemaTooNew, match="newer Newsdesk"):
        await Repository.open(database)
    assert database.read_bytes() == before

"""The PostgreSQL backend's own parts: the SQL it rewrites, its migrations (forward only, one
replica at a time), its faults. Everything else is the shared repository suite, run on both."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from bot.config import Settings
from storage import postgres
from storage.errors import SchemaTooNew, StorageUnavailable
from storage.postgres import translate
from storage.repository import Repository
from tests.support.postgres import TestDatabase


@pytest.mark.parametrize(("sqlite", "postgresql"), [
    ("SELECT * FROM items WHERE id = ?", "SELECT * FROM items WHERE id = %s"),
    ("SELECT title FROM items WHERE title LIKE '%grain%' AND id = ?",
     "SELECT title FROM items WHERE title LIKE '%%grain%%' AND id = %s"),
    ("SELECT '?' || ? FROM chats", "SELECT '?' || %s FROM chats"),
    ("INSERT OR IGNORE INTO story_bands (chat_id) VALUES (?)",
     "INSERT INTO story_bands (chat_id) VALUES (%s) ON CONFLICT DO NOTHING"),
    ("INSERT INTO stories (chat_id) VALUES (?)", "INSERT INTO stories (chat_id) VALUES (%s) RETURNING id"),
    ("UPDATE items SET story_pinned = max(story_pinned, ?) WHERE id = ?",
     "UPDATE items SET story_pinned = greatest(story_pinned, %s) WHERE id = %s"),
    ("SELECT max(id), min(coalesce(a, b)) FROM items", "SELECT max(id), min(coalesce(a, b)) FROM items"),
    ("SELECT * FROM items WHERE (? IS NULL OR chat_id = ?)",
     "SELECT * FROM items WHERE (%s::text IS NULL OR chat_id = %s)"),
    ("SELECT * FROM items WHERE thread_id IS ? AND feed_id IS NOT ?",
     "SELECT * FROM items WHERE thread_id IS NOT DISTINCT FROM %s AND feed_id IS DISTINCT FROM %s"),
    ("SELECT id FROM items INDEXED BY items_latest WHERE chat_id = ?", "SELECT id FROM items WHERE chat_id = %s"),
    ("SELECT ifnull(title, '') FROM items", "SELECT coalesce(title, '') FROM items"),
])
def test_the_stores_sql_as_postgresql_spells_it(sqlite: str, postgresql: str) -> None:
    assert " ".join(translate(sqlite).split()) == " ".join(postgresql.split())


def test_only_a_postgresql_url_selects_the_server() -> None:
    assert postgres.is_postgres("postgresql://desk@db/newsdesk") and postgres.is_postgres("postgres://db/x")
    assert not postgres.is_postgres("data/postgresql.db") and not postgres.is_postgres("/srv/newsdesk.db")
    settings = Settings.from_env({"NEWSDESK_DB": "postgresql://desk:s3cret@db.internal:5433/newsdesk"})
    assert settings.uses_postgres and settings.database == "postgresql://desk:s3cret@db.internal:5433/newsdesk"
    assert settings.database_label == "postgresql://desk:***@db.internal:5433/newsdesk"
    assert "s3cret" not in repr(settings)
    assert not Settings.from_env({"NEWSDESK_DB": "data/x.db"}).uses_postgres


async def test_a_server_that_is_down_is_unavailable_not_a_traceback() -> None:
    with pytest.raises(StorageUnavailable, match="cannot be used"):
        await Repository.open("postgresql://newsdesk@127.0.0.1:1/newsdesk")


@pytest.mark.postgres
async def test_replicas_starting_at_once_migrate_once(postgres_database: TestDatabase) -> None:
    url = postgres_database.fresh_schema()
    opened = await asyncio.gather(*(Repository.open(url) for _ in range(4)))
    try:
        assert {repository.schema_version for repository in opened} == {postgres.latest_version()}
        with psycopg.connect(url) as connection:
            versions = [row[0] for row in connection.execute("SELECT version FROM newsdesk_schema ORDER BY version")]
        assert versions == [number for number, _ in postgres.migrations()]
        item, _ = await opened[0].add_link(-1, "https://example.com/a", "https://example.com/a", domain="example.com")
        assert (await opened[3].get(item.id)) == item  # one database behind them all
    finally:
        for repository in opened:
            await repository.close()


@pytest.mark.postgres
async def test_a_schema_from_a_newer_newsdesk_is_refused(postgres_database: TestDatabase) -> None:
    url = postgres_database.fresh_schema()
    await (await Repository.open(url)).close()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("INSERT INTO newsdesk_schema (version) VALUES (%s)", (postgres.latest_version() + 1,))
    with pytest.raises(SchemaTooNew, match="newer Newsdesk"):
        await Repository.open(url)


@pytest.mark.postgres
async def test_a_failed_statement_does_not_wedge_the_shared_connection(postgres_database: TestDatabase) -> None:
    repository = await Repository.open(postgres_database.fresh_schema())
    try:
        item, _ = await repository.add_link(-1, "https://example.com/a", "https://example.com/a", domain="example.com")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            await repository.join_story(item.id, 999_999)  # no such story: the transaction is rolled back
        story = await repository.join_story(item.id, None)
        assert (await repository.get(item.id)) is not None and story > 0
    finally:
        await repository.close()


@pytest.mark.postgres
async def test_one_tasks_failed_transaction_leaves_another_tasks_writes(postgres_database: TestDatabase) -> None:
    """Tasks share the process's connection: a task writing while another's transaction is open
    waits for it to end, so the other's failure cannot roll back its write, nor its commit keep
    the other's half-done work."""
    repository = await Repository.open(postgres_database.fresh_schema())
    connection = repository._db
    ended: list[str] = []
    try:
        first, _ = await repository.add_link(-1, "https://example.com/a", "https://example.com/a", domain="example.com")

        async def half_done_then_failing() -> None:
            await connection.execute("BEGIN IMMEDIATE")
            await connection.execute("UPDATE items SET title = 'half done' WHERE id = ?", (first.id,))
            await asyncio.sleep(0.2)  # the other task writes meanwhile
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                await connection.execute("UPDATE items SET story_id = 999999 WHERE id = ?", (first.id,))
            ended.append("failed")

        async def writing_meanwhile() -> int:
            await asyncio.sleep(0.05)
            second, _ = await repository.add_link(
                -1, "https://example.com/b", "https://example.com/b", domain="example.com")
            ended.append("written")
            return second.id

        _, second_id = await asyncio.gather(half_done_then_failing(), writing_meanwhile())
        assert ended == ["failed", "written"]  # the write waited for the other transaction to end
        stored_first = await repository.get(first.id)
        assert stored_first is not None and stored_first.title is None  # the failed work was not committed
        assert await repository.get(second_id) is not None  # the write was not rolled back
    finally:
        await repository.close()

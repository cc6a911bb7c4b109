"""`newsdesk migrate --to postgresql://…`: a desk moved from its SQLite file to a PostgreSQL
database answers as it did (items and their every field, stories, feeds, schedules, watches,
/stats), and new items after the move take new ids. Needs the PostgreSQL server."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from storage.models import Stats
from storage.repository import Repository
from tests.support import articles, stories
from tests.support.postgres import TestDatabase
from tests.support.webserver import WebServer
from tests.test_cli import newsdesk

pytestmark = pytest.mark.postgres
CHAT = -100888


async def _desk_settings(database: str) -> None:
    """What a desk sets up besides its items: a feed, a schedule, a watch."""
    repository = await Repository.open(database)
    try:
        await repository.add_feed(CHAT, "https://outlet.example/rss", title="Outlet", site_url="https://outlet.example",
                                  mode="announce", thread_id=None, added_by=7, interval_seconds=900,
                                  next_check_at=datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
        await repository.set_digest_schedule(CHAT, at=time(18, 30), timezone="Europe/Kyiv")
        await repository.add_watch(CHAT, '"Black Sea" grain', thread_id=None, created_by=7)
    finally:
        await repository.close()


async def _snapshot(database: str) -> dict[str, object]:
    repository = await Repository.open(database)
    try:
        return {
            "feeds": [(f.url, f.title, f.mode, f.interval_seconds) for f in await repository.feeds(CHAT)],
            "schedule": await repository.digest_schedule(CHAT),
            "watches": [w.query for w in await repository.watches(CHAT)],
            "stats": await repository.stats(CHAT, now=datetime(2026, 12, 5, tzinfo=UTC)),
        }
    finally:
        await repository.close()


def test_a_desk_moves_to_postgresql_whole(tmp_path: Path, web: WebServer, postgres_database: TestDatabase) -> None:
    urls = [web.add(f"/migrate/{n}", stories.story_page(title=title, paragraphs=paragraphs, site=site))
            for n, (site, (title, paragraphs)) in enumerate(stories.QUAKE.items())]
    urls.append(web.add("/migrate/grain", articles.english_article()))
    urls.append("https://127.0.0.2:1/refused")  # a failed item moves too, with its reason
    chat = f"--chat={CHAT}"
    added = newsdesk(tmp_path, "add", *urls, "--json", chat)
    assert added.stdout.count("\n") == len(urls), added.stderr
    sqlite_file = str(tmp_path / "cli.db")
    asyncio.run(_desk_settings(sqlite_file))

    target = postgres_database.fresh_schema()
    moved = newsdesk(tmp_path, "migrate", "--to", target, "--json")
    assert moved.returncode == 0, moved.stderr
    rows = json.loads(moved.stdout)["rows"]
    assert rows["items"] == len(urls) and rows["stories"] >= 2 and rows["feeds"] == 1 and rows["watches"] == 1

    before = newsdesk(tmp_path, "export", "--format", "jsonl", chat).stdout
    after = newsdesk(tmp_path, "export", "--format", "jsonl", chat, NEWSDESK_DB=target).stdout
    assert before and after == before  # every field of every item, story ids included
    assert asyncio.run(_snapshot(target)) == asyncio.run(_snapshot(sqlite_file))
    listed = newsdesk(tmp_path, "stories", "--json", chat, NEWSDESK_DB=target)
    assert len(json.loads(listed.stdout.splitlines()[0])["items"]) == 3

    again = newsdesk(tmp_path, "migrate", "--to", target)
    assert again.returncode == 1 and "already has items" in again.stderr  # never two desks merged
    fresh = newsdesk(tmp_path, "add", web.add("/migrate/after", articles.english_article(
        title="A report filed after the move")), "--json", chat, NEWSDESK_DB=target)
    assert json.loads(fresh.stdout)["id"] == len(urls) + 1, fresh.stderr
    counted = asyncio.run(_snapshot(target))["stats"]  # the copy counted once; new items count as they come
    assert isinstance(counted, Stats) and counted.items == len(urls) and counted.failed == 1


def test_migrate_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    nothing = newsdesk(tmp_path, "migrate", "--to", "postgresql://nobody@127.0.0.1:1/none")
    assert nothing.returncode == 1 and "no database at NEWSDESK_DB" in nothing.stderr
    not_a_url = newsdesk(tmp_path, "migrate", "--to", str(tmp_path / "other.db"))
    assert not_a_url.returncode == 1 and "postgresql:// URL" in not_a_url.stderr

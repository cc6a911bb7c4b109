"""Crashes, restarts and a failing disk, with the real bot process and a real SQLite file.

The disk case mounts a small tmpfs for the database (the tests run as root in CI; elsewhere it
skips, saying why): the full disk is a real one, not a mock.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import articles
from tests.support.botapi import BotApiServer
from tests.support.botprocess import BotProcess
from tests.support.webserver import WebServer
from tests.test_bot import EDITOR, GROUP, bot_environment, card_for

pytestmark = pytest.mark.slow


@pytest.fixture
def telegram() -> Iterator[BotApiServer]:
    with BotApiServer(token="123:FAULTS") as server:
        server.add_chat(GROUP, chat_type="supergroup", title="Desk")
        server.add_user(EDITOR, first_name="Olena")
        yield server


def rows(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT canonical_url, status FROM items ORDER BY id").fetchall()


def digest_statuses(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [status for (status,) in connection.execute("SELECT status FROM digest_runs ORDER BY id")]


def wait_until(condition: Callable[[], bool], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.1)


def started(telegram: BotApiServer, environ: dict[str, str], log: Path) -> BotProcess:
    process = BotProcess(environ, log_path=log).start()
    calls = len(telegram.calls_to("getUpdates"))
    telegram.wait_for(lambda s: len(s.calls_to("getUpdates")) > calls, timeout=60)
    return process


def test_sigkill_mid_ingest_then_restart_loses_and_doubles_nothing(
    telegram: BotApiServer, web: WebServer, tmp_path: Path
) -> None:
    urls = [web.delayed(f"/faults/kill/{n}", articles.english_article(title=f"Killed batch article {n}"), 0.4)
            for n in range(100)]
    environ = bot_environment(telegram, tmp_path, INGEST_CONCURRENCY="4")
    database = Path(environ["NEWSDESK_DB"])
    bot = started(telegram, environ, tmp_path / "bot.log")
    try:
        for start in range(0, 100, 10):
            telegram.send_message(GROUP, "\n".join(urls[start:start + 10]), user=EDITOR)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            statuses = [s for _, s in rows(database)] if database.exists() else []
            if len(statuses) == 100 and statuses.count("done") >= 5:
                break
            time.sleep(0.1)
        bot.kill()
        before = rows(database)
        assert len(before) == 100 and sum(s == "pending" for _, s in before) > 10
        bot = started(telegram, environ, tmp_path / "bot.log")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(s == "pending" for _, s in rows(database)):
            time.sleep(0.2)
        after = rows(database)
        assert len(after) == 100 and len({url for url, _ in after}) == 100
        assert all(status == "done" for _, status in after)
        # every resumed link got its card, once
        for n in range(100):
            title = f"Killed batch article {n}"
            cards = [m for m in telegram.bot_messages(GROUP) if title + "\n" in m.content or m.content.endswith(title)]
            assert len([m for m in cards if "<b>Example Times</b>" in (m.source or "")]) <= 2
    finally:
        bot.terminate()


def test_sigterm_stops_cleanly_and_pending_links_finish_next_start(
    telegram: BotApiServer, web: WebServer, tmp_path: Path
) -> None:
    url = web.delayed("/faults/term", articles.english_article(title="Article during shutdown"), 3.0)
    environ = bot_environment(telegram, tmp_path)
    bot = started(telegram, environ, tmp_path / "bot.log")
    posted = telegram.send_message(GROUP, url, user=EDITOR)
    telegram.wait_for_reply(posted, timeout=20)  # "processing…"
    started_at = time.monotonic()
    code = bot.terminate(timeout=30)
    assert code == 0 and time.monotonic() - started_at < 20
    assert "Traceback" not in bot.log()
    bot = started(telegram, environ, tmp_path / "bot.log")
    try:
        card_for(telegram, GROUP, posted, "Article during shutdown", timeout=60)
        assert [s for _, s in rows(Path(environ["NEWSDESK_DB"]))] == ["done"]
    finally:
        bot.terminate()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs for the database, so the disk can really fill up or turn read-only."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_full_disk_is_reported_and_links_are_kept_until_it_clears(
    telegram: BotApiServer, web: WebServer, tmp_path: Path, small_disk: Path
) -> None:
    # A read-only remount cannot be made while the bot holds the file open for writing (the
    # kernel answers "busy"); SQLITE_READONLY takes the same path through the code as SQLITE_FULL.
    fault = "disk_full"
    environ = bot_environment(telegram, tmp_path, NEWSDESK_DB=str(small_disk / "bot.db"))
    bot = started(telegram, environ, tmp_path / "bot.log")
    try:
        warmup = web.add(f"/faults/{fault}/warmup", articles.english_article(title="Before the fault"))
        card_for(telegram, GROUP, telegram.send_message(GROUP, warmup, user=EDITOR), "Before the fault")
        filler = fill(small_disk)
        url = web.add(f"/faults/{fault}/during", articles.english_article(title="Posted during the fault"))
        posted = telegram.send_message(GROUP, url, user=EDITOR)
        answer = card_for(telegram, GROUP, posted, "База даних зараз недоступна", timeout=30)
        assert answer.reply_to == posted["message_id"]
        help_request = telegram.send_command(GROUP, "/help", user=EDITOR)
        assert telegram.wait_for_reply(help_request, timeout=20)  # still answering
        os.remove(filler)
        card_for(telegram, GROUP, posted, "Posted during the fault", timeout=60)
        assert "database" in bot.log().lower()
        with sqlite3.connect(small_disk / "bot.db") as connection:
            titles = [t for (t,) in connection.execute("SELECT title FROM items WHERE status = 'done'")]
        assert "Posted during the fault" in titles
    finally:
        bot.terminate()


def test_sigkill_mid_digest_then_restart_neither_loses_nor_doubles(
    telegram: BotApiServer, tmp_path: Path
) -> None:
    import asyncio
    import re
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from bot.pipeline.models import Article
    from storage.repository import Repository
    from tests.test_bot import ADMIN

    telegram.add_user(ADMIN, first_name="Admin")
    telegram.set_chat_admins(GROUP, [ADMIN])
    environ = bot_environment(telegram, tmp_path)

    async def stored_items() -> list[int]:
        repository = await Repository.open(environ["NEWSDESK_DB"])
        ids = []
        try:
            for n in range(80):
                item, _ = await repository.add_link(GROUP, f"https://e.example/{n}", f"https://e.example/{n}",
                                                    domain="e.example")
                article = Article(title=f"Digest crash article {n}", text="Body.", site_name=f"Source {n % 7}",
                                  language="en")
                await repository.mark_done(item.id, article, "A sentence of the summary that is fairly long. " * 3,
                                           final_url=item.url)
                ids.append(item.id)
        finally:
            await repository.close()
        return ids

    ids = asyncio.run(stored_items())
    bot = started(telegram, environ, tmp_path / "bot.log")
    try:
        at = (datetime.now(UTC) + timedelta(seconds=6)).astimezone(ZoneInfo("Europe/Kyiv")).strftime("%H:%M:%S")
        asked = telegram.send_command(GROUP, f"/schedule {at} Europe/Kyiv", user=ADMIN)
        after = telegram.wait_for_reply(asked, timeout=20).message_id
        telegram.wait_for(lambda s: any(m.content.startswith("Дайджест") for m in s.bot_messages(GROUP, after=after)),
                          timeout=40)
        bot.kill()
        parts_before = len(telegram.bot_messages(GROUP, after=after))
        bot = started(telegram, environ, tmp_path / "bot.log")

        def every_item_shown(server: BotApiServer) -> bool:
            text = "\n".join(m.content for m in server.bot_messages(GROUP, after=after))
            return all(f"№{i}\n" in text + "\n" for i in ids)

        telegram.wait_for(every_item_shown, timeout=90)
        wait_until(lambda: digest_statuses(Path(environ["NEWSDESK_DB"])) == ["sent"], timeout=30)
        text = "\n".join(m.content for m in telegram.bot_messages(GROUP, after=after))
        counts = {i: len(re.findall(rf"№{i}(?!\d)", text)) for i in ids}
        assert set(counts.values()) == {1}, counts
        assert text.count("Дайджест") == 1
        assert 1 <= parts_before < len(telegram.bot_messages(GROUP, after=after))
    finally:
        bot.terminate()


async def test_read_only_database_is_reported_and_links_are_kept_until_it_clears(
    telegram: BotApiServer, web: WebServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """In-process, because a running bot's database cannot be remounted read-only under it (the
    kernel says "busy"): the application is built by build_application, exactly as `newsdesk run`
    builds it, and SQLite's own query_only switch makes every write fail with SQLITE_READONLY."""
    from bot.config import Settings
    from bot.telegram.app import build_application

    application = build_application(Settings.from_env(bot_environment(telegram, tmp_path)))
    await application.initialize()
    await application.post_init(application)
    await application.updater.start_polling(poll_interval=0, timeout=1)
    await application.start()
    database = application.bot_data["services"].repository._db  # the bot's own connection
    try:
        url = web.add("/faults/read-only", articles.english_article(title="Posted while read-only"))
        await database.execute("PRAGMA query_only = 1")
        posted = telegram.send_message(GROUP, url, user=EDITOR)
        answer = await telegram.wait_for_reply_async(posted, timeout=20)
        assert "База даних зараз недоступна" in answer.content
        help_request = telegram.send_command(GROUP, "/help", user=EDITOR)
        assert await telegram.wait_for_reply_async(help_request, timeout=20)  # still answering
        services = application.bot_data["services"]

        def retried_and_held_again() -> bool:  # a retry found the database still read-only: nothing lost
            holds = [r for r in caplog.records if r.getMessage().startswith("database fault, holding link")]
            return len(holds) >= 2 and bool(services.intake.held)
        deadline = time.monotonic() + 30
        while not retried_and_held_again():
            assert time.monotonic() < deadline, "the held link was never retried"
            await asyncio.sleep(0.1)
        await database.execute("PRAGMA query_only = 0")

        async def card() -> bool:
            return any("Posted while read-only" in m.content for m in telegram.bot_messages(GROUP))
        deadline = time.monotonic() + 30
        while not await card():
            assert time.monotonic() < deadline, "the held link was never stored"
            await asyncio.sleep(0.2)
        assert [s for _, s in rows(Path(bot_environment(telegram, tmp_path)["NEWSDESK_DB"]))] == ["done"]
    finally:
        await application.updater.stop()
        await application.stop()
        await application.post_shutdown(application)
        await application.shutdown()

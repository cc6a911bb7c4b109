"""The bot's operations end to end: set-up mode telling a newcomer their ids, /id for anyone,
/export in every format (and its buttons), one bot per database, the heartbeat, and the daily
backup. The real bot (`python -m bot`) against the Bot API emulator, as in tests/test_bot.py."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from storage.files import lock_holder
from tests.support import articles
from tests.support.botapi import BotApiServer
from tests.support.botprocess import BotProcess
from tests.support.webserver import WebServer
from tests.test_bot import ADMIN, EDITOR, GROUP, OUTSIDER, STRANGER, bot_environment, card_for

pytestmark = pytest.mark.slow

NEWCOMER = 4242


@pytest.fixture
def telegram() -> Iterator[BotApiServer]:
    with BotApiServer(token="123:OPERATIONS") as server:
        server.add_chat(GROUP, chat_type="supergroup", title="Desk")
        server.add_chat(STRANGER, chat_type="supergroup", title="Strangers")
        server.add_user(EDITOR, first_name="Olena", language_code="uk")
        server.add_user(NEWCOMER, first_name="Newcomer", language_code="en")
        server.add_user(OUTSIDER, first_name="Outsider")
        server.set_chat_admins(GROUP, [ADMIN])
        yield server


@contextmanager
def started(telegram: BotApiServer, environ: dict[str, str], log: Path) -> Iterator[BotProcess]:
    """The bot running (polling) for the length of a block, then stopped with SIGTERM."""
    polls = len(telegram.calls_to("getUpdates"))
    with BotProcess(environ, log_path=log) as process:
        telegram.wait_for(lambda s: len(s.calls_to("getUpdates")) > polls, timeout=60)
        yield process


def test_set_up_mode_tells_a_newcomer_their_ids(telegram: BotApiServer, tmp_path: Path) -> None:
    """Only the token is set: the bot starts, says so in its log, and answers whoever writes with the
    ids to put in .env — privately every time, in a group once — and serves nothing meanwhile."""
    environ = bot_environment(telegram, tmp_path, ALLOWED_CHATS="", ADMINS="")
    with started(telegram, environ, tmp_path / "bot.log") as bot:
        bot.wait_for_log("set-up mode: ALLOWED_CHATS and ADMINS are empty")
        assert "https://t.me/newsdesk_test_bot" in bot.log()
        private = telegram.send_message(NEWCOMER, "hello?", user=NEWCOMER)
        answer = telegram.wait_for_reply(private, timeout=20)
        assert f"Your user id: {NEWCOMER}" in answer.content and f"ADMINS={NEWCOMER}" in answer.content
        again = telegram.send_command(NEWCOMER, "/latest", user=NEWCOMER)
        assert f"ADMINS={NEWCOMER}" in telegram.wait_for_reply(again, timeout=20).content  # every time, privately
        bot.wait_for_log(f"user {NEWCOMER} (Newcomer) wrote in private chat {NEWCOMER}")
        bot.wait_for_log(f"put ADMINS={NEWCOMER} in .env")
        in_group = telegram.send_command(GROUP, "/help", user=NEWCOMER)
        group_answer = telegram.wait_for_reply(in_group, timeout=20)
        assert f"ALLOWED_CHATS={GROUP}" in group_answer.content
        bot.wait_for_log(f"put ALLOWED_CHATS={GROUP} and ADMINS={NEWCOMER} in .env")
        second = telegram.send_command(GROUP, "/latest", user=NEWCOMER)
        asked = telegram.send_command(GROUP, "/id", user=NEWCOMER)
        assert f"This chat's id: {GROUP}" in telegram.wait_for_reply(asked, timeout=20).content
        assert all(m.reply_to != second["message_id"] for m in telegram.bot_messages(GROUP))  # told once


def test_id_answers_anyone_and_strangers_get_nothing_else(telegram: BotApiServer, tmp_path: Path) -> None:
    environ = bot_environment(telegram, tmp_path, ALLOWED_CHATS=str(GROUP), ADMINS=str(ADMIN))
    with started(telegram, environ, tmp_path / "bot.log"):
        served = telegram.send_command(GROUP, "/id", user=EDITOR)
        answer = telegram.wait_for_reply(served, timeout=20)
        assert f"ID цього чату: {GROUP}" in answer.content and f"Ваш ID користувача: {EDITOR}" in answer.content
        assert "<code>" in answer.source
        stranger = telegram.send_command(STRANGER, "/id@newsdesk_test_bot", user=OUTSIDER)
        told = telegram.wait_for_reply(stranger, timeout=20)
        assert f"This chat's id: {STRANGER}" in told.content and f"Your user id: {OUTSIDER}" in told.content
        latest = telegram.send_command(STRANGER, "/latest", user=OUTSIDER)
        notice = telegram.wait_for_reply(latest, timeout=20)
        assert "private" in notice.content  # the one notice, with nothing of the desk's
        other_bot = telegram.send_command(STRANGER, "/id@SomeOtherBot", user=OUTSIDER)
        probe = telegram.send_command(GROUP, "/help", user=EDITOR)
        telegram.wait_for_reply(probe, timeout=20)
        assert all(m.reply_to != other_bot["message_id"] for m in telegram.bot_messages(STRANGER))
        assert len(telegram.bot_messages(STRANGER)) == 2


def test_export_in_every_format_and_by_button(telegram: BotApiServer, web: WebServer, tmp_path: Path) -> None:
    environ = bot_environment(telegram, tmp_path, ALLOWED_CHATS=str(GROUP), ADMINS=str(ADMIN))
    url = web.add("/ops/export", articles.english_article(title="Exported [article] *one* #1"))
    with started(telegram, environ, tmp_path / "bot.log"):
        card_for(telegram, GROUP, telegram.send_message(GROUP, url, user=EDITOR), "Exported [article]")
        files = {}
        for name in ("json", "jsonl", "csv", "md", "markdown"):
            asked = telegram.send_command(GROUP, f"/export {name}", user=EDITOR)
            document = telegram.wait_for_reply(asked, timeout=20).document
            assert document is not None
            files[name] = (document.filename, document.data.decode())
        assert json.loads(files["json"][1])[0]["title"] == "Exported [article] *one* #1"
        assert files["json"][0].endswith(".json") and files["jsonl"][0].endswith(".jsonl")
        assert json.loads(files["jsonl"][1].splitlines()[0])["text"]
        assert next(csv.DictReader(io.StringIO(files["csv"][1])))["title"] == "Exported [article] *one* #1"
        assert files["md"][0].endswith(".md") and files["md"] == files["markdown"]
        assert "## [Exported \\[article\\] \\*one\\* \\#1](<http://127.0.0.2:" in files["md"][1]
        wrong = telegram.send_command(GROUP, "/export xlsx", user=EDITOR)
        assert "/export [csv|json|jsonl|md]" in telegram.wait_for_reply(wrong, timeout=20).content
        offered = telegram.send_command(GROUP, "/export", user=EDITOR)
        choice = telegram.wait_for_reply(offered, timeout=20)
        labels = {button["text"]: button["callback_data"] for button in choice.buttons}
        assert set(labels) == {"JSON", "JSON Lines", "CSV", "Markdown"}
        before = len(telegram.bot_messages(GROUP))
        telegram.press_button(GROUP, choice.message_id, labels["Markdown"], user=EDITOR)
        sent = telegram.wait_for(lambda s: [m for m in s.bot_messages(GROUP)[before:] if m.document], timeout=20)
        assert sent[0].document.filename.endswith(".md")


def test_one_bot_per_database_and_its_heartbeat(telegram: BotApiServer, tmp_path: Path) -> None:
    environ = bot_environment(telegram, tmp_path, ALLOWED_CHATS=str(GROUP))
    database = Path(environ["NEWSDESK_DB"])
    with started(telegram, environ, tmp_path / "bot.log") as bot:
        holder = lock_holder(database)
        assert holder is not None and bot.process is not None and holder.pid == bot.process.pid
        second = BotProcess(environ, log_path=tmp_path / "second.log").start()
        assert second.process is not None and second.process.wait(60) == 1
        assert f"another Newsdesk bot (process {bot.process.pid}) is already running" in second.log()
        assert "Traceback" not in second.log()
        old = time.time() - 3600
        os.utime(database.with_name(database.name + ".lock"), (old, old))
        deadline = time.monotonic() + 45
        while (found := lock_holder(database)) is None or time.time() - found.last_beat.timestamp() > 60:
            assert time.monotonic() < deadline, "the bot never beat"
            time.sleep(0.2)
    assert lock_holder(database) is None  # stopped: the lock is free


def test_the_bot_makes_the_daily_backup_once(telegram: BotApiServer, web: WebServer, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    environ = bot_environment(telegram, tmp_path, ALLOWED_CHATS=str(GROUP), BACKUP_DIR=str(backups),
                              BACKUP_KEEP="2", BACKUP_TIME="00:00")
    backups.mkdir()
    for name in ("newsdesk-20200101-030000.db", "newsdesk-20200102-030000.db", "newsdesk-20200103-030000.db",
                 "keep-me.txt"):
        (backups / name).write_bytes(b"old")
    url = web.add("/ops/backup", articles.english_article(title="Backed up article"))
    with started(telegram, environ, tmp_path / "bot.log") as bot:
        card_for(telegram, GROUP, telegram.send_message(GROUP, url, user=EDITOR), "Backed up article")
        bot.wait_for_log("old backups removed", timeout=60)
    made = sorted(p.name for p in backups.iterdir())
    assert made[:2] == ["keep-me.txt", "newsdesk-20200103-030000.db"] and len(made) == 3
    with sqlite3.connect(backups / made[2]) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with sqlite3.connect(environ["NEWSDESK_DB"]) as live:
        runs = live.execute("SELECT status, attempts FROM backup_runs").fetchall()
    assert runs == [("done", 1)]
    with started(telegram, environ, tmp_path / "again.log") as again:  # a restart the same day makes no second one
        again.wait_for_log("already made or being made", timeout=60)
    assert len(list(backups.glob("newsdesk-*.db"))) == 2


def test_an_unusable_database_is_one_line_not_a_traceback(telegram: BotApiServer, tmp_path: Path) -> None:
    """The container's old trap: NEWSDESK_DB where the bot cannot write. Also a file that is no database."""
    (tmp_path / "occupied").write_text("a file where the database's folder should be")
    for database, words in ((tmp_path / "occupied" / "bot.db", "cannot use the database folder"),
                            (tmp_path / "page.db", "file is not a database")):
        if database.name == "page.db":
            database.write_bytes(b"<html>not a database</html>" * 200)
        environ = bot_environment(telegram, tmp_path, NEWSDESK_DB=str(database))
        process = BotProcess(environ, log_path=tmp_path / f"{database.name}.log").start()
        assert process.process is not None and process.process.wait(60) == 1
        log = process.log()
        assert words in log and "Traceback" not in log, log
        assert len([line for line in log.splitlines() if line.startswith("newsdesk:")]) == 1

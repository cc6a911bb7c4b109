"""`newsdesk worker` (bot/desk/worker.py) and bot replicas sharing one PostgreSQL database: real
processes, a real server, the loopback page server and the Bot API emulator.

Every link is done exactly once (fetches per path, `done` rows), every card is sent exactly once
(sendMessage calls per item), a worker killed mid-item leaves it to another, and two replicas at
digest time send one digest.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from storage.repository import Repository
from tests.support import articles
from tests.support.botapi import BotApiServer, ChatMessage
from tests.support.botprocess import ROOT, BotProcess
from tests.support.postgres import TestDatabase
from tests.support.webserver import Exchange, WebServer

EDITOR = 501
SECRET = "replica-secret"


@pytest.fixture
def shared_url(postgres_database: TestDatabase) -> str:
    """One fresh PostgreSQL schema that every process of the test shares."""
    return postgres_database.fresh_schema()


def environment(url: str, **extra: str) -> dict[str, str]:
    return {"NEWSDESK_DB": url, "FETCH_ALLOW_NETWORKS": "127.0.0.2/32", "FETCH_TOTAL_TIMEOUT": "10",
            "EXTRACT_WORKERS": "1", "NEWSDESK_PROCESSING": "workers", "LOG_LEVEL": "INFO"} | extra


def newsdesk(environ: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=_process_environment(environ),
                          capture_output=True, text=True, timeout=timeout)


def _process_environment(environ: dict[str, str]) -> dict[str, str]:
    import os

    kept = {key: value for key, value in os.environ.items() if not key.startswith(("TELEGRAM_", "LLM_", "NEWSDESK_"))}
    return kept | {"PYTHONUNBUFFERED": "1"} | environ


def worker(environ: dict[str, str], log_path: Path, *args: str) -> BotProcess:
    return BotProcess(environ, log_path=log_path, command=("-m", "bot.cli", "worker", *args))


def rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as connection:
        return list(connection.execute(sql, params).fetchall())


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.2)
    raise TimeoutError(f"not within {timeout} s: {what}")


def test_the_worker_refuses_a_sqlite_file(tmp_path: Path) -> None:
    refused = newsdesk({"NEWSDESK_DB": str(tmp_path / "desk.db")}, "worker", "--once")
    assert refused.returncode == 2
    assert "PostgreSQL" in refused.stderr and "SQLite" in refused.stderr
    assert not (tmp_path / "desk.db").exists()


def test_workers_mode_needs_postgresql(tmp_path: Path) -> None:
    refused = newsdesk({"NEWSDESK_DB": str(tmp_path / "desk.db"), "NEWSDESK_PROCESSING": "workers"}, "latest")
    assert refused.returncode == 2
    assert "NEWSDESK_PROCESSING" in refused.stderr


def pending_links(url: str, web: WebServer, prefix: str, count: int, *, chat_id: int = -100321,
                  message_id: int | None = 40) -> list[str]:
    """Links committed as pending, as a bot in workers mode leaves them (posted in one message)."""
    paths = [f"/{prefix}/{n}" for n in range(count)]
    for n, path in enumerate(paths):
        web.add(path, articles.english_article(title=f"Queued article number {n:03d}"))
    with psycopg.connect(url, autocommit=True) as connection:
        for path in paths:
            link = web.url(path)
            connection.execute(
                """INSERT INTO items (chat_id, url, canonical_url, domain, status, message_id, submitted_at,
                       updated_at) VALUES (%s, %s, %s, '127.0.0.2', 'pending', %s, %s, %s)""",
                (chat_id, link, link, message_id, _now(), _now()))
    return paths


async def schedule_digest(url: str, chat: int, at: dt_time) -> None:
    repository = await Repository.open(url)
    try:
        await repository.set_digest_schedule(chat, at=at, timezone="UTC")
    finally:
        await repository.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@pytest.mark.postgres
@pytest.mark.slow
def test_once_drains_what_is_pending_and_writes_each_card_once(tmp_path: Path, web: WebServer,
                                                               shared_url: str) -> None:
    environ = environment(shared_url)
    opened = newsdesk(environ, "latest")  # the first process on the database makes its schema
    assert opened.returncode == 0, opened.stderr
    prefix = f"once-{uuid.uuid4().hex[:6]}"
    paths = pending_links(shared_url, web, prefix, 12)
    first = newsdesk(environ, "worker", "--once", "--json", "--no-feeds", "--concurrency", "4")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"done": 12, "failed": 0, "cards": 12, "feeds_polled": 0, "abandoned": 0}
    assert all(len(web.requests_to(path)) == 1 for path in paths)
    again = newsdesk(environ, "worker", "--once", "--json", "--no-feeds")
    assert json.loads(again.stdout)["done"] == 0
    cards = rows(shared_url, "SELECT kind, reply_to, status FROM outbox ORDER BY id")
    assert cards == [("card", 40, "waiting")] * 12
    assert rows(shared_url, "SELECT count(*) FROM items WHERE lease_owner IS NOT NULL") == [(0,)]


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.fleet
def test_a_worker_killed_mid_item_leaves_it_to_another(tmp_path: Path, web: WebServer, shared_url: str) -> None:
    environ = environment(shared_url)
    assert newsdesk(environ, "latest").returncode == 0
    prefix = f"killed-{uuid.uuid4().hex[:6]}"
    page = articles.english_article(title="The article whose first reader died").encode()
    first_request = threading.Event()

    def stall_the_first_reader(exchange: Exchange) -> None:
        if not first_request.is_set():
            first_request.set()
            exchange.client_gone(30)  # the first worker never gets an answer: it is killed meanwhile
            return
        exchange.start(200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(page))})
        exchange.write(page)

    path = f"/{prefix}/stalls"
    web.route(path, stall_the_first_reader)
    link = web.url(path)
    with psycopg.connect(shared_url, autocommit=True) as connection:
        connection.execute(
            """INSERT INTO items (chat_id, url, canonical_url, domain, status, submitted_at, updated_at)
               VALUES (-100321, %s, %s, '127.0.0.2', 'pending', %s, %s)""", (link, link, _now(), _now()))
    doomed = worker(environ, tmp_path / "doomed.log", "--lease", "3", "--no-feeds").start()
    try:
        assert first_request.wait(60), doomed.log()
        doomed.kill()
    finally:
        doomed.kill()
    started = time.monotonic()
    survivor = newsdesk(environ, "worker", "--once", "--json", "--no-feeds", "--lease", "3")
    assert survivor.returncode == 0, survivor.stderr
    assert json.loads(survivor.stdout)["done"] == 1
    assert time.monotonic() - started < 45
    [(status, attempts, owner)] = rows(shared_url, "SELECT status, attempts, lease_owner FROM items")
    assert (status, attempts, owner) == ("done", 1, None)  # finished once, by the survivor
    assert len(web.requests_to(path)) == 2  # the dead worker's stalled read, and the survivor's


# --- bot replicas ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post_update(port: int, update: dict[str, Any]) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/hook", data=json.dumps(update).encode(),
                                     method="POST", headers={"Content-Type": "application/json",
                                                             "X-Telegram-Bot-Api-Secret-Token": SECRET})
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except (ConnectionError, urllib.error.URLError):  # the listener starts right after setWebhook
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def replica_environment(telegram: BotApiServer, url: str, port: int, chats: list[int]) -> dict[str, str]:
    return environment(url, TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_BASE_URL=telegram.base_url,
                       WEBHOOK_URL="https://desk.example/hook", WEBHOOK_LISTEN="127.0.0.1",
                       WEBHOOK_PORT=str(port), WEBHOOK_SECRET=SECRET, ALLOWED_CHATS=",".join(map(str, chats)),
                       ADMINS=str(EDITOR))


class Replicas:
    """Bot replicas in webhook mode behind "one address": the test hands each update to one of them."""

    def __init__(self, telegram: BotApiServer, url: str, chats: list[int], folder: Path, count: int) -> None:
        self.ports = [free_port() for _ in range(count)]
        self.processes = [BotProcess(replica_environment(telegram, url, port, chats), log_path=folder / f"bot{n}.log")
                          for n, port in enumerate(self.ports)]
        self._next = 0
        self._update_ids = iter(range(1, 1_000_000))

    def __enter__(self) -> Replicas:
        for process in self.processes:
            process.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process in self.processes:
            try:
                process.terminate()
            except subprocess.TimeoutExpired:
                process.kill()

    def deliver(self, message: dict[str, Any]) -> None:
        port = self.ports[self._next % len(self.ports)]
        self._next += 1
        assert post_update(port, {"update_id": next(self._update_ids), "message": message}) == 200


@pytest.fixture
def chats() -> list[int]:
    return [-100_700_000 - n for n in range(30)]


@pytest.fixture
def telegram(chats: list[int]) -> Iterator[BotApiServer]:
    with BotApiServer(token="123:REPLICAS") as server:
        for chat in chats:
            server.add_chat(chat, chat_type="supergroup", title=f"Desk {chat}")
        server.add_user(EDITOR, first_name="Olena", language_code="en")
        yield server


def card_counts(telegram: BotApiServer, titles: list[str]) -> dict[str, int]:
    sent = [str(call.params.get("text", "")) for call in telegram.calls_to("sendMessage") if call.ok]
    return {title: sum(title in text for text in sent) for title in titles}


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.fleet
def test_three_workers_and_two_replicas_take_300_links_each_once(
        tmp_path: Path, web: WebServer, shared_url: str, telegram: BotApiServer, chats: list[int]) -> None:
    prefix = f"fleet-{uuid.uuid4().hex[:6]}"
    titles = [f"Fleet article number {n:03d}" for n in range(300)]
    paths = [f"/{prefix}/{n}" for n in range(300)]
    for path, title in zip(paths, titles, strict=True):
        web.add(path, articles.english_article(title=title))
    environ = environment(shared_url)
    assert newsdesk(environ, "latest").returncode == 0  # the schema, before five processes race to make it
    workers = [worker(environ, tmp_path / f"worker{n}.log", "--concurrency", "4", "--no-feeds").start()
               for n in range(3)]
    try:
        with Replicas(telegram, shared_url, chats, tmp_path, 2) as replicas:
            telegram.wait_for(lambda s: len(s.calls_to("setWebhook")) >= 2, timeout=60)
            for n, chat in enumerate(chats):  # ten links a message, one message a chat
                text = "\n".join(web.url(path) for path in paths[n * 10:(n + 1) * 10])
                replicas.deliver(telegram.send_message(chat, text, user=EDITOR))
            wait_until(lambda: rows(shared_url, "SELECT count(*) FROM items WHERE status = 'done'")[0][0] == 300,
                       120, "300 links done")
            wait_until(lambda: all(card_counts(telegram, titles).values()), 60, "a card for every link")
            time.sleep(3)  # a card sent twice would show now: two delivery rounds later
            counts = card_counts(telegram, titles)
    finally:
        for process in workers:
            process.terminate()
    assert [title for title, count in counts.items() if count != 1] == []
    assert all(len(web.requests_to(path)) == 1 for path in paths)
    assert rows(shared_url, "SELECT status, attempts, count(*) FROM items GROUP BY 1, 2") == [("done", 1, 300)]
    assert rows(shared_url, "SELECT status, count(*) FROM outbox GROUP BY 1") == [("sent", 300)]
    replies = {call.params.get("reply_parameters", {}).get("message_id")
               for call in telegram.calls_to("sendMessage") if "Fleet article" in str(call.params.get("text"))}
    assert None not in replies  # each card answers the message its link came in
    done_by = [process.log().count("done in") for process in workers]
    assert sum(done_by) == 300 and sum(1 for count in done_by if count) >= 2  # shared among the workers


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.fleet
def test_two_replicas_at_digest_time_send_one_digest(tmp_path: Path, shared_url: str, telegram: BotApiServer,
                                                     chats: list[int]) -> None:
    chat = chats[0]
    environ = environment(shared_url)
    assert newsdesk(environ, "latest").returncode == 0
    at = (datetime.now(UTC) + timedelta(seconds=20)).time().replace(microsecond=0)
    asyncio.run(schedule_digest(shared_url, chat, at))

    def digests() -> list[ChatMessage]:
        return [m for m in telegram.bot_messages(chat) if m.content.startswith(("Дайджест", "Digest"))]

    with Replicas(telegram, shared_url, chats, tmp_path, 2):
        telegram.wait_for(lambda s: len(s.calls_to("setWebhook")) >= 2, timeout=60)
        wait_until(digests, 60, "the digest")
        time.sleep(5)  # the other replica's wake-up and sweep come and go
        sent = digests()
    assert len(sent) == 1
    assert rows(shared_url, "SELECT status, count(*) FROM digest_runs GROUP BY 1") == [("sent", 1)]

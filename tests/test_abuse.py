"""One chat floods the bot with 500 links in a minute: bounded work, fairness to other chats,
and a clear message when MAX_LINKS_PER_HOUR is passed. The real bot, emulator and web server."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import articles
from tests.support.botapi import BotApiServer
from tests.support.botprocess import BotProcess
from tests.support.webserver import Exchange, WebServer
from tests.test_bot import CHANNEL, EDITOR, GROUP, bot_environment, card_for

pytestmark = pytest.mark.slow
FLOODER, OTHER = GROUP, CHANNEL


class InFlight:
    """Counts requests being served at once."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self.lock = threading.Lock()

    def page(self, title: str, delay: float):
        body = articles.english_article(title=title).encode()

        def serve(exchange: Exchange) -> None:
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                time.sleep(delay)
                exchange.start(200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))})
                exchange.write(body)
            finally:
                with self.lock:
                    self.now -= 1

        return serve


@pytest.fixture
def telegram() -> Iterator[BotApiServer]:
    with BotApiServer(token="123:ABUSE") as server:
        server.add_chat(FLOODER, chat_type="supergroup", title="Flooder")
        server.add_chat(OTHER, chat_type="channel", title="Other desk")
        server.add_user(EDITOR, first_name="Olena")
        yield server


def test_flood_of_500_links(telegram: BotApiServer, web: WebServer, tmp_path: Path) -> None:
    counter = InFlight()
    urls = [web.route(f"/abuse/{n}", counter.page(f"Flood article {n}", 0.2)) for n in range(500)]
    environ = bot_environment(telegram, tmp_path, INGEST_CONCURRENCY="4", MAX_LINKS_PER_HOUR="100")
    with BotProcess(environ, log_path=tmp_path / "bot.log"):
        telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
        for start in range(0, 500, 25):
            telegram.send_message(FLOODER, "\n".join(urls[start:start + 25]), user=EDITOR)
        other_url = web.route("/abuse/other", counter.page("The other desk's article", 0.2))
        posted_at = time.monotonic()
        other = telegram.send_message(OTHER, other_url)
        card_for(telegram, OTHER, other, "The other desk's article", timeout=30)
        other_latency = time.monotonic() - posted_at
        with sqlite3.connect(environ["NEWSDESK_DB"]) as connection:
            flood_pending = connection.execute(
                "SELECT count(*) FROM items WHERE chat_id = ? AND status = 'pending'", (FLOODER,)).fetchone()[0]
        stats = telegram.send_command(OTHER, "/stats")
        assert telegram.wait_for_reply(stats, timeout=15)
        limit_notices = telegram.wait_for(
            lambda s: [m for m in s.bot_messages(FLOODER) if "Забагато посилань" in m.content], timeout=30)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with sqlite3.connect(environ["NEWSDESK_DB"]) as connection:
                statuses = dict(connection.execute(
                    "SELECT status, count(*) FROM items WHERE chat_id = ? GROUP BY status", (FLOODER,)).fetchall())
            if statuses.get("pending", 0) == 0:
                break
            time.sleep(0.5)
    assert statuses == {"done": 100}  # the hourly limit, no more
    assert len(limit_notices) >= 1 and "100" in limit_notices[0].content
    assert flood_pending > 20  # the other chat was served while the flood was still queued
    assert other_latency < 15
    assert counter.most <= 4  # INGEST_CONCURRENCY bounds the fetches

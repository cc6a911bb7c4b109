"""The bot under other conditions: webhook mode, Telegram's flood control, a slow link among fast
ones. The real bot process against the Bot API emulator, as in tests/test_bot.py."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
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
    with BotApiServer(token="123:MODES") as server:
        server.add_chat(GROUP, chat_type="supergroup", title="Desk")
        server.add_user(EDITOR, first_name="Olena", language_code="uk")
        yield server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post_update(url: str, update: dict, secret: str) -> int:
    request = urllib.request.Request(url, data=json.dumps(update).encode(), method="POST", headers={
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_webhook_mode_checks_the_secret_and_answers(telegram: BotApiServer, tmp_path: Path) -> None:
    port = free_port()
    environ = bot_environment(telegram, tmp_path, WEBHOOK_URL="https://bot.example/hook/newsdesk",
                              WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port), WEBHOOK_SECRET="s3cret-token")
    with BotProcess(environ, log_path=tmp_path / "bot.log") as bot:
        telegram.wait_for(lambda s: s.calls_to("setWebhook"), timeout=60)
        registered = telegram.calls_to("setWebhook")[-1].params
        assert registered["url"] == "https://bot.example/hook/newsdesk"
        assert registered["secret_token"] == "s3cret-token"
        message = telegram.send_command(GROUP, "/help", user=EDITOR)  # recorded in the chat's history
        local = f"http://127.0.0.1:{port}/hook/newsdesk"
        deadline = time.monotonic() + 30
        while True:  # the listener starts right after setWebhook
            try:
                status = post_update(local, {"update_id": 1, "message": message}, "wrong")
                break
            except (ConnectionError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert status == 403
        assert post_update(local, {"update_id": 2, "message": message}, "s3cret-token") == 200
        answer = telegram.wait_for_reply(message, timeout=20)
        assert "Newsdesk" in answer.content
        assert not telegram.calls_to("getUpdates")
        assert "s3cret-token" not in bot.log() and telegram.token not in bot.log().replace(
            f"{telegram.base_url}{telegram.token}", "")


def test_flood_control_delays_but_loses_nothing(telegram: BotApiServer, web: WebServer, tmp_path: Path) -> None:
    urls = [web.add(f"/modes/flood/{n}", articles.english_article(title=f"Flood-controlled article {n}"))
            for n in range(4)]
    with BotProcess(bot_environment(telegram, tmp_path), log_path=tmp_path / "bot.log"):
        telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
        telegram.flood_limit(1)
        posted = telegram.send_message(GROUP, "\n".join(urls), user=EDITOR)
        ping = telegram.send_command(GROUP, "/help", user=EDITOR)  # while the cards are on their way
        for n in range(4):
            card_for(telegram, GROUP, posted, f"Flood-controlled article {n}", timeout=60)
        assert telegram.wait_for_reply(ping, timeout=30)
        # The bot paces itself (bot/telegram/ratelimit.py): a 429 is rare, and a call that gets one
        # is tried again (test_ratelimit.py); every call that put something in the chat got through.
        posted_calls = [c for c in telegram.calls if c.method.lower().startswith(("send", "edit"))]
        assert all(c.ok or c.status == 429 for c in posted_calls)
        assert len([c for c in telegram.errors if c.status == 429]) <= 2


def test_a_slow_link_does_not_hold_up_the_others(telegram: BotApiServer, web: WebServer, tmp_path: Path) -> None:
    slow_url = web.delayed("/modes/slow", articles.english_article(title="The slow article"), 8)
    fast_url = web.add("/modes/fast", articles.english_article(title="The fast article"))
    with BotProcess(bot_environment(telegram, tmp_path, FETCH_TOTAL_TIMEOUT="15"), log_path=tmp_path / "bot.log"):
        telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
        posted = telegram.send_message(GROUP, f"{slow_url}\n{fast_url}", user=EDITOR)
        card_for(telegram, GROUP, posted, "The fast article", timeout=20)
        replies = telegram.bot_messages(GROUP, after=posted["message_id"])
        # the fast card did not wait for the slow page, which the server holds back for 8 s
        assert not any("The slow article" in reply.content for reply in replies)
        card_for(telegram, GROUP, posted, "The slow article", timeout=40)

"""Scheduled digests end to end: `python -m bot` against the Bot API emulator, two chats with
their own times and zones, each digest delivered once, and not again after a restart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support import articles
from tests.support.botapi import BotApiServer, ChatMessage
from tests.support.botprocess import BotProcess
from tests.support.webserver import WebServer
from tests.test_bot import ADMIN, CHANNEL, EDITOR, GROUP, bot_environment, card_for

pytestmark = pytest.mark.slow

LEAD = 8  # seconds between /schedule and the digest time: enough for the bot to answer first


@pytest.fixture
def telegram() -> Iterator[BotApiServer]:
    with BotApiServer(token="123:TESTTOKEN") as server:
        server.add_chat(GROUP, chat_type="supergroup", title="Desk")
        server.add_chat(CHANNEL, chat_type="channel", title="Desk channel")
        server.add_user(EDITOR, first_name="Olena", language_code="uk")
        server.add_user(ADMIN, first_name="Admin")
        server.set_chat_admins(GROUP, [ADMIN])
        yield server


def soon(zone: str, seconds: int = LEAD) -> str:
    """HH:MM:SS in `zone`, `seconds` from now (the seconds form exists for exactly this)."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")


def digest_day(message: ChatMessage) -> date:
    """The local date a digest message is for ("Дайджест за 29.03.2026 …")."""
    found = re.search(r"(\d{2})\.(\d{2})\.(\d{4})", message.content)
    assert found, message.content
    return date(int(found[3]), int(found[2]), int(found[1]))


def digests(telegram: BotApiServer, chat: int) -> list[ChatMessage]:
    return [m for m in telegram.bot_messages(chat) if m.content.startswith("Дайджест")]


def test_each_chat_gets_one_digest_at_its_own_time_and_none_after_a_restart(
        telegram: BotApiServer, web: WebServer, tmp_path: Path) -> None:
    environ = bot_environment(telegram, tmp_path)
    with BotProcess(environ, log_path=tmp_path / "bot.log") as bot:
        telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
        url = web.add("/digest/grain", articles.english_article(title="Digest day grain article"))
        card_for(telegram, GROUP, telegram.send_message(GROUP, url, user=EDITOR), "Digest day grain article")

        refused = telegram.send_command(GROUP, "/schedule 09:00", user=EDITOR)
        assert "адміністратори" in telegram.wait_for_reply(refused, timeout=20).content
        kyiv = telegram.send_command(GROUP, f"/schedule {soon('Europe/Kyiv')} Europe/Kyiv", user=ADMIN)
        tokyo = telegram.send_command(CHANNEL, f"/schedule {soon('Asia/Tokyo', LEAD + 3)} asia/tokyo")
        assert "Europe/Kyiv" in telegram.wait_for_reply(kyiv, timeout=20).content
        assert "Asia/Tokyo" in telegram.wait_for_reply(tokyo, timeout=20).content
        shown = telegram.send_command(GROUP, "/schedule", user=EDITOR)
        assert "Наступний" in telegram.wait_for_reply(shown, timeout=20).content

        kyiv_digest = telegram.wait_for(lambda s: digests(s, GROUP), timeout=30)[0]
        tokyo_digest = telegram.wait_for(lambda s: digests(s, CHANNEL), timeout=30)[0]
        assert "Digest day grain article" in kyiv_digest.content and "/search" in kyiv_digest.content
        assert "нових матеріалів немає" in tokyo_digest.content
        # local dates differ from UTC's for part of the day; each digest is dated in its own zone
        assert datetime.now(ZoneInfo("Asia/Tokyo")).strftime("%d.%m.%Y") in tokyo_digest.content
        assert "digest for chat" in bot.log()
        kyiv_day, tokyo_day = (digest_day(message) for message in (kyiv_digest, tokyo_digest))

    with BotProcess(environ, log_path=tmp_path / "bot-again.log") as again:
        # the sweep runs one second after start: it finds both days already sent
        again.wait_for_log(f"digest for chat {GROUP} on {kyiv_day}: already sent", timeout=60)
        again.wait_for_log(f"digest for chat {CHANNEL} on {tokyo_day}: already sent", timeout=60)
        assert again.process is not None and again.process.poll() is None
    assert len(digests(telegram, GROUP)) == 1
    assert len(digests(telegram, CHANNEL)) == 1

"""The bot end to end: `python -m bot` polls our strict Bot API emulator over real HTTP, and
fetches article pages from a local web server. Nothing is mocked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import articles
from tests.support.botapi import BotApiServer
from tests.support.botprocess import BotProcess
from tests.support.webserver import WebServer

GROUP, CHANNEL, FORUM, STRANGER = -100500, -100600, -100700, -100999
EDITOR, ADMIN, OUTSIDER = 501, 777, 999

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def telegram() -> Iterator[BotApiServer]:
    with BotApiServer(token="123:TESTTOKEN") as server:
        server.add_chat(GROUP, chat_type="supergroup", title="Desk")
        server.add_chat(CHANNEL, chat_type="channel", title="Desk channel")
        server.add_chat(FORUM, chat_type="supergroup", title="Desk forum", is_forum=True)
        server.add_chat(STRANGER, chat_type="supergroup", title="Strangers")
        server.add_user(EDITOR, first_name="Olena", language_code="uk")
        server.add_user(ADMIN, first_name="Admin")
        server.add_user(OUTSIDER, first_name="Outsider")
        server.set_chat_admins(GROUP, [ADMIN])
        yield server


def bot_environment(telegram: BotApiServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_BASE_URL": telegram.base_url,
        "NEWSDESK_DB": str(tmp_path / "bot.db"),
        "ALLOWED_CHATS": f"{GROUP},{CHANNEL},{FORUM}",
        "ADMINS": str(ADMIN),
        "FETCH_ALLOW_NETWORKS": "127.0.0.2/32",
        "FETCH_TOTAL_TIMEOUT": "5",
        "EXTRACT_WORKERS": "1",
    } | extra


@pytest.fixture(scope="module")
def bot(telegram: BotApiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    folder = tmp_path_factory.mktemp("bot")
    with BotProcess(bot_environment(telegram, folder), log_path=folder / "bot.log") as process:
        telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
        yield process


def last_text(telegram: BotApiServer, chat: int, after: int, count: int = 1, timeout: float = 30) -> str:
    return telegram.wait_for_messages(chat, count, timeout, after=after)[count - 1].content


def card_for(telegram: BotApiServer, chat: int, message: dict, title: str, timeout: float = 30):
    """The bot's reply to `message` once it has been edited into a card containing `title`."""
    def ready(server: BotApiServer):
        for reply in server.bot_messages(chat, after=message["message_id"]):
            if title in reply.content:
                return reply
        return None
    return telegram.wait_for(ready, timeout)


def test_commands_are_registered_in_both_languages(bot: BotProcess, telegram: BotApiServer) -> None:
    english = telegram.wait_for(lambda s: s.commands(language_code=""), timeout=20)
    ukrainian = telegram.wait_for(lambda s: s.commands(language_code="uk"), timeout=20)
    assert {c["command"] for c in english} >= {"help", "add", "latest", "search", "item", "digest", "stats", "export", "lang"}
    assert any("пошук" in c["description"] for c in ukrainian)


def test_a_link_becomes_a_card_in_reply(bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    url = web.add("/bot/grain", articles.english_article(authors=("Maria Kovalenko",)))
    posted = telegram.send_message(GROUP, f"Look: {url}", user=EDITOR)
    reply = card_for(telegram, GROUP, posted, "Black Sea grain exports hit a record")
    assert reply.reply_to == posted["message_id"]
    assert "<b>Example Times</b> — 20.11.2026" in reply.source
    assert "Maria Kovalenko" in reply.content
    assert "Grain exports through the Black Sea corridor" in reply.content
    assert reply.parse_mode == "HTML"
    # the same link again, with tracking parameters: no second copy
    again = telegram.send_message(GROUP, f"{url}?utm_source=tg#top", user=ADMIN)
    answer = telegram.wait_for_reply(again, timeout=20)
    assert "Уже збережено: Olena" in answer.content
    assert len(web.requests_to("/bot/grain")) == 1


def test_several_links_and_hidden_links_are_all_taken(bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    first = web.add("/bot/one", articles.english_article(title="First of several articles"))
    second = web.add("/bot/two", articles.ukrainian_article(title="Друга стаття про енергетику"))
    text = f"two links: {first} and hidden here"
    hidden_offset = text.index("hidden here")
    posted = telegram.send_message(GROUP, text, user=EDITOR, entities=[
        {"type": "url", "offset": text.index(first), "length": len(first)},
        {"type": "text_link", "offset": hidden_offset, "length": len("hidden here"), "url": second},
    ])
    card_for(telegram, GROUP, posted, "Друга стаття про енергетику")
    card_for(telegram, GROUP, posted, "First of several articles")
    summary = card_for(telegram, GROUP, posted, "✅")  # "processing…", edited into one line a link
    assert "First of several articles" in summary.content and "Друга стаття" in summary.content
    cards = [m for m in telegram.bot_messages(GROUP, after=posted["message_id"]) if m.message_id != summary.message_id]
    assert summary.message_id < min(m.message_id for m in cards)  # the lines come first, then the cards


def test_failed_link_says_why(bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    web.redirect("/bot/private", "http://10.0.0.1/admin")
    posted = telegram.send_message(GROUP, web.url("/bot/private"), user=EDITOR)
    reply = card_for(telegram, GROUP, posted, "внутрішньої мережі")
    assert "Не вдалося зберегти" in reply.content


def test_channel_posts_and_forwarded_posts(bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    url = web.add("/bot/channel", articles.english_article(title="Channel post article"))
    posted = telegram.send_message(CHANNEL, url)
    card_for(telegram, CHANNEL, posted, "Channel post article")
    forwarded_url = web.add("/bot/forwarded", articles.english_article(title="Forwarded article"))
    forwarded = telegram.send_message(GROUP, forwarded_url, user=EDITOR, forward_origin={
        "type": "channel", "date": 1764300000, "chat": {"id": -100123, "type": "channel", "title": "Other"},
        "message_id": 9})
    card_for(telegram, GROUP, forwarded, "Forwarded article")


def test_forum_answers_go_to_the_topic(bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    url = web.add("/bot/topic", articles.english_article(title="Topic article"))
    posted = telegram.send_message(FORUM, url, user=EDITOR, message_thread_id=42)
    reply = card_for(telegram, FORUM, posted, "Topic article")
    assert reply.message_thread_id == 42


def test_search_with_operators_and_paging(bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    for n in range(7):
        url = web.add(f"/bot/budget{n}", articles.english_article(title=f"Budget talks round {n}"))
        card_for(telegram, GROUP, telegram.send_message(GROUP, url, user=EDITOR), f"Budget talks round {n}")
    asked = telegram.send_command(GROUP, '/search budget -"round 6"', user=EDITOR)
    results = telegram.wait_for_reply(asked, timeout=20)
    assert "Знайдено 6" in results.content and "Budget talks round 6" not in results.content
    assert results.buttons
    hostile = telegram.send_command(GROUP, '/search "unclosed OR ( NEAR* -', user=EDITOR)
    assert "Нічого не знайдено" in telegram.wait_for_reply(hostile, timeout=20).content
    button = results.buttons[0]
    telegram.press_button(GROUP, results.message_id, button["callback_data"], user=EDITOR)
    paged = telegram.wait_for(lambda s: (m := s.message(GROUP, results.message_id)) and m.content != results.content and m, timeout=20)
    assert "Budget talks round" in paged.content


def test_latest_item_stats_export(bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    url = web.add("/bot/latest", articles.english_article(title="Latest article check"))
    card = card_for(telegram, GROUP, telegram.send_message(GROUP, url, user=EDITOR), "Latest article check")
    item_id = card.content.rsplit("№", 1)[1].strip()
    latest = telegram.send_command(GROUP, "/latest 3", user=EDITOR)
    assert "Latest article check" in telegram.wait_for_reply(latest, timeout=20).content
    one = telegram.send_command(GROUP, f"/item {item_id}", user=EDITOR)
    assert "Latest article check" in telegram.wait_for_reply(one, timeout=20).content
    missing = telegram.send_command(GROUP, "/item 99999", user=EDITOR)
    assert "99999" in telegram.wait_for_reply(missing, timeout=20).content
    stats = telegram.send_command(GROUP, "/stats", user=EDITOR)
    assert "Матеріалів" in telegram.wait_for_reply(stats, timeout=20).content
    export = telegram.send_command(GROUP, "/export json", user=EDITOR)
    document = telegram.wait_for_reply(export, timeout=20)
    assert document.document is not None
    rows = json.loads(document.document.data.decode())  # one JSON array
    assert any(row["title"] == "Latest article check" and row["text"] for row in rows)


def test_commands_for_other_bots_and_unknown_commands(bot: BotProcess, telegram: BotApiServer) -> None:
    other = telegram.send_command(GROUP, "/latest@OtherBot", user=EDITOR)
    unknown = telegram.send_command(GROUP, "/frobnicate", user=EDITOR)
    answer = telegram.wait_for_reply(unknown, timeout=20)
    assert "/help" in answer.content and answer.reply_to == unknown["message_id"]
    assert all(m.reply_to != other["message_id"] for m in telegram.bot_messages(GROUP))


def test_language_is_changed_by_admins_only(bot: BotProcess, telegram: BotApiServer) -> None:
    refused = telegram.send_command(GROUP, "/lang en", user=EDITOR)
    assert "адміністратори" in telegram.wait_for_reply(refused, timeout=20).content
    allowed = telegram.send_command(GROUP, "/lang en", user=ADMIN)
    assert "English" in telegram.wait_for_reply(allowed, timeout=20).content
    helped = telegram.send_command(GROUP, "/help", user=EDITOR)
    assert "collects the articles" in telegram.wait_for_reply(helped, timeout=20).content
    back = telegram.send_command(GROUP, "/lang uk", user=ADMIN)
    assert "українська" in telegram.wait_for_reply(back, timeout=20).content


def test_strangers_are_told_once_and_nothing_is_fetched(bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    url = web.add("/bot/stranger", articles.english_article(title="Not for strangers"))
    first = telegram.send_message(STRANGER, url, user=OUTSIDER)
    assert "private" in telegram.wait_for_reply(first, timeout=20).content
    second = telegram.send_command(STRANGER, "/latest", user=OUTSIDER)
    probe = telegram.send_command(GROUP, "/help", user=EDITOR)
    telegram.wait_for_reply(probe, timeout=20)  # the bot has handled everything sent before
    assert len(telegram.bot_messages(STRANGER)) == 1
    assert web.requests_to("/bot/stranger") == []
    assert second  # sent, and ignored


def test_missing_token_is_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    environ["NEWSDESK_DB"] = str(tmp_path / "x.db")
    result = subprocess.run([sys.executable, "-m", "bot"], env=environ, capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode != 0
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_rejected_token_is_one_line(telegram: BotApiServer, tmp_path: Path) -> None:
    environ = bot_environment(telegram, tmp_path, TELEGRAM_BOT_TOKEN="999:WRONG")
    process = BotProcess(environ, log_path=tmp_path / "wrong.log").start()
    code = process.process.wait(60)
    assert code != 0
    assert "rejected the token" in process.log() and "Traceback" not in process.log()

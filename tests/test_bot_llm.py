"""Cards with the language model's Ukrainian title and summary, end to end: the real bot, the
Bot API emulator, a local web server, and our fake OpenAI-compatible endpoint on 127.0.0.1."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import articles
from tests.support.botapi import BotApiServer
from tests.support.botprocess import BotProcess
from tests.support.llmserver import LlmServer
from tests.support.webserver import WebServer
from tests.test_bot import ADMIN, EDITOR, GROUP, bot_environment, card_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llm() -> Iterator[LlmServer]:
    with LlmServer() as server:
        yield server


@pytest.fixture(scope="module")
def telegram() -> Iterator[BotApiServer]:
    with BotApiServer(token="123:LLMTOKEN") as server:
        server.add_chat(GROUP, chat_type="supergroup", title="Desk")
        server.add_user(EDITOR, first_name="Olena", language_code="uk")
        server.set_chat_admins(GROUP, [ADMIN])
        yield server


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llmbot")


@pytest.fixture(scope="module")
def bot(telegram: BotApiServer, llm: LlmServer, folder: Path) -> Iterator[BotProcess]:
    environ = bot_environment(telegram, folder, LLM_BASE_URL=llm.base_url, LLM_MODEL="test-model",
                              LLM_API_KEY="sk-test-secret", LLM_TIMEOUT="4", LLM_CARD_WAIT_SECONDS="1")
    with BotProcess(environ, log_path=folder / "bot.log") as process:
        telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
        yield process


def translated(telegram: BotApiServer, message_id: int):
    return telegram.wait_for(lambda s: (m := s.message(GROUP, message_id)) and "що відомо" in m.content and m,
                             timeout=30)


def note_of(folder: Path, title: str) -> str | None:
    with sqlite3.connect(folder / "bot.db") as connection:
        return connection.execute("SELECT translation_note FROM items WHERE title = ?", (title,)).fetchone()[0]


def test_card_shows_original_and_ukrainian_title_and_summary(bot, telegram: BotApiServer, llm: LlmServer, web: WebServer) -> None:
    llm.always("ukrainian")
    url = web.add("/llm/grain", articles.english_article(title="Grain corridor holds"))
    posted = telegram.send_message(GROUP, url, user=EDITOR)
    card = card_for(telegram, GROUP, posted, "Grain corridor holds")
    card = translated(telegram, card.message_id)
    assert "Grain: що відомо" in card.content  # the title in Ukrainian, under the original
    assert "За словами автора" in card.content  # the Ukrainian summary
    assert "Grain exports through" not in card.content  # replaces the extractive one
    request = llm.requests[-1]
    assert request.headers["authorization"] == "Bearer sk-test-secret"
    assert request.body["response_format"]["type"] == "json_schema"
    assert "sk-test-secret" not in bot.log()


@pytest.mark.parametrize("behaviour", ["error", "malformed", "english", "oversize", "hang"])
def test_failing_model_still_gives_the_card_with_the_reason_recorded(
    bot, telegram: BotApiServer, llm: LlmServer, web: WebServer, folder: Path, behaviour: str
) -> None:
    llm.always(behaviour)
    title = f"Article while the model answers {behaviour}"
    url = web.add(f"/llm/{behaviour}", articles.english_article(title=title))
    posted = telegram.send_message(GROUP, url, user=EDITOR)
    card = card_for(telegram, GROUP, posted, title, timeout=40)
    assert "Grain exports through the Black Sea corridor" in card.content
    note = telegram.wait_for(lambda s: note_of(folder, title), timeout=30)
    assert note.startswith("llm:")
    llm.always("ukrainian")


def test_slow_model_card_goes_first_and_is_edited(bot, telegram: BotApiServer, llm: LlmServer, web: WebServer) -> None:
    llm.always("ukrainian")
    llm.delay = 2.5  # longer than LLM_CARD_WAIT_SECONDS, shorter than LLM_TIMEOUT
    try:
        url = web.add("/llm/slow", articles.english_article(title="Slow model article"))
        posted = telegram.send_message(GROUP, url, user=EDITOR)
        first = card_for(telegram, GROUP, posted, "Slow model article", timeout=30)
        assert "Grain exports through the Black Sea corridor" in first.content  # sent without waiting
        edited = translated(telegram, first.message_id)
        assert "Slow: що відомо" in edited.content
    finally:
        llm.delay = 0.0

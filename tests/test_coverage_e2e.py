"""The bot end to end for the Coverage kinds: a PDF link, a paywalled link and a Telegram channel
post's link each become the right card in a Ukrainian chat, through the strict Bot API emulator,
with pages and previews served on loopback. Nothing is mocked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import paywalls, pdfs, tgpreview
from tests.support.botapi import BotApiServer
from tests.support.botprocess import BotProcess
from tests.support.webserver import WebServer
from tests.test_bot import bot_environment, card_for

GROUP, EDITOR = -100500, 501

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def telegram() -> Iterator[BotApiServer]:
    with BotApiServer(token="123:TESTTOKEN") as server:
        server.add_chat(GROUP, chat_type="supergroup", title="Редакція")
        server.add_user(EDITOR, first_name="Olena", language_code="uk")
        yield server


@pytest.fixture(scope="module")
def bot(telegram: BotApiServer, web: WebServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    folder: Path = tmp_path_factory.mktemp("coverage-bot")
    preview = tgpreview.serve_channel(web)
    environment = bot_environment(telegram, folder, TELEGRAM_PREVIEW_URL=preview)
    with BotProcess(environment, log_path=folder / "bot.log") as process:
        telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
        yield process


def test_a_pdf_link_gives_a_pdf_card(bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    url = web.add("/e2e/audit.pdf", pdfs.text_pdf(pages=12), content_type="application/pdf")
    posted = telegram.send_message(GROUP, f"Звіт аудиторів: {url}", user=EDITOR)
    reply = card_for(telegram, GROUP, posted, "Reconstruction grants audit 2026")
    assert "📄 PDF, 12 сторінок" in reply.content
    assert "Iryna Bondar" in reply.content
    assert "18.11.2026" in reply.content


def test_a_paywalled_link_says_the_summary_is_from_the_visible_part(bot: BotProcess, telegram: BotApiServer,
                                                                   web: WebServer) -> None:
    url = web.add("/e2e/teaser", paywalls.wordpress_teaser())
    posted = telegram.send_message(GROUP, url, user=EDITOR)
    reply = card_for(telegram, GROUP, posted, "Port fees to rise in January")
    assert "🔒 Платний доступ: підсумок за видимою частиною" in reply.content
    assert "Subscribe to continue reading" not in reply.content
    wall = web.add("/e2e/wall", paywalls.login_wall())
    refused = telegram.send_message(GROUP, wall, user=EDITOR)
    answer = card_for(telegram, GROUP, refused, "платний доступ: тексту статті не видно")
    assert "Не вдалося зберегти" in answer.content


def test_a_channel_post_link_gives_a_post_card_with_its_link_to_add(bot: BotProcess, telegram: BotApiServer) -> None:
    posted = telegram.send_message(GROUP, "https://t.me/kyiv_desk_news/4521", user=EDITOR)
    reply = card_for(telegram, GROUP, posted, "Уряд ухвалив програму відновлення енергетики")
    assert "Київ Оперативний" in reply.content
    assert "20.11.2026 07:45 UTC" in reply.content
    assert "Допис посилається на: https://minenergy.example.gov.ua/news/4521" in reply.content
    assert "/add https://minenergy.example.gov.ua/news/4521" in reply.content
    deleted = telegram.send_message(GROUP, "https://t.me/s/kyiv_desk_news/4520", user=EDITOR)
    card_for(telegram, GROUP, deleted, "допис Telegram не знайдено")

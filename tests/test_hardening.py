"""What one careless or hostile member of an allowed chat can do to everyone else (issue 16), end to
end: the real bot run as `python -m bot` against the Bot API emulator, with Telegram's short-term
flood control staged (`flood_limit`), pages from the local web server, the fake language model.

One test per finding: reply floods (the same link 50 times in 3 s, 100 links in one message, a
backlog of cards) with an administrator's /latest answered within 5 s; a member burning
/resummarize; a hostile title in the CSV export; refusals that name what they refuse; malformed
arguments and forged buttons; SIGKILL in the middle of a batch. And the 680-term search.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import articles
from tests.support.botapi import BotApiServer, ChatMessage
from tests.support.botprocess import BotProcess
from tests.support.llmserver import LlmServer
from tests.support.webserver import WebServer
from tests.test_bot import bot_environment, card_for

pytestmark = pytest.mark.slow

REPEATS, MANY, BACKLOG, DESK = -100701, -100702, -100703, -100704
MEMBER, ADMIN, HOSTILE_MEMBER = 501, 777, 666
HOSTILE_NAME = "=cmd|' /C calc'!A0"
ANSWER_WITHIN = 5.0
"""Seconds an administrator's command may wait, however busy the chat is."""
FLOOD_PER_SECOND = 2
"""The emulator answers 429 past this many posts and edits a second in one chat."""


def emulator(token: str, *chats: int) -> BotApiServer:
    server = BotApiServer(token=token).start()
    for chat in chats:
        server.add_chat(chat, chat_type="supergroup", title=f"Desk {chat}")
        server.set_chat_admins(chat, [ADMIN])
    server.add_user(MEMBER, first_name="Olena", language_code="uk")
    server.add_user(ADMIN, first_name="Admin")
    server.add_user(HOSTILE_MEMBER, first_name=HOSTILE_NAME)
    server.flood_limit(FLOOD_PER_SECOND)
    return server


def environment(telegram: BotApiServer, folder: Path, *chats: int, **extra: str) -> dict[str, str]:
    return bot_environment(telegram, folder, ALLOWED_CHATS=",".join(map(str, chats)), ADMINS="", **extra)


@pytest.fixture(scope="module")
def telegram() -> Iterator[BotApiServer]:
    server = emulator("123:HARDENING", REPEATS, MANY, BACKLOG, DESK)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bot(telegram: BotApiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    folder = tmp_path_factory.mktemp("hardening")
    environ = environment(telegram, folder, REPEATS, MANY, BACKLOG, DESK)
    with BotProcess(environ, log_path=folder / "bot.log") as process:
        telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
        yield process


def reply_to(telegram: BotApiServer, message: dict[str, Any], timeout: float = 20) -> ChatMessage:
    """The bot's answer quoting `message`."""
    chat, number = message["chat"]["id"], message["message_id"]
    return telegram.wait_for(
        lambda s: next((m for m in s.bot_messages(chat, after=number) if m.reply_to == number), None), timeout)


def timed_command(telegram: BotApiServer, chat: int, command: str, *, user: int = ADMIN) -> tuple[ChatMessage, float]:
    """Send a command and return the bot's answer and how many seconds it took."""
    asked = telegram.send_command(chat, command, user=user)
    started = time.monotonic()
    answer = reply_to(telegram, asked, timeout=60)
    return answer, time.monotonic() - started


def posts_to(telegram: BotApiServer, chat: int) -> list[str]:
    """The bot's successful sends and edits in a chat, by method."""
    return [c.method for c in telegram.calls if c.ok and c.params.get("chat_id") == chat
            and c.method.lower().startswith(("send", "edit"))]


def too_many_requests(telegram: BotApiServer) -> list[Any]:
    return [c for c in telegram.errors if c.status == 429]


# -- 1. reply floods ----------------------------------------------------------------------------


def test_the_same_link_fifty_times_in_three_seconds_is_answered_once(
        bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    url = web.add("/hardening/repeat", articles.english_article(title="The article posted fifty times"))
    posts = [telegram.send_message(REPEATS, url, user=MEMBER)]
    for _ in range(49):
        time.sleep(3 / 50)  # the burst, as the member's client sends it
        posts.append(telegram.send_message(REPEATS, url, user=MEMBER))
    latest, took = timed_command(telegram, REPEATS, "/latest")
    assert took < ANSWER_WITHIN
    card_for(telegram, REPEATS, posts[0], "The article posted fifty times")
    answer = telegram.wait_for(lambda s: next(
        (m for m in s.bot_messages(REPEATS) if "посилань: 49, та сама стаття" in m.content), None), timeout=30)
    assert answer.reply_to == posts[1]["message_id"]
    assert answer.message_id > latest.message_id  # the command went ahead of the flood's answers
    others = [m for m in telegram.bot_messages(REPEATS) if m.message_id != latest.message_id]
    assert len(others) == 2  # the card, and one answer for the 49 repeats (was 49 cards)
    assert len(web.requests_to("/hardening/repeat")) == 1
    assert not too_many_requests(telegram)


def test_a_hundred_links_in_one_message_get_one_status_and_one_list(
        bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    urls = [web.delayed(f"/hardening/many/{n}", articles.english_article(title=f"Hundred links article {n}"), 0.3)
            for n in range(100)]
    posted = telegram.send_message(MANY, "\n".join(urls), user=MEMBER)
    status = reply_to(telegram, posted)
    assert status.content.startswith("⏳ Обробляю посилань: 100.")
    latest, took = timed_command(telegram, MANY, "/latest 3")
    assert took < ANSWER_WITHIN
    final = telegram.wait_for(lambda s: (m := s.message(MANY, status.message_id)) and "Збережено 100 з 100"
                              in m.content and m, timeout=120)
    telegram.wait_for(lambda s: any(m.content.endswith("Картка будь-якого матеріалу: /item номер")
                                    for m in s.bot_messages(MANY)), timeout=30)  # the list's last part
    assert latest.message_id < max(m.message_id for m in telegram.bot_messages(MANY))  # output went on after it
    messages = telegram.bot_messages(MANY, after=posted["message_id"])
    cards = [m for m in messages if "<b>Example Times</b>" in (m.source or "")]
    assert {n for n in range(100) if any(f"Hundred links article {n}\n" in c.content for c in cards)} == {0, 1, 2}
    lists = [m for m in messages if m.message_id == status.message_id or m.content.startswith("✅")]
    assert len(messages) == len(cards) + len(lists) + 1 <= 8  # was 100 cards and the status lines
    text = "\n".join(m.content for m in sorted(lists, key=lambda m: m.message_id))
    assert all(f"Hundred links article {n} ·" in text for n in range(100))
    assert final.reply_to == posted["message_id"]
    # the other cards on request, a page at a time; the same page once only
    with_button = next(m for m in messages if m.buttons)
    button = with_button.buttons[0]
    assert button["text"] == "Показати картки (5)"
    telegram.press_button(MANY, with_button.message_id, button["callback_data"], user=MEMBER)
    telegram.wait_for(lambda s: len([m for m in s.bot_messages(MANY) if "<b>Example Times</b>" in (m.source or "")])
                      == 8, timeout=30)
    again = telegram.press_button(MANY, with_button.message_id, button["callback_data"], user=MEMBER, forged=True)
    assert telegram.wait_for(lambda s: s.callback_answer(again), timeout=20)["text"] == "Ця кнопка застаріла."
    assert not too_many_requests(telegram)


def test_commands_jump_a_backlog_of_cards(bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    posts = [telegram.send_message(BACKLOG, web.add(f"/hardening/backlog/{n}",
                                                    articles.english_article(title=f"Backlog article {n}")),
                                   user=MEMBER) for n in range(25)]
    reply_to(telegram, posts[0])
    telegram.wait_for(lambda s: len(posts_to(s, BACKLOG)) >= 12, timeout=60)  # well into the backlog
    _, took = timed_command(telegram, BACKLOG, "/latest 5")
    stats, stats_took = timed_command(telegram, BACKLOG, "/stats")
    assert took < ANSWER_WITHIN and stats_took < ANSWER_WITHIN
    telegram.wait_for(lambda s: any(m.message_id > stats.message_id for m in s.bot_messages(BACKLOG)), timeout=60)
    assert not too_many_requests(telegram)


# -- 3. exports safe to open ---------------------------------------------------------------------


def test_a_hostile_title_author_and_name_are_neutralised_in_the_csv_export(
        bot: BotProcess, telegram: BotApiServer, web: WebServer) -> None:
    title = '=HYPERLINK("http://evil.example/x","Click me")'
    page = articles.english_article(title=title, authors=("+Smith SUM(A1)",))
    posted = telegram.send_message(DESK, web.add("/hardening/csv", page), user=HOSTILE_MEMBER)
    card_for(telegram, DESK, posted, "Click me")
    asked = telegram.send_command(DESK, "/export csv", user=MEMBER)
    document = telegram.wait_for(lambda s: next((m.document for m in s.bot_messages(DESK, after=asked["message_id"])
                                                 if m.document), None), timeout=20)
    [row] = [r for r in csv.DictReader(io.StringIO(document.data.decode())) if "evil.example" in r["title"]]
    assert row["title"] == "'" + title
    assert row["authors"].startswith("'+Smith")
    assert row["submitted_by_name"] == "'" + HOSTILE_NAME


# -- 5. arguments read strictly --------------------------------------------------------------------


@pytest.mark.parametrize(("command", "usage"), [
    ("/item 99999999999999999999", "/item номер"), ("/resummarize 99999999999999999999", "/resummarize номер"),
    ("/item ²", "/item номер"), ("/latest ²", "/latest [N]"), ("/latest 0", "N — від 1 до 50"),
    ("/latest 51", "N — від 1 до 50"), ("/item 12 13", "/item номер"), ("/export xml", "/export [csv|json|jsonl|md]"),
    ("/stats all", "/stats"), ("/later now", "/later [go|clear]"),
])
def test_malformed_arguments_get_the_usage(bot: BotProcess, telegram: BotApiServer, command: str, usage: str) -> None:
    answer = reply_to(telegram, telegram.send_command(DESK, command, user=MEMBER))
    assert answer.content.startswith("Використання: ") and usage in answer.content
    assert "Traceback" not in bot.log() and "error while handling" not in bot.log()


@pytest.mark.parametrize(("argument", "says"), [
    ("25:99", "«25:99» — не час доби: години — від 00 до 23; хвилини — від 00 до 59"),
    ("09:00 Europe/Kyiv daily", "Не розумію «daily» у розкладі"),
    ("09:00 Europe/Kyvi", "Невідомий часовий пояс «Europe/Kyvi»"),
])
def test_schedule_says_which_part_is_wrong(bot: BotProcess, telegram: BotApiServer, argument: str, says: str) -> None:
    answer = reply_to(telegram, telegram.send_command(DESK, f"/schedule {argument}", user=ADMIN))
    assert answer.content.startswith(says)


@pytest.mark.parametrize("data", ["search:1:99999999999999999999", "search:1:abc", "search:", "cards:1:2:3",
                                  "cards:99999999999999999999:0", "unknown", "search:999999:0"])
def test_forged_buttons_are_answered_once_as_expired(bot: BotProcess, telegram: BotApiServer, data: str) -> None:
    asked = telegram.send_command(DESK, "/search Hundred", user=MEMBER)
    results = reply_to(telegram, asked)
    calls_before = len(telegram.calls_to("answerCallbackQuery"))
    pressed = telegram.press_button(DESK, results.message_id, data, user=MEMBER, forged=True)
    answer = telegram.wait_for(lambda s: s.callback_answer(pressed), timeout=20)
    assert "застарі" in answer["text"]
    probe = reply_to(telegram, telegram.send_command(DESK, "/help", user=MEMBER))  # everything before is handled
    assert probe
    assert len(telegram.calls_to("answerCallbackQuery")) == calls_before + 1  # answered once, without an error
    assert not [c for c in telegram.errors if c.method == "answerCallbackQuery"]
    assert "Traceback" not in bot.log()


# -- the search the Performance issue will budget -------------------------------------------------------


def test_680_prefix_terms_are_searched_as_one(bot: BotProcess, telegram: BotApiServer) -> None:
    query = " OR ".join(["t*"] * 680)
    answer, took = timed_command(telegram, DESK, f"/search {query}", user=MEMBER)
    assert took < ANSWER_WITHIN
    assert answer.content.startswith(("Знайдено", "Нічого не знайдено"))
    many = " OR ".join(f"w{n}*" for n in range(100))
    answer, took = timed_command(telegram, DESK, f"/search Hundred {many}", user=MEMBER)
    assert took < ANSWER_WITHIN


# -- 4. refusals that say what and why ---------------------------------------------------------------


def test_links_over_the_limit_are_named_and_kept_for_later(web: WebServer, tmp_path: Path) -> None:
    telegram = emulator("123:LIMITED", DESK)
    environ = environment(telegram, tmp_path, DESK, MAX_LINKS_PER_HOUR="3")
    try:
        with BotProcess(environ, log_path=tmp_path / "bot.log"):
            telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
            urls = [web.add(f"/hardening/limit/{n}", articles.english_article(title=f"Limited article {n}"))
                    for n in range(5)]
            posted = telegram.send_message(DESK, "\n".join(urls), user=MEMBER)
            notice = telegram.wait_for(lambda s: next(
                (m for m in s.bot_messages(DESK) if m.content.startswith("Забагато посилань")), None), timeout=30)
            assert notice.reply_to == posted["message_id"]
            assert "Відкладено на потім: 2" in notice.content and "/later go" in notice.content
            assert urls[3] in notice.content and urls[4] in notice.content and urls[0] not in notice.content
            status = telegram.wait_for(lambda s: next((m for m in s.bot_messages(DESK)
                                                       if "Збережено 3 з 3" in m.content), None), timeout=60)
            assert status.reply_to == posted["message_id"]
            again = telegram.send_message(DESK, urls[0], user=MEMBER)  # at the limit, but already saved
            assert reply_to(telegram, again).content.startswith("ℹ️ Уже збережено: Olena")
            listed = reply_to(telegram, telegram.send_command(DESK, "/later", user=MEMBER))
            assert "Відкладено через ліміт: 2" in listed.content and urls[4] in listed.content
            assert "Місце звільниться за" in listed.content
            released = reply_to(telegram, telegram.send_command(DESK, "/later go", user=MEMBER))
            assert released.content.startswith("Надіслано відкладених посилань: 0; ще чекають: 2.\n"
                                               "Місце звільниться за ")
            refused = reply_to(telegram, telegram.send_command(DESK, "/later clear", user=MEMBER))
            assert "адміністратори" in refused.content
            cleared = reply_to(telegram, telegram.send_command(DESK, "/later clear", user=ADMIN))
            assert cleared.content == "Забуто відкладених посилань: 2."
        with sqlite3.connect(environ["NEWSDESK_DB"]) as connection:
            assert connection.execute("SELECT count(*) FROM items").fetchone() == (3,)
            assert connection.execute("SELECT count(*) FROM deferred_links").fetchone() == (0,)
    finally:
        telegram.stop()


# -- 2. costs per chat and per member ----------------------------------------------------------------


def test_a_member_burning_resummarize_is_stopped_and_other_chats_keep_their_share(
        web: WebServer, tmp_path: Path) -> None:
    other = DESK - 1
    telegram = emulator("123:COSTS", DESK, other, MANY)
    try:
        with LlmServer() as llm:
            llm.always("ukrainian")
            llm.tokens_per_reply = 150  # three chats share 1000 tokens: 333 each
            environ = environment(telegram, tmp_path, DESK, other, MANY, LLM_BASE_URL=llm.base_url,
                                  LLM_MODEL="test-model", LLM_TIMEOUT="4", LLM_CARD_WAIT_SECONDS="3",
                                  LLM_DAILY_TOKEN_BUDGET="1000", RESUMMARIZE_MEMBER_DAILY="2",
                                  RESUMMARIZE_COOLDOWN_SECONDS="3600")
            with BotProcess(environ, log_path=tmp_path / "bot.log") as process:
                telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
                url = web.add("/hardening/costs/a", articles.english_article(title="Costs first article"))
                posted = telegram.send_message(DESK, url, user=MEMBER)
                card = card_for(telegram, DESK, posted, "що відомо", timeout=40)  # translated: 150 tokens
                item_id = card.content.rsplit("№", 1)[1].strip()

                def resummarize(user: int) -> str:
                    answer = reply_to(telegram, telegram.send_command(DESK, f"/resummarize {item_id}", user=user))
                    return telegram.wait_for(lambda s: (m := s.message(DESK, answer.message_id))
                                             and not m.content.startswith("⏳") and m.content, timeout=30)

                assert "що відомо" in resummarize(MEMBER)  # 300 tokens
                assert resummarize(MEMBER).startswith("Зачекайте 1 год 0 хв перед наступним /resummarize")
                assert "що відомо" in resummarize(ADMIN)  # administrators have no count: 450
                assert resummarize(ADMIN).startswith("Цей чат уже використав свою частку мовної моделі на "
                                                     "сьогодні (333 токенів)")
                assert resummarize(MEMBER).startswith("Цей чат уже використав")
                assert len(llm.requests) == 3  # the refusals cost nothing
                second = web.add("/hardening/costs/b", articles.english_article(title="Other chat article"))
                card_for(telegram, other, telegram.send_message(other, second, user=MEMBER), "що відомо", timeout=40)
                assert "Traceback" not in process.log()
    finally:
        telegram.stop()


# -- 6. status messages that finish --------------------------------------------------------------------


def test_sigkill_mid_batch_then_restart_finishes_the_status_message(web: WebServer, tmp_path: Path) -> None:
    telegram = emulator("123:KILLED", DESK)
    urls = [web.delayed(f"/hardening/kill/{n}", articles.english_article(title=f"Article {n} before the crash"), 1.0)
            for n in range(20)]
    environ = environment(telegram, tmp_path, DESK, INGEST_CONCURRENCY="2")
    database = Path(environ["NEWSDESK_DB"])

    def statuses() -> list[str]:
        with sqlite3.connect(database) as connection:
            return [status for (status,) in connection.execute("SELECT status FROM items")]

    try:
        bot = BotProcess(environ, log_path=tmp_path / "bot.log").start()
        telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
        posted = telegram.send_message(DESK, "\n".join(urls), user=MEMBER)
        status = reply_to(telegram, posted)
        deadline = time.monotonic() + 60
        while statuses().count("done") < 4:
            assert time.monotonic() < deadline, "the batch never got going"
            time.sleep(0.1)
        bot.kill()
        assert statuses().count("pending") >= 10
        assert telegram.message(DESK, status.message_id).content.startswith("⏳")
        calls = len(telegram.calls_to("getUpdates"))
        with BotProcess(environ, log_path=tmp_path / "bot.log"):
            telegram.wait_for(lambda s: len(s.calls_to("getUpdates")) > calls, timeout=60)
            final = telegram.wait_for(lambda s: (m := s.message(DESK, status.message_id))
                                      and "Збережено 20 з 20" in m.content and m, timeout=120)
        assert all(f"Article {n} before the crash" in final.content for n in range(20))
        assert not [m for m in telegram.bot_messages(DESK) if "⏳" in m.content]  # nothing says "processing"
        with sqlite3.connect(database) as connection:
            assert connection.execute("SELECT count(*) FROM batches WHERE finished_at IS NULL").fetchone() == (0,)
        assert set(statuses()) == {"done"}
    finally:
        telegram.stop()


def test_sigterm_with_a_backlog_stops_at_once_and_the_restart_finishes_every_status(
        web: WebServer, tmp_path: Path) -> None:
    telegram = emulator("123:TERMINATED", DESK)
    environ = environment(telegram, tmp_path, DESK)
    try:
        bot = BotProcess(environ, log_path=tmp_path / "bot.log").start()
        telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
        posts = [telegram.send_message(DESK, web.add(f"/hardening/term/{n}", articles.english_article(
            title=f"Article {n} before the stop")), user=MEMBER) for n in range(15)]
        telegram.wait_for(lambda s: len(s.bot_messages(DESK)) >= 4, timeout=60)
        stopping = time.monotonic()
        assert bot.terminate(timeout=30) == 0
        assert time.monotonic() - stopping < 10  # the cards still queued do not hold the stop up
        assert "Traceback" not in bot.log()
        calls = len(telegram.calls_to("getUpdates"))
        with BotProcess(environ, log_path=tmp_path / "bot.log"):
            telegram.wait_for(lambda s: len(s.calls_to("getUpdates")) > calls, timeout=60)
            for n, posted in enumerate(posts):
                card_for(telegram, DESK, posted, f"Article {n} before the stop", timeout=120)
            telegram.wait_for(lambda s: not [m for m in s.bot_messages(DESK) if "⏳" in m.content], timeout=60)
    finally:
        telegram.stop()

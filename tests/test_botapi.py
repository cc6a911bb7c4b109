"""Self-tests of the Bot API emulator, driven by a real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, RetryAfter
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes

from tests.support.botapi import BotApiServer, HtmlParseError, parse_html, utf16_len

TOKEN = "123:ABC"
GROUP = -100500
USER = 42


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer(token=TOKEN) as running:
        yield running


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=server.base_url) as client:
        yield client


# ------------------------------------------------------------------ pure HTML parsing


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("<b>b</b> &lt;t&gt; &amp; &quot;q&quot; &#38; &#x26;", 'b <t> & "q" & &', [("bold", 0, 1)]),
        ("<i>a<u>b</u></i>", "ab", [("italic", 0, 2), ("underline", 1, 1)]),
        ('<a href="https://example.com/a?b=1&amp;c=2">link</a>', "link", [("text_link", 0, 4)]),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", [("pre", 0, 5)]),
        (
            '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
            "st",
            [("spoiler", 0, 1), ("spoiler", 1, 1)],
        ),
        ("<blockquote expandable>quote</blockquote>", "quote", [("expandable_blockquote", 0, 5)]),
        ("<b>😀</b>x", "😀x", [("bold", 0, 2)]),  # offsets in UTF-16 code units
        ("a > b", "a > b", []),
    ],
)
def test_parse_html_accepts_what_telegram_accepts(
    source: str, text: str, entities: list[tuple[str, int, int]]
) -> None:
    parsed_text, parsed = parse_html(source)
    assert parsed_text == text
    assert [(e["type"], e["offset"], e["length"]) for e in parsed] == entities


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("Q&A", 'Character "&" must be escaped'),
        ("&nbsp;", 'Character "&" must be escaped'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("<script>alert(1)</script>", 'Unsupported start tag "script"'),
        ("<br/>", 'Unsupported start tag "br/"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("é<b", "Unclosed start tag at byte offset 2"),
    ],
)
def test_parse_html_rejects_what_telegram_rejects(source: str, reason: str) -> None:
    with pytest.raises(HtmlParseError, match="^" + reason.replace("(", r"\(").replace(")", r"\)")):
        parse_html(source)


def test_lenient_html_keeps_a_bare_ampersand_as_telegram_does() -> None:
    assert parse_html("Q&A &laquo;", strict=False) == ("Q&A &laquo;", [])


# ------------------------------------------------------------------ a real Bot against the emulator


async def test_get_me_describes_the_bot(bot: Bot, server: BotApiServer) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123, True, "newsdesk_test_bot")
    assert server.base_url == f"http://127.0.0.1:{server.port}/bot"


async def test_unknown_method_and_wrong_token_answer_like_telegram(server: BotApiServer) -> None:
    async with httpx.AsyncClient() as client:
        unknown = await client.post(f"{server.base_url}{TOKEN}/sendTelepathy", data={"chat_id": "1"})
        wrong = await client.post(f"{server.base_url}999:XYZ/getMe")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert wrong.json()["error_code"] == 401
    with pytest.raises(InvalidToken):
        async with Bot("999:XYZ", base_url=server.base_url):
            pass


async def test_send_message_with_valid_html_is_recorded(bot: Bot, server: BotApiServer) -> None:
    server.add_chat(GROUP, title="Newsroom")
    html = "<b>Top story</b>: see https://example.com/a"
    sent = await bot.send_message(GROUP, html, parse_mode=ParseMode.HTML)
    assert sent.text == "Top story: see https://example.com/a"
    assert sent.from_user is not None and sent.from_user.id == 123
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 9), ("url", 15, 21)]

    (message,) = server.wait_for_messages(GROUP, 1, timeout=1)
    assert message.message_id == sent.message_id
    assert message.source == "<b>Top story</b>: see https://example.com/a"
    assert message.parse_mode == "HTML"
    assert server.calls_to("sendMessage")[-1].params["chat_id"] == GROUP


async def test_invalid_html_is_a_bad_request(bot: Bot, server: BotApiServer) -> None:
    server.add_chat(GROUP)
    with pytest.raises(BadRequest, match="Can't parse entities: unsupported start tag \"\" at byte offset 2"):
        await bot.send_message(GROUP, "1 < 2", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(GROUP, "<b>Q&A</b>", parse_mode=ParseMode.HTML)
    assert server.bot_messages(GROUP) == []
    assert [c.status for c in server.errors] == [400, 400]


async def test_text_length_is_counted_after_parsing_in_utf16(bot: Bot, server: BotApiServer) -> None:
    server.add_chat(GROUP)
    await bot.send_message(GROUP, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert utf16_len("😀" * 2049) == 4098
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(GROUP, "😀" * 2049)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(GROUP, "<b>  </b>", parse_mode=ParseMode.HTML)


async def test_unknown_chat_and_missing_reply_target(bot: Bot, server: BotApiServer) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(777, "hello")
    server.add_chat(GROUP)
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(GROUP, "hello", reply_to_message_id=99)
    sent = await bot.send_message(GROUP, "hello", reply_to_message_id=99, allow_sending_without_reply=True)
    assert sent.reply_to_message is None


async def test_replies_and_threads_are_recorded(bot: Bot, server: BotApiServer) -> None:
    question = server.send_message(GROUP, "anyone on this?", chat_type="supergroup", message_thread_id=7)
    sent = await bot.send_message(GROUP, "on it", reply_to_message_id=question["message_id"])
    assert sent.reply_to_message is not None and sent.reply_to_message.text == "anyone on this?"
    reply = server.wait_for_reply(question, timeout=1)
    assert (reply.reply_to, reply.message_thread_id) == (question["message_id"], 7)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(GROUP, "lost", message_thread_id=8)


async def test_edit_with_same_content_is_not_modified(bot: Bot, server: BotApiServer) -> None:
    server.add_chat(GROUP)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:1")]])
    sent = await bot.send_message(GROUP, "<b>Draft</b>", parse_mode=ParseMode.HTML, reply_markup=keyboard)
    with pytest.raises(BadRequest, match="Message is not modified"):
        # <strong> renders exactly as <b>: Telegram compares the result, not the markup
        await bot.edit_message_text(
            "<strong>Draft</strong>", GROUP, sent.message_id, parse_mode="HTML", reply_markup=keyboard
        )
    await bot.edit_message_text("Final", GROUP, sent.message_id)
    edited = server.message(GROUP, sent.message_id)
    assert edited is not None
    assert (edited.text, edited.previous_texts, edited.reply_markup) == ("Final", ("Draft",), None)
    assert edited.edit_date is not None


async def test_get_updates_delivers_and_offset_acknowledges(bot: Bot, server: BotApiServer) -> None:
    server.add_user(USER, first_name="Ada", username="ada")
    posted = server.send_command(GROUP, "/search fire OR flood", user=USER, chat_type="supergroup")
    server.send_message(-100900, "Breaking", chat_type="channel")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Open", callback_data="open:3")]])
    card = await bot.send_message(GROUP, "card", reply_markup=keyboard)
    query_id = server.press_button(GROUP, card.message_id, "open:3", user=USER)

    updates = await bot.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [1, 2, 3]
    command = updates[0].message
    assert command is not None and command.text == "/search fire OR flood"
    assert command.message_id == posted["message_id"]
    assert [(e.type, e.offset, e.length) for e in command.entities] == [("bot_command", 0, 7)]
    assert updates[1].channel_post is not None and updates[1].channel_post.text == "Breaking"
    callback = updates[2].callback_query
    assert callback is not None and (callback.data, callback.from_user.id) == ("open:3", USER)

    assert len(await bot.get_updates(timeout=0)) == 3  # not acknowledged yet
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    assert server.pending_updates == []

    assert await updates[2].callback_query.answer("Opened")
    assert server.callback_answer(query_id) == {"text": "Opened", "show_alert": False, "url": None}
    with pytest.raises(BadRequest, match="Query is too old"):
        await updates[2].callback_query.answer("again")


async def test_allowed_updates_filters_and_persists(bot: Bot, server: BotApiServer) -> None:
    server.send_message(GROUP, "hello", chat_type="supergroup")
    server.send_message(-100900, "post", chat_type="channel")
    updates = await bot.get_updates(timeout=0, allowed_updates=["channel_post"])
    assert [u.channel_post.text for u in updates if u.channel_post] == ["post"] and len(updates) == 1
    server.send_message(GROUP, "dropped", chat_type="supergroup")
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()


async def test_long_poll_waits_for_an_update(bot: Bot, server: BotApiServer) -> None:
    async def later() -> None:
        await asyncio.sleep(0.2)
        server.send_message(USER, "late", chat_type="private")

    task = asyncio.create_task(later())
    updates = await bot.get_updates(timeout=5)
    await task
    assert [u.message.text for u in updates if u.message] == ["late"]


async def test_send_document_records_the_upload(bot: Bot, server: BotApiServer) -> None:
    server.add_chat(GROUP)
    sent = await bot.send_document(
        GROUP, b"id,title\n1,Fire\n", filename="export.csv", caption="<i>Export</i>", parse_mode="HTML"
    )
    assert sent.document is not None and sent.document.file_name == "export.csv"
    assert sent.caption == "Export"
    (message,) = server.bot_messages(GROUP)
    assert message.document is not None
    assert (message.document.filename, message.document.data) == ("export.csv", b"id,title\n1,Fire\n")
    assert message.caption == "Export"
    again = await bot.send_document(GROUP, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id


async def test_set_my_commands_is_recorded_per_scope_and_language(bot: Bot, server: BotApiServer) -> None:
    await bot.set_my_commands([BotCommand("search", "Search the archive")])
    await bot.set_my_commands(
        [BotCommand("search", "Archiv durchsuchen")], scope=BotCommandScopeAllGroupChats(), language_code="de"
    )
    assert server.commands() == [{"command": "search", "description": "Search the archive"}]
    assert server.commands(scope={"type": "all_group_chats"}, language_code="de") == [
        {"command": "search", "description": "Archiv durchsuchen"}
    ]
    assert server.commands(language_code="de") is None
    got = await bot.get_my_commands(scope=BotCommandScopeAllGroupChats(), language_code="de")
    assert [c.description for c in got] == ["Archiv durchsuchen"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Search", "capital letters are refused")])


async def test_chat_members_admins_and_chat(bot: Bot, server: BotApiServer) -> None:
    server.add_chat(GROUP, title="Newsroom")
    server.add_user(USER)
    server.set_chat_admins(GROUP, [USER, 123], creator=7)
    admins = await bot.get_chat_administrators(GROUP)
    statuses = [(a.user.id, a.status) for a in admins]
    assert statuses == [(7, "creator"), (USER, "administrator"), (123, "administrator")]
    server.add_user(8)
    assert (await bot.get_chat_member(GROUP, 8)).status == "member"
    chat = await bot.get_chat(GROUP)
    assert (chat.title, chat.type) == ("Newsroom", "supergroup")
    assert await bot.send_chat_action(GROUP, "typing")
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(GROUP, "dancing")


async def test_delete_message(bot: Bot, server: BotApiServer) -> None:
    server.add_chat(GROUP)
    sent = await bot.send_message(GROUP, "oops")
    assert await sent.delete()
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await sent.delete()
    assert server.bot_messages(GROUP) == []
    assert server.history(GROUP, include_deleted=True)[0].deleted


async def test_flood_limit_answers_retry_after(
    bot: Bot, server: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without PTB_TIMEDELTA, PTB 22 warns (deprecation) as soon as it builds a RetryAfter
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    server.add_chat(GROUP)
    server.flood_limit(2)
    await bot.send_message(GROUP, "one")
    await bot.send_message(GROUP, "two")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "three")
    assert caught.value.retry_after == dt.timedelta(seconds=1)
    assert server.errors[-1].status == 429
    server.flood_limit(None)
    await bot.send_message(GROUP, "three")


async def test_json_bodies_are_accepted_too(server: BotApiServer) -> None:
    server.add_chat(GROUP)
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{server.base_url}{TOKEN}/sendmessage",
            content=json.dumps(
                {
                    "chat_id": GROUP,
                    "text": "via JSON",
                    "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "y"}]]},
                }
            ),
            headers={"Content-Type": "application/json"},
        )
    assert answer.json()["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "y"
    assert server.sent[0].buttons == [{"text": "x", "callback_data": "y"}]


# ------------------------------------------------------------------ a whole Application polling


async def ping_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_html("<b>pong</b>")


async def test_application_answers_ping_through_the_emulator(server: BotApiServer) -> None:
    application: Application = ApplicationBuilder().token(TOKEN).base_url(server.base_url).build()
    application.add_handler(CommandHandler("ping", ping_command))
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        await application.start()
        try:
            ping = server.send_command(USER, "/ping", chat_type="private")
            reply = await server.wait_for_reply_async(ping, timeout=5)
        finally:
            await application.updater.stop()
            await application.stop()
    assert (reply.text, reply.entities[0]["type"], reply.reply_to) == ("pong", "bold", None)
    assert server.pending_updates == []
    assert server.errors == []


def test_driver_refuses_impossible_actions(server: BotApiServer) -> None:
    server.send_message(USER, "hi", chat_type="private")
    with pytest.raises(ValueError, match="only user 42 writes"):
        server.send_message(USER, "hi", user=99)
    with pytest.raises(ValueError, match="is a private, not a group"):
        server.send_message(USER, "hi", chat_type="group")
    with pytest.raises(ValueError, match="no message 1 from the bot"):
        server.press_button(USER, 1, "x")
    with pytest.raises(ValueError, match="no message 5 to reply to"):
        server.send_message(USER, "hi", reply_to=5)

"""Telegram handlers: one small async function per command or kind of update.

A handler reads the update, makes one call into the pipeline or storage, and replies with a
string from `render`. Commands are routed here rather than by CommandHandler because
CommandHandler ignores channel posts, and channels are where many desks work.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import render
from bot.export import export_csv, export_json
from bot.pipeline.errors import IngestError
from bot.pipeline.ingest import Submission, Submitter
from bot.pipeline.links import canonicalise, find_links
from bot.services import Services
from storage.models import DONE, FAILED, PENDING, Item
from storage.repository import utc_now

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
SEARCH_PAGE_SIZE = 5
LATEST_DEFAULT, LATEST_MAX = 10, 50


def services(context: Context) -> Services:
    """The process's services, opened in post_init."""
    return context.application.bot_data["services"]


async def chat_language(context: Context, chat_id: int) -> str:
    return await services(context).language_of(chat_id)


async def reply(message: Message, html_text: str, *, quote: bool = True, **kwargs: object) -> Message:
    """Answer in the same chat and topic; as a reply to `message` (when it still exists) if `quote`."""
    if quote:
        kwargs["reply_parameters"] = ReplyParameters(message.message_id, allow_sending_without_reply=True)
    else:
        kwargs["do_quote"] = False
    return await message.reply_html(html_text, **kwargs)


# -- access ------------------------------------------------------------------------------


async def guard(update: Update, context: Context) -> None:
    """Stop updates from chats that are not allowed; tell each such chat once."""
    chat = update.effective_chat
    if chat is None:
        raise ApplicationHandlerStop
    settings = services(context).settings
    user = update.effective_user
    if chat.id in settings.allowed_chats:
        return
    if chat.type == ChatType.PRIVATE and user is not None and user.id in settings.admins:
        return
    if update.callback_query:
        await update.callback_query.answer()
    elif update.effective_message and await services(context).repository.note_denied(chat.id):
        log.info("refused chat %s (%s)", chat.id, chat.type)
        language = (user.language_code or "")[:2] if user else ""
        await update.effective_message.reply_html(render.text("private", "uk" if language == "uk" else "en"))
    raise ApplicationHandlerStop


async def may_change_settings(update: Update, context: Context) -> bool:
    """Bot ADMINS, the chat's administrators (anonymous ones too), anyone in a private chat or a channel."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return False
    if chat.type in (ChatType.PRIVATE, ChatType.CHANNEL):
        return True  # in a channel only its administrators can post
    message = update.effective_message
    if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous administrator, posting as the group itself
    if user is None:
        return False
    if user.id in services(context).settings.admins:
        return True
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


# -- links -------------------------------------------------------------------------------


def links_in(message: Message) -> list[str]:
    """Every link in a message: visible URLs, links hidden under words, in text or caption."""
    entities = message.parse_entities([MessageEntity.URL, MessageEntity.TEXT_LINK]) or \
        message.parse_caption_entities([MessageEntity.URL, MessageEntity.TEXT_LINK])
    found: list[str] = []
    for entity, visible in entities.items():
        url = canonicalise(entity.url if entity.type == MessageEntity.TEXT_LINK else visible)
        if url and url not in found:
            found.append(url)
    for url in find_links(message.text or message.caption or ""):
        if url not in found:
            found.append(url)
    return found


async def on_links(update: Update, context: Context) -> None:
    """Links posted in a message or channel post (edited ones too): fetch and answer with cards."""
    message = update.effective_message
    edited = update.edited_message is not None or update.edited_channel_post is not None
    await ingest_links(message, context, links_in(message), quiet_duplicates=edited)


async def ingest_links(message: Message, context: Context, urls: list[str], *, quiet_duplicates: bool = False,
                       retrying: bool = False) -> None:
    """Store each link as pending, answer, process them, and show the cards.

    A database fault never loses a link: it is held in memory and written when the database
    works again (`retry_held_links`), and the chat is told once.
    """
    if not urls:
        return
    svc = services(context)
    chat_id = message.chat_id
    async with _chat_lock(context, chat_id):  # the hourly count and the submits, as one step
        try:
            language = await chat_language(context, chat_id)
            recent = await svc.repository.count_recent_links(chat_id, since=utc_now() - timedelta(hours=1))
        except sqlite3.Error:
            language, recent = svc.settings.default_language, 0
        room = max(0, svc.settings.max_links_per_hour - recent)
        urls, skipped = urls[:room], urls[room:]
        submissions, refused, held = await _submit_all(context, message, urls)
    if held:
        waiting_room(context).extend(HeldLink(message, url) for url in held)
        if not retrying:
            await reply(message, render.text("database_down", language))
    if skipped:
        await reply(message, render.text("limit", language, limit=svc.settings.max_links_per_hour, count=len(skipped)))
    for url, error in refused:
        await reply(message, render.failure(url, error.reason, language, detail=str(error)))
    to_process = [s.item for s in submissions if s.is_new or s.item.status == FAILED]
    for submission in submissions:
        if submission.is_new or submission.item.status == FAILED or quiet_duplicates:
            continue
        if submission.item.status == DONE:
            await reply(message, render.already_saved(submission.item, language))
        elif submission.item.status == PENDING:
            await reply(message, render.text("processing", language))
    if not to_process:
        return
    if len(to_process) == 1:
        progress = await reply(message, render.text("processing", language))
        item = await services(context).ingestor.process(to_process[0])
        await send_card(context, item, language, edit_message=progress)
        return
    progress = await reply(message, render.text("processing_many", language, count=len(to_process)))
    finished: dict[int, Item] = {}

    async def process_and_show(item: Item) -> None:  # each card as soon as it is ready
        finished[item.id] = await services(context).ingestor.process(item)
        if finished[item.id].status == DONE:
            await send_card(context, finished[item.id], language, reply_to=message)

    await asyncio.gather(*(process_and_show(item) for item in to_process))
    lines = render.split_messages(render.status_line(finished[item.id], language) for item in to_process)
    await edit(progress, lines[0])
    for extra in lines[1:]:
        await reply(message, extra, quote=False)


async def send_card(context: Context, item: Item, language: str, *, edit_message: Message | None = None,
                    reply_to: Message | None = None) -> None:
    """Show an item's card; with a language model, its translated summary when it comes in time.

    The model never holds the card up: after LLM_CARD_WAIT_SECONDS the card goes out with the
    extractive summary and is edited once the translation arrives.
    """
    svc = services(context)
    translation = None
    if svc.summariser is not None and item.status == DONE:
        translation = asyncio.ensure_future(svc.translate(item, language=language))
        done, _ = await asyncio.wait({translation}, timeout=svc.settings.llm_card_wait_seconds)
        if done:
            item, translation = translation.result(), None
    if edit_message is not None:
        await edit(edit_message, render.card(item, language))
        shown = edit_message
    else:
        assert reply_to is not None
        shown = await reply(reply_to, render.card(item, language), quote=False)
    if translation is not None:
        await edit(shown, render.card(await translation, language))


async def edit(message: Message, html_text: str) -> None:
    try:
        await message.edit_text(html_text)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


@dataclass(frozen=True)
class HeldLink:
    """A link that could not be written because the database failed; kept until it works again."""

    message: Message
    url: str


def waiting_room(context: Context) -> list[HeldLink]:
    return context.application.bot_data.setdefault("held_links", [])


async def retry_held_links(context: Context) -> None:
    """Job: write and process the links held during a database fault, once the database works."""
    held = waiting_room(context)
    if not held:
        return
    by_message: dict[tuple[int, int], list[HeldLink]] = {}
    for link in held:
        by_message.setdefault((link.message.chat_id, link.message.message_id), []).append(link)
    log.info("retrying %d links held during a database fault", len(held))
    for links in by_message.values():
        for link in links:
            held.remove(link)
        await ingest_links(links[0].message, context, [link.url for link in links], retrying=True)


def _chat_lock(context: Context, chat_id: int) -> asyncio.Lock:
    locks: dict[int, asyncio.Lock] = context.application.bot_data.setdefault("chat_locks", {})
    return locks.setdefault(chat_id, asyncio.Lock())


async def _submit_all(
    context: Context, message: Message, urls: list[str]
) -> tuple[list[Submission], list[tuple[str, IngestError]], list[str]]:
    """Commit each link as pending; sort out the refused ones and those a database fault held."""
    submitter = _submitter(message)
    submissions: list[Submission] = []
    refused: list[tuple[str, IngestError]] = []
    held: list[str] = []
    for url in urls:
        try:
            submissions.append(await services(context).ingestor.submit(message.chat_id, url, submitter))
        except IngestError as error:
            refused.append((url, error))
        except sqlite3.Error as error:
            log.error("database fault, holding link %s for chat %s in memory: %s", url, message.chat_id, error)
            held.append(url)
    return submissions, refused, held


def _submitter(message: Message) -> Submitter:
    user = message.from_user
    if user is not None:
        name = user.full_name or user.username
        user_id = user.id
    else:  # a channel post is signed by the channel (or its author's signature)
        name = message.author_signature or (message.sender_chat.title if message.sender_chat else None)
        user_id = None
    thread = message.message_thread_id if message.is_topic_message else None
    return Submitter(user_id=user_id, name=name, message_id=message.message_id, thread_id=thread)


# -- commands ----------------------------------------------------------------------------

Command = Callable[[Update, Context, str], Awaitable[None]]


async def on_command(update: Update, context: Context) -> None:
    """Route /command[@bot] args to its handler, in messages and channel posts alike."""
    message = update.effective_message
    text = message.text or ""
    entity = message.entities[0] if message.entities else None
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return
    name, _, addressee = text[1:entity.length].partition("@")
    if addressee and addressee.lower() != (context.bot.username or "").lower():
        return  # meant for another bot
    handler = COMMANDS.get(name.lower())
    argument = text[entity.length:].strip()
    context.args = argument.split()
    if handler is None:
        await reply(message, render.text("unknown", await chat_language(context, message.chat_id)))
        return
    await handler(update, context, argument)


async def start_command(update: Update, context: Context, argument: str) -> None:
    await reply(update.effective_message, render.text("help", await chat_language(context, update.effective_chat.id)))


async def add_command(update: Update, context: Context, argument: str) -> None:
    message = update.effective_message
    urls = links_in(message)  # the text includes the argument; entities add links hidden under words
    if not urls:
        await reply(message, render.text("no_links", await chat_language(context, message.chat_id)))
        return
    await ingest_links(message, context, urls)


async def latest_command(update: Update, context: Context, argument: str) -> None:
    count = int(argument) if argument.isdigit() else LATEST_DEFAULT
    chat_id = update.effective_chat.id
    items = await services(context).repository.latest(chat_id, limit=max(1, min(count, LATEST_MAX)))
    language = await chat_language(context, chat_id)
    for part in render.latest(items, language):
        await reply(update.effective_message, part)


async def search_command(update: Update, context: Context, argument: str) -> None:
    chat_id = update.effective_chat.id
    language = await chat_language(context, chat_id)
    if not argument:
        await reply(update.effective_message, render.usage("search", language))
        return
    text, keyboard = await search_page(context, chat_id, argument, 0, language)
    await reply(update.effective_message, text, reply_markup=keyboard)


async def search_page(context: Context, chat_id: int, query: str, offset: int, language: str
                      ) -> tuple[str, InlineKeyboardMarkup | None]:
    page = await services(context).repository.search(chat_id, query, limit=SEARCH_PAGE_SIZE, offset=offset)
    token = _remember_search(context, query)
    buttons = []
    if offset > 0:
        buttons.append(InlineKeyboardButton(render.text("page_prev", language),
                                            callback_data=f"search:{token}:{max(0, offset - SEARCH_PAGE_SIZE)}"))
    if page.has_next:
        buttons.append(InlineKeyboardButton(render.text("page_next", language),
                                            callback_data=f"search:{token}:{offset + SEARCH_PAGE_SIZE}"))
    return render.search_results(page, language), InlineKeyboardMarkup([buttons]) if buttons else None


def _remember_search(context: Context, query: str) -> str:
    """Keep recent queries in chat_data so page buttons carry only a short token."""
    searches: OrderedDict[str, str] = context.chat_data.setdefault("searches", OrderedDict())
    for token, known in searches.items():
        if known == query:
            return token
    token = str(context.chat_data.get("search_counter", 0) + 1)
    context.chat_data["search_counter"] = int(token)
    searches[token] = query
    while len(searches) > 50:
        searches.popitem(last=False)
    return token


async def on_search_page(update: Update, context: Context) -> None:
    """A press on a search result page button."""
    query = update.callback_query
    _, token, offset = (query.data or "").split(":", 2)
    chat_id = update.effective_chat.id
    language = await chat_language(context, chat_id)
    searched = context.chat_data.get("searches", {}).get(token)
    await query.answer()
    if searched is None:
        await query.edit_message_text(render.text("search_expired", language))
        return
    text, keyboard = await search_page(context, chat_id, searched, int(offset), language)
    try:
        await query.edit_message_text(text, reply_markup=keyboard)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def item_command(update: Update, context: Context, argument: str) -> None:
    chat_id = update.effective_chat.id
    language = await chat_language(context, chat_id)
    number = argument.lstrip("#№")
    if not number.isdigit():
        await reply(update.effective_message, render.usage("item", language))
        return
    item = await services(context).repository.get(int(number), chat_id=chat_id)
    if item is None:
        await reply(update.effective_message, render.text("not_found", language, id=number))
        return
    await reply(update.effective_message, render.card(item, language))


async def digest_command(update: Update, context: Context, argument: str) -> None:
    from bot.digest import build_digest  # the digest module owns the schedule and its content

    chat_id = update.effective_chat.id
    language = await chat_language(context, chat_id)
    for part in await build_digest(services(context), chat_id, language=language):
        await reply(update.effective_message, part, quote=False)


async def schedule_command(update: Update, context: Context, argument: str) -> None:
    """Show the chat's daily digest schedule, or change it (administrators only)."""
    from bot.digest import change_schedule

    chat_id = update.effective_chat.id
    language = await chat_language(context, chat_id)
    if argument and not await may_change_settings(update, context):
        await reply(update.effective_message, render.text("admins_only", language))
        return
    await reply(update.effective_message,
                await change_schedule(context.application, chat_id, argument, language=language))


async def resummarize_command(update: Update, context: Context, argument: str) -> None:
    """Ask the language model again for an item's title and summary in the chat's language."""
    chat_id = update.effective_chat.id
    language = await chat_language(context, chat_id)
    number = argument.lstrip("#№")
    item = await services(context).repository.get(int(number), chat_id=chat_id) if number.isdigit() else None
    if item is None:
        await reply(update.effective_message, render.usage("item", language) if not number.isdigit()
                    else render.text("not_found", language, id=number))
        return
    if services(context).summariser is None:
        await reply(update.effective_message, render.text("no_model", language))
        return
    progress = await reply(update.effective_message, render.text("processing", language))
    await send_card(context, item, language, edit_message=progress)


async def stats_command(update: Update, context: Context, argument: str) -> None:
    chat_id = update.effective_chat.id
    data = await services(context).repository.stats(chat_id)
    await reply(update.effective_message, render.stats(data, await chat_language(context, chat_id)))


async def export_command(update: Update, context: Context, argument: str) -> None:
    chat_id = update.effective_chat.id
    language = await chat_language(context, chat_id)
    file_format = "csv" if argument.lower().startswith("csv") else "json"
    items = [item async for item in services(context).repository.all_items(chat_id, status=DONE)]
    body = export_csv(items) if file_format == "csv" else export_json(items)
    stamp = utc_now().strftime("%Y%m%d")
    await update.effective_message.reply_document(
        InputFile(body.encode("utf-8"), filename=f"newsdesk-{stamp}.{'csv' if file_format == 'csv' else 'jsonl'}"),
        caption=render.text("export_caption", language, count=len(items)),
        do_quote=False,
    )


async def lang_command(update: Update, context: Context, argument: str) -> None:
    chat_id = update.effective_chat.id
    choice = argument.lower().strip()
    language = await chat_language(context, chat_id)
    if choice not in ("uk", "en"):
        await reply(update.effective_message, render.text("lang_usage", language))
        return
    if not await may_change_settings(update, context):
        await reply(update.effective_message, render.text("admins_only", language))
        return
    await services(context).repository.set_chat_language(chat_id, choice)
    await reply(update.effective_message, render.text("lang_set", choice))


COMMANDS: dict[str, Command] = {
    "start": start_command,
    "help": start_command,
    "add": add_command,
    "latest": latest_command,
    "search": search_command,
    "item": item_command,
    "digest": digest_command,
    "schedule": schedule_command,
    "stats": stats_command,
    "export": export_command,
    "lang": lang_command,
    "resummarize": resummarize_command,
}

COMMAND_DESCRIPTIONS = {
    "uk": {
        "help": "що вміє бот", "add": "додати статтю за посиланням", "latest": "останні матеріали",
        "search": "пошук у матеріалах", "item": "картка матеріалу за номером", "digest": "дайджест за сьогодні",
        "schedule": "щоденний дайджест: час і часовий пояс",
        "stats": "статистика чату", "export": "експорт у CSV або JSON", "lang": "мова чату: uk або en",
        "resummarize": "заново підсумувати матеріал мовною моделлю",
    },
    "en": {
        "help": "what the bot does", "add": "add an article by its link", "latest": "the latest items",
        "search": "search the items", "item": "one item's card", "digest": "today's digest",
        "schedule": "the daily digest: time and time zone",
        "stats": "the chat's statistics", "export": "export as CSV or JSON", "lang": "the chat's language: uk or en",
        "resummarize": "summarise an item again with the language model",
    },
}


# -- errors ------------------------------------------------------------------------------


async def on_error(update: object, context: Context) -> None:
    """Log every unexpected error with its traceback and answer the chat briefly."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    key = "database_down" if isinstance(context.error, sqlite3.Error) else "error"
    try:
        language = await chat_language(context, update.effective_chat.id)
    except sqlite3.Error:
        language = services(context).settings.default_language
    try:
        if update.callback_query:
            await update.callback_query.answer(render.text(key, language)[:190], show_alert=True)
        elif update.effective_message:
            await update.effective_message.reply_html(render.text(key, language))
    except TelegramError:
        log.warning("could not tell chat %s about the error", update.effective_chat.id)


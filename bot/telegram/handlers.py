"""Command handlers: read the update, make one call into the desk or storage, reply with a
string from `render`. Each is registered in the command table (commands.py); a handler that
cannot use its arguments raises WrongArguments and the router answers with the command's usage.
"""

from __future__ import annotations

import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest, TelegramError

from bot.clock import utc_now
from bot.desk.batches import next_cards
from bot.desk.costs import permit_resummarize
from bot.desk.digests import change_schedule, digest_now
from bot.desk.links import forget_deferred, release_deferred, waiting_links
from bot.desk.stories import collapse_search, other_versions
from bot.export import ExportFormat, export_format, export_items
from bot.services import Services
from bot.telegram import digest_jobs, render
from bot.telegram.access import is_served, may_change_settings, visitor_language
from bot.telegram.background import start_background
from bot.telegram.context import (
    Context,
    WrongArguments,
    chat_of,
    language_of,
    message_of,
    reply,
    services,
)
from bot.telegram.links import (
    CARDS_ON_REQUEST,
    Thread,
    answer_in_background,
    cards_keyboard,
    send_card,
    submitter_of,
)
from bot.telegram.ratelimit import Lane
from storage.errors import StorageUnavailable
from storage.models import DONE, Item

log = logging.getLogger(__name__)

EXPORT_LIMIT_MB = 50
"""The largest file a bot may send."""
SEARCH_PAGE_SIZE = 5
SEARCH_OFFSET_MAX = 10_000
LATEST_DEFAULT, LATEST_MAX = 10, 50
REMEMBERED_SEARCHES = 50
ID_MAX = 2**63 - 1
"""The largest id SQLite (and PostgreSQL's bigint) can hold."""
_DIGITS = re.compile(r"[0-9]{1,19}")


def whole_number(text: str, *, least: int, most: int) -> int:
    """A number in ASCII digits from `least` to `most`; WrongArguments otherwise. (str.isdigit
    would take "²" and other scripts' digits, and an id past 2**63 cannot be looked up.)"""
    if not _DIGITS.fullmatch(text.strip()):
        raise WrongArguments
    value = int(text)
    if not least <= value <= most:
        raise WrongArguments
    return value


def item_number(argument: str) -> int:
    """The item id in "12", "#12" or "№12"; WrongArguments otherwise."""
    return whole_number(argument.strip().removeprefix("#").removeprefix("№"), least=1, most=ID_MAX)


def callback_numbers(data: str | None, prefix: str, count: int, *, most: int = ID_MAX) -> tuple[int, ...] | None:
    """The `count` numbers of callback data "prefix:n:n", each from 0 to `most`; None for data
    the bot did not make (forged, or from an older version)."""
    parts = (data or "").split(":")
    if len(parts) != count + 1 or parts[0] != prefix or not all(_DIGITS.fullmatch(p) for p in parts[1:]):
        return None
    numbers = tuple(int(part) for part in parts[1:])
    return numbers if all(number <= most for number in numbers) else None


def no_arguments(argument: str) -> None:
    if argument:
        raise WrongArguments


async def latest_command(update: Update, context: Context, argument: str) -> None:
    count = whole_number(argument, least=1, most=LATEST_MAX) if argument else LATEST_DEFAULT
    chat_id = chat_of(update).id
    items = await services(context).repository.latest(chat_id, limit=count)
    for part in render.latest(items, await language_of(update, context)):
        await reply(message_of(update), part)


async def search_command(update: Update, context: Context, argument: str) -> None:
    if not argument:
        raise WrongArguments
    text, keyboard = await search_page(context, chat_of(update).id, argument, 0, await language_of(update, context))
    await reply(message_of(update), text, reply_markup=keyboard)


async def search_page(context: Context, chat_id: int, query: str, offset: int, language: str
                      ) -> tuple[str, InlineKeyboardMarkup | None]:
    page = await services(context).repository.search(chat_id, query, limit=SEARCH_PAGE_SIZE, offset=offset)
    shown, versions = await collapse_search(services(context).repository, page)
    paged = offset > 0 or page.has_next
    # the query is kept in the database, for whichever bot replica gets the button press
    token = await services(context).repository.remember_search(chat_id, query, keep=REMEMBERED_SEARCHES) \
        if paged else 0
    buttons = []
    if offset > 0:
        buttons.append(InlineKeyboardButton(render.text("page_prev", language),
                                            callback_data=f"search:{token}:{max(0, offset - SEARCH_PAGE_SIZE)}"))
    if page.has_next:
        buttons.append(InlineKeyboardButton(render.text("page_next", language),
                                            callback_data=f"search:{token}:{offset + SEARCH_PAGE_SIZE}"))
    return render.search_results(shown, language, versions), InlineKeyboardMarkup([buttons]) if buttons else None


async def on_search_page(update: Update, context: Context) -> None:
    """A press on a search result page button; answered once, with "expired" for data the bot did
    not make or a search it no longer remembers."""
    query = update.callback_query
    if query is None:
        return
    language = await language_of(update, context)
    numbers = callback_numbers(query.data, "search", 2, most=ID_MAX)
    if numbers is None or numbers[1] > SEARCH_OFFSET_MAX:
        await query.answer(render.text("button_expired", language))
        return
    token, offset = numbers
    searched = await services(context).repository.remembered_search(chat_of(update).id, token)
    if searched is None:
        await query.answer(render.text("search_expired", language))
        await query.edit_message_text(render.text("search_expired", language))
        return
    text, keyboard = await search_page(context, chat_of(update).id, searched, offset, language)
    try:
        await query.edit_message_text(text, reply_markup=keyboard)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise
    await query.answer()


async def on_cards(update: Update, context: Context) -> None:
    """A press on a batch's "show cards" button: the next page of its cards, once per page."""
    query = update.callback_query
    if query is None:
        return
    language = await language_of(update, context)
    chat_id = chat_of(update).id
    numbers = callback_numbers(query.data, "cards", 2)
    svc = services(context)
    page = await next_cards(svc, chat_id, numbers[0], numbers[1], CARDS_ON_REQUEST) if numbers else None
    if page is None:
        await query.answer(render.text("button_expired", language))
        return
    await query.answer()
    items = await svc.repository.batch_items(page.batch.id)
    try:
        await query.edit_message_reply_markup(cards_keyboard(page.batch, items, page.shown, language))
    except BadRequest as error:
        log.info("chat %s: cards button not updated (%s)", chat_id, error)
    thread = Thread(context.bot, chat_id, page.batch.reply_to, page.batch.thread_id)
    start_background(context.application, _post_cards(svc, thread, page.items, language),
                     name=f"cards:{chat_id}:{page.batch.id}")


async def _post_cards(svc: Services, thread: Thread, items: list[Item], language: str) -> None:
    for item in items:  # a shutdown may cut this short: the list under the button still has every link
        await send_card(svc, thread, item, language)


async def on_other_button(update: Update, context: Context) -> None:
    """A press on a button the bot does not know (forged data, or a button of an older version)."""
    if update.callback_query is not None:
        await update.callback_query.answer(render.text("button_expired", await language_of(update, context)))


async def item_command(update: Update, context: Context, argument: str) -> None:
    number = item_number(argument)
    language = await language_of(update, context)
    item = await services(context).repository.get(number, chat_id=chat_of(update).id)
    if item is None:
        await reply(message_of(update), render.text("not_found", language, id=number))
        return
    versions = await other_versions(services(context).repository, item)
    await reply(message_of(update), render.card(item, language, versions=versions))


async def digest_command(update: Update, context: Context, argument: str) -> None:
    no_arguments(argument)
    svc = services(context)
    digest = await digest_now(svc.repository, chat_of(update).id, default_timezone=svc.settings.default_timezone)
    for part in render.digest(digest.items, digest.day, await language_of(update, context)):
        await reply(message_of(update), part, quote=False)


async def schedule_command(update: Update, context: Context, argument: str) -> None:
    """Show the chat's daily digest schedule, or change it (administrators only)."""
    chat_id = chat_of(update).id
    language = await language_of(update, context)
    if argument and not await may_change_settings(update, context):
        await reply(message_of(update), render.text("admins_only", language))
        return
    svc = services(context)
    answer = await change_schedule(svc.repository, chat_id, argument, default_timezone=svc.settings.default_timezone)
    if answer.problem == "usage":
        raise WrongArguments
    if argument and answer.problem is None and answer.schedule is not None:
        digest_jobs.register(context.application, answer.schedule)
    await reply(message_of(update), render.schedule(answer, language, now=utc_now()))


async def resummarize_command(update: Update, context: Context, argument: str) -> None:
    """Ask the language model again for an item's title and summary in the chat's language."""
    number = item_number(argument)
    chat_id = chat_of(update).id
    language = await language_of(update, context)
    svc = services(context)
    item = await svc.repository.get(number, chat_id=chat_id)
    message = message_of(update)
    if item is None:
        await reply(message, render.text("not_found", language, id=number))
        return
    user = update.effective_user
    permit = await permit_resummarize(svc, chat_id, user.id if user else None,
                                      administrator=await may_change_settings(update, context))
    if not permit.granted:
        await reply(message, render.refusal(permit, language))
        return
    progress = await reply(message, render.text("processing", language))
    thread = Thread(context.bot, chat_id, message.message_id, message.message_thread_id)
    await send_card(svc, thread, item, language, edit_message=progress, lane=Lane.REPLY)


async def later_command(update: Update, context: Context, argument: str) -> None:
    """The links put aside over the hourly limit: list them, send them on (`go`), or forget them
    (`clear`, administrators only)."""
    choice = argument.strip().lower()
    if choice not in ("", "go", "clear"):
        raise WrongArguments
    svc = services(context)
    chat_id = chat_of(update).id
    language = await language_of(update, context)
    message = message_of(update)
    if choice == "clear":
        if not await may_change_settings(update, context):
            await reply(message, render.text("admins_only", language))
            return
        await reply(message, render.text("later_cleared", language, count=await forget_deferred(svc, chat_id)))
        return
    if choice == "go":
        result = await release_deferred(svc, chat_id, submitter_of(message))
        await reply(message, render.released(result, language, now=utc_now()))
        answer_in_background(context.application, result.outcome)
        return
    waiting = await waiting_links(svc, chat_id)
    for part in render.deferred(waiting.links, waiting.room, waiting.room_at, language, now=utc_now()):
        await reply(message, part)


async def stats_command(update: Update, context: Context, argument: str) -> None:
    no_arguments(argument)
    data = await services(context).repository.stats(chat_of(update).id)
    await reply(message_of(update), render.stats(data, await language_of(update, context)))


async def export_command(update: Update, context: Context, argument: str) -> None:
    """/export FORMAT sends the chat's items as a file; /export alone offers the formats as buttons."""
    chat_id = chat_of(update).id
    language = await language_of(update, context)
    if not argument.strip():
        count = (await services(context).repository.stats(chat_id)).items
        buttons = [InlineKeyboardButton(choice.label, callback_data=f"export:{choice}") for choice in ExportFormat]
        await reply(message_of(update), render.text("export_choose", language, count=count),
                    reply_markup=InlineKeyboardMarkup([buttons[:2], buttons[2:]]))
        return
    chosen = export_format(argument.split()[0])
    if chosen is None:
        raise WrongArguments
    await _send_export(update, context, chosen, language)


async def on_export_button(update: Update, context: Context) -> None:
    """A press on one of /export's format buttons."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    chosen = export_format((query.data or "").partition(":")[2])
    if chosen is not None:
        await _send_export(update, context, chosen, await language_of(update, context))


async def _send_export(update: Update, context: Context, chosen: ExportFormat, language: str) -> None:
    chat_id = chat_of(update).id
    items = [item async for item in services(context).repository.all_items(chat_id, status=DONE)]
    chat = chat_of(update)
    body = export_items(items, chosen, heading=f"Newsdesk: {chat.title or chat_id}, {utc_now():%d.%m.%Y}")
    data = body.encode("utf-8")
    message = message_of(update)
    if len(data) > EXPORT_LIMIT_MB * 1_000_000:
        await reply(message, render.text("export_too_big", language, size=len(data) // 1_000_000,
                                         limit=EXPORT_LIMIT_MB, chat=chat_id, format=chosen.value))
        return
    await message.reply_document(
        InputFile(data, filename=f"newsdesk-{utc_now():%Y%m%d}.{chosen.value}"),
        caption=render.text("export_caption", language, count=len(items)),
        do_quote=False,
    )


async def id_command(update: Update, context: Context, argument: str) -> None:
    """The chat's id and the asker's: answered in every chat, served or not (nothing else is)."""
    user = update.effective_user
    language = await language_of(update, context) if is_served(update, context) else visitor_language(update)
    await reply(message_of(update), render.ids(chat_of(update).id, user.id if user else None, language))


async def lang_command(update: Update, context: Context, argument: str) -> None:
    choice = argument.lower().strip()
    if choice not in ("uk", "en"):
        raise WrongArguments
    if not await may_change_settings(update, context):
        await reply(message_of(update), render.text("admins_only", await language_of(update, context)))
        return
    await services(context).repository.set_chat_language(chat_of(update).id, choice)
    await reply(message_of(update), render.text("lang_set", choice))


async def on_error(update: object, context: Context) -> None:
    """Log every unexpected error with its traceback and answer the chat briefly."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    key = "database_down" if isinstance(context.error, StorageUnavailable) else "error"
    language = await services(context).language_of(update.effective_chat.id)
    try:
        if update.callback_query:
            await update.callback_query.answer(render.text(key, language)[:190], show_alert=True)
        elif update.effective_message:
            await update.effective_message.reply_html(render.text(key, language))
    except TelegramError:
        log.warning("could not tell chat %s about the error", update.effective_chat.id)

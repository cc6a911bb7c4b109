"""Links posted in a chat: read them from the message, hand them to the desk, answer.

The use case is bot.desk.links; this module only reads Telegram messages and writes Telegram
answers, all in the BULK lane (ratelimit.py), so that answers to commands go first:

- one new link: a "processing" note, edited into its card;
- several: one status message, edited with the progress as they finish (at most every
  PROGRESS_EVERY seconds) and then into one list of what became of each; cards for the first
  CARDS_AT_ONCE links, the others on request (a button, or /item N);
- links the chat already had: one answer a burst (repeats.py);
- links not taken: one notice naming them (held, put aside over the limit, refused).

With NEWSDESK_PROCESSING=workers the bot only records the links and says they are being processed;
a worker processes them and the card of each reaches the chat through the outbox.

The status message is recorded with the batch's items (bot/desk/batches.py) before anything is
processed, so after a restart a resumed batch edits that very message into its outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application

from bot.clock import utc_now
from bot.desk.batches import items_in_open_batches, left_over_batches, open_batch
from bot.desk.links import SubmitOutcome, process_links, release_held_links, resume_pending, submit_links
from bot.desk.stories import story_note
from bot.pipeline.ingest import Submitter
from bot.pipeline.links import canonicalise, find_links
from bot.services import Services
from bot.telegram import render
from bot.telegram.background import start_background
from bot.telegram.context import Context, edit, edit_message, language_of, message_of, reply, send, services
from bot.telegram.ratelimit import Lane
from bot.telegram.repeats import Repeats
from storage.errors import StorageUnavailable
from storage.models import DONE, Batch, Item

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=2)
"""A pending link nobody has touched for this long was stopped by a fault: process it again."""
CARDS_AT_ONCE = 3
"""Cards posted unasked for a message with several links; the others are in its list."""
CARDS_ON_REQUEST = 5
"""Cards posted for each press of a batch's "show cards" button."""
PROGRESS_EVERY = 5.0
"""Seconds between two edits of a batch's status message while its links are processed."""


@dataclass(frozen=True)
class Thread:
    """Where the answers about one posted message go: its chat and forum topic, quoting it."""

    bot: Bot
    chat_id: int
    message_id: int | None = None
    thread_id: int | None = None

    async def answer(self, html_text: str, *, quote: bool = True, lane: Lane = Lane.BULK,
                     reply_markup: InlineKeyboardMarkup | None = None) -> Message:
        return await send(self.bot, self.chat_id, html_text, reply_to=self.message_id if quote else None,
                          thread_id=self.thread_id, lane=lane, reply_markup=reply_markup)


def links_in(message: Message) -> list[str]:
    """Every link in a message: visible URLs, links hidden under words, in text or caption."""
    entities = message.parse_entities([MessageEntity.URL, MessageEntity.TEXT_LINK]) or \
        message.parse_caption_entities([MessageEntity.URL, MessageEntity.TEXT_LINK])
    found: list[str] = []
    for entity, visible in entities.items():
        url = canonicalise(entity.url if entity.type == MessageEntity.TEXT_LINK and entity.url else visible)
        if url and url not in found:
            found.append(url)
    for url in find_links(message.text or message.caption or ""):
        if url not in found:
            found.append(url)
    return found


def submitter_of(message: Message) -> Submitter:
    """Who posted a message, and where, as the item's provenance."""
    user = message.from_user
    if user is not None:
        name: str | None = user.full_name or user.username
        user_id: int | None = user.id
    else:  # a channel post is signed by the channel (or its author's signature)
        name = message.author_signature or (message.sender_chat.title if message.sender_chat else None)
        user_id = None
    thread = message.message_thread_id if message.is_topic_message else None
    return Submitter(user_id=user_id, name=name, message_id=message.message_id, thread_id=thread)


async def on_links(update: Update, context: Context) -> None:
    """Links posted in a message or channel post (edited ones too): fetch and answer with cards."""
    message = message_of(update)
    edited = update.edited_message is not None or update.edited_channel_post is not None
    urls = links_in(message)
    if urls:
        outcome = await submit_links(services(context), message.chat_id, urls, submitter_of(message))
        answer_in_background(context.application, outcome, quiet_repeats=edited)


async def add_command(update: Update, context: Context, argument: str) -> None:
    """/add URL…: for groups where privacy mode hides plain messages from the bot."""
    message = message_of(update)
    urls = links_in(message)  # the text includes the argument; entities add links hidden under words
    if not urls:
        await reply(message, render.text("no_links", await language_of(update, context)))
        return
    outcome = await submit_links(services(context), message.chat_id, urls, submitter_of(message))
    answer_in_background(context.application, outcome)


def repeats_of(application: Application) -> Repeats:
    """The process's gathering of re-posted links, made in post_init."""
    found: Repeats = application.bot_data["repeats"]
    return found


def answer_in_background(application: Application, outcome: SubmitOutcome, *, quiet_repeats: bool = False,
                         retrying: bool = False) -> None:
    """Answer a submission in a task of its own, once its links are committed: processing them and
    posting under the flood limits can take minutes, and neither the update nor a shutdown should
    wait for that. A shutdown cancels it; the next start finishes the links and their status."""
    start_background(application, _answer_or_say_why(application, outcome, quiet_repeats=quiet_repeats,
                                                     retrying=retrying),
                     name=f"answer:{outcome.chat_id}:{outcome.submitter.message_id}")


async def _answer_or_say_why(application: Application, outcome: SubmitOutcome, *, quiet_repeats: bool,
                             retrying: bool) -> None:
    try:
        await answer_submission(application, outcome, quiet_repeats=quiet_repeats, retrying=retrying)
    except StorageUnavailable as error:  # the links are pending: the resume job finishes them later
        log.error("chat %s: links not answered while the database is unavailable: %s", outcome.chat_id, error)
        svc: Services = application.bot_data["services"]
        thread = Thread(application.bot, outcome.chat_id, outcome.submitter.message_id, outcome.submitter.thread_id)
        with contextlib.suppress(TelegramError):
            await thread.answer(render.text("database_down", await svc.language_of(outcome.chat_id)))


async def answer_submission(application: Application, outcome: SubmitOutcome, *, quiet_repeats: bool = False,
                            retrying: bool = False) -> None:
    """Tell the chat what became of its links, process the new ones and report them."""
    svc: Services = application.bot_data["services"]
    thread = Thread(application.bot, outcome.chat_id, outcome.submitter.message_id, outcome.submitter.thread_id)
    language = await svc.language_of(outcome.chat_id)
    for notice in render.submit_notices(outcome, language, hourly_limit=svc.settings.max_links_per_hour,
                                        now=utc_now(), retrying=retrying):
        await thread.answer(notice)
    if outcome.repeated and not quiet_repeats:
        repeats_of(application).note(thread.chat_id, thread.thread_id, thread.message_id, outcome.repeated)
    if outcome.to_process and svc.settings.processing == "workers":
        # a worker processes them and writes their cards to the outbox (bot/desk/worker.py)
        items = outcome.to_process
        await thread.answer(render.text("processing", language) if len(items) == 1
                            else render.progress(len(items), 0, 0, language))
    elif outcome.to_process:
        await run_batch(svc, thread, outcome.to_process, language)


async def run_batch(svc: Services, thread: Thread, items: Sequence[Item], language: str) -> None:
    """Process one message's new links and tell the chat in one status message, recorded first."""
    batch = await open_batch(svc, thread.chat_id, items, reply_to=thread.message_id, thread_id=thread.thread_id,
                             cards_at_once=CARDS_AT_ONCE)
    svc.intake.live_batches.add(batch.id)
    try:
        note = render.text("processing", language) if len(items) == 1 else render.progress(len(items), 0, 0, language)
        status = await thread.answer(note)
        await _noted(svc.repository.set_batch_message(batch.id, status.message_id), batch)
        untranslated: list[Item] = []
        if len(items) == 1:
            [item] = await process_links(svc, items)
            await send_card(svc, thread, item, language, edit_message=status)
        else:
            untranslated = await _process_several(svc, thread, batch, items, status, language)
        await _noted(svc.repository.finish_batch(batch.id), batch)
    finally:
        svc.intake.live_batches.discard(batch.id)
    # the translations of links shown without a card, for /item and the digest; nothing waits for them
    for result in await asyncio.gather(*(svc.translate(item, language=language) for item in untranslated),
                                       return_exceptions=True):
        if isinstance(result, BaseException):
            log.warning("chat %s: a translation failed: %s", thread.chat_id, result)


async def _noted(write: Awaitable[object], batch: Batch) -> None:
    """Record a batch's progress; a database fault here costs only a second edit of the same
    status after a restart (the resume jobs find the batch open), so the chat is not told."""
    try:
        await write
    except StorageUnavailable as error:
        log.warning("chat %s: batch %s not recorded (%s)", batch.chat_id, batch.id, error)


async def _process_several(svc: Services, thread: Thread, batch: Batch, items: Sequence[Item], status: Message,
                           language: str) -> list[Item]:
    """Process a message's links with a progress note and cards for the first few; then turn the
    note into the list of what became of each. The saved links that got no card are returned."""
    progress = Progress(status, len(items), language)
    with_card = {item.id for item in items[:CARDS_AT_ONCE]}

    async def finished(item: Item) -> None:
        progress.count(item)
        if item.id in with_card and item.status == DONE:  # as soon as it is ready
            await send_card(svc, thread, item, language)

    async with progress:
        ended = await process_links(svc, items, on_finished=finished)
    await show_outcome(thread.bot, batch, ended, language, status_message=status)
    return [item for item in ended if item.status == DONE and item.id not in with_card]


class Progress:
    """A batch's status message, edited as its links finish, at most every PROGRESS_EVERY seconds."""

    def __init__(self, message: Message, total: int, language: str) -> None:
        self.message, self.total, self.language = message, total, language
        self.done = self.failed = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def count(self, item: Item) -> None:
        if item.status == DONE:
            self.done += 1
        else:
            self.failed += 1
        self._changed.set()

    async def __aenter__(self) -> Progress:
        self._task = asyncio.create_task(self._edit_as_they_finish(), name=f"progress:{self.message.chat_id}")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _edit_as_they_finish(self) -> None:
        shown = (0, 0)
        while True:
            await self._changed.wait()
            self._changed.clear()
            if (self.done, self.failed) != shown:
                shown = (self.done, self.failed)
                try:
                    await edit(self.message, render.progress(self.total, *shown, self.language), lane=Lane.BULK)
                except TelegramError as error:
                    log.warning("chat %s: progress not shown: %s", self.message.chat_id, error)
            await asyncio.sleep(PROGRESS_EVERY)


def cards_keyboard(batch: Batch, items: Sequence[Item], shown: int, language: str) -> InlineKeyboardMarkup | None:
    """A button for the next page of a batch's cards, when saved links follow the first `shown`."""
    left = sum(1 for item in items[shown:] if item.status == DONE)
    if not left:
        return None
    label = render.cards_button(min(left, CARDS_ON_REQUEST), language)
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"cards:{batch.id}:{shown}")]])


async def show_outcome(bot: Bot, batch: Batch, items: Sequence[Item], language: str, *,
                       status_message: Message | None = None) -> None:
    """Turn a batch's status message into what became of its links (a new message if it cannot be
    edited any more): the card for one link, one list for several."""
    if len(items) == 1:
        messages, keyboard = [render.card(items[0], language)], None
    else:
        messages = render.batch_outcome(items, language)
        keyboard = cards_keyboard(batch, items, batch.cards_shown, language)
    first_markup = keyboard if len(messages) == 1 else None
    message_id = status_message.message_id if status_message is not None else batch.status_message_id
    edited = False
    if message_id is not None:
        try:
            await edit_message(bot, batch.chat_id, message_id, messages[0], lane=Lane.BULK, reply_markup=first_markup)
            edited = True
        except BadRequest as error:  # deleted, or too old to edit
            log.info("chat %s: status message %s not edited (%s); sending the outcome anew",
                     batch.chat_id, message_id, error)
    if not edited:
        await send(bot, batch.chat_id, messages[0], reply_to=batch.reply_to, thread_id=batch.thread_id,
                   lane=Lane.BULK, reply_markup=first_markup)
    for position, extra in enumerate(messages[1:], start=2):
        await send(bot, batch.chat_id, extra, thread_id=batch.thread_id, lane=Lane.BULK,
                   reply_markup=keyboard if position == len(messages) else None)


async def send_card(svc: Services, thread: Thread, item: Item, language: str, *,
                    edit_message: Message | None = None, lane: Lane = Lane.BULK) -> None:
    """Show an item's card; with a language model, its translated summary when it comes in time.

    The model never holds the card up: after LLM_CARD_WAIT_SECONDS the card goes out with the
    extractive summary and is edited once the translation arrives.
    """
    if item.same_as is not None:  # its page named an article the chat has: that one's card
        original = await svc.repository.get(item.same_as)
        if original is not None:
            text = render.already_saved(original, language)
            if edit_message is not None:
                await edit(edit_message, text, lane=lane)
            else:
                await thread.answer(text, quote=False, lane=lane)
            return
    note = await story_note(svc.repository, item, ZoneInfo(svc.settings.default_timezone))
    translation = None
    if svc.summariser is not None and item.status == DONE:
        translation = asyncio.ensure_future(svc.translate(item, language=language))
        done, _ = await asyncio.wait({translation}, timeout=svc.settings.llm_card_wait_seconds)
        if done:
            item, translation = translation.result(), None
    if edit_message is not None:
        await edit(edit_message, render.card(item, language, note=note), lane=lane)
        shown = edit_message
    else:
        shown = await thread.answer(render.card(item, language, note=note), quote=False, lane=lane)
    if translation is not None:
        await edit(shown, render.card(await translation, language, note=note), lane=lane)


async def retry_held_links(context: Context) -> None:
    """Job: write and process the links held during a database fault, once the database works."""
    svc = services(context)
    if not svc.intake.held:
        return
    for outcome in await release_held_links(svc):
        answer_in_background(context.application, outcome, retrying=True)


async def resume_left_over(context: Context) -> None:
    """Job at start: finish the links a previous run left pending."""
    start_background(context.application, _post_resumed(context.application), name="resume-pending")


async def resume_stuck(context: Context) -> None:
    """Job: finish the pending links nobody has touched for STUCK_AFTER (stopped by a fault)."""
    start_background(context.application, _post_resumed(context.application, older_than=utc_now() - STUCK_AFTER),
                     name="resume-stuck")


async def _post_resumed(application: Application, *, older_than: datetime | None = None) -> None:
    """Finish left-over links; turn the status messages of their batches into their outcome, and
    post the links that had none (a crash before their status message was recorded)."""
    svc: Services = application.bot_data["services"]
    resumed = await resume_pending(svc, older_than=older_than)
    told = await items_in_open_batches(svc)
    for batch, items in await left_over_batches(svc):
        language = await svc.language_of(batch.chat_id)
        try:
            await show_outcome(application.bot, batch, items, language)
        except TelegramError as error:
            log.warning("could not finish the status of batch %s in chat %s: %s", batch.id, batch.chat_id, error)
            continue
        await svc.repository.finish_batch(batch.id)
    untold: dict[int, list[Item]] = {}
    for item in resumed:
        if item.chat_id != 0 and item.id not in told:  # chat 0 is the command line's own
            untold.setdefault(item.chat_id, []).append(item)
    for chat_id, items in untold.items():
        await _post_untold(application.bot, svc, chat_id, items)


async def _post_untold(bot: Bot, svc: Services, chat_id: int, items: list[Item]) -> None:
    language = await svc.language_of(chat_id)
    first = items[0]
    messages = [render.card(first, language)] if len(items) == 1 else render.batch_outcome(items, language)
    for position, text in enumerate(messages):
        try:
            await send(bot, chat_id, text, reply_to=first.message_id if position == 0 else None,
                       thread_id=first.thread_id, lane=Lane.BULK)
        except TelegramError as error:
            log.warning("could not post %d resumed items to chat %s: %s", len(items), chat_id, error)
            return

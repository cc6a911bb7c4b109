"""Links posted in a chat: read them from the message, hand them to the desk, answer with cards.

The use case is bot.desk.links; this module only reads Telegram messages and writes Telegram
answers: a "processing" note edited into the card for one link, or one line a link plus each
card as it is ready for several; the notices for links not processed (already saved, refused,
over the limit, held through a database fault).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import Bot, Message, MessageEntity, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.clock import utc_now
from bot.desk.links import SubmitOutcome, process_links, release_held_links, resume_pending, submit_links
from bot.pipeline.ingest import Submitter
from bot.pipeline.links import canonicalise, find_links
from bot.services import Services
from bot.telegram import render
from bot.telegram.background import start_background
from bot.telegram.context import Context, edit, language_of, message_of, reply, send, services
from storage.models import DONE, Item

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=2)
"""A pending link nobody has touched for this long was stopped by a fault: process it again."""


@dataclass(frozen=True)
class Thread:
    """Where the answers about one posted message go: its chat and forum topic, quoting it."""

    bot: Bot
    chat_id: int
    message_id: int | None = None
    thread_id: int | None = None

    async def answer(self, html_text: str, *, quote: bool = True) -> Message:
        return await send(self.bot, self.chat_id, html_text, reply_to=self.message_id if quote else None,
                          thread_id=self.thread_id)


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
        await answer_submission(context.bot, services(context), outcome, quiet_duplicates=edited)


async def add_command(update: Update, context: Context, argument: str) -> None:
    """/add URL…: for groups where privacy mode hides plain messages from the bot."""
    message = message_of(update)
    urls = links_in(message)  # the text includes the argument; entities add links hidden under words
    if not urls:
        await reply(message, render.text("no_links", await language_of(update, context)))
        return
    outcome = await submit_links(services(context), message.chat_id, urls, submitter_of(message))
    await answer_submission(context.bot, services(context), outcome)


async def answer_submission(bot: Bot, svc: Services, outcome: SubmitOutcome, *, quiet_duplicates: bool = False,
                            retrying: bool = False) -> None:
    """Tell the chat what became of its links, process the new ones and show their cards."""
    thread = Thread(bot, outcome.chat_id, outcome.submitter.message_id, outcome.submitter.thread_id)
    language = await svc.language_of(outcome.chat_id)
    for notice in render.submit_notices(outcome, language, hourly_limit=svc.settings.max_links_per_hour,
                                        quiet_duplicates=quiet_duplicates, retrying=retrying):
        await thread.answer(notice)
    items = outcome.to_process
    if len(items) == 1:
        progress = await thread.answer(render.text("processing", language))
        [item] = await process_links(svc, items)
        await send_card(svc, thread, item, language, edit_message=progress)
    elif items:
        progress = await thread.answer(render.text("processing_many", language, count=len(items)))

        async def show(item: Item) -> None:  # each card as soon as it is ready
            if item.status == DONE:
                await send_card(svc, thread, item, language)

        finished = await process_links(svc, items, on_finished=show)
        lines = render.split_messages(render.status_line(item, language) for item in finished)
        await edit(progress, lines[0])
        for extra in lines[1:]:
            await thread.answer(extra, quote=False)


async def send_card(svc: Services, thread: Thread, item: Item, language: str, *,
                    edit_message: Message | None = None) -> None:
    """Show an item's card; with a language model, its translated summary when it comes in time.

    The model never holds the card up: after LLM_CARD_WAIT_SECONDS the card goes out with the
    extractive summary and is edited once the translation arrives.
    """
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
        shown = await thread.answer(render.card(item, language), quote=False)
    if translation is not None:
        await edit(shown, render.card(await translation, language))


async def retry_held_links(context: Context) -> None:
    """Job: write and process the links held during a database fault, once the database works."""
    svc = services(context)
    if not svc.intake.held:
        return
    for outcome in await release_held_links(svc):
        await answer_submission(context.bot, svc, outcome, retrying=True)


async def resume_left_over(context: Context) -> None:
    """Job at start: finish the links a previous run left pending."""
    start_background(context.application, _post_resumed(context.application), name="resume-pending")


async def resume_stuck(context: Context) -> None:
    """Job: finish the pending links nobody has touched for STUCK_AFTER (stopped by a fault)."""
    start_background(context.application, _post_resumed(context.application, older_than=utc_now() - STUCK_AFTER),
                     name="resume-stuck")


async def _post_resumed(application: Application, *, older_than: datetime | None = None) -> None:
    """Finish left-over links and post their cards where they were sent."""
    svc: Services = application.bot_data["services"]
    for item in await resume_pending(svc, older_than=older_than):
        if item.chat_id == 0:
            continue  # the command line's own chat
        language = await svc.language_of(item.chat_id)
        text = render.card(item, language) if item.status == DONE else render.failure(
            item.url, item.failure_reason or "", language, detail=item.failure_detail)
        try:
            await send(application.bot, item.chat_id, text, reply_to=item.message_id, thread_id=item.thread_id)
        except TelegramError as error:
            log.warning("could not post resumed item %s to chat %s: %s", item.id, item.chat_id, error)


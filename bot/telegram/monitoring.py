"""Monitoring in Telegram: /follow, /unfollow, /feeds, /watch, /unwatch, /watches, and the jobs
that poll feeds and deliver the outbox (feed cards, watch alerts, feed notices).

The use cases are bot.desk.feeds, bot.desk.watches and bot.desk.outbox; the jobs only wake them.
What is to be said in a chat is written to the database first and sent from there, so a cron
`newsdesk poll`, another replica or a restart changes nothing about what the chat hears, or how
often.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot, InputFile, Message, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application

from bot.clock import utc_now
from bot.desk.digests import DeliveryFailed, DeliveryRefused
from bot.desk.feeds import PollResult, chat_zone, follow, keep_feed_words, poll_due, process_new_items
from bot.desk.outbox import deliver_outbox
from bot.desk.watches import add_watch, check_new_items
from bot.pipeline.feeds import OpmlFeed, write_opml
from bot.services import Services
from bot.telegram import render
from bot.telegram.access import may_change_settings
from bot.telegram.background import start_background
from bot.telegram.context import Context, WrongArguments, chat_of, edit, language_of, message_of, reply, send, services
from bot.telegram.digest_jobs import job_queue
from bot.telegram.handlers import item_number
from storage.models import FeedMode, Item, OutboxMessage, Watch

log = logging.getLogger(__name__)

DELIVER_SECONDS = 3
POLL_TICK_SECONDS = 10


def _thread_of(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


async def follow_command(update: Update, context: Context, argument: str) -> None:
    """/follow URL [announce|digest] (administrators only)."""
    words = argument.split()
    if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("announce", "digest")):
        raise WrongArguments
    message = message_of(update)
    language = await language_of(update, context)
    if not await may_change_settings(update, context):
        await reply(message, render.text("admins_only", language))
        return
    svc = services(context)
    mode = FeedMode(words[1].lower()) if len(words) == 2 else FeedMode.ANNOUNCE
    progress = await reply(message, render.text("feed_checking", language))
    user = update.effective_user
    outcome = await follow(svc, chat_of(update).id, words[0], mode=mode, thread_id=_thread_of(message),
                           added_by=user.id if user else None)
    await edit(progress, render.follow_result(outcome, language, url=words[0]))
    if outcome.first_poll is not None and outcome.first_poll.items:
        start_background(context.application, after_poll(context.application, [outcome.first_poll]),
                         name=f"first-poll:{outcome.first_poll.feed.id}")


async def unfollow_command(update: Update, context: Context, argument: str) -> None:
    number = item_number(argument)
    message = message_of(update)
    language = await language_of(update, context)
    if not await may_change_settings(update, context):
        await reply(message, render.text("admins_only", language))
        return
    removed = await services(context).repository.remove_feed(number, chat_id=chat_of(update).id)
    if removed is None:
        await reply(message, render.text("feed_unknown", language, id=number))
        return
    await reply(message, render.text("feed_unfollowed", language, id=removed.id, title=removed.name))


async def feeds_command(update: Update, context: Context, argument: str) -> None:
    """/feeds: the chat's feeds; /feeds opml: the same as an OPML file."""
    if argument and argument.lower() != "opml":
        raise WrongArguments
    svc = services(context)
    chat_id = chat_of(update).id
    language = await language_of(update, context)
    feeds = await svc.repository.feeds(chat_id)
    message = message_of(update)
    if argument:
        body = write_opml((OpmlFeed(feed.url, feed.title, feed.site_url) for feed in feeds),
                          title=f"Newsdesk {chat_id}")
        name = f"newsdesk-feeds-{utc_now():%Y%m%d}.opml"
        await message.reply_document(InputFile(body.encode("utf-8"), filename=name),
                                     caption=render.text("feeds_opml_caption", language, count=len(feeds)),
                                     do_quote=False)
        return
    for part in render.feeds_list(feeds, language, zone=await chat_zone(svc, chat_id)):
        await reply(message, part)


async def watch_command(update: Update, context: Context, argument: str) -> None:
    if not argument:
        raise WrongArguments
    svc = services(context)
    message = message_of(update)
    user = update.effective_user
    answer = await add_watch(svc, chat_of(update).id, argument, thread_id=_thread_of(message),
                             created_by=user.id if user else None)
    await reply(message, render.watch_result(answer, await language_of(update, context),
                                             limit=svc.settings.max_watches_per_chat))


async def unwatch_command(update: Update, context: Context, argument: str) -> None:
    number = item_number(argument)
    language = await language_of(update, context)
    removed = await services(context).repository.remove_watch(number, chat_id=chat_of(update).id)
    if removed is None:
        await reply(message_of(update), render.text("watch_unknown", language, id=number))
        return
    await reply(message_of(update), render.text("watch_removed", language, id=removed.id, query=removed.query))


async def watches_command(update: Update, context: Context, argument: str) -> None:
    watches = await services(context).repository.watches(chat_of(update).id)
    for part in render.watches_list(watches, await language_of(update, context)):
        await reply(message_of(update), part)


# -- jobs ----------------------------------------------------------------------------------------


class TelegramOutbox:
    """Outbox messages as Telegram HTML, sent by the bot to the chat and topic they are for."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, message: OutboxMessage, item: Item | None, watches: list[Watch], language: str) -> int:
        text = render.outbox_message(message, item, watches, language)
        try:
            return (await send(self._bot, message.chat_id, text, reply_to=message.reply_to,
                               thread_id=message.thread_id)).message_id
        except (BadRequest, Forbidden) as error:  # the chat or topic is gone, or refuses us
            raise DeliveryRefused(str(error)) from error
        except TelegramError as error:
            raise DeliveryFailed(str(error)) from error


def poll_tick(settings_minutes: float) -> float:
    """How often the poll job looks for due feeds: often enough for the shortest interval."""
    return max(1.0, min(POLL_TICK_SECONDS, settings_minutes * 60 / 3))


async def poll_feeds(context: Context) -> None:
    """Job: poll the feeds that are due; their new items are processed in the background."""
    svc = services(context)
    results = await poll_due(svc)
    if any(result.items for result in results):
        start_background(context.application, after_poll(context.application, results), name="feed-items")
    await keep_feed_words(svc)


async def after_poll(application: Application, results: Sequence[PollResult]) -> None:
    """Fetch the new items' pages, match them against the watches, and send what is due."""
    svc: Services = application.bot_data["services"]
    await process_new_items(svc, results)
    await deliver(application)


async def deliver_job(context: Context) -> None:
    """Job: match newly stored items against the watches, and send what the outbox holds."""
    await deliver(context.application)


async def deliver(application: Application) -> None:
    svc: Services = application.bot_data["services"]
    await check_new_items(svc)
    await deliver_outbox(svc, TelegramOutbox(application.bot))


def start(application: Application, *, with_feed_polls: bool = True) -> None:
    """Register the poll (unless workers poll the feeds) and delivery jobs."""
    settings = application.bot_data["settings"]
    queue = job_queue(application)
    tick = poll_tick(settings.feed_poll_minutes)
    if with_feed_polls:
        queue.run_repeating(poll_feeds, interval=tick, first=1, name="feed-poll",
                            job_kwargs={"misfire_grace_time": int(tick) + 30, "coalesce": True, "max_instances": 1})
    queue.run_repeating(deliver_job, interval=DELIVER_SECONDS, first=2, name="outbox",
                        job_kwargs={"misfire_grace_time": 30, "coalesce": True, "max_instances": 1})

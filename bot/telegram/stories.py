"""Handlers of /stories, /link and /unlink: today's stories ranked by sources, and an editor's
joining and splitting of stories."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update

from bot.clock import utc_now
from bot.desk.stories import link_items, recent_stories, unlink_item
from bot.telegram import render
from bot.telegram.context import Context, WrongArguments, chat_of, language_of, message_of, reply, services
from bot.telegram.handlers import item_number, no_arguments


async def stories_command(update: Update, context: Context, argument: str) -> None:
    no_arguments(argument)
    svc = services(context)
    found = await recent_stories(svc.repository, chat_of(update).id, now=utc_now())
    language = await language_of(update, context)
    for part in render.stories(found, language, ZoneInfo(svc.settings.default_timezone)):
        await reply(message_of(update), part, quote=False)


async def link_command(update: Update, context: Context, argument: str) -> None:
    words = argument.split()
    if len(words) != 2:
        raise WrongArguments
    first, second = (item_number(word) for word in words)
    answer = await link_items(services(context).repository, chat_of(update).id, first, second)
    await reply(message_of(update), render.link_answer(answer, await language_of(update, context),
                                                       first=first, second=second))


async def unlink_command(update: Update, context: Context, argument: str) -> None:
    number = item_number(argument)
    answer = await unlink_item(services(context).repository, chat_of(update).id, number)
    await reply(message_of(update), render.link_answer(answer, await language_of(update, context), first=number))

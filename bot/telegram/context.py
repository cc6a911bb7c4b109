"""What every handler reaches for: the process's services, the update's message and chat, and
answering in the same chat and topic."""

from __future__ import annotations

from typing import Any, cast

from telegram import Bot, Chat, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes, ExtBot

from bot.services import Services
from bot.telegram.ratelimit import Lane

Context = ContextTypes.DEFAULT_TYPE


class WrongArguments(Exception):
    """A command's arguments cannot be used; the router answers with the command's usage."""


def services(context: Context) -> Services:
    """The process's services, opened in post_init."""
    found: Services = context.application.bot_data["services"]
    return found


def message_of(update: Update) -> Message:
    """The message (or channel post) of an update that has one; the filters guarantee it."""
    message = update.effective_message
    if message is None:
        raise ValueError(f"update {update.update_id} carries no message")
    return message


def chat_of(update: Update) -> Chat:
    chat = update.effective_chat
    if chat is None:
        raise ValueError(f"update {update.update_id} comes from no chat")
    return chat


async def language_of(update: Update, context: Context) -> str:
    return await services(context).language_of(chat_of(update).id)


async def reply(message: Message, html_text: str, *, quote: bool = True, **kwargs: Any) -> Message:
    """Answer in the same chat and topic; as a reply to `message` (when it still exists) if `quote`."""
    if quote:
        kwargs["reply_parameters"] = ReplyParameters(message.message_id, allow_sending_without_reply=True)
    else:
        kwargs["do_quote"] = False
    return await message.reply_html(html_text, **kwargs)


async def send(bot: Bot, chat_id: int, html_text: str, *, reply_to: int | None = None,
               thread_id: int | None = None, lane: Lane = Lane.REPLY,
               reply_markup: InlineKeyboardMarkup | None = None) -> Message:
    """Post in a chat (and forum topic), as a reply to message `reply_to` when it still exists;
    for answers to messages the bot no longer holds (held or resumed links), and bulk output
    (`Lane.BULK`: cards, lists, progress), which waits behind answers to commands."""
    reply_parameters = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    return await _limited(bot).send_message(chat_id, html_text, message_thread_id=thread_id,
                                            reply_parameters=reply_parameters, reply_markup=reply_markup,
                                            rate_limit_args=_lane_argument(lane))


async def edit(message: Message, html_text: str, *, lane: Lane = Lane.REPLY,
               reply_markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace a message's text; editing it to what it already says is not an error."""
    await edit_message(message.get_bot(), message.chat_id, message.message_id, html_text, lane=lane,
                       reply_markup=reply_markup)


async def edit_message(bot: Bot, chat_id: int, message_id: int, html_text: str, *, lane: Lane = Lane.REPLY,
                       reply_markup: InlineKeyboardMarkup | None = None) -> None:
    """`edit` for a message known by its id only (a status message recorded before a restart)."""
    try:
        await _limited(bot).edit_message_text(html_text, chat_id=chat_id, message_id=message_id,
                                              reply_markup=reply_markup, rate_limit_args=_lane_argument(lane))
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


def _limited(bot: Bot) -> ExtBot[Lane]:
    """The application's bot, whose rate limiter (ratelimit.FloodLimiter) takes a Lane per call."""
    return cast("ExtBot[Lane]", bot)


def _lane_argument(lane: Lane) -> Lane | None:
    return None if lane == Lane.REPLY else lane  # a bot without the limiter refuses any rate_limit_args

"""Who the bot serves: allowed chats (and ADMINS in private), and who may change a chat's settings."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ApplicationHandlerStop

from bot.telegram import render
from bot.telegram.context import Context, services

log = logging.getLogger(__name__)


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

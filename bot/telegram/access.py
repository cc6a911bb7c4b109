"""Who the bot serves: allowed chats (and ADMINS in private), and who may change a chat's settings.

Anyone may ask /id, and hears the chat's id and their own, nothing else. Until ALLOWED_CHATS and
ADMINS are set (set-up mode), the bot tells whoever writes to it, and its log, which ids to put in
.env: a newcomer learns them without reading any code.
"""

from __future__ import annotations

import logging

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ApplicationHandlerStop

from bot.telegram import render
from bot.telegram.context import Context, services

log = logging.getLogger(__name__)

OPEN_COMMANDS = frozenset({"id"})
"""Commands that answer in any chat, served or not."""


def is_served(update: Update, context: Context) -> bool:
    """Whether the bot works for this chat: an allowed chat, or an ADMIN's private chat."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return False
    settings = services(context).settings
    if chat.id in settings.allowed_chats:
        return True
    return chat.type == ChatType.PRIVATE and user is not None and user.id in settings.admins


def visitor_language(update: Update) -> str:
    """A language for someone the bot does not serve: their Telegram app's, if it is Ukrainian."""
    user = update.effective_user
    return "uk" if user is not None and (user.language_code or "")[:2] == "uk" else "en"


async def guard(update: Update, context: Context) -> None:
    """Stop updates from chats that are not allowed; tell each such chat once (in set-up mode, tell
    whoever writes the ids to put in .env)."""
    chat = update.effective_chat
    if chat is None:
        raise ApplicationHandlerStop
    if is_served(update, context):
        return
    message = update.effective_message
    if message is not None and _command_name(message, context.bot.username) in OPEN_COMMANDS:
        return
    settings = services(context).settings
    if update.callback_query:
        await update.callback_query.answer()
    elif message is not None and not settings.allowed_chats and not settings.admins:
        await _tell_ids(update, context, message)
    elif message is not None and await services(context).repository.note_denied(chat.id):
        log.info("refused chat %s (%s%s); to serve it, add it to ALLOWED_CHATS", chat.id, chat.type,
                 f", {chat.title}" if chat.title else "")
        await message.reply_html(render.text("private", visitor_language(update)))
    raise ApplicationHandlerStop


async def _tell_ids(update: Update, context: Context, message: Message) -> None:
    """Set-up mode: the ids a newcomer needs, in the log every time, and in the chat (every time in
    a private chat; once in a group or channel, where every member would see it)."""
    chat, user = message.chat, update.effective_user
    user_id = user.id if user is not None else None
    wanted = f"ADMINS={user_id}" if chat.type == ChatType.PRIVATE else f"ALLOWED_CHATS={chat.id}"
    if chat.type != ChatType.PRIVATE and user_id is not None:
        wanted += f" and ADMINS={user_id}"
    who = f"user {user_id} ({user.full_name})" if user is not None else "a channel post"
    log.warning("set-up mode: %s wrote in %s chat %s%s; to serve it, put %s in .env and restart the bot",
                who, chat.type, chat.id, f" ({chat.title})" if chat.title else "", wanted)
    if chat.type != ChatType.PRIVATE and not await services(context).repository.note_denied(chat.id):
        return
    await message.reply_html(render.setup_ids(chat.id, str(chat.type), user_id, visitor_language(update)))


def _command_name(message: Message, bot_username: str | None) -> str | None:
    """The command a message starts with ("/id@newsdesk_bot" -> "id"), unless it is meant for another bot."""
    entity = message.entities[0] if message.entities else None
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0 or not message.text:
        return None
    name, _, addressee = message.text[1:entity.length].partition("@")
    if addressee and addressee.lower() != (bot_username or "").lower():
        return None
    return name.lower()


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

"""Help, usage, ids and set-up answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.telegram.commands import Command
from bot.telegram.render.base import _e, _template, text


def ids(chat_id: int, user_id: int | None, language: str) -> str:
    """The answer to /id: the chat's id, and the asker's own."""
    lines = [text("ids", language, chat=chat_id)]
    if user_id is not None and user_id != chat_id:
        lines.append(text("ids_user", language, user=user_id))
    return "\n".join(lines)


def setup_ids(chat_id: int, chat_type: str, user_id: int | None, language: str) -> str:
    """Set-up mode's answer: the ids to put in .env, and where."""
    if chat_type == "private" and user_id is not None:
        return text("setup_private", language, user=user_id)
    answer = text("setup_group", language, chat=chat_id)
    if user_id is not None:
        answer += "\n\n" + text("ids_user", language, user=user_id)
    return answer


def command_line(command: Command, language: str) -> str:
    """"/search query — search the items": how a command is written, and what it does."""
    words = command.arguments.get(language, command.arguments.get("en", ""))
    call = f"/{command.name} {words}".rstrip()
    return f"{_e(call)} — {_e(command.description.get(language, command.description['en']))}"


def usage(command: Command, language: str) -> str:
    """The answer to a command given the wrong arguments: how to write it."""
    details = command.details.get(language, command.details.get("en", ""))
    written = command_line(command, language) + (f". {_e(details)}" if details else "")
    return _template("usage", language).format(usage=written)


def help_text(commands: Sequence[Command], language: str) -> str:
    """/help: what the bot does, and a line for each command in the menu."""
    lines = [command_line(command, language) for command in commands if command.in_menu]
    return text("help_intro", language) + "\n\n" + "\n".join(lines)

"""A strict local emulator of the Telegram Bot API, for end-to-end tests.

`BotApiServer` listens on 127.0.0.1 in a background thread with its own event loop.
The bot under test (in this process or a subprocess) talks to `server.base_url`
exactly as it would talk to https://api.telegram.org/bot; the test drives users
through synchronous, thread-safe methods and reads back what the bot did.

Errors mirror Telegram's: unknown methods answer 404 "Not Found", a wrong token
401 "Unauthorized", bad input 400 "Bad Request: ...", flood control 429 with
`parameters.retry_after`, competing getUpdates 409 "Conflict: ...".

Deliberate differences from Telegram, each there to surface a bug sooner:
a bare "&" in HTML that is not an entity is rejected (Telegram keeps it as text;
pass `strict_html=False` for Telegram's behaviour), and `press_button` refuses
callback data that is not on the message's inline keyboard (unless `forged=True`).
Markdown and MarkdownV2 are accepted but not parsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import math
import mimetypes
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from aiohttp import web

__all__ = [
    "ApiCall",
    "BotApiServer",
    "ChatMessage",
    "HtmlParseError",
    "UploadedFile",
    "parse_html",
    "utf16_len",
]

T = TypeVar("T")
JSON = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
# Methods counted by flood control: the ones that put something in a chat.
FLOOD_METHODS = frozenset(
    {
        "sendmessage",
        "senddocument",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
    }
)
INT_PARAMS = frozenset(
    {"message_id", "message_thread_id", "reply_to_message_id", "user_id", "offset", "limit"}
)
BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "drop_pending_updates",
        "show_alert",
        "disable_content_type_detection",
    }
)
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "commands",
        "scope",
        "allowed_updates",
    }
)


# --------------------------------------------------------------------------- records


@dataclasses.dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded with multipart/form-data."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclasses.dataclass(frozen=True)
class ApiCall:
    """One request the bot made, with the answer it got."""

    method: str  # as requested, e.g. "sendMessage"
    params: Mapping[str, Any]  # ints, bools and JSON fields decoded; other values as sent
    files: Mapping[str, UploadedFile]
    status: int  # HTTP status; 200 on success
    result: Any = None  # the "result" on success
    description: str | None = None  # the error description otherwise

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclasses.dataclass(frozen=True)
class ChatMessage:
    """The current state of one message in a chat (edits applied)."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    text: str | None  # plain text as Telegram stores it: entities parsed, whitespace trimmed
    caption: str | None
    source: str | None  # the text or caption exactly as sent, e.g. the HTML
    parse_mode: str | None
    entities: tuple[JSON, ...]  # entities of the text, or of the caption
    message_thread_id: int | None = None
    reply_to: int | None = None  # message_id this message replies to
    reply_markup: JSON | None = None
    link_preview_options: JSON | None = None
    document: UploadedFile | None = None
    user_id: int | None = None  # the sender, for messages not from the bot
    edit_date: int | None = None
    previous_texts: tuple[str, ...] = ()  # earlier texts or captions, oldest first
    deleted: bool = False
    payload: JSON = dataclasses.field(default_factory=dict, repr=False)  # the Message JSON

    @property
    def content(self) -> str:
        """The text, or the caption of a document, or ""."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def buttons(self) -> list[JSON]:
        """Every inline keyboard button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


class HtmlParseError(ValueError):
    """Telegram would answer "Bad Request: can't parse entities: <reason>"."""


class _ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _bad(reason: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {reason}")


# --------------------------------------------------------------------------- text


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_HTML_SPACES = frozenset(" \t\r\n\v\0")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_END = "\0"


def _decode_html_entity(source: str, pos: int) -> tuple[str, int] | None:
    """Decode the entity starting with "&" at pos, as TDLib does; None if there is none."""

    def at(i: int) -> str:
        return source[i] if i < len(source) else _END

    end = pos + 1
    if at(end) == "#":
        end += 1
        value = 0
        digits = 0
        if at(end) == "x":
            end += 1
            while at(end) in "0123456789abcdefABCDEF" and at(end) != _END:
                value = value * 16 + int(at(end), 16)
                end += 1
                digits += 1
                if value >= 0x10FFFF:
                    return None
        else:
            while at(end).isascii() and at(end).isdigit():
                value = value * 10 + int(at(end))
                end += 1
                digits += 1
                if value >= 0x10FFFF:
                    return None
        if value == 0 or end - pos >= 10:
            return None
        decoded = chr(value)
    else:
        while at(end).isascii() and at(end).isalpha():
            end += 1
        name = source[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None
        decoded = _NAMED_ENTITIES[name]
    if at(end) == ";":
        end += 1
    return decoded, end


_LINK_SCHEMES = ("http://", "https://", "ftp://", "tg://", "ton://")
_HOST_RE = re.compile(r"^[\w-]+(\.[\w-]+)*\.[a-z]{2,}(?::\d+)?(?:[/?#].*)?$", re.IGNORECASE)


def _check_link(url: str) -> str | None:
    """Normalise a link target as Telegram does, or None if it is not a link."""
    url = url.strip()
    lowered = url.lower()
    if lowered.startswith(("tg:", "ton:")):
        return url
    for scheme in _LINK_SCHEMES[:3]:
        if lowered.startswith(scheme):
            rest = url[len(scheme) :]
            break
    else:
        if "://" in url or not _HOST_RE.match(url):
            return None
        scheme, rest = "http://", url
    host, sep, tail = _split_host(rest)
    if not host:
        return None
    if sep == "/":
        return f"{scheme}{host}/{tail}"
    return f"{scheme}{host}/{sep}{tail}" if sep else f"{scheme}{host}/"


def _split_host(rest: str) -> tuple[str, str, str]:
    match = re.search(r"[/?#]", rest)
    if not match:
        return rest, "", ""
    return rest[: match.start()], match.group(), rest[match.end() :]


def parse_html(source: str, *, strict: bool = True) -> tuple[str, list[JSON]]:
    """Parse Telegram HTML into (plain text, entities), raising HtmlParseError as Telegram would.

    Mirrors TDLib's parse_html; `strict` also rejects a bare "&" that starts no entity.
    """
    n = len(source)

    def at(i: int) -> str:
        return source[i] if i < n else _END

    def byte_offset(i: int) -> int:
        return len(source[:i].encode("utf-8", "surrogatepass"))

    out: list[str] = []
    u16 = 0
    # (tag, argument, utf16 offset, len(out) at the start)
    stack: list[tuple[str, str, int, int]] = []
    entities: list[JSON] = []
    i = 0
    while i < n:
        c = source[i]
        if c == "&":
            decoded = _decode_html_entity(source, i)
            if decoded is not None:
                char, i = decoded
                if 0xD800 <= ord(char) <= 0xDFFF:
                    raise HtmlParseError(
                        "Text contains invalid Unicode characters after decoding HTML entities, "
                        "check for unmatched surrogate code units"
                    )
                out.append(char)
                u16 += utf16_len(char)
                continue
            if strict:
                raise HtmlParseError(
                    f'Character "&" must be escaped as "&amp;" at byte offset {byte_offset(i)}'
                )
        if c != "<":
            out.append(c)
            u16 += utf16_len(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while at(i) not in _HTML_SPACES and at(i) != ">":
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            tag = source[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}')
            argument = ""
            while at(i) != ">":
                while i < n and at(i) in _HTML_SPACES:
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while at(i) not in _HTML_SPACES and at(i) not in "=>":
                    i += 1
                attr_name = source[attr_begin:i]
                if not attr_name:
                    raise HtmlParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset(begin)}'
                    )
                while i < n and at(i) in _HTML_SPACES:
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attr_name == "expandable":
                        argument = "1"
                        continue
                    raise HtmlParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {byte_offset(begin)}'
                    )
                i += 1
                while i < n and at(i) in _HTML_SPACES:
                    i += 1
                if i >= n:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}')
                if at(i) not in "'\"":
                    token_begin = i
                    while (at(i).isascii() and at(i).isalnum()) or at(i) in ".-":
                        i += 1
                    value = source[token_begin:i].lower()
                    if at(i) not in _HTML_SPACES and at(i) != ">":
                        raise HtmlParseError(
                            f"Unexpected end of name token at byte offset {byte_offset(token_begin)}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    chars: list[str] = []
                    while i < n and at(i) != quote:
                        if at(i) == "&":
                            decoded = _decode_html_entity(source, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attr_name == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
            stack.append((tag, argument, u16, len(out)))
            i += 1  # past ">"
            continue

        # an end tag
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
        while at(i) not in _HTML_SPACES and at(i) != ">":
            i += 1
        end_name = source[begin + 2 : i]
        while i < n and at(i) in _HTML_SPACES:
            i += 1
        if at(i) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
        i += 1
        tag, argument, offset, out_begin = stack.pop()
        if end_name and end_name != tag:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                f'expected "</{tag}>", found "</{end_name}>"'
            )
        length = u16 - offset
        if length <= 0:
            continue
        last = entities[-1] if entities else None
        same_span = last is not None and last["offset"] == offset and last["length"] == length
        if tag in _SIMPLE_TAG_TYPES:
            entities.append({"type": _SIMPLE_TAG_TYPES[tag], "offset": offset, "length": length})
        elif tag == "a":
            url = argument or "".join(out[out_begin:])
            user = re.fullmatch(r"tg://user\?id=(\d+)", url)
            if user:
                entities.append(
                    {
                        "type": "text_mention",
                        "offset": offset,
                        "length": length,
                        "user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""},
                    }
                )
            else:
                link = _check_link(url)
                if link is not None:
                    entities.append({"type": "text_link", "offset": offset, "length": length, "url": link})
        elif tag == "pre":
            if same_span and last is not None and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"
            else:
                entities.append({"type": "pre", "offset": offset, "length": length})
        elif tag == "code":
            if same_span and last is not None and last["type"] == "pre" and argument:
                last["language"] = argument
            else:
                entity: JSON = {"type": "code", "offset": offset, "length": length}
                if argument:
                    entity["language"] = argument
                entities.append(entity)
        elif tag == "tg-emoji":
            if not argument.isdigit():
                raise HtmlParseError("Invalid custom emoji identifier specified")
            entities.append(
                {"type": "custom_emoji", "offset": offset, "length": length, "custom_emoji_id": argument}
            )
        elif tag == "blockquote":
            kind = "expandable_blockquote" if argument else "blockquote"
            entities.append({"type": kind, "offset": offset, "length": length})
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')

    # a <code> inside a <pre> is part of the pre, as in the Bot API's answers
    pres = [e for e in entities if e["type"] == "pre"]
    entities = [
        e
        for e in entities
        if not (
            e["type"] == "code"
            and any(
                p["offset"] <= e["offset"] and e["offset"] + e["length"] <= p["offset"] + p["length"]
                for p in pres
            )
        )
    ]
    for e in entities:
        if e["type"] == "code":
            e.pop("language", None)
    return "".join(out), _sorted_entities(entities)


def _sorted_entities(entities: Iterable[JSON]) -> list[JSON]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


_AUTO_PATTERNS = (
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    (
        "url",
        re.compile(
            r"(?<![\w@/.])(?:(?:https?|ftp)://[^\s<>\"]+|www\.[^\s<>\"]+"
            r"|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
            r"\.(?:com|org|net|io|co|uk|de|fr|ru|info|news|dev|app|gov|edu|eu)"
            r"(?![\w-])(?:/[^\s<>\"]*)?)",
            re.IGNORECASE,
        ),
    ),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)


def _trim_url(url: str) -> str:
    while url and url[-1] in ".,:;!?'\"":
        url = url[:-1]
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1]
    return url


def find_auto_entities(text: str, taken: Iterable[JSON] = ()) -> list[JSON]:
    """The url, email, mention, hashtag and bot_command entities Telegram detects by itself."""
    blocked = [
        (e["offset"], e["offset"] + e["length"])
        for e in taken
        if e["type"] in {"code", "pre", "text_link", "text_mention", "url", "email"}
    ]
    found: list[JSON] = []
    spans: list[tuple[int, int]] = list(blocked)
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            value = match.group()
            if kind == "url":
                value = _trim_url(value)
                if not value:
                    continue
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(value)
            if any(start < b_end and b_start < end for b_start, b_end in spans):
                continue
            spans.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    return found


_TRIM = " \t\r\n\v\f"


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    stripped_left = text.lstrip(_TRIM)
    shift = utf16_len(text) - utf16_len(stripped_left)
    trimmed = stripped_left.rstrip(_TRIM)
    size = utf16_len(trimmed)
    kept: list[JSON] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return trimmed, kept


# --------------------------------------------------------------------------- chats


@dataclasses.dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    is_forum: bool = False
    next_message_id: int = 1
    messages: dict[int, ChatMessage] = dataclasses.field(default_factory=dict)
    admins: dict[int, str] = dataclasses.field(default_factory=dict)  # user id -> status
    threads: set[int] = dataclasses.field(default_factory=set)

    def json(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name or f"User {self.id}"
        else:
            data["title"] = self.title or f"Test {self.type} {self.id}"
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data

    def live(self, message_id: int) -> ChatMessage | None:
        message = self.messages.get(message_id)
        return None if message is None or message.deleted else message


def _infer_chat_type(chat_id: int) -> str:
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


def _admin_json(user: JSON, status: str) -> JSON:
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    rights = dict.fromkeys(
        (
            "is_anonymous",
            "can_be_edited",
        ),
        False,
    )
    rights.update(
        dict.fromkeys(
            (
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
                "can_pin_messages",
            ),
            True,
        )
    )
    return {"status": "administrator", "user": user, **rights}


# --------------------------------------------------------------------------- the server


class BotApiServer:
    """A strict Telegram Bot API on 127.0.0.1, run in a background thread.

    Use as a context manager, or call start() and stop(). Driver methods are thread-safe.
    """

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        bot_username: str = "newsdesk_test_bot",
        bot_name: str = "Newsdesk Test",
        strict_html: bool = True,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError(f"a bot token looks like '123:ABC', not {token!r}")
        self.token = token
        self.bot_id = int(bot_id)
        self.bot_user: JSON = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.strict_html = strict_html
        self._cond = threading.Condition(threading.RLock())
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, JSON] = {self.bot_id: self.bot_user}
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._files: dict[str, tuple[JSON, UploadedFile]] = {}
        self._callbacks: dict[str, JSON] = {}  # id -> {"query": ..., "answer": ... | None}
        self._calls: list[ApiCall] = []
        self._sent_order: list[tuple[int, int]] = []  # (chat id, message id) of the bot's messages
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._webhook_url = ""
        self._flood_per_second: float | None = None
        self._flood_log: dict[int, list[float]] = {}
        self._poll_generation = 0
        self._closing = False
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._stop_event: asyncio.Event | None = None
        self._poll_event: asyncio.Event | None = None
        self._methods: dict[str, Callable[[JSON, dict[str, UploadedFile]], Any]] = {
            "getme": self._get_me,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "senddocument": self._send_document,
            "answercallbackquery": self._answer_callback_query,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "sendchataction": self._send_chat_action,
            "close": lambda params, files: True,
            "logout": lambda params, files: True,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("BotApiServer is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """For PTB's base_url / TELEGRAM_BASE_URL: PTB appends the token and "/method"."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> BotApiServer:
        if self._thread is not None:
            raise RuntimeError("BotApiServer already started")
        self._thread = threading.Thread(target=self._run, name="botapi-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("BotApiServer did not start within 10 s")
        if self._startup_error is not None:
            raise RuntimeError("BotApiServer failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if self._stop_event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._stop_event.set)
        thread.join(10)
        self._thread = None

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to start() rather than lost in the thread
            self._startup_error = error
            self._ready.set()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        self._stop_event = asyncio.Event()
        self._poll_event = asyncio.Event()
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        site = web.SockSite(runner, sock)
        try:
            await site.start()
            self._ready.set()
            await self._stop_event.wait()
        finally:
            with self._cond:
                self._closing = True
            self._wake_pollers()
            await runner.cleanup()
            sock.close()

    def _wake_pollers(self) -> None:
        """Wake long-polling getUpdates requests; runs in the server's loop."""
        if self._poll_event is not None:
            event, self._poll_event = self._poll_event, asyncio.Event()
            event.set()

    def _notify(self) -> None:
        """Called with the lock held after a change: wake waiters in every thread."""
        self._cond.notify_all()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                if threading.current_thread() is self._thread:
                    self._wake_pollers()
                else:
                    loop.call_soon_threadsafe(self._wake_pollers)
            except RuntimeError:  # the loop closed meanwhile
                pass

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)/?", request.path)
        if match is None:
            return self._error_response(_ApiError(404, "Not Found"))
        token, method = match.groups()
        if token != self.token:
            return self._error_response(_ApiError(401, "Unauthorized"))
        files: dict[str, UploadedFile] = {}
        params: JSON = {}
        try:
            raw = await self._read_params(request, files)
            params = self._normalise(raw)
            key = method.lower()
            if key == "getupdates":
                result = await self._get_updates(params)
            elif key in self._methods:
                with self._cond:
                    self._check_flood(key, params)
                    result = self._methods[key](params, files)
                    self._notify()
            else:
                raise _ApiError(404, "Not Found")
        except _ApiError as error:
            transport = request.transport
            abandoned = method.lower() == "getupdates" and (transport is None or transport.is_closing())
            if not abandoned:  # a long poll its client gave up on: nobody sees this answer
                self._record(ApiCall(method, params, files, error.code, description=error.description))
            return self._error_response(error)
        self._record(ApiCall(method, params, files, 200, result=result))
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error_response(error: _ApiError) -> web.Response:
        body: JSON = {"ok": False, "error_code": error.code, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        return web.json_response(body, status=error.code)

    def _record(self, call: ApiCall) -> None:
        with self._cond:
            self._calls.append(call)
            self._notify()

    @staticmethod
    async def _read_params(request: web.Request, files: dict[str, UploadedFile]) -> JSON:
        params: JSON = dict(request.query)
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _bad("JSON object expected")
            params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if request.content_length and request.content_length > MAX_UPLOAD_BYTES + 1024 * 1024:
                raise _ApiError(413, "Request Entity Too Large")
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    with value.file:
                        data = value.file.read()
                    files[name] = UploadedFile(name, value.filename, value.content_type, data)
                else:
                    params[name] = value
        return params

    @staticmethod
    def _normalise(raw: JSON) -> JSON:
        params: JSON = {}
        for name, value in raw.items():
            if name in INT_PARAMS and isinstance(value, str):
                try:
                    value = int(value)
                except ValueError:
                    raise _bad(f"invalid {name} specified") from None
            elif name == "timeout" and isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise _bad("invalid timeout specified") from None
            elif name in BOOL_PARAMS and isinstance(value, str):
                value = value.lower() in ("true", "1")
            elif name in JSON_PARAMS and isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    raise _bad(f"can't parse {name} JSON object") from None
            elif name == "chat_id" and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
                value = int(value)
            params[name] = value
        return params

    def _check_flood(self, key: str, params: JSON) -> None:
        if self._flood_per_second is None or key not in FLOOD_METHODS:
            return
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            return
        now = time.monotonic()
        recent = [t for t in self._flood_log.get(chat_id, []) if now - t < 1.0]
        if len(recent) >= self._flood_per_second:
            retry_after = max(1, math.ceil(1.0 - (now - recent[0])))
            self._flood_log[chat_id] = recent
            raise _ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        recent.append(now)
        self._flood_log[chat_id] = recent

    # ------------------------------------------------------------------ parameter helpers

    def _chat(self, params: JSON, name: str = "chat_id") -> _Chat:
        chat_id = params.get(name)
        if chat_id is None or chat_id == "":
            raise _bad(f"{name} is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in self._chats.values():
                if chat.username and chat.username.lower() == chat_id[1:].lower():
                    return chat
            raise _bad("chat not found")
        if not isinstance(chat_id, int) or chat_id not in self._chats:
            raise _bad("chat not found")
        return self._chats[chat_id]

    def _formatted(
        self, params: JSON, field: str, *, limit: int, required: bool
    ) -> tuple[str | None, str | None, list[JSON]]:
        """(plain text, source, entities) for text or caption, validated as Telegram does."""
        source = params.get(field)
        is_caption = field == "caption"
        if source is None or source == "":
            if required:
                raise _bad("message text is empty")
            return None, None, []
        if not isinstance(source, str):
            source = str(source)
        entities_name = "caption_entities" if is_caption else "entities"
        parse_mode = params.get("parse_mode") or None
        explicit = params.get(entities_name)
        if explicit is not None:
            entities = self._check_entities(explicit, source, entities_name)
            text = source
        elif parse_mode is None:
            text, entities = source, []
        elif parse_mode.lower() == "html":
            try:
                text, entities = parse_html(source, strict=self.strict_html)
            except HtmlParseError as error:
                raise _bad(f"can't parse entities: {error}") from None
        elif parse_mode.lower() in ("markdown", "markdownv2"):
            text, entities = source, []
        else:
            raise _bad("unsupported parse_mode")
        text, entities = _trim(text, entities)
        if not text:
            if required:
                raise _bad("message text is empty")
            return None, source, []
        if utf16_len(text) > limit:
            raise _bad("message caption is too long" if is_caption else "message is too long")
        entities = _sorted_entities(entities + find_auto_entities(text, entities))
        return text, source, entities

    @staticmethod
    def _check_entities(value: Any, text: str, name: str) -> list[JSON]:
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            raise _bad(f"can't parse {name} JSON object")
        size = utf16_len(text)
        for entity in value:
            offset, length = entity.get("offset"), entity.get("length")
            if not (isinstance(entity.get("type"), str) and isinstance(offset, int) and isinstance(length, int)):
                raise _bad(f"can't parse {name} JSON object")
            if offset < 0 or length <= 0 or offset + length > size:
                raise _bad(f"entity beginning at offset {offset} is out of bounds")  # close to Telegram
        return [dict(e) for e in value]

    @staticmethod
    def _reply_markup(params: JSON) -> JSON | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad("can't parse inline keyboard markup JSON object")
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _bad("can't parse inline keyboard button: Text must be non-empty")
                    if not button["text"].strip():
                        raise _bad("BUTTON_TEXT_EMPTY")  # hedged: Telegram's exact wording varies
                    if "callback_data" in button:
                        data = button["callback_data"]
                        if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                            raise _bad("BUTTON_DATA_INVALID")
                    elif "url" in button:
                        url = button["url"]
                        if not isinstance(url, str) or _check_link(url) is None:
                            raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
                    elif not any(
                        key in button
                        for key in (
                            "login_url",
                            "switch_inline_query",
                            "switch_inline_query_current_chat",
                            "switch_inline_query_chosen_chat",
                            "copy_text",
                            "web_app",
                            "callback_game",
                            "pay",
                        )
                    ):
                        raise _bad(
                            "can't parse inline keyboard button: "
                            "Text buttons are unallowed in the inline keyboard"
                        )
        elif not any(key in markup for key in ("keyboard", "remove_keyboard", "force_reply")):
            raise _bad("can't parse reply keyboard markup JSON object")
        return markup

    def _reply_target(self, chat: _Chat, params: JSON) -> ChatMessage | None:
        reply = params.get("reply_parameters")
        if reply is not None:
            if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
                raise _bad("can't parse reply parameters JSON object")
            message_id = reply["message_id"]
            allow = bool(reply.get("allow_sending_without_reply"))
            target_chat = chat
            if reply.get("chat_id") not in (None, chat.id):
                target_chat = self._chat(reply)
            quote = reply.get("quote")
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
            allow = bool(params.get("allow_sending_without_reply"))
            target_chat, quote = chat, None
        else:
            return None
        target = target_chat.live(message_id)
        if target is None:
            if allow:
                return None
            raise _bad("message to be replied not found")
        if quote is not None and quote not in target.content:
            raise _bad("quote not found")  # hedged wording; Telegram rejects unknown quotes
        return target

    def _thread_id(self, chat: _Chat, params: JSON, reply_to: ChatMessage | None) -> int | None:
        thread_id = params.get("message_thread_id")
        if thread_id is None:
            # a reply goes where the message it answers is
            same_chat = reply_to is not None and reply_to.chat_id == chat.id
            return reply_to.message_thread_id if reply_to is not None and same_chat else None
        known = thread_id in chat.threads if chat.is_forum else chat.live(thread_id) is not None
        if not known:
            raise _bad("message thread not found")
        return thread_id

    def _message_json(self, chat: _Chat, message: ChatMessage, *, sender: JSON | None) -> JSON:
        payload: JSON = {"message_id": message.message_id}
        if chat.type == "channel":
            payload["sender_chat"] = chat.json()
        elif sender is not None:
            payload["from"] = sender
        payload["chat"] = chat.json()
        payload["date"] = message.date
        if message.edit_date is not None:
            payload["edit_date"] = message.edit_date
        if message.message_thread_id is not None:
            payload["message_thread_id"] = message.message_thread_id
            if chat.is_forum:
                payload["is_topic_message"] = True
        if message.reply_to is not None:
            target = chat.messages.get(message.reply_to)
            if target is not None:
                nested = dict(target.payload)
                nested.pop("reply_to_message", None)
                payload["reply_to_message"] = nested
        if message.text is not None:
            payload["text"] = message.text
            if message.entities:
                payload["entities"] = [dict(e) for e in message.entities]
        if message.document is not None:
            payload["document"] = self._file_json(message.document)
        if message.caption is not None:
            payload["caption"] = message.caption
            if message.entities:
                payload["caption_entities"] = [dict(e) for e in message.entities]
        if message.reply_markup is not None and "inline_keyboard" in message.reply_markup:
            payload["reply_markup"] = message.reply_markup
        return payload

    def _file_json(self, upload: UploadedFile) -> JSON:
        for file_json, stored in self._files.values():
            if stored is upload:
                return file_json
        number = next(self._file_ids)
        file_json = {
            "file_id": f"BQACAgIAAxkBAAI{number:06d}",
            "file_unique_id": f"AgAD{number:06d}",
            "file_size": len(upload.data),
        }
        if upload.filename:
            file_json["file_name"] = upload.filename
        mime = upload.content_type or (mimetypes.guess_type(upload.filename or "")[0])
        if mime:
            file_json["mime_type"] = mime
        self._files[file_json["file_id"]] = (file_json, upload)
        return file_json

    def _store(self, chat: _Chat, message: ChatMessage, *, sender: JSON | None) -> ChatMessage:
        message = dataclasses.replace(message, payload=self._message_json(chat, message, sender=sender))
        chat.messages[message.message_id] = message
        return message

    def _new_bot_message(self, chat: _Chat, params: JSON, **fields: Any) -> ChatMessage:
        reply_to = self._reply_target(chat, params)
        thread_id = self._thread_id(chat, params, reply_to)
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message = ChatMessage(
            chat_id=chat.id,
            message_id=message_id,
            from_bot=True,
            date=int(time.time()),
            parse_mode=params.get("parse_mode") or None,
            message_thread_id=thread_id,
            reply_to=reply_to.message_id if reply_to is not None and reply_to.chat_id == chat.id else None,
            reply_markup=self._reply_markup(params),
            link_preview_options=params.get("link_preview_options"),
            **fields,
        )
        self._sent_order.append((chat.id, message_id))
        return self._store(chat, message, sender=self.bot_user)

    def _editable(self, params: JSON) -> tuple[_Chat, ChatMessage]:
        if params.get("inline_message_id"):
            raise _bad("message to edit not found")
        chat = self._chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        message = chat.live(message_id)
        if message is None:
            raise _bad("message to edit not found")
        if not message.from_bot:
            raise _bad("message can't be edited")
        return chat, message

    def _apply_edit(self, chat: _Chat, old: ChatMessage, **changes: Any) -> JSON:
        new = dataclasses.replace(old, **changes)
        if (new.text, new.caption, list(new.entities), new.reply_markup) == (
            old.text,
            old.caption,
            list(old.entities),
            old.reply_markup,
        ):
            raise _bad(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        previous = old.previous_texts
        if new.content != old.content:
            previous = (*previous, old.content)
        new = dataclasses.replace(new, edit_date=int(time.time()), previous_texts=previous)
        return self._store(chat, new, sender=self.bot_user).payload

    # ------------------------------------------------------------------ bot methods

    def _get_me(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return dict(self.bot_user)

    async def _get_updates(self, params: JSON) -> list[JSON]:
        with self._cond:
            if self._webhook_url:
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            limit = params.get("limit", 100)
            limit = 100 if not isinstance(limit, int) or not 1 <= limit <= 100 else limit
            timeout = params.get("timeout", 0)
            timeout = max(0.0, float(timeout)) if isinstance(timeout, (int, float)) else 0.0
            allowed = params.get("allowed_updates")
            if allowed is not None:
                if not isinstance(allowed, list):
                    raise _bad("can't parse allowed_updates JSON object")
                self._allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES
            offset = params.get("offset", 0)
            if isinstance(offset, int) and offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif isinstance(offset, int) and offset < 0:
                self._updates = self._updates[offset:]
            self._poll_generation += 1
            generation = self._poll_generation
            self._notify()
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if self._poll_generation != generation:
                    raise _ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                self._updates = [u for u in self._updates if self._update_type(u) in self._allowed_updates]
                remaining = deadline - time.monotonic()
                if self._updates or self._closing or remaining <= 0:
                    return [json.loads(json.dumps(u)) for u in self._updates[:limit]]
            event = self._poll_event
            assert event is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    @staticmethod
    def _update_type(update: JSON) -> str:
        return next(key for key in update if key != "update_id")

    def _delete_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self._webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _set_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        url = params.get("url") or ""
        if url and not str(url).startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook_url = url
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _commands_key(self, params: JSON) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise _bad("can't parse BotCommandScope JSON object")
        if scope["type"] in ("chat", "chat_administrators", "chat_member"):
            self._chat(scope)
        if scope["type"] == "chat_member" and not isinstance(scope.get("user_id"), int):
            raise _bad("user not found")
        language = params.get("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad("invalid language code specified")
        return json.dumps(scope, sort_keys=True), language

    def _set_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands specified")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand JSON object")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _get_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        return [dict(c) for c in self._commands.get(self._commands_key(params), [])]

    def _delete_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _send_message(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat(params)
        text, source, entities = self._formatted(params, "text", limit=MAX_TEXT_LENGTH, required=True)
        message = self._new_bot_message(
            chat, params, text=text, caption=None, source=source, entities=tuple(entities)
        )
        return message.payload

    def _edit_message_text(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat, message = self._editable(params)
        text, source, entities = self._formatted(params, "text", limit=MAX_TEXT_LENGTH, required=True)
        if message.text is None:
            raise _bad("there is no text in the message to edit")
        return self._apply_edit(
            chat,
            message,
            text=text,
            source=source,
            entities=tuple(entities),
            parse_mode=params.get("parse_mode") or None,
            # as on Telegram, an edit without reply_markup removes the inline keyboard
            reply_markup=self._reply_markup(params),
            link_preview_options=params.get("link_preview_options"),
        )

    def _edit_message_caption(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat, message = self._editable(params)
        if message.document is None:
            raise _bad("there is no caption in the message to edit")
        caption, source, entities = self._formatted(
            params, "caption", limit=MAX_CAPTION_LENGTH, required=False
        )
        return self._apply_edit(
            chat,
            message,
            caption=caption,
            source=source,
            entities=tuple(entities),
            parse_mode=params.get("parse_mode") or None,
            reply_markup=self._reply_markup(params),
        )

    def _edit_message_reply_markup(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat, message = self._editable(params)
        return self._apply_edit(chat, message, reply_markup=self._reply_markup(params))

    def _delete_message(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        message = chat.live(message_id)
        if message is None:
            raise _bad("message to delete not found")
        if not message.from_bot and chat.type != "private" and self.bot_id not in chat.admins:
            raise _bad("message can't be deleted")
        chat.messages[message_id] = dataclasses.replace(message, deleted=True)
        return True

    def _send_document(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat(params)
        upload = files.get("document")
        reference = params.get("document")
        if upload is None and isinstance(reference, str) and reference.startswith("attach://"):
            upload = files.get(reference[len("attach://") :])
        if upload is None:
            if not reference:
                raise _bad("there is no document in the request")
            if reference in self._files:
                upload = self._files[reference][1]
            elif str(reference).startswith(("http://", "https://")):
                raise _bad("failed to get HTTP URL content")
            else:
                raise _bad("wrong file identifier/HTTP URL specified")
        if not upload.data:
            raise _bad("file must be non-empty")
        caption, source, entities = self._formatted(
            params, "caption", limit=MAX_CAPTION_LENGTH, required=False
        )
        message = self._new_bot_message(
            chat, params, text=None, caption=caption, source=source, entities=tuple(entities), document=upload
        )
        return message.payload

    def _answer_callback_query(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        query_id = params.get("callback_query_id")
        record = self._callbacks.get(str(query_id)) if query_id is not None else None
        if record is None or record["answer"] is not None:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        record["answer"] = {
            "text": text,
            "show_alert": bool(params.get("show_alert")),
            "url": params.get("url"),
        }
        return True

    def _get_chat(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat(params)
        return {
            **chat.json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(
                (
                    "unlimited_gifts",
                    "limited_gifts",
                    "unique_gifts",
                    "premium_subscription",
                    "gifts_from_channels",
                ),
                False,
            ),
        }

    def _member_json(self, chat: _Chat, user_id: int) -> JSON:
        user = self._users.get(user_id)
        if user is None:
            raise _bad("user not found")
        status = chat.admins.get(user_id)
        if status is not None:
            return _admin_json(user, status)
        return {"status": "member", "user": user}

    def _get_chat_member(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise _bad("user_id is empty" if user_id is None else "invalid user_id specified")
        return self._member_json(chat, user_id)

    def _get_chat_administrators(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        chat = self._chat(params)
        if chat.type == "private":
            raise _bad("there are no administrators in the private chat")
        return [self._member_json(chat, user_id) for user_id in chat.admins]

    def _send_chat_action(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._thread_id(chat, params, None)
        return True

    # ------------------------------------------------------------------ test driver: setup

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> JSON:
        """Register (or update) a user; returns the User JSON."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name or f"User {user_id}"}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        with self._cond:
            self._users[user_id] = user
        return dict(user)

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: str | None = None,
        title: str | None = None,
        username: str | None = None,
        is_forum: bool = False,
    ) -> JSON:
        """Create the chat if needed (type inferred from the id's sign); returns the Chat JSON."""
        with self._cond:
            chat = self._ensure_chat(chat_id, chat_type)
            if title is not None:
                chat.title = title
            if username is not None:
                chat.username = username
            if is_forum:
                if chat.type != "supergroup":
                    raise ValueError("only supergroups can be forums")
                chat.is_forum = True
            return chat.json()

    def _ensure_chat(self, chat_id: int, chat_type: str | None) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            kind = chat_type or _infer_chat_type(chat_id)
            if kind not in ("private", "group", "supergroup", "channel"):
                raise ValueError(f"unknown chat type {kind!r}")
            if kind == "private" and chat_id <= 0:
                raise ValueError("a private chat's id is its user's (positive) id")
            chat = _Chat(chat_id, kind)
            if kind == "private":
                user = self._users.get(chat_id) or self.add_user(chat_id)
                chat.first_name = user["first_name"]
                chat.username = user.get("username")
            self._chats[chat_id] = chat
        elif chat_type is not None and chat_type != chat.type:
            raise ValueError(f"chat {chat_id} is a {chat.type}, not a {chat_type}")
        return chat

    def _resolve_user(self, chat: _Chat, user: int | Mapping[str, Any] | None) -> JSON:
        if user is None:
            user = chat.id if chat.type == "private" else 1001
        user_id = user if isinstance(user, int) else user.get("id")
        if not isinstance(user_id, int):
            raise ValueError("a user needs an integer 'id'")
        if chat.type == "private" and user_id != chat.id:
            raise ValueError(f"only user {chat.id} writes in private chat {chat.id}, not user {user_id}")
        if isinstance(user, int):
            return self._users.get(user) or self.add_user(user)
        merged = {"is_bot": False, "first_name": f"User {user_id}", **user}
        self._users[merged["id"]] = merged
        return merged

    def set_chat_admins(self, chat_id: int, user_ids: Iterable[int], *, creator: int | None = None) -> None:
        """Make these users (the bot's id included, if listed) the chat's administrators."""
        with self._cond:
            chat = self._ensure_chat(chat_id, None)
            admins: dict[int, str] = {}
            if creator is not None:
                admins[creator] = "creator"
            for user_id in user_ids:
                admins.setdefault(user_id, "administrator")
            for user_id in admins:
                if user_id not in self._users:
                    self.add_user(user_id)
            chat.admins = admins
            self._notify()

    def flood_limit(self, per_second: float | None) -> None:
        """Answer 429 once a chat gets more than per_second sends/edits in a second; None turns it off."""
        with self._cond:
            self._flood_per_second = per_second
            self._flood_log.clear()

    # ------------------------------------------------------------------ test driver: users act

    def queue_update(self, update: Mapping[str, Any]) -> int:
        """Queue a raw update (its update_id is assigned here); returns the update_id."""
        if not update or "update_id" in update:
            raise ValueError("give one update field, such as {'message': {...}}, and no update_id")
        with self._cond:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, **json.loads(json.dumps(dict(update)))})
            self._notify()
            return update_id

    def send_message(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        user: int | Mapping[str, Any] | None = None,
        chat_type: str | None = None,
        entities: list[JSON] | None = None,
        caption: str | None = None,
        forward_origin: Mapping[str, Any] | None = None,
        message_thread_id: int | None = None,
        reply_to: int | None = None,
        edited: bool = False,
        message_id: int | None = None,
    ) -> JSON:
        """A user (or, in a channel, the channel) posts; queues the update, returns the Message JSON.

        `caption` makes it a photo with that caption. `edited=True` edits `message_id` instead.
        Without `entities`, Telegram's own detection adds url, mention, hashtag, bot_command.
        """
        if (text is None) == (caption is None):
            raise ValueError("give exactly one of text and caption")
        with self._cond:
            chat = self._ensure_chat(chat_id, chat_type)
            if message_thread_id is not None and chat.type == "supergroup":
                chat.is_forum = True  # topics are how newsrooms use threads
            sender = None if chat.type == "channel" else self._resolve_user(chat, user)
            content = text if text is not None else caption
            assert content is not None
            if entities is None:
                found = find_auto_entities(content)
            else:
                found = self._check_entities(entities, content, "entities")
            if edited:
                if message_id is None or chat.live(message_id) is None:
                    raise ValueError(f"no message {message_id} to edit in chat {chat_id}")
                old = chat.messages[message_id]
                if old.from_bot:
                    raise ValueError("users cannot edit the bot's messages")
                number = message_id
                date, edit_date = old.date, int(time.time())
                previous = (*old.previous_texts, old.content)
                message_thread_id, reply_to = old.message_thread_id, old.reply_to
            else:
                if reply_to is not None and chat.live(reply_to) is None:
                    raise ValueError(f"no message {reply_to} to reply to in chat {chat_id}")
                if message_thread_id is not None and chat.is_forum:
                    chat.threads.add(message_thread_id)
                number = chat.next_message_id
                chat.next_message_id += 1
                date, edit_date, previous = int(time.time()), None, ()
            message = ChatMessage(
                chat_id=chat.id,
                message_id=number,
                from_bot=False,
                date=date,
                text=text,
                caption=caption,
                source=content,
                parse_mode=None,
                entities=tuple(_sorted_entities(found)),
                message_thread_id=message_thread_id,
                reply_to=reply_to,
                user_id=sender["id"] if sender else None,
                edit_date=edit_date,
                previous_texts=previous,
            )
            message = self._store(chat, message, sender=sender)
            payload = dict(message.payload)
            if caption is not None:
                photo = {"file_id": f"AgACAgIAAxkBAAI{number:06d}", "file_unique_id": f"AQAD{number:06d}"}
                payload["photo"] = [{**photo, "width": 90, "height": 90}]
            if forward_origin is not None:
                payload["forward_origin"] = dict(forward_origin)
            chat.messages[number] = dataclasses.replace(message, payload=payload)
            kind = "channel_post" if chat.type == "channel" else "message"
            self.queue_update({f"edited_{kind}" if edited else kind: payload})
            return json.loads(json.dumps(payload))

    def send_command(self, chat_id: int, command: str, **kwargs: Any) -> JSON:
        """send_message for a "/command args" text; its bot_command entity comes with it."""
        if not re.match(r"/[A-Za-z0-9_]{1,64}(?:@\w+)?(?:\s|$)", command):
            raise ValueError(f"not a command: {command!r}")
        return self.send_message(chat_id, command, **kwargs)

    def edit_message(self, chat_id: int, message_id: int, text: str, **kwargs: Any) -> JSON:
        """A user edits their message; queues edited_message (or edited_channel_post)."""
        return self.send_message(chat_id, text, edited=True, message_id=message_id, **kwargs)

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        user: int | Mapping[str, Any] | None = None,
        forged: bool = False,
    ) -> str:
        """A user presses an inline button of the bot's message; returns the callback query id.

        `forged=True` sends `callback_data` even if the message never offered it, as a modified
        client can (or an old button whose data the bot no longer knows)."""
        with self._cond:
            chat = self._chats.get(chat_id)
            message = chat.live(message_id) if chat is not None else None
            if chat is None or message is None or not message.from_bot:
                raise ValueError(f"no message {message_id} from the bot in chat {chat_id}")
            offered = [b.get("callback_data") for b in message.buttons]
            if callback_data not in offered and not forged:
                raise ValueError(
                    f"message {message_id} has no button with {callback_data!r}; it offers {offered}"
                )
            sender = self._resolve_user(chat, user)
            query_id = str(4_000_000_000 + next(self._callback_ids))
            query = {
                "id": query_id,
                "from": sender,
                "message": message.payload,
                "chat_instance": str(abs(chat_id) * 7 + 1),
                "data": callback_data,
            }
            self._callbacks[query_id] = {"query": query, "answer": None}
            self.queue_update({"callback_query": query})
            return query_id

    # ------------------------------------------------------------------ test driver: reading

    @property
    def calls(self) -> list[ApiCall]:
        """Every request the bot made, in order, failed ones included."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        """The requests to one method (matched case-insensitively)."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    @property
    def errors(self) -> list[ApiCall]:
        """Requests that got an error answer."""
        return [c for c in self.calls if not c.ok]

    @property
    def sent(self) -> list[ChatMessage]:
        """Every message the bot sent, in every chat, in order; edits applied, deleted ones flagged."""
        with self._cond:
            return [self._chats[chat_id].messages[message_id] for chat_id, message_id in self._sent_order]

    def history(self, chat_id: int, *, include_deleted: bool = False) -> list[ChatMessage]:
        """The chat's messages from users and the bot, by message_id."""
        with self._cond:
            chat = self._chats.get(chat_id)
            messages = list(chat.messages.values()) if chat else []
        return sorted((m for m in messages if include_deleted or not m.deleted), key=lambda m: m.message_id)

    def bot_messages(self, chat_id: int, *, after: int = 0) -> list[ChatMessage]:
        """The bot's live messages in the chat with message_id > after."""
        return [m for m in self.history(chat_id) if m.from_bot and m.message_id > after]

    def message(self, chat_id: int, message_id: int) -> ChatMessage | None:
        with self._cond:
            chat = self._chats.get(chat_id)
            return chat.messages.get(message_id) if chat else None

    def commands(
        self, *, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSON] | None:
        """The commands set for exactly this scope and language, or None if never set."""
        key = (json.dumps(dict(scope or {"type": "default"}), sort_keys=True), language_code)
        with self._cond:
            stored = self._commands.get(key)
            return None if stored is None else [dict(c) for c in stored]

    def callback_answer(self, callback_query_id: str) -> JSON | None:
        """How the bot answered a button press: {"text", "show_alert", "url"}, or None."""
        with self._cond:
            record = self._callbacks.get(callback_query_id)
            return None if record is None or record["answer"] is None else dict(record["answer"])

    @property
    def pending_updates(self) -> list[JSON]:
        """Queued updates the bot has not yet acknowledged."""
        with self._cond:
            return json.loads(json.dumps(self._updates))

    # ------------------------------------------------------------------ test driver: waiting

    def wait_for(self, predicate: Callable[[BotApiServer], T], timeout: float = 10.0) -> T:
        """Block until predicate(server) is truthy and return it; TimeoutError with a summary if not.

        Never call this from the event loop that runs the bot: use wait_for_async there.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_report(timeout))
                self._cond.wait(min(remaining, 0.5))

    async def wait_for_async(self, predicate: Callable[[BotApiServer], T], timeout: float = 10.0) -> T:
        """wait_for for async tests: yields to the event loop while waiting."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                value = predicate(self)
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_report(timeout))
            await asyncio.sleep(0.01)

    @staticmethod
    def _messages_predicate(
        chat_id: int, count: int, after: int
    ) -> Callable[[BotApiServer], list[ChatMessage]]:
        def enough(server: BotApiServer) -> list[ChatMessage]:
            messages = server.bot_messages(chat_id, after=after)
            return messages[:count] if len(messages) >= count else []

        return enough

    def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 10.0, *, after: int = 0
    ) -> list[ChatMessage]:
        """Block until the bot has `count` live messages in the chat after message `after`; return those."""
        return self.wait_for(self._messages_predicate(chat_id, count, after), timeout)

    async def wait_for_messages_async(
        self, chat_id: int, count: int = 1, timeout: float = 10.0, *, after: int = 0
    ) -> list[ChatMessage]:
        return await self.wait_for_async(self._messages_predicate(chat_id, count, after), timeout)

    def wait_for_reply(self, message: Mapping[str, Any], timeout: float = 10.0) -> ChatMessage:
        """The bot's first message in the same chat after `message` (a dict send_message returned)."""
        return self.wait_for_messages(message["chat"]["id"], 1, timeout, after=message["message_id"])[0]

    async def wait_for_reply_async(self, message: Mapping[str, Any], timeout: float = 10.0) -> ChatMessage:
        chat_id, after = message["chat"]["id"], message["message_id"]
        messages = await self.wait_for_messages_async(chat_id, 1, timeout, after=after)
        return messages[0]

    def _timeout_report(self, timeout: float) -> str:
        calls = self._calls[-15:]
        lines = [f"nothing matched within {timeout} s; pending updates: {len(self._updates)}; last calls:"]
        for call in calls:
            outcome = "ok" if call.ok else f"{call.status} {call.description}"
            shown = {k: v for k, v in call.params.items() if k in ("chat_id", "message_id", "text", "caption")}
            lines.append(f"  {call.method} {shown} -> {outcome}")
        return "\n".join(lines)

"""Escaping, clipping, dates, and splitting into messages under Telegram's limit: what every part uses."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo

from bot.telegram.texts import TEXTS
from storage.models import HIGHLIGHT_END, HIGHLIGHT_START

MESSAGE_LIMIT = 4096
TITLE_LIMIT, SUMMARY_LIMIT, AUTHORS_LIMIT = 300, 1500, 200
LINKS_LISTED = 10
"""Links named in a notice about links not taken; the rest are counted."""


def text(key: str, language: str, **values: object) -> str:
    """A fixed interface text in the chat's language (its values escaped)."""
    return _template(key, language).format(**{name: _e(str(value)) for name, value in values.items()})


def _template(key: str, language: str) -> str:
    return TEXTS.get(language, TEXTS["en"])[key]


def _e(value: str | None) -> str:
    return html.escape(value or "", quote=True)


def _clip(value: str | None, limit: int) -> str:
    """Whitespace collapsed and at most `limit` UTF-16 units (as Telegram counts), cut at a word."""
    value = " ".join((value or "").split())
    if _units(value) <= limit:
        return value
    # "ignore" drops the half of an emoji (a surrogate pair) the cut may leave at the end
    cut = value.encode("utf-16-le")[: 2 * limit].decode("utf-16-le", "ignore").rsplit(" ", 1)[0]
    return cut + "…"


def _units(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def _date(day: date) -> str:
    return day.strftime("%d.%m.%Y")
_HIGHLIGHTS = re.compile(f"({re.escape(HIGHLIGHT_START)}|{re.escape(HIGHLIGHT_END)})")


def _snippet(snippet: str) -> str:
    """The excerpt in italics, each match in bold. Markers without a partner (a match cut by the
    clip, or marker characters in the page's own text) are dropped, so the tags always nest."""
    parts: list[str] = []
    opened: int | None = None  # index in `parts` of a <b> still waiting for its </b>
    for part in _HIGHLIGHTS.split(_clip(snippet, 400)):
        if part == HIGHLIGHT_START:
            if opened is not None:
                parts[opened] = ""
            opened = len(parts)
            parts.append("<b>")
        elif part == HIGHLIGHT_END:
            if opened is not None:
                parts.append("</b>")
                opened = None
        else:
            parts.append(_e(part))
    if opened is not None:
        parts[opened] = ""
    escaped = "".join(parts)
    return f"<i>{escaped}</i>" if _HIGHLIGHTS.sub("", snippet).strip() else ""


def split_messages(blocks: Iterable[str], *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join blocks with blank lines into as few messages as fit, breaking only between blocks."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        if _length(block) > limit:
            block = _shrink(block, limit)
        candidate = f"{current}\n\n{block}" if current else block
        if _length(candidate) <= limit:
            current = candidate
            continue
        messages.append(current)
        current = block
    if current:
        messages.append(current)
    return messages
_TAG = re.compile(r"<[^>]*>")


def _length(message: str) -> int:
    """Length as Telegram counts it: UTF-16 code units of the text once tags and entities are parsed
    (page text is always escaped here, so every "<" left in a message opens a tag render wrote)."""
    return _units(html.unescape(_TAG.sub("", message)))


def _shrink(block: str, limit: int) -> str:
    """A block too long for one message, cut at a line boundary (lines never hold open tags)."""
    kept: list[str] = []
    for line in block.split("\n"):
        if _length("\n".join([*kept, line, "…"])) > limit:
            break
        kept.append(line)
    return "\n".join([*kept, "…"]) if kept else "…"


def duration(wait: timedelta, language: str) -> str:
    """A wait in words: "45 s", "12 min", "3 h 5 min" (rounded up)."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 60:
        return text("seconds", language, seconds=seconds)
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return text("minutes", language, minutes=minutes)
    return text("hours_minutes", language, hours=minutes // 60, minutes=minutes % 60)


def _moment(moment: datetime | None, zone: tzinfo, language: str) -> str:
    if moment is None:
        return _template("never", language)
    return moment.astimezone(zone).strftime("%d.%m %H:%M")


def _links_listed(urls: Sequence[str], language: str, *, most: int = LINKS_LISTED) -> str:
    lines = [f"• {_e(_clip(url, 200))}" for url in urls[:most]]
    if len(urls) > most:
        lines.append(text("and_more", language, count=len(urls) - most))
    return "\n".join(lines)


def split_lines(lines: Iterable[str], *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join lines into as few messages as fit, breaking only between lines."""
    messages: list[str] = []
    current: list[str] = []
    for line in lines:
        if current and _length("\n".join([*current, line])) > limit:
            messages.append("\n".join(current).strip("\n"))
            current = []
        current.append(line if _length(line) <= limit else _shrink(line, limit))
    if current:
        messages.append("\n".join(current).strip("\n"))
    return [message for message in messages if message]

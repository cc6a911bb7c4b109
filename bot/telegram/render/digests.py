"""Digests and /schedule answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bot.desk.digests import ScheduleAnswer
from bot.desk.stories import Versions, collapse
from bot.pipeline.summarise import split_sentences
from bot.telegram.render.base import MESSAGE_LIMIT, TITLE_LIMIT, _clip, _date, _e, _length, _shrink, _template, text
from bot.telegram.texts import TEXTS
from storage.models import (
    Item,
)


def digest(items: Sequence[Item], day: date, language: str, *, sentences: int = 2,
           limit: int = MESSAGE_LIMIT) -> list[str]:
    """The digest for a day: items grouped by source (newest group first), split into messages
    between items; a source continued in the next message repeats its name."""
    if not items:
        return [text("digest_empty", language, date=_date(day))]
    groups: dict[str, list[Versions]] = {}
    for shown in collapse(sorted(items, key=lambda i: (i.submitted_at, i.id), reverse=True)):
        groups.setdefault(shown.item.source, []).append(shown)
    messages: list[str] = []
    current = text("digest_header", language, date=_date(day), items=len(items), sources=len(groups))
    for source, group in groups.items():
        name = f"<b>{_e(_clip(source, 100))}</b>"
        for position, item in enumerate(group):
            entry = _digest_entry(item.item, language, sentences)
            if item.also:
                entry += "\n" + text("story_also", language, sources=_clip(", ".join(item.also), 300))
            block = f"{name}\n\n{entry}" if position == 0 else entry
            if _length(f"{current}\n\n{block}") <= limit:
                current = f"{current}\n\n{block}"
                continue
            messages.append(current)
            current = f"{name}\n\n{entry}"
            if _length(current) > limit:
                current = _shrink(current, limit)
    footer = text("digest_footer", language)
    if _length(f"{current}\n\n{footer}") <= limit:
        current = f"{current}\n\n{footer}"
    else:
        messages.append(current)
        current = footer
    messages.append(current)
    return messages


def schedule(answer: ScheduleAnswer, language: str, *, now: datetime) -> str:
    """The answer to /schedule: what was wrong with it, or the chat's schedule and its next run."""
    if answer.problem == "bad_zone":
        return text("schedule_bad_zone", language, zone=answer.zone_text)
    if answer.problem == "bad_time":
        parts = "; ".join(_template(f"time_{part}", language) for part in answer.wrong_parts)
        return text("schedule_bad_time", language, time=answer.wrong, parts=parts)
    if answer.problem == "extra":
        return text("schedule_extra", language, words=answer.wrong)
    found = answer.schedule
    if found is None:
        return text("schedule_none", language)
    at = found.at.strftime("%H:%M:%S" if found.at.second else "%H:%M")
    next_run = answer.next_run(now)
    if next_run is None:
        return text("schedule_off", language, time=at, zone=found.timezone)
    when = next_run.strftime("%d.%m.%Y %H:%M:%S" if next_run.second else "%d.%m.%Y %H:%M")
    empty_day = text("schedule_quiet" if found.quiet else "schedule_loud", language)
    return text("schedule_on", language, time=at, zone=found.timezone, next=f"{when} ({next_run.tzname()})") + empty_day


def _digest_entry(item: Item, language: str, sentences: int) -> str:
    bullet = "🔔" if item.watch_ids else "•"  # it matched one of the chat's watches
    lines = [f"{bullet} <a href=\"{_e(item.canonical_url)}\">{_e(_clip(item.title or item.url, TITLE_LIMIT))}</a>"]
    translated = item.translation_language == language
    if translated and item.title_translated:
        lines.append(f"  <b>{_e(_clip(item.title_translated, TITLE_LIMIT))}</b>")
    summary = item.summary_translated if translated and item.summary_translated else item.summary_extractive
    if summary:
        lines.append("  " + _e(_clip(" ".join(split_sentences(summary)[:sentences]), 600)))
    lines.append(f"  {TEXTS.get(language, TEXTS['en'])['id']}{item.id}")
    return "\n".join(lines)

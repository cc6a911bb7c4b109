"""What a chat is told about links it posted: notices, repeats, progress, batches, deferred links, refusals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.desk.costs import Permit, Refusal
from bot.desk.links import Fate, Released, SubmitOutcome
from bot.telegram.render.base import (
    MESSAGE_LIMIT,
    _clip,
    _date,
    _e,
    _length,
    _links_listed,
    _template,
    duration,
    split_lines,
    split_messages,
    text,
)
from bot.telegram.render.items import already_saved, card, failure
from bot.telegram.texts import REASONS, TEXTS
from storage.models import (
    DONE,
    FAILED,
    DeferredLink,
    Item,
)


def submit_notices(outcome: SubmitOutcome, language: str, *, hourly_limit: int, now: datetime,
                   retrying: bool = False) -> list[str]:
    """What to tell the chat about links not taken now, each named: held through a database fault,
    put aside over the hourly limit, or refused. (Links the chat already has are answered by
    `repeats`, together with their repeats.)"""
    notices = []
    if outcome.having(Fate.HELD) and not retrying:
        notices.append(text("database_down", language))
    deferred, dropped = outcome.having(Fate.DEFERRED), outcome.having(Fate.OVER_LIMIT)
    if deferred or dropped:
        lines = [text("limit", language, limit=hourly_limit)]
        if deferred:
            wait = (outcome.room_at or now) - now
            lines.append(text("limit_deferred", language, count=len(deferred), wait=duration(wait, language)))
        if dropped:
            lines.append(text("limit_dropped", language, most=hourly_limit, count=len(dropped)))
        notices.append("\n".join(lines) + "\n\n" + _links_listed([link.url for link in deferred + dropped], language))
    refused = [failure(link.url, link.error.reason if link.error else "invalid_url", language,
                       detail=str(link.error or "")) for link in outcome.having(Fate.REFUSED)]
    notices.extend(split_messages(refused))
    return notices


def repeats(entries: Sequence[tuple[Item, int]], language: str) -> str:
    """One answer to links the chat already had, however many times each was posted: the item
    and how often, as it is now (saved, still being processed, or failed). Fits one message."""
    total = sum(count for _, count in entries)
    if len(entries) == 1:
        item, count = entries[0]
        if item.status == DONE:
            if count == 1:
                return already_saved(item, language)
            name = _clip(item.submitted_by_name, 100) or "?"
            notice = text("repeat_one", language, count=count, name=name, date=_date(item.submitted_at.date()))
            return f"ℹ️ {notice}\n\n{card(item, language)}"
        if item.status == FAILED:
            return card(item, language)
        return f"⏳ {text('repeat_pending', language, count=count)}\n{_e(_clip(item.url, 200))}"
    header = f"ℹ️ {text('repeat_many', language, count=total, items=len(entries))}"
    lines = [header, ""]
    for position, (item, _) in enumerate(entries):
        line = batch_line(item, language)
        more = text("and_more", language, count=len(entries) - position)
        if _length("\n".join([*lines, line, more])) > MESSAGE_LIMIT:
            lines.append(more)
            break
        lines.append(line)
    return "\n".join(lines)


def progress(total: int, done: int, failed: int, language: str) -> str:
    """A batch's status message while its links are processed."""
    return text("progress", language, total=total, done=done, failed=failed)


def batch_line(item: Item, language: str) -> str:
    """One link of a batch in one line: saved (id, linked title, source), pending, or why it failed."""
    if item.status == DONE:
        title = _clip(item.title_translated if item.translation_language == language and item.title_translated
                      else item.title or item.url, 100)
        number = f"{TEXTS.get(language, TEXTS['en'])['id']}{item.id}"
        return f"✅ {number} <a href=\"{_e(item.canonical_url)}\">{_e(title)}</a> · {_e(_clip(item.source, 40))}"
    if item.status == FAILED and item.failure_reason == "same_article" and item.same_as:
        # another address of an article the chat has: not a failure, the stored item is named
        return f"🔁 {_e(_clip(item.url, 80))} — {text('batch_same_article', language, id=item.same_as)}"
    if item.status == FAILED:
        reason = REASONS.get(language, REASONS["en"]).get(item.failure_reason or "") or _clip(
            item.failure_detail or item.failure_reason or "?", 100)
        return f"⚠️ {_e(_clip(item.url, 80))} — {_e(reason)}"
    return f"⏳ {_e(_clip(item.url, 80))}"


def batch_outcome(items: Sequence[Item], language: str) -> list[str]:
    """What became of a batch's links, one line each, in as few messages as fit."""
    done = sum(1 for item in items if item.status == DONE)
    failed = sum(1 for item in items if item.status == FAILED)
    header = text("batch_header", language, done=done, total=len(items))
    if failed:
        header += text("batch_failed", language, failed=failed)
    lines = [batch_line(item, language) for item in items]
    footer = ["", text("batch_cards", language)] if done else []
    return split_lines([f"<b>{header}</b>", "", *lines, *footer])


def cards_button(count: int, language: str) -> str:
    return _template("cards_button", language).format(count=count)


def deferred(links: Sequence[DeferredLink], room: int, room_at: datetime | None, language: str, *,
             now: datetime) -> list[str]:
    """/later: the links put aside over the hourly limit, and when they can be sent."""
    if not links:
        return [text("later_empty", language)]
    if room > 0:
        footer = text("later_room", language, room=room)
    else:
        footer = text("later_no_room", language, wait=duration((room_at or now) - now, language))
    lines = [f"<b>{text('later_list', language, count=len(links))}</b>", "",
             *(f"• {_e(_clip(link.url, 200))}" for link in links), "", footer]
    return split_lines(lines)


def released(result: Released, language: str, *, now: datetime) -> str:
    """/later go: how many waiting links were sent on, how many still wait and until when."""
    answer = text("later_released", language, taken=len(result.outcome.links), left=result.waiting)
    if result.waiting and result.room_at is not None:
        answer += "\n" + text("later_no_room", language, wait=duration(result.room_at - now, language))
    return answer


def refusal(permit: Permit, language: str) -> str:
    """Why the language model may not be asked now, and when it may."""
    wait = duration(permit.wait or timedelta(0), language)
    keys = {Refusal.NO_MODEL: "no_model", Refusal.BUDGET: "llm_budget", Refusal.CHAT_BUDGET: "llm_chat_budget",
            Refusal.ADMINS_ONLY: "resummarize_admins_only", Refusal.DAILY_LIMIT: "resummarize_daily",
            Refusal.COOLDOWN: "resummarize_cooldown"}
    assert permit.refusal is not None
    return text(keys[permit.refusal], language, wait=wait, limit=permit.limit)

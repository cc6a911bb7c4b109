"""Feeds, watches and the outbox's messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from bot.desk.feeds import FollowOutcome
from bot.desk.watches import WatchAnswer
from bot.telegram.render.base import (
    MESSAGE_LIMIT,
    _clip,
    _e,
    _length,
    _moment,
    _shrink,
    _template,
    split_messages,
    text,
)
from bot.telegram.render.items import already_saved, card
from bot.telegram.texts import REASONS, TEXTS
from storage.models import (
    Feed,
    FeedStatus,
    Item,
    OutboxKind,
    OutboxMessage,
    Watch,
)


def _mode(feed: Feed, language: str) -> str:
    return _template(f"mode_{feed.mode}", language)


def follow_result(outcome: FollowOutcome, language: str, *, url: str) -> str:
    """The answer to /follow: the feed followed (and the other feeds the page named), or why not."""
    feed = outcome.feed
    if feed is None:
        problem = outcome.problem or ""
        if problem in ("not_a_feed", "too_costly"):
            reason = _template(f"feed_{problem}", language)
        elif problem.startswith("http_"):
            reason = ("сайт відповів помилкою HTTP " if language == "uk" else "the site answered HTTP ") + problem[5:]
        else:
            reason = REASONS.get(language, REASONS["en"]).get(problem) or _clip(outcome.detail or problem, 500)
        return text("feed_problem", language, url=_clip(url, 200), reason=reason)
    title = _clip(feed.name, 200)
    if outcome.is_new:
        count = outcome.first_poll.new if outcome.first_poll else 0
        answer = text("feed_followed", language, id=feed.id, title=title, url=_clip(feed.url, 300),
                      mode=_mode(feed, language), count=count)
    else:
        answer = text("feed_already", language, id=feed.id, title=title, mode=_mode(feed, language))
    if outcome.others:
        lines = [f"• {_e(_clip(other.title or other.kind, 100))}: {_e(_clip(other.url, 300))}"
                 for other in outcome.others[:10]]
        answer += "\n\n" + text("feed_others", language) + "\n" + "\n".join(lines)
    return answer


def feeds_list(feeds: Sequence[Feed], language: str, *, zone: tzinfo) -> list[str]:
    """/feeds: each feed with its address, mode, last check, last new entry, errors and next check."""
    if not feeds:
        return [text("feeds_empty", language)]
    blocks = [text("feeds_header", language, count=len(feeds))]
    for feed in feeds:
        paused = feed.status == FeedStatus.PAUSED
        block = text("feed_line", language, id=feed.id, title=_clip(feed.name, 150), mode=_mode(feed, language),
                     paused=_template("feed_paused_mark", language) if paused else "", url=_clip(feed.url, 300),
                     checked=_moment(feed.last_check_at, zone, language), new=_moment(feed.last_new_at, zone, language),
                     errors=feed.errors, next="—" if paused else _moment(feed.next_check_at, zone, language))
        if feed.last_error and feed.errors:
            block += "\n" + text("feed_error_line", language, error=_clip(feed.last_error, 300))
        blocks.append(block)
    return split_messages(blocks)


def watch_result(answer: WatchAnswer, language: str, *, limit: int) -> str:
    """The answer to /watch."""
    if answer.watch is None:
        return text(f"watch_{answer.problem or 'no_words'}", language, limit=limit)
    key = "watch_set" if answer.is_new else "watch_already"
    return text(key, language, id=answer.watch.id, query=_clip(answer.watch.query, 300))


def watches_list(watches: Sequence[Watch], language: str) -> list[str]:
    if not watches:
        return [text("watches_empty", language)]
    lines = [f"№{watch.id} · {_e(_clip(watch.query, 300))}" if language == "uk" else
             f"#{watch.id} · {_e(_clip(watch.query, 300))}" for watch in watches]
    return split_messages([text("watches_header", language, count=len(watches)), "\n".join(lines)])


def _watch_names(watches: Sequence[Watch], language: str) -> str:
    sign = TEXTS.get(language, TEXTS["en"])["id"]
    return ", ".join(f"{sign}{watch.id} «{_clip(watch.query, 100)}»" if language == "uk" else
                     f"{sign}{watch.id} “{_clip(watch.query, 100)}”" for watch in watches)


def outbox_message(message: OutboxMessage, item: Item | None, watches: Sequence[Watch], language: str) -> str:
    """A message of the outbox: a feed item's card, the card answering a link a worker processed,
    a watch alert over the card, or a notice."""
    if message.kind == OutboxKind.NOTICE:
        payload = message.payload
        key = str(payload.get("key"))
        if key not in TEXTS["en"] or not key.startswith("feed_"):  # written by a newer version, say
            return f"ℹ️ {_e(_clip(str(payload.get('title', '')), 150))}: {_e(key)}"
        values = {str(name): value for name, value in dict(payload.get("values", {})).items()}
        return text(key, language, title=_clip(str(payload.get("title", "")), 150),
                    url=_clip(str(payload.get("url", "")), 300),
                    **{name: _clip(str(value), 300) for name, value in values.items() if name not in ("title", "url")})
    assert item is not None  # the outbox sends cards and alerts only for stored (or, answers, ended) items
    if message.payload.get("already_saved"):  # the posted link was another address of this item
        return already_saved(item, language)
    shown = card(item, language)
    if message.kind == OutboxKind.ALERT:
        header = text("alert_header", language, watches=_watch_names(watches, language) or "?")
        shown = f"{header}\n\n{shown}"
        if _length(shown) > MESSAGE_LIMIT:
            shown = _shrink(shown, MESSAGE_LIMIT)
    return shown

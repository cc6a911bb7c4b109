"""The only writer of Telegram HTML: cards, lists, search results, digests, help and errors.
Its words are in texts.py.

Every piece of page or user text goes through `_e` (html.escape), so a `<script>` in a title is
shown, never parsed. Messages are built from blocks and split at block boundaries to stay under
Telegram's 4096-character limit, never inside a tag.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from bot.desk.costs import Permit, Refusal
from bot.desk.digests import ScheduleAnswer
from bot.desk.feeds import FollowOutcome
from bot.desk.links import Fate, Released, SubmitOutcome
from bot.desk.stories import LinkAnswer, LinkResult, StoryNote, Versions, collapse
from bot.desk.watches import WatchAnswer
from bot.pipeline.summarise import split_sentences
from bot.telegram.texts import REASONS, TEXTS
from storage.fts import MAX_TERMS
from storage.models import (
    DONE,
    FAILED,
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    DeferredLink,
    Feed,
    FeedStatus,
    Item,
    OutboxKind,
    OutboxMessage,
    SearchPage,
    Stats,
    Watch,
)
from storage.stories import Story

if TYPE_CHECKING:
    from bot.telegram.commands import Command

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


def card(item: Item, language: str, *, note: StoryNote | None = None, versions: Sequence[Item] = ()) -> str:
    """One stored item as the desk's brief: source and date, authors, titles, summary, link. With
    `note` (its story had other sources already) the note stands instead of the summary; with
    `versions`, the other versions of its story are listed (/item)."""
    if item.status != DONE:
        return failure(item.url, item.failure_reason or "", language, detail=item.failure_detail)
    when = _date(item.display_date)
    if item.published_at is not None:
        when = item.published_at.strftime("%d.%m.%Y %H:%M ") + (item.published_at.strftime("%Z") or "UTC")
    lines = [f"<b>{_e(_clip(item.source, 100))}</b> — {when}"]
    if item.authors:
        lines.append(f"<i>{_e(_clip(', '.join(item.authors), AUTHORS_LIMIT))}</i>")
    lines.append(f'<a href="{_e(item.canonical_url)}">{_e(_clip(item.title or item.url, TITLE_LIMIT))}</a>')
    if item.title_translated and item.translation_language == language:
        lines.append(f"<b>{_e(_clip(item.title_translated, TITLE_LIMIT))}</b>")
    summary = item.summary_translated if item.translation_language == language and item.summary_translated \
        else item.summary_extractive
    if note is not None:
        lines.append("")
        lines.append("🔁 " + story_note(note, language))
    elif summary:
        lines.append("")
        lines.append(_e(_clip(summary, SUMMARY_LIMIT)))
    lines.extend(coverage_lines(item, language))
    if versions:
        lines.append("")
        lines.append(text("story_versions", language))
        lines.extend(f"• {TEXTS.get(language, TEXTS['en'])['id']}{other.id} · {_e(_clip(other.source, 60))} · "
                     f"{_date(other.display_date)}" for other in versions[:10])
        if len(versions) > 10:
            lines.append(f"… +{len(versions) - 10}")
    if item.from_feed:
        lines.append("")
        lines.append(text("from_feed", language))
    lines.append("")
    lines.append(f"{TEXTS.get(language, TEXTS['en'])['id']}{item.id}")
    return "\n".join(lines)


def coverage_lines(item: Item, language: str) -> list[str]:
    """What a card says about the kind of document: a PDF's pages, a paywall, a post's links."""
    lines: list[str] = []
    if item.content_kind == "pdf":
        lines += ["", text("pdf_pages", language, pages=pages(item.page_count or 0, language))]
    if item.access == "partial":
        lines += ["", text("paywalled", language)]
    if item.post_links:
        shown = item.post_links[:3]
        links = ", ".join(f'<a href="{_e(url)}">{_e(_clip(url, 80))}</a>' for url in shown)
        lines += ["", _template("post_links", language).format(links=links, first=_e(shown[0]))]  # escaped above
    return lines


def pages(count: int, language: str) -> str:
    """"12 pages", or in Ukrainian with the plural the number takes: 1 сторінка, 3 сторінки, 5 сторінок."""
    if language != "uk":
        return f"{count} page" if count == 1 else f"{count} pages"
    if count % 10 == 1 and count % 100 != 11:
        return f"{count} сторінка"
    if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        return f"{count} сторінки"
    return f"{count} сторінок"
def ordinal(number: int, language: str) -> str:
    """3 -> "3rd" in English; in Ukrainian the text carries the ending."""
    if language == "uk":
        return str(number)
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def story_note(note: StoryNote, language: str) -> str:
    """"3rd source on this story, first: Reuters 09:14 (#12)"."""
    return text("story_note", language, position=ordinal(note.position, language), first=_clip(note.first.source, 60),
                time=note.first_at.strftime("%H:%M" if note.same_day else "%d.%m %H:%M"),
                first_id=note.first.id)


def stories(found: Sequence[Story], language: str, zone: tzinfo) -> list[str]:
    """/stories: the last day's stories, most sources first, each with its first report."""
    if not found:
        return [text("stories_empty", language)]
    lines = [f"<b>{text('stories_header', language, count=len(found))}</b>"]
    for story in found[:30]:
        first = story.first
        lines.append("")
        lines.append(item_line(first, language))
        lines.append(text("stories_line", language, sources=len(story.sources), items=len(story.items),
                          first=_clip(first.source, 60), time=first.submitted_at.astimezone(zone).strftime("%H:%M")))
        others = [s for s in story.sources if s != first.source]
        if others:
            lines.append(text("story_also", language, sources=_clip(", ".join(others), 300)))
    return split_lines(lines)


def link_answer(answer: LinkAnswer, language: str, *, first: int, second: int | None = None) -> str:
    """The answer to /link and /unlink."""
    result = answer.result
    if result in (LinkResult.NOT_FOUND, LinkResult.NOT_STORED):
        return text(f"link_{result}", language, id=answer.missing)
    if result == LinkResult.UNLINKED:
        return text("unlink_done", language, id=first)
    if result == LinkResult.ALONE:
        return text("unlink_alone", language, id=first)
    return text(f"link_{result}", language, first=first, second=second)


def already_saved(item: Item, language: str) -> str:
    """The answer to a link the chat already has, with that item's card."""
    name = _clip(item.submitted_by_name, 100) or "?"
    notice = text("already", language, name=name, date=_date(item.submitted_at.date()))
    return f"ℹ️ {notice}\n\n{card(item, language)}"


def reason_words(reason: str, language: str) -> str:
    """A failure reason code with its words, for /stats: "pdf_no_text — a scanned PDF with no text layer"."""
    words = REASONS.get(language, REASONS["en"]).get(reason)
    return f"{reason} — {words}" if words else reason


def failure(url: str, reason: str, language: str, *, detail: str | None = None) -> str:
    """Why one link could not be saved, in plain words."""
    words = REASONS.get(language, REASONS["en"]).get(reason)
    if words is None:
        if reason.startswith("http_"):
            words = ("сайт відповів помилкою HTTP " if language == "uk" else "the site answered HTTP ") + reason[5:]
        else:
            words = _clip(detail or reason, 500)
    return f"⚠️ {text('failed', language)}: {_e(_clip(url, 200))}\n{_e(words)}"


def item_line(item: Item, language: str) -> str:
    """One line of a list: id, source and date, linked title."""
    title = _clip(item.title_translated if item.translation_language == language and item.title_translated
                  else item.title or item.url, 160)
    return (f"{TEXTS.get(language, TEXTS['en'])['id']}{item.id} · {_e(_clip(item.source, 60))} · "
            f"{_date(item.display_date)}\n<a href=\"{_e(item.canonical_url)}\">{_e(title)}</a>")


def status_line(item: Item, language: str) -> str:
    """A link's outcome in one line, for messages that carried several links."""
    if item.status == DONE:
        return f"✅ {item_line(item, language)}"
    return failure(item.url, item.failure_reason or "", language, detail=item.failure_detail)


def latest(items: Sequence[Item], language: str) -> list[str]:
    if not items:
        return [text("latest_empty", language)]
    return split_messages([f"<b>{text('latest_header', language)}</b>",
                           *(item_line(item, language) for item in items)])


def search_results(page: SearchPage, language: str, versions: Mapping[int, int] | None = None) -> str:
    """One page of search results with highlighted snippets; fits one message. `versions`: for a
    hit whose story has other versions, how many ("+2 versions")."""
    if not page.hits:
        return text("search_too_broad" if page.too_broad else "search_empty", language, query=_clip(page.query, 200))
    total = f"{page.total:,}+".replace(",", "\u202f") if page.more else page.total
    blocks = [f"<b>{text('search_header', language, total=total, query=_clip(page.query, 200))}</b>"]
    if page.more:
        blocks.append(f"<i>{text('search_newest_only', language)}</i>")
    if page.terms_dropped:
        blocks.append(f"<i>{text('search_terms_dropped', language, kept=MAX_TERMS, dropped=page.terms_dropped)}</i>")
    for hit in page.hits:
        more = (versions or {}).get(hit.item.id)
        extra = f" <i>{text('search_versions', language, count=more)}</i>" if more else ""
        blocks.append(f"{item_line(hit.item, language)}{extra}\n{_snippet(hit.snippet)}")
    return split_messages(blocks)[0]


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


def stats(data: Stats, language: str) -> str:
    body = text("stats", language, items=data.items, sources=data.sources, week=data.last_7_days,
                failed=data.failed, pending=data.pending)
    if data.top_sources:
        body += "\n\n" + "\n".join(f"• {_e(_clip(name, 100))}: {count}" for name, count in data.top_sources)
    if data.failure_reasons:
        body += "\n\n" + "\n".join(f"⚠️ {_e(_clip(reason_words(reason, language), 160))}: {count}"
                                      for reason, count in data.failure_reasons)
    return body


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


def duration(wait: timedelta, language: str) -> str:
    """A wait in words: "45 s", "12 min", "3 h 5 min" (rounded up)."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 60:
        return text("seconds", language, seconds=seconds)
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return text("minutes", language, minutes=minutes)
    return text("hours_minutes", language, hours=minutes // 60, minutes=minutes % 60)


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


# -- monitoring: feeds, watches, the outbox ------------------------------------------------------


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


def _moment(moment: datetime | None, zone: tzinfo, language: str) -> str:
    if moment is None:
        return _template("never", language)
    return moment.astimezone(zone).strftime("%d.%m %H:%M")


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
    """A message of the outbox: a feed item's card, a watch alert over the card, or a notice."""
    if message.kind == OutboxKind.NOTICE:
        payload = message.payload
        key = str(payload.get("key"))
        if key not in TEXTS["en"] or not key.startswith("feed_"):  # written by a newer version, say
            return f"ℹ️ {_e(_clip(str(payload.get('title', '')), 150))}: {_e(key)}"
        values = {str(name): value for name, value in dict(payload.get("values", {})).items()}
        return text(key, language, title=_clip(str(payload.get("title", "")), 150),
                    url=_clip(str(payload.get("url", "")), 300),
                    **{name: _clip(str(value), 300) for name, value in values.items() if name not in ("title", "url")})
    assert item is not None  # the outbox sends cards and alerts only for stored items
    shown = card(item, language)
    if message.kind == OutboxKind.ALERT:
        header = text("alert_header", language, watches=_watch_names(watches, language) or "?")
        shown = f"{header}\n\n{shown}"
        if _length(shown) > MESSAGE_LIMIT:
            shown = _shrink(shown, MESSAGE_LIMIT)
    return shown
def _links_listed(urls: Sequence[str], language: str, *, most: int = LINKS_LISTED) -> str:
    lines = [f"• {_e(_clip(url, 200))}" for url in urls[:most]]
    if len(urls) > most:
        lines.append(text("and_more", language, count=len(urls) - most))
    return "\n".join(lines)


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

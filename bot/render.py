"""The only writer of Telegram HTML: cards, lists, search results, digests, help and errors.

Every piece of page or user text goes through `_e` (html.escape), so a `<script>` in a title is
shown, never parsed. Messages are built from blocks and split at block boundaries to stay under
Telegram's 4096-character limit, never inside a tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from storage.models import HIGHLIGHT_END, HIGHLIGHT_START, DONE, Item, SearchPage, Stats

MESSAGE_LIMIT = 4096
TITLE_LIMIT, SUMMARY_LIMIT, AUTHORS_LIMIT = 300, 1500, 200

TEXTS: dict[str, dict[str, str]] = {
    "uk": {
        "processing": "⏳ Обробляю посилання…",
        "processing_many": "⏳ Обробляю посилань: {count}…",
        "already": "Уже збережено: {name}, {date}",
        "failed": "Не вдалося зберегти",
        "id": "№",
        "latest_empty": "Ще нічого не збережено. Надішліть посилання на статтю.",
        "latest_header": "Останні матеріали",
        "search_empty": "Нічого не знайдено за запитом «{query}».",
        "search_header": "Знайдено {total} за запитом «{query}»",
        "search_expired": "Цей пошук застарів — повторіть /search.",
        "not_found": "Матеріалу №{id} у цьому чаті немає.",
        "private": "Цей бот приватний і працює лише в дозволених чатах.",
        "unknown": "Невідома команда. Список команд: /help",
        "error": "Вибачте, щось пішло не так. Спробуйте ще раз пізніше.",
        "limit": "Забагато посилань за годину (ліміт {limit}). Пропущено: {count}.",
        "no_links": "Не бачу посилань. Приклад: /add https://example.com/article",
        "lang_set": "Мову чату змінено: українська.",
        "lang_usage": "Використання: /lang uk або /lang en",
        "admins_only": "Змінювати налаштування чату можуть лише адміністратори.",
        "database_down": "База даних зараз недоступна; посилання збережу, щойно вона відновиться.",
        "export_caption": "Експорт: {count} матеріалів",
        "stats": ("<b>Статистика</b>\nМатеріалів: {items}\nДжерел: {sources}\nЗа 7 днів: {week}\n"
                  "Помилок: {failed}\nВ обробці: {pending}"),
        "digest_header": "<b>Дайджест за {date}</b> — матеріалів: {items}, джерел: {sources}",
        "digest_empty": "Дайджест за {date}: нових матеріалів немає.",
        "digest_footer": "Пошук по всіх матеріалах: /search",
        "schedule_on": ("Щоденний дайджест: о <b>{time}</b> ({zone}).\nНаступний: {next} за місцевим часом.\n"),
        "schedule_off": "Щоденний дайджест вимкнено (був о {time}, {zone}). Увімкнути: /schedule on",
        "schedule_loud": "У день без нових матеріалів прийде короткий рядок про це (вимкнути: /schedule quiet).",
        "schedule_quiet": "У день без нових матеріалів бот промовчить (увімкнути: /schedule loud).",
        "schedule_none": "Щоденний дайджест не налаштовано. Приклад: /schedule 09:00 Europe/Kyiv",
        "schedule_usage": ("Використання: /schedule ГГ:ХХ [Зона/Місто] — щоденний дайджест, напр. "
                           "/schedule 09:00 Europe/Kyiv; /schedule off | on | quiet | loud; "
                           "/schedule — поточний розклад"),
        "schedule_bad_zone": "Невідомий часовий пояс «{zone}». Приклади: Europe/Kyiv, Europe/Warsaw, America/New_York",
        "usage_search": "Використання: /search запит. Підтримуються \"фраза\", OR, -слово, префікс*, "
                        "source:, author:, lang:, after:РРРР-ММ-ДД, before:РРРР-ММ-ДД",
        "usage_item": "Використання: /item номер",
        "no_model": "Мовну модель не налаштовано (LLM_BASE_URL, LLM_MODEL).",
        "page_prev": "◀ Назад",
        "page_next": "Далі ▶",
        "help": (
            "<b>Newsdesk</b> збирає статті за посиланнями, які ви надсилаєте в чат, і робить з них "
            "картки з коротким змістом.\n\n"
            "Просто надішліть посилання (можна кілька) або /add URL.\n\n"
            "/latest [N] — останні матеріали\n"
            "/search запит — пошук (\"фраза\", OR, -слово, префікс*, source:, author:, lang:, after:, before:)\n"
            "/item N — картка матеріалу\n"
            "/digest — дайджест за сьогодні\n"
            "/stats — статистика\n"
            "/export [csv|json] — експорт\n"
            "/lang uk|en — мова чату\n"
            "/schedule ГГ:ХХ [Europe/Kyiv] — щоденний дайджест (off, quiet)\n"
            "/resummarize N — заново підсумувати мовною моделлю"
        ),
    },
    "en": {
        "processing": "⏳ Processing the link…",
        "processing_many": "⏳ Processing {count} links…",
        "already": "Already saved by {name} on {date}",
        "failed": "Could not save",
        "id": "#",
        "latest_empty": "Nothing saved yet. Send a link to an article.",
        "latest_header": "Latest items",
        "search_empty": "Nothing found for “{query}”.",
        "search_header": "{total} found for “{query}”",
        "search_expired": "This search has expired — run /search again.",
        "not_found": "There is no item #{id} in this chat.",
        "private": "This bot is private and works only in allowed chats.",
        "unknown": "Unknown command. See /help",
        "error": "Sorry, something went wrong. Please try again later.",
        "limit": "Too many links this hour (limit {limit}). Skipped: {count}.",
        "no_links": "I see no links. Example: /add https://example.com/article",
        "lang_set": "The chat's language is now English.",
        "lang_usage": "Usage: /lang uk or /lang en",
        "admins_only": "Only the chat's administrators can change its settings.",
        "database_down": "The database is unavailable right now; links will be saved once it is back.",
        "export_caption": "Export: {count} items",
        "stats": ("<b>Statistics</b>\nItems: {items}\nSources: {sources}\nLast 7 days: {week}\n"
                  "Failures: {failed}\nPending: {pending}"),
        "digest_header": "<b>Digest for {date}</b> — {items} items from {sources} sources",
        "digest_empty": "Digest for {date}: no new items.",
        "digest_footer": "Search everything: /search",
        "schedule_on": ("Daily digest at <b>{time}</b> ({zone}).\nNext: {next} local time.\n"),
        "schedule_off": "The daily digest is off (it was at {time}, {zone}). Turn it on: /schedule on",
        "schedule_loud": "On a day with no new items a one-line note is sent (silence it: /schedule quiet).",
        "schedule_quiet": "On a day with no new items nothing is sent (undo: /schedule loud).",
        "schedule_none": "No daily digest is set. Example: /schedule 09:00 Europe/Kyiv",
        "schedule_usage": ("Usage: /schedule HH:MM [Area/City] — the daily digest, e.g. /schedule 09:00 Europe/Kyiv; "
                           "/schedule off | on | quiet | loud; /schedule alone shows it"),
        "schedule_bad_zone": "Unknown time zone “{zone}”. Examples: Europe/Kyiv, Europe/Warsaw, America/New_York",
        "usage_search": "Usage: /search query. Supported: \"phrase\", OR, -word, prefix*, source:, "
                        "author:, lang:, after:YYYY-MM-DD, before:YYYY-MM-DD",
        "usage_item": "Usage: /item number",
        "no_model": "No language model is configured (LLM_BASE_URL, LLM_MODEL).",
        "page_prev": "◀ Back",
        "page_next": "Next ▶",
        "help": (
            "<b>Newsdesk</b> collects the articles you link in this chat and turns them into cards "
            "with a short summary.\n\n"
            "Just send links (several at once is fine) or /add URL.\n\n"
            "/latest [N] — the latest items\n"
            "/search query — search (\"phrase\", OR, -word, prefix*, source:, author:, lang:, after:, before:)\n"
            "/item N — one item's card\n"
            "/digest — today's digest\n"
            "/stats — statistics\n"
            "/export [csv|json] — export\n"
            "/lang uk|en — the chat's language\n"
            "/schedule HH:MM [Europe/Kyiv] — the daily digest (off, quiet)\n"
            "/resummarize N — summarise again with the language model"
        ),
    },
}

REASONS: dict[str, dict[str, str]] = {
    "uk": {
        "blocked_address": "адреса веде до внутрішньої мережі — такі сторінки не завантажую",
        "timeout": "сторінка відповідала надто довго",
        "too_large": "сторінка завелика",
        "unsupported_content": "це не вебсторінка зі статтею",
        "no_article": "на сторінці не знайдено тексту статті",
        "invalid_url": "це не схоже на вебадресу",
        "network_error": "не вдалося з'єднатися з сайтом",
        "too_many_redirects": "забагато перенаправлень",
        "extract_timeout": "сторінку не вдалося розібрати вчасно",
        "internal_error": "внутрішня помилка",
    },
    "en": {
        "blocked_address": "the address leads to a private network — such pages are not fetched",
        "timeout": "the page took too long to answer",
        "too_large": "the page is too large",
        "unsupported_content": "this is not a web page with an article",
        "no_article": "no article text found on the page",
        "invalid_url": "this does not look like a web address",
        "network_error": "could not connect to the site",
        "too_many_redirects": "too many redirects",
        "extract_timeout": "the page could not be read in time",
        "internal_error": "internal error",
    },
}


def text(key: str, language: str, **values: object) -> str:
    """A fixed interface text in the chat's language (its values escaped)."""
    template = TEXTS.get(language, TEXTS["en"])[key]
    return template.format(**{name: _e(str(value)) for name, value in values.items()})


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


def card(item: Item, language: str) -> str:
    """One stored item as the desk's brief: source and date, authors, titles, summary, link."""
    if item.status != DONE:
        return failure(item.url, item.failure_reason or "", language, detail=item.failure_detail)
    lines = [f"<b>{_e(_clip(item.source, 100))}</b> — {_date(item.display_date)}"]
    if item.authors:
        lines.append(f"<i>{_e(_clip(', '.join(item.authors), AUTHORS_LIMIT))}</i>")
    lines.append(f'<a href="{_e(item.canonical_url)}">{_e(_clip(item.title or item.url, TITLE_LIMIT))}</a>')
    if item.title_translated and item.translation_language == language:
        lines.append(f"<b>{_e(_clip(item.title_translated, TITLE_LIMIT))}</b>")
    summary = item.summary_translated if item.translation_language == language and item.summary_translated \
        else item.summary_extractive
    if summary:
        lines.append("")
        lines.append(_e(_clip(summary, SUMMARY_LIMIT)))
    lines.append("")
    lines.append(f"{TEXTS.get(language, TEXTS['en'])['id']}{item.id}")
    return "\n".join(lines)


def already_saved(item: Item, language: str) -> str:
    """The answer to a link the chat already has, with that item's card."""
    name = _clip(item.submitted_by_name, 100) or "?"
    notice = text("already", language, name=name, date=_date(item.submitted_at.date()))
    return f"ℹ️ {notice}\n\n{card(item, language)}"


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


def search_results(page: SearchPage, language: str) -> str:
    """One page of search results with highlighted snippets; fits one message."""
    if not page.hits:
        return text("search_empty", language, query=_clip(page.query, 200))
    blocks = [f"<b>{text('search_header', language, total=page.total, query=_clip(page.query, 200))}</b>"]
    for hit in page.hits:
        blocks.append(f"{item_line(hit.item, language)}\n{_snippet(hit.snippet)}")
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


def stats(data: Stats, language: str) -> str:
    body = text("stats", language, items=data.items, sources=data.sources, week=data.last_7_days,
                failed=data.failed, pending=data.pending)
    if data.top_sources:
        body += "\n\n" + "\n".join(f"• {_e(_clip(name, 100))}: {count}" for name, count in data.top_sources)
    if data.failure_reasons:
        body += "\n\n" + "\n".join(f"⚠️ {_e(_clip(reason, 100))}: {count}" for reason, count in data.failure_reasons)
    return body


def digest(items: Sequence[Item], day: date, language: str, *, sentences: int = 2,
           limit: int = MESSAGE_LIMIT) -> list[str]:
    """The digest for a day: items grouped by source (newest group first), split into messages
    between items; a source continued in the next message repeats its name."""
    if not items:
        return [text("digest_empty", language, date=_date(day))]
    groups: dict[str, list[Item]] = {}
    for item in sorted(items, key=lambda i: (i.submitted_at, i.id), reverse=True):
        groups.setdefault(item.source, []).append(item)
    messages: list[str] = []
    current = text("digest_header", language, date=_date(day), items=len(items), sources=len(groups))
    for source, group in groups.items():
        name = f"<b>{_e(_clip(source, 100))}</b>"
        for position, item in enumerate(group):
            entry = _digest_entry(item, language, sentences)
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


def schedule(*, at: str, zone: str, enabled: bool, quiet: bool, next_run: datetime | None, language: str) -> str:
    """A chat's digest schedule and its next run, in the chat's local time."""
    if not enabled or next_run is None:
        return text("schedule_off", language, time=at, zone=zone)
    when = next_run.strftime("%d.%m.%Y %H:%M:%S" if next_run.second else "%d.%m.%Y %H:%M")
    empty_day = text("schedule_quiet" if quiet else "schedule_loud", language)
    return text("schedule_on", language, time=at, zone=zone, next=f"{when} ({next_run.tzname()})") + empty_day


def _digest_entry(item: Item, language: str, sentences: int) -> str:
    from bot.pipeline.summarise import split_sentences  # pure text work, no I/O

    lines = [f"• <a href=\"{_e(item.canonical_url)}\">{_e(_clip(item.title or item.url, TITLE_LIMIT))}</a>"]
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


def usage(command: str, language: str) -> str:
    return text(f"usage_{command}", language)

"""Cards, item lines, lists, search results and /stats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.desk.stories import StoryNote
from bot.telegram.render.base import (
    AUTHORS_LIMIT,
    SUMMARY_LIMIT,
    TITLE_LIMIT,
    _clip,
    _date,
    _e,
    _snippet,
    _template,
    split_messages,
    text,
)
from bot.telegram.texts import REASONS, TEXTS
from storage.fts import MAX_TERMS
from storage.models import (
    DONE,
    Item,
    SearchPage,
    Stats,
)


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


def stats(data: Stats, language: str) -> str:
    body = text("stats", language, items=data.items, sources=data.sources, week=data.last_7_days,
                failed=data.failed, pending=data.pending)
    if data.top_sources:
        body += "\n\n" + "\n".join(f"• {_e(_clip(name, 100))}: {count}" for name, count in data.top_sources)
    if data.failure_reasons:
        body += "\n\n" + "\n".join(f"⚠️ {_e(_clip(reason_words(reason, language), 160))}: {count}"
                                      for reason, count in data.failure_reasons)
    return body

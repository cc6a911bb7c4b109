"""Items as plain data for scripts and files: the JSON objects, and the export formats —
`json` (one array), `jsonl` (JSON Lines, one object a line), `csv`, and `md` (Markdown, each
title a link) — the same from `newsdesk export` and the bot's /export.

CSV cells are made safe to open in a spreadsheet (OWASP's CSV-injection rule): a text cell that
starts with =, +, -, @, a tab or a carriage return (after any spaces, which spreadsheets skip) is
prefixed with a single quote, so it is shown as text and never run as a formula; the csv module
quotes every cell that holds a separator, a quote or a line break. Page titles, authors, site
names, summaries and members' display names are all someone else's text.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from storage.models import DONE, Item

EXPORT_FIELDS = ("id", "url", "canonical_url", "status", "failure_reason", "title", "title_translated",
                 "authors", "site_name", "published_date", "language", "summary", "summary_language",
                 "summary_source", "submitted_by", "submitted_by_name", "submitted_at", "fetched_at", "feed_id",
                 "from_feed", "content_kind", "access", "page_count", "published_at", "post_links",
                 "story_id")


def item_json(item: Item, *, with_text: bool = False) -> dict[str, Any]:
    """An item as the JSON object scripts get from --json and export."""
    data: dict[str, Any] = {
        "id": item.id,
        "chat_id": item.chat_id,
        "url": item.url,
        "canonical_url": item.canonical_url,
        "final_url": item.final_url,
        "status": item.status,
        "failure_reason": item.failure_reason,
        "failure_detail": item.failure_detail,
        "title": item.title,
        "title_translated": item.title_translated,
        "authors": list(item.authors),
        "site_name": item.site_name,
        "domain": item.domain,
        "published_date": item.published_date.isoformat() if item.published_date else None,
        "language": item.language,
        "summary": item.summary,
        "summary_language": item.summary_language,
        "summary_source": item.summary_source,
        "summary_extractive": item.summary_extractive,
        "summary_extractive_language": item.summary_extractive_language,
        "summary_translated": item.summary_translated,
        "translation_language": item.translation_language,
        "description": item.description,
        "translation_note": item.translation_note,
        "submitted_by": item.submitted_by,
        "submitted_by_name": item.submitted_by_name,
        "message_id": item.message_id,
        "thread_id": item.thread_id,
        "submitted_at": item.submitted_at.isoformat(),
        "fetched_at": item.fetched_at.isoformat() if item.fetched_at else None,
        "text_hash": item.text_hash,
        "feed_id": item.feed_id,
        "story_id": item.story_id,
        "from_feed": item.from_feed,
        "watches": list(item.watch_ids),
        "content_kind": item.content_kind,
        "access": item.access,
        "page_count": item.page_count,
        "published_at": item.published_at.isoformat() if item.published_at else None,
        "post_links": list(item.post_links),
    }
    if with_text:
        data["text"] = item.text
    return data


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
"""What makes a spreadsheet read a cell as a formula (with the full-width forms some accept)."""


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet will show as text: a leading formula character gets a "'" before it."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_csv(items: Sequence[Item]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for item in items:
        row = item_json(item)
        row["authors"] = "; ".join(row["authors"])
        row["post_links"] = " ".join(row["post_links"])
        writer.writerow({name: spreadsheet_safe(value) for name, value in row.items()})
    return buffer.getvalue()


class ExportFormat(StrEnum):
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    MARKDOWN = "md"

    @property
    def label(self) -> str:
        return FORMAT_LABELS[self]


FORMAT_LABELS = {ExportFormat.JSON: "JSON", ExportFormat.JSONL: "JSON Lines", ExportFormat.CSV: "CSV",
                 ExportFormat.MARKDOWN: "Markdown"}
FORMAT_ALIASES = {"ndjson": ExportFormat.JSONL, "jsonlines": ExportFormat.JSONL, "json-lines": ExportFormat.JSONL,
                  "markdown": ExportFormat.MARKDOWN}
"""Other spellings people use for the same formats."""


def export_format(name: str) -> ExportFormat | None:
    """The format a user named ("JSON", "markdown", ".csv"), or None."""
    word = name.strip().lower().lstrip(".")
    try:
        return ExportFormat(word)
    except ValueError:
        return FORMAT_ALIASES.get(word)


def export_items(items: Sequence[Item], export: ExportFormat, *, heading: str = "Newsdesk") -> str:
    """The items written in the chosen format."""
    if export == ExportFormat.JSON:
        return export_json(items)
    if export == ExportFormat.JSONL:
        return export_jsonl(items)
    if export == ExportFormat.CSV:
        return export_csv(items)
    return export_markdown(items, heading=heading)


def export_json(items: Sequence[Item]) -> str:
    """One JSON array of the items, text included; an item a line, so it diffs and greps well."""
    if not items:
        return "[]\n"
    lines = ",\n".join(json.dumps(item_json(item, with_text=True), ensure_ascii=False) for item in items)
    return f"[\n{lines}\n]\n"


def export_jsonl(items: Sequence[Item]) -> str:
    """JSON Lines: one JSON object a line, text included."""
    return "".join(json.dumps(item_json(item, with_text=True), ensure_ascii=False) + "\n" for item in items)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&])")
_LIST_START = re.compile(r"^(\d+)([.)])")


def _md(text: str | None) -> str:
    """Page text as Markdown that shows it as written: one line, every character Markdown would
    read as markup escaped (a title cannot open a link, a list, a heading or an HTML tag)."""
    line = " ".join((text or "").split())
    line = _LIST_START.sub(r"\1\\\2", _MARKDOWN_SPECIAL.sub(r"\\\1", line))
    return "\\" + line if line.startswith(("-", "=")) else line


def _md_url(url: str) -> str:
    """A link destination in <...>, with the characters that would end it percent-encoded."""
    return "<" + quote(url, safe=":/?#@!$&'()*+,;=%~-._[]") + ">"


def export_markdown(items: Sequence[Item], *, heading: str = "Newsdesk") -> str:
    """A reading copy: each stored article as a section whose title links to it, with its source,
    date, authors and summary; links that were not saved listed at the end with the reason."""
    done = [item for item in items if item.status == DONE]
    others = [item for item in items if item.status != DONE]
    lines = [f"# {_md(heading)}", ""]
    for item in done:
        lines += [f"## [{_md(item.title or item.url)}]({_md_url(item.canonical_url)})", ""]
        if item.title_translated:
            lines += [f"**{_md(item.title_translated)}**", ""]
        about = [_md(item.source), item.display_date.strftime("%d.%m.%Y")]
        if item.authors:
            about.append(_md(", ".join(item.authors)))
        lines += [" · ".join([*about, f"\\#{item.id}"]), ""]
        if item.summary:
            lines += [_md(item.summary), ""]
    if others:
        lines += ["## Not saved", ""]
        lines += [f"- {_md(item.url)}: {_md(item.failure_reason or str(item.status))}" for item in others]
        lines.append("")
    return "\n".join(lines)

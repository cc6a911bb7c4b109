"""Items as plain data for scripts and files: the JSON objects and the CSV export.

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
from collections.abc import Sequence
from typing import Any

from storage.models import Item

EXPORT_FIELDS = ("id", "url", "canonical_url", "status", "failure_reason", "title", "title_translated",
                 "authors", "site_name", "published_date", "language", "summary", "summary_language",
                 "summary_source", "submitted_by", "submitted_by_name", "submitted_at", "fetched_at")


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
        "translation_note": item.translation_note,
        "submitted_by": item.submitted_by,
        "submitted_by_name": item.submitted_by_name,
        "message_id": item.message_id,
        "submitted_at": item.submitted_at.isoformat(),
        "fetched_at": item.fetched_at.isoformat() if item.fetched_at else None,
        "text_hash": item.text_hash,
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
        writer.writerow({name: spreadsheet_safe(value) for name, value in row.items()})
    return buffer.getvalue()


def export_json(items: Sequence[Item]) -> str:
    """One JSON object a line, text included."""
    return "".join(json.dumps(item_json(item, with_text=True), ensure_ascii=False) + "\n" for item in items)

"""Loading items from an export file into a chat without fetching anything (`newsdesk load`).

The file is JSON Lines, one item object a line, as `newsdesk export --format jsonl` writes it (a
JSON array, the `json` format, is read too). Each object needs `url`, `title` and `text`; every
other exported field is kept when present, and ids, chats and statuses are the new database's.
Without a chat, items go back to the chats they were exported from.
A line that is not such an object is reported with its number and skipped; an item whose
canonical URL the chat already has is skipped as a duplicate. Items are written in batches, each
in one transaction, while the next batch is read: an interrupted load leaves whole batches only,
and running it again adds just what is missing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from bot.clock import utc_now
from bot.config import LOCAL_CHAT
from bot.pipeline.links import canonicalise, domain_of
from storage.base import iso
from storage.loads import LoadRow
from storage.repository import Repository

BATCH = 2000
"""Items a transaction: large enough that committing costs little, small enough to hold in memory."""
OPTIMIZE_AFTER = 20_000
"""Items added after which the load merges the search index into one segment (seconds at 1M)."""
MAX_REPORTED = 100
"""Bad lines listed one by one; beyond that only counted."""


class BadLine(ValueError):
    """A line that is not an item this loader can store."""


@dataclass
class LoadReport:
    read: int = 0
    added: int = 0
    duplicates: int = 0
    bad: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    """(line number, what is wrong), the first MAX_REPORTED."""

    def reject(self, number: int, why: str) -> None:
        self.bad += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append((number, why))


def numbered_objects(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line number, JSON text) of each item: a line each in JSON Lines; the elements of an array
    in the `json` format ("[", an object a line followed by ",", "]"), or of a one-line array."""
    in_array = False
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not in_array and number == 1 and text.startswith("["):
            try:
                whole = json.loads(text)
            except ValueError:
                in_array, text = True, text[1:].strip()
            else:
                if isinstance(whole, list):
                    yield from ((number, json.dumps(element)) for element in whole)
                    return
        if in_array:
            text = text.removesuffix(",").strip()
            if text == "]":
                continue
        if text:
            yield number, text


def load_row(chat_id: int | None, data: Any, now: str) -> LoadRow:
    """One export object as the row to store, in `chat_id` (None: the object's own chat_id, else the
    local chat); BadLine says what is wrong with it."""
    if not isinstance(data, dict):
        raise BadLine("not a JSON object")
    if chat_id is None:
        chat_id = _int(data.get("chat_id")) or LOCAL_CHAT
    url, title, text = data.get("url"), data.get("title"), data.get("text")
    for name, value in (("url", url), ("title", title), ("text", text)):
        if not isinstance(value, str) or not value.strip():
            raise BadLine(f"no {name}")
    assert isinstance(url, str) and isinstance(text, str)
    canonical = canonicalise(url)
    if canonical is None:
        raise BadLine(f"not a web address: {url[:200]!r}")
    authors = data.get("authors") or []
    if isinstance(authors, str):
        authors = [name.strip() for name in authors.split(";") if name.strip()]
    if not isinstance(authors, list) or not all(isinstance(name, str) for name in authors):
        raise BadLine("authors is not a list of names")
    site = _text(data, "site_name")
    domain = _text(data, "domain") or domain_of(canonical)
    published = _day(data.get("published_date"))
    extractive = _text(data, "summary_extractive")
    translated = _text(data, "summary_translated")
    if extractive is None and translated is None and data.get("summary_source") != "llm":
        extractive = _text(data, "summary")  # an export from before the two summaries were exported apart
    language = _text(data, "language")
    values = (
        chat_id, url, canonical, domain, "done", _text(data, "final_url"), title,
        json.dumps(authors, ensure_ascii=False), "; ".join(authors), site, f"{site or ''} {domain}".strip(),
        published, language, _text(data, "description"),
        text, hashlib.sha256(text.encode()).hexdigest(), extractive,
        _text(data, "summary_extractive_language") or (language if extractive else None),
        _text(data, "title_translated"), translated, _text(data, "translation_language"),
        _text(data, "translation_note"), _int(data.get("submitted_by")), _text(data, "submitted_by_name"),
        _int(data.get("message_id")), _int(data.get("thread_id")), _instant(data.get("submitted_at")) or now,
        _instant(data.get("fetched_at")), now, 1 if data.get("from_feed") else 0, "[]", 1,
        _choice(data.get("content_kind"), ("article", "pdf", "telegram_post")),
        _choice(data.get("access"), ("full", "partial")), _int(data.get("page_count")),
        _moment(data.get("published_at")), _links(data.get("post_links")),
    )
    return LoadRow(values, (title, text, "; ".join(authors), site, data.get("title_translated"), translated))


async def load_items(repository: Repository, chat_id: int | None, lines: Iterable[str],
                     progress: Callable[[LoadReport], None] | None = None) -> LoadReport:
    """Store every good item of `lines` in the chat (None: each in its own, as exported); what was
    added, skipped and refused."""
    report = LoadReport()
    await repository.bulk_merging(True)
    try:
        await _load(repository, chat_id, lines, report, progress)
    finally:
        await repository.bulk_merging(False)
    if report.added >= OPTIMIZE_AFTER:
        await repository.optimize_search_index()
    return report


async def _load(repository: Repository, chat_id: int | None, lines: Iterable[str], report: LoadReport,
                progress: Callable[[LoadReport], None] | None) -> None:
    now = iso(utc_now())
    writing: asyncio.Task[int] | None = None
    batch: list[LoadRow] = []

    async def finish_previous() -> None:
        nonlocal writing
        if writing is not None:
            report.added += await writing
            writing = None
            if progress:
                progress(report)

    for number, text in numbered_objects(lines):
        report.read += 1
        try:
            batch.append(load_row(chat_id, json.loads(text), now))
        except (ValueError, RecursionError) as error:  # json's errors are ValueErrors too
            report.reject(number, str(error) if isinstance(error, BadLine) else f"not JSON: {error}"[:200])
        if len(batch) == BATCH:
            await finish_previous()
            writing = asyncio.ensure_future(repository.load_rows(batch))  # written while the next batch is read
            batch = []
            await asyncio.sleep(0)
    await finish_previous()
    if batch:
        report.added += await repository.load_rows(batch)
    report.duplicates = report.read - report.bad - report.added


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _choice(value: Any, allowed: tuple[str, ...]) -> str:
    """One of `allowed`, the first when the value is missing or unknown."""
    return value if value in allowed else allowed[0]


def _links(value: Any) -> str | None:
    if isinstance(value, list) and all(isinstance(url, str) for url in value) and value:
        return json.dumps(value, ensure_ascii=False)
    return None


def _moment(value: Any) -> str | None:
    """An ISO 8601 moment kept with its own offset (a post's time as published)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return None


def _day(value: Any) -> str | None:
    try:
        return date.fromisoformat(value).isoformat() if isinstance(value, str) else None
    except ValueError:
        return None


def _instant(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))

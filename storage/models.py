"""Values the repository hands out: items, search results, statistics, chat settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True)
class Item:
    id: int
    chat_id: int
    url: str
    canonical_url: str
    status: str
    submitted_at: datetime
    domain: str = ""
    failure_reason: str | None = None
    failure_detail: str | None = None
    attempts: int = 0
    final_url: str | None = None
    title: str | None = None
    authors: tuple[str, ...] = ()
    site_name: str | None = None
    published_date: date | None = None
    language: str | None = None
    description: str | None = None
    text: str | None = None
    text_hash: str | None = None
    summary_extractive: str | None = None
    summary_extractive_language: str | None = None
    title_translated: str | None = None
    summary_translated: str | None = None
    translation_language: str | None = None
    translation_note: str | None = None
    submitted_by: int | None = None
    submitted_by_name: str | None = None
    message_id: int | None = None
    thread_id: int | None = None
    fetched_at: datetime | None = None

    @property
    def source(self) -> str:
        """The name a card shows for where the article comes from."""
        return self.site_name or self.domain or "?"

    @property
    def summary(self) -> str | None:
        """The summary a card shows: the translated one where there is one."""
        return self.summary_translated or self.summary_extractive

    @property
    def summary_language(self) -> str | None:
        return self.translation_language if self.summary_translated else self.summary_extractive_language

    @property
    def summary_source(self) -> str | None:
        if self.summary_translated:
            return "llm"
        return "extractive" if self.summary_extractive else None

    @property
    def display_date(self) -> date:
        """The publication date, or the day the link was submitted when the page gives none."""
        return self.published_date or self.submitted_at.date()


@dataclass(frozen=True)
class SearchHit:
    item: Item
    snippet: str
    """A short excerpt with matches between HIGHLIGHT_START and HIGHLIGHT_END markers."""


HIGHLIGHT_START, HIGHLIGHT_END = "\x02", "\x03"


@dataclass(frozen=True)
class SearchPage:
    query: str
    hits: tuple[SearchHit, ...]
    total: int
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.hits) < self.total


@dataclass(frozen=True)
class Stats:
    items: int
    pending: int
    failed: int
    sources: int
    last_7_days: int
    top_sources: tuple[tuple[str, int], ...] = ()
    failure_reasons: tuple[tuple[str, int], ...] = ()
    per_day: tuple[tuple[str, int], ...] = field(default=())


@dataclass(frozen=True)
class ChatSettings:
    chat_id: int
    language: str | None = None

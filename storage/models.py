"""Values the repository takes and hands out: items, search results, statistics, chat settings,
digest schedules and runs. Frozen dataclasses; statuses are StrEnums stored as their text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Protocol


class ItemStatus(StrEnum):
    PENDING = "pending"
    """Committed as soon as it is submitted; not yet fetched."""
    DONE = "done"
    FAILED = "failed"


PENDING, DONE, FAILED = ItemStatus.PENDING, ItemStatus.DONE, ItemStatus.FAILED


class ArticleRecord(Protocol):
    """What storing an article needs to know of it (the pipeline's Article is one)."""

    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def authors(self) -> Sequence[str]: ...
    @property
    def site_name(self) -> str | None: ...
    @property
    def published_date(self) -> date | None: ...
    @property
    def language(self) -> str | None: ...
    @property
    def description(self) -> str | None: ...


@dataclass(frozen=True)
class Item:
    id: int
    chat_id: int
    url: str
    canonical_url: str
    status: ItemStatus
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


HIGHLIGHT_START, HIGHLIGHT_END = "\x02", "\x03"


@dataclass(frozen=True)
class SearchHit:
    item: Item
    snippet: str
    """A short excerpt with matches between HIGHLIGHT_START and HIGHLIGHT_END markers."""


@dataclass(frozen=True)
class SearchPage:
    query: str
    hits: tuple[SearchHit, ...]
    total: int
    offset: int
    limit: int
    terms_dropped: int = 0
    """Terms of the query left out over storage.fts.MAX_TERMS."""

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


@dataclass(frozen=True)
class DigestSchedule:
    """A chat's daily digest: a local wall-clock time in an IANA zone."""

    chat_id: int
    at: time
    timezone: str
    enabled: bool
    quiet: bool
    """Say nothing on a day with no new items."""
    since: datetime
    """When it was last set: a run already past at that moment does not count as missed."""


class DigestStatus(StrEnum):
    SENDING = "sending"
    """Claimed; the parts are being sent (or a crash stopped it)."""
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Missed by more than the grace period; never sent."""


@dataclass(frozen=True)
class DigestRun:
    """One chat's digest of one local date, claimed before anything is sent."""

    chat_id: int
    local_date: date
    status: DigestStatus
    scheduled_for: datetime
    claimed_at: datetime
    send_started_at: datetime | None = None
    finished_at: datetime | None = None
    since: datetime | None = None
    """The items covered were submitted in [since, until)."""
    until: datetime | None = None
    item_count: int | None = None
    message_ids: tuple[int, ...] = ()
    """The parts delivered so far, in order."""
    sending_part: int | None = None
    """The part (0-based) whose sendMessage was in flight; None between parts."""
    language: str | None = None
    attempts: int = 0
    error: str | None = None


@dataclass(frozen=True)
class LinkAllowance:
    """How much of a chat's hourly link limit is in use: the links counted since the window began,
    and when the oldest of them leaves it (None when none is counted)."""

    used: int
    oldest: datetime | None = None


@dataclass(frozen=True)
class DeferredLink:
    """A link refused over the hourly limit, kept for the chat to release later."""

    id: int
    chat_id: int
    url: str
    deferred_at: datetime
    submitted_by: int | None = None
    submitted_by_name: str | None = None
    message_id: int | None = None
    thread_id: int | None = None


@dataclass(frozen=True)
class Batch:
    """The links of one message being processed together, and the bot's status message about them."""

    id: int
    chat_id: int
    item_ids: tuple[int, ...]
    """In the order they were posted."""
    created_at: datetime
    thread_id: int | None = None
    reply_to: int | None = None
    """The message that carried the links."""
    status_message_id: int | None = None
    cards_shown: int = 0
    finished_at: datetime | None = None


@dataclass(frozen=True)
class MemberUse:
    """How often a member used a costly command since some instant, and when last."""

    count: int
    first: datetime | None = None
    last: datetime | None = None

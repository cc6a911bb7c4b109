"""Values the repository takes and hands out: items, search results, statistics, chat settings,
digest schedules and runs. Frozen dataclasses; statuses are StrEnums stored as their text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol


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
    @property
    def content_kind(self) -> str: ...
    @property
    def access(self) -> str: ...
    @property
    def page_count(self) -> int | None: ...
    @property
    def published_at(self) -> str | None: ...
    @property
    def links(self) -> Sequence[str]: ...


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
    feed_id: int | None = None
    """The feed that brought it, when one did."""
    from_feed: bool = False
    """Its title, summary, date and author are the feed entry's: the page could not be read."""
    watch_ids: tuple[int, ...] = ()
    """The chat's watches it matched when it was stored."""
    content_kind: str = "article"
    """"article" (a web page), "pdf" or "telegram_post"."""
    access: str = "full"
    """"full", or "partial" when a paywall showed only part of the article."""
    page_count: int | None = None
    published_at: datetime | None = None
    """The moment it was published, when the source gives a time (a Telegram post)."""
    post_links: tuple[str, ...] = ()
    """Links the source offers to follow up (a Telegram post's)."""
    story_id: int | None = None
    """The story (one event, many outlets) it belongs to, once grouped."""
    same_as: int | None = None
    """The item holding the same article, when this one turned out to be it under another address."""

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
    more: bool = False
    """`total` is a lower bound: there are more matches than were counted (over
    storage.search.CANDIDATES, or beyond where the time budget let the search look)."""
    too_broad: bool = False
    """The time budget ran out before a page of results was found: the query needs another word."""

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
class DatabaseReport:
    """What a look at the database file found (`newsdesk check`)."""

    path: Path
    exists: bool
    latest_version: int
    """The schema version this program brings a database to."""
    schema_version: int | None = None
    writable: bool | None = None
    integrity: str | None = None
    """"ok", or the first problems PRAGMA quick_check found; None when not checked."""
    items: int | None = None
    size_bytes: int = 0
    free_bytes: int | None = None
    """Free space on the database's file system."""
    problem: str | None = None
    """Why the file could not be opened or written, in words."""
    damaged: bool = False
    """The file opens, but is not a sound SQLite database (a restore is the fix, not another path)."""


@dataclass(frozen=True)
class BackupReport:
    """A verified copy of the database: where, how big, what it holds."""

    path: Path
    size_bytes: int
    items: int
    schema_version: int
    seconds: float


@dataclass(frozen=True)
class LockHolder:
    """The running bot that holds a database's lock, and when it last showed it is alive."""

    pid: int | None
    last_beat: datetime


class BackupStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class BackupRun:
    """One day's scheduled backup (BACKUP_DIR), as recorded in the database."""

    day: date
    status: BackupStatus
    attempts: int
    started_at: datetime
    finished_at: datetime | None = None
    path: str | None = None
    size_bytes: int | None = None
    items: int | None = None
    error: str | None = None
# -- monitoring: feeds, watches, the outbox ---------------------------------------------------


class FeedMode(StrEnum):
    ANNOUNCE = "announce"
    """Each new item's card is posted in the chat."""
    DIGEST = "digest"
    """New items are collected silently, for the digest."""


class FeedStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    """Failing for too long; /follow again resumes it."""


@dataclass(frozen=True)
class Feed:
    """A feed a chat follows, and the state of its polling."""

    id: int
    chat_id: int
    url: str
    mode: FeedMode
    status: FeedStatus
    interval_seconds: int
    next_check_at: datetime
    created_at: datetime
    title: str | None = None
    site_url: str | None = None
    thread_id: int | None = None
    added_by: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_check_at: datetime | None = None
    last_new_at: datetime | None = None
    errors: int = 0
    last_error: str | None = None
    failing_since: datetime | None = None
    failure_reported_at: datetime | None = None
    polled_once: bool = False

    @property
    def name(self) -> str:
        return self.title or self.url


@dataclass(frozen=True)
class FeedEntryRecord:
    """What a chat keeps of one feed entry: its key, and its own words for when the page fails."""

    entry_key: str
    title: str | None = None
    summary: str | None = None
    author: str | None = None
    published: date | None = None


@dataclass(frozen=True)
class Watch:
    """A standing search: new items of the chat that match `query` raise an alert."""

    id: int
    chat_id: int
    query: str
    created_at: datetime
    thread_id: int | None = None
    created_by: int | None = None


class OutboxKind(StrEnum):
    CARD = "card"
    """A new item from a feed in announce mode, or a link a worker processed (`reply_to` its message)."""
    ALERT = "alert"
    """A new item that matched watches; payload {"watches": [ids]}."""
    NOTICE = "notice"
    """A word about a feed; payload {"key": ..., "values": {...}}."""


class OutboxStatus(StrEnum):
    WAITING = "waiting"
    SENDING = "sending"
    SENT = "sent"
    DROPPED = "dropped"


@dataclass(frozen=True)
class OutboxMessage:
    """Something still to be said in a chat."""

    id: int
    chat_id: int
    kind: OutboxKind
    status: OutboxStatus
    created_at: datetime
    thread_id: int | None = None
    item_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    attempts: int = 0
    reply_to: int | None = None
    """The chat's message a card answers (a link posted there and processed by a worker)."""


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

"""Plain values passed along the pipeline: a fetched page, an extracted article, a summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class FetchedPage:
    url: str
    final_url: str
    status_code: int
    content_type: str
    body: bytes
    """The body with any Content-Encoding undone, still in the page's own charset."""
    encoding: str | None
    """The page's charset as a Python codec name: from the headers, the page itself, or detected."""
    etag: str | None = None
    last_modified: str | None = None
    """The validators a conditional request sends back (feeds)."""

    @property
    def not_modified(self) -> bool:
        """A conditional request answered 304: nothing changed, and there is no body."""
        return self.status_code == 304


@dataclass(frozen=True)
class Article:
    title: str
    text: str
    authors: tuple[str, ...] = ()
    site_name: str | None = None
    published_date: date | None = None
    language: str | None = None
    description: str | None = None
    content_kind: str = "article"
    """"article" (a web page), "pdf" or "telegram_post"."""
    access: str = "full"
    """"full", or "partial" when a paywall showed only part of it (bot/pipeline/paywall.py)."""
    page_count: int | None = None
    """A PDF's pages."""
    published_at: str | None = None
    """The moment, ISO 8601 with its offset, when the source gives a time too (a Telegram post)."""
    links: tuple[str, ...] = ()
    """Links the source offers to follow up (a Telegram post's links)."""


@dataclass(frozen=True)
class Summary:
    text: str
    language: str | None
    source: str
    """"extractive" or "llm"."""
    title_translated: str | None = None
    fallback_reason: str | None = None
    """Why a language-model summary was asked for but the extractive one is used."""

"""How the command line prints: plain-text cards and lines, JSON objects, a progress bar, and
opening what a command needs (the repository alone, or every service)."""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.config import Settings
from bot.desk.links import resume_pending
from bot.services import Services
from storage.models import DONE, Item
from storage.repository import Repository

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def plain_text(html_text: str) -> str:
    """Telegram HTML as terminal text: links become "title (url)", other tags go, entities unescape."""
    linked = re.sub(r'<a href="([^"]*)">(.*?)</a>', lambda m: f"{m.group(2)} ({m.group(1)})", html_text)
    return html.unescape(re.sub(r"</?[a-z][^>]*>", "", linked))


def card_text(item: Item) -> str:
    """An item as a plain-text card for the terminal."""
    if item.status != DONE:
        reason = f": {item.failure_detail}" if item.failure_detail else ""
        return f"[{item.id}] {item.status} {item.url}{reason}\n"
    lines = [f"[{item.id}] {item.source} — {item.display_date:%d.%m.%Y}"]
    if item.authors:
        lines.append(", ".join(item.authors))
    lines.append(item.title or item.url)
    if item.title_translated:
        lines.append(item.title_translated)
    lines += ["", item.summary or "", "", item.canonical_url]
    lines.append(f"site: {item.site_name or item.domain} · language: {item.language or '?'}")
    if item.content_kind == "pdf":
        lines.append(f"PDF, {item.page_count} page{'' if item.page_count == 1 else 's'}")
    if item.published_at is not None:
        lines.append(f"posted: {item.published_at.isoformat()}")
    if item.access == "partial":
        lines.append("paywalled: summary from the visible part")
    if item.post_links:
        lines.append("the post links to: " + " ".join(item.post_links))
    return "\n".join(lines) + "\n"


def line_text(item: Item) -> str:
    return f"[{item.id}] {item.source} — {item.display_date:%d.%m.%Y} — {item.title or item.url}\n"


def emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    """One result: a JSON object with --json, else the text."""
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(text, end="" if text.endswith("\n") else "\n")


def complain(message: str) -> None:
    print(f"newsdesk: {message}", file=sys.stderr)


class Progress:
    """A one-line progress bar on stderr (only when it is a terminal)."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total, self.done = total, 0
        self.enabled = enabled and sys.stderr.isatty() and total > 0

    def advance(self) -> None:
        self.done += 1
        if self.enabled:
            filled = int(30 * self.done / self.total)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


@asynccontextmanager
async def open_repository(settings: Settings) -> AsyncIterator[Repository]:
    repository = await Repository.open(settings.database)
    try:
        yield repository
    finally:
        await repository.close()


@asynccontextmanager
async def open_services(settings: Settings, chat_id: int) -> AsyncIterator[Services]:
    """Open everything, and first finish the links this chat left pending (a killed run).

    Only this chat's: a bot sharing the database may be working on its own chats' links."""
    services = await Services.open(settings)
    try:
        await resume_pending(services, chat_id=chat_id)
        yield services
    finally:
        await services.aclose()

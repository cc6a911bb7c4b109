"""The `newsdesk` command: run the bot, or work with the store from a terminal.

Every command takes --chat=ID (the chat whose items it works on; 0, the default, is a local
chat of the terminal's own) and --json (one JSON object per item, for scripts).
Exit codes: 0 done; 1 when any link failed (reasons printed); 2 for usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

from bot.config import Settings, SettingsError
from bot.pipeline.errors import IngestError
from bot.pipeline.ingest import Submitter
from bot.export import export_csv, item_json
from bot.logs import configure_logging
from bot.services import Services
from storage.models import DONE, FAILED, Item
from storage.repository import Repository

LOCAL_CHAT = 0
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    load_dotenv(override=False)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"newsdesk: {error}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings)
    if args.command == "run":
        from bot.app import run_bot

        return run_bot(settings)
    try:
        return asyncio.run(args.handler(settings, args))
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--chat", type=int, default=LOCAL_CHAT, help="chat id (default: the local chat, 0)")
    common.add_argument("--json", action="store_true", help="print JSON, one object per line")
    parser = argparse.ArgumentParser(prog="newsdesk", description="Newsdesk: a Telegram bot for news-monitoring desks.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="run the Telegram bot")
    add = commands.add_parser("add", parents=[common], help="fetch and store articles")
    add.add_argument("urls", nargs="+", metavar="URL")
    add.set_defaults(handler=add_command)
    latest = commands.add_parser("latest", parents=[common], help="the latest stored items")
    latest.add_argument("-n", type=int, default=10, help="how many (default 10)")
    latest.set_defaults(handler=latest_command)
    search = commands.add_parser("search", parents=[common], help="full-text search")
    search.add_argument("query", nargs="+")
    search.add_argument("-n", type=int, default=10, help="how many results (default 10)")
    search.set_defaults(handler=search_command)
    show = commands.add_parser("show", parents=[common], help="one item, with its text")
    show.add_argument("id", type=int)
    show.set_defaults(handler=show_command)
    import_ = commands.add_parser("import", parents=[common], help="add every URL in a file (one a line)")
    import_.add_argument("file", type=Path)
    import_.set_defaults(handler=import_command)
    export = commands.add_parser("export", parents=[common], help="export the chat's items")
    export.add_argument("--format", choices=("csv", "json", "md"), default="json")
    export.set_defaults(handler=export_command)
    resummarize = commands.add_parser("resummarize", parents=[common],
                                      help="ask the language model again for an item's summary")
    resummarize.add_argument("id", type=int)
    resummarize.set_defaults(handler=resummarize_command)
    retry = commands.add_parser("retry", parents=[common], help="fetch failed links again")
    retry.add_argument("ids", nargs="*", type=int, help="item ids (default: every failed link)")
    retry.set_defaults(handler=retry_command)
    digest = commands.add_parser("digest", parents=[common], help="print the chat's digest as plain text")
    digest.add_argument("--date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="the digest of that local date (default: since the previous digest, until now)")
    digest.set_defaults(handler=digest_command)
    return parser


# -- commands ----------------------------------------------------------------------------


async def add_command(settings: Settings, args: argparse.Namespace) -> int:
    async with _services(settings, args.chat) as services:
        results = await asyncio.gather(
            *(_ingest_one(services, args.chat, url) for url in args.urls)
        )
    failed = 0
    for url, outcome in zip(args.urls, results, strict=True):
        if isinstance(outcome, IngestError):
            failed += 1
            _emit(args, {"url": url, "status": FAILED, "failure_reason": outcome.reason,
                         "failure_detail": str(outcome)}, f"✗ {url}\n  {outcome}\n")
            continue
        item, is_new = outcome
        if item.status == FAILED:
            failed += 1
        note = "" if is_new or item.status != DONE else f"(already saved on {item.submitted_at:%d.%m.%Y})\n"
        _emit(args, item_json(item), note + card_text(item))
    return EXIT_FAILED if failed else EXIT_OK


async def latest_command(settings: Settings, args: argparse.Namespace) -> int:
    async with _repository(settings) as repository:
        items = await repository.latest(args.chat, limit=max(1, args.n))
    for item in items:
        _emit(args, item_json(item), line_text(item))
    if not items and not args.json:
        print("No items yet.")
    return EXIT_OK


async def search_command(settings: Settings, args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    async with _repository(settings) as repository:
        page = await repository.search(args.chat, query, limit=max(1, args.n))
    if not args.json:
        print(f"{page.total} found for {query!r}")
    for hit in page.hits:
        snippet = hit.snippet.replace("\x02", "[").replace("\x03", "]")
        _emit(args, item_json(hit.item) | {"snippet": snippet}, line_text(hit.item) + f"    {snippet}\n")
    return EXIT_OK


async def show_command(settings: Settings, args: argparse.Namespace) -> int:
    async with _repository(settings) as repository:
        item = await repository.get(args.id, chat_id=args.chat)
    if item is None:
        print(f"newsdesk: no item {args.id} in chat {args.chat}", file=sys.stderr)
        return EXIT_FAILED
    _emit(args, item_json(item, with_text=True), card_text(item) + f"\n{item.text or ''}\n")
    return EXIT_OK


async def import_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        lines = args.file.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        print(f"newsdesk: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    urls = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    async with _services(settings, args.chat) as services:
        submissions, refused = [], []
        for url in urls:  # every link is committed as pending before any is fetched
            try:
                submissions.append(await services.ingestor.submit(args.chat, url, Submitter(name="import")))
            except IngestError as error:
                refused.append((url, error))
        to_process = {s.item.id: s.item for s in submissions if s.item.status != DONE}
        progress = _Progress(len(to_process), enabled=not args.json)
        async def process(item: Item) -> Item:
            result = await services.ingestor.process(item)
            progress.advance()
            return result
        processed = await asyncio.gather(*(process(item) for item in to_process.values()))
        progress.close()
    done = sum(1 for s in submissions if s.item.status == DONE) + sum(1 for i in processed if i.status == DONE)
    failures = [(i.url, i.failure_reason or "?") for i in processed if i.status == FAILED]
    failures += [(url, error.reason) for url, error in refused]
    summary = {"links": len(urls), "done": done, "failed": len(failures),
               "already_stored": len(submissions) - len(to_process),
               "failures": [{"url": u, "reason": r} for u, r in failures]}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(f"{len(urls)} links: {done} stored ({summary['already_stored']} already there), {len(failures)} failed")
        for reason, count in Counter(r for _, r in failures).most_common():
            print(f"  {reason}: {count}")
        for url, reason in failures[:50]:
            print(f"  ✗ {url} — {reason}")
    return EXIT_FAILED if failures else EXIT_OK


async def export_command(settings: Settings, args: argparse.Namespace) -> int:
    async with _repository(settings) as repository:
        items = [item async for item in repository.all_items(args.chat)]
    out = sys.stdout
    if args.format == "json":
        for item in items:
            out.write(json.dumps(item_json(item, with_text=True), ensure_ascii=False) + "\n")
    elif args.format == "csv":
        out.write(export_csv(items))
    else:
        for item in items:
            out.write(card_text(item) + "\n")
    return EXIT_OK


async def resummarize_command(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.llm_enabled:
        print("newsdesk: no language model is configured (LLM_BASE_URL, LLM_MODEL)", file=sys.stderr)
        return EXIT_USAGE
    async with _services(settings, args.chat) as services:
        item = await services.repository.get(args.id, chat_id=args.chat)
        if item is None:
            print(f"newsdesk: no item {args.id} in chat {args.chat}", file=sys.stderr)
            return EXIT_FAILED
        item = await services.translate(item, language=await services.language_of(args.chat))
    _emit(args, item_json(item), card_text(item) + (f"({item.translation_note})\n" if item.translation_note else ""))
    return EXIT_FAILED if item.summary_source != "llm" else EXIT_OK


async def retry_command(settings: Settings, args: argparse.Namespace) -> int:
    async with _services(settings, args.chat) as services:
        if args.ids:
            items = [i for i in [await services.repository.get(x, chat_id=args.chat) for x in args.ids] if i]
        else:
            items = [i async for i in services.repository.all_items(args.chat, status=FAILED)]
        results = await asyncio.gather(
            *(services.ingestor.process(item) for item in items if item.status == FAILED)
        )
    for item in results:
        _emit(args, item_json(item), line_text(item))
    return EXIT_FAILED if any(i.status == FAILED for i in results) else EXIT_OK


async def digest_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot.digest import digest_for_date, digest_now

    async with _repository(settings) as repository:
        language = (await repository.chat_settings(args.chat)).language or settings.default_language
        if args.date:
            parts = await digest_for_date(repository, args.chat, args.date, language=language,
                                          default_timezone=settings.default_timezone)
        else:
            parts = await digest_now(repository, args.chat, language=language,
                                     default_timezone=settings.default_timezone)
    print("\n\n".join(plain_text(part) for part in parts))
    return EXIT_OK


# -- output ------------------------------------------------------------------------------

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
    lines.append("")
    lines.append(item.summary or "")
    lines.append("")
    lines.append(item.canonical_url)
    lines.append(f"site: {item.site_name or item.domain} · language: {item.language or '?'}")
    return "\n".join(lines) + "\n"


def line_text(item: Item) -> str:
    return f"[{item.id}] {item.source} — {item.display_date:%d.%m.%Y} — {item.title or item.url}\n"


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(text, end="" if text.endswith("\n") else "\n")


class _Progress:
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


async def _ingest_one(services: Services, chat_id: int, url: str) -> tuple[Item, bool] | IngestError:
    try:
        submission = await services.ingestor.ingest(chat_id, url, Submitter(name="cli"))
    except IngestError as error:
        return error
    item = submission.item
    if submission.is_new and item.status == DONE:
        item = await services.translate(item, language=await services.language_of(chat_id))
    return item, submission.is_new


@asynccontextmanager
async def _repository(settings: Settings) -> AsyncIterator[Repository]:
    repository = await Repository.open(settings.database_path)
    try:
        yield repository
    finally:
        await repository.close()


@asynccontextmanager
async def _services(settings: Settings, chat_id: int) -> AsyncIterator[Services]:
    """Open everything, and first finish the links this chat left pending (a killed run).

    Only this chat's: a bot sharing the database may be working on its own chats' links."""
    services = await Services.open(settings)
    try:
        await services.ingestor.resume_pending(chat_id=chat_id)
        yield services
    finally:
        await services.aclose()


if __name__ == "__main__":
    raise SystemExit(main())

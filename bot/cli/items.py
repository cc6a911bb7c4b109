"""`newsdesk add`, `import`, `latest`, `search`, `show`, `export`, `retry`, `resummarize`: the
chat's items from a terminal. Links go through the same use case as links posted in Telegram."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from bot.cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Progress,
    card_text,
    complain,
    emit,
    line_text,
    open_repository,
    open_services,
)
from bot.clock import utc_now
from bot.config import Settings
from bot.desk.links import Fate, LinkOutcome, process_links, submit_links
from bot.desk.stories import other_versions
from bot.export import ExportFormat, export_format, export_items, item_json
from bot.pipeline.ingest import Submitter
from bot.services import Services
from storage.models import DONE, FAILED, Item

ID_MAX = 2**63 - 1
"""The largest id (or count) the database can hold."""


def positive(text: str) -> int:
    """An argparse type: a whole number from 1 to ID_MAX (an item id, a count)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= ID_MAX:
        raise argparse.ArgumentTypeError(f"must be from 1 to {ID_MAX}: {text}")
    return value


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """The item commands' arguments."""
    add = commands.add_parser("add", parents=[common], help="fetch and store articles")
    add.add_argument("urls", nargs="+", metavar="URL")
    add.set_defaults(handler=add_command)
    latest = commands.add_parser("latest", parents=[common], help="the latest stored items")
    latest.add_argument("-n", type=positive, default=10, help="how many (default 10)")
    latest.add_argument("--before", type=positive, metavar="ID",
                        help="the items listed after item ID (the next page)")
    latest.set_defaults(handler=latest_command)
    search = commands.add_parser("search", parents=[common], help="full-text search (a query may start with -)")
    search.add_argument("query", nargs="+")
    search.add_argument("-n", type=positive, default=10, help="how many results (default 10)")
    search.set_defaults(handler=search_command)
    show = commands.add_parser("show", parents=[common], help="one item, with its text")
    show.add_argument("id", type=positive)
    show.set_defaults(handler=show_command)
    import_ = commands.add_parser("import", parents=[common], help="add every URL in a file (one a line)")
    import_.add_argument("file", type=Path)
    import_.set_defaults(handler=import_command)
    export = commands.add_parser("export", parents=[common], help="export the chat's items")
    export.add_argument("--format", type=_format, default=ExportFormat.JSON, metavar="json|jsonl|csv|md",
                        help="json: one array; jsonl: one object a line; csv; md: Markdown (default json)")
    export.set_defaults(handler=export_command)
    resummarize = commands.add_parser("resummarize", parents=[common],
                                      help="ask the language model again for an item's summary")
    resummarize.add_argument("id", type=positive)
    resummarize.set_defaults(handler=resummarize_command)
    retry = commands.add_parser("retry", parents=[common], help="fetch failed links again")
    retry.add_argument("ids", nargs="*", type=positive, help="item ids (default: every failed link)")
    retry.set_defaults(handler=retry_command)


async def add_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, args.chat) as services:
        outcome = await submit_links(services, args.chat, args.urls, Submitter(name="cli"), hourly_limit=False)
        processed = {item.id: item for item in await process_links(services, outcome.to_process)}
        for item_id, item in processed.items():
            processed[item_id] = await _translated(services, item)
    failed = 0
    for link in outcome.links:
        if link.item is None:
            failed += 1
            _emit_refusal(args, link)
            continue
        item = processed.get(link.item.id, link.item)
        failed += item.status == FAILED
        note = "" if link.fate != Fate.ALREADY_SAVED else f"(already saved on {item.submitted_at:%d.%m.%Y})\n"
        emit(args, item_json(item), note + card_text(item))
    return EXIT_FAILED if failed else EXIT_OK


def _emit_refusal(args: argparse.Namespace, link: LinkOutcome) -> None:
    reason = link.error.reason if link.error else str(link.fate)
    detail = str(link.error) if link.error else "the database is unavailable"
    emit(args, {"url": link.url, "status": FAILED, "failure_reason": reason, "failure_detail": detail},
         f"✗ {link.url}\n  {detail}\n")


async def _translated(services: Services, item: Item) -> Item:
    if item.status != DONE:
        return item
    return await services.translate(item, language=await services.language_of(item.chat_id))


async def import_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        lines = args.file.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        complain(f"cannot read {args.file}: {error.strerror}")
        return EXIT_USAGE
    urls = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    async with open_services(settings, args.chat) as services:
        # every link is committed as pending before any is fetched
        outcome = await submit_links(services, args.chat, urls, Submitter(name="import"), hourly_limit=False)
        progress = Progress(len(outcome.to_process), enabled=not args.json)

        async def advance(_: Item) -> None:
            progress.advance()

        processed = await process_links(services, outcome.to_process, on_finished=advance)
        progress.close()
    already = outcome.having(Fate.ALREADY_SAVED, Fate.IN_PROGRESS)
    done = len(outcome.already_saved) + sum(1 for item in processed if item.status == DONE)
    failures = [(item.url, item.failure_reason or "?") for item in processed if item.status == FAILED]
    failures += [(link.url, link.error.reason if link.error else str(link.fate))
                 for link in outcome.having(Fate.REFUSED, Fate.HELD)]
    summary = {"links": len(urls), "done": done, "failed": len(failures), "already_stored": len(already),
               "failures": [{"url": url, "reason": reason} for url, reason in failures]}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(f"{len(urls)} links: {done} stored ({len(already)} already there), {len(failures)} failed")
        for reason, count in Counter(reason for _, reason in failures).most_common():
            print(f"  {reason}: {count}")
        for url, reason in failures[:50]:
            print(f"  ✗ {url} — {reason}")
    return EXIT_FAILED if failures else EXIT_OK


async def latest_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_repository(settings) as repository:
        items = await repository.latest(args.chat, limit=max(1, args.n), before=args.before)
    for item in items:
        emit(args, item_json(item), line_text(item))
    if not items and not args.json:
        print("No items yet.")
    return EXIT_OK


async def search_command(settings: Settings, args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    async with open_repository(settings) as repository:
        page = await repository.search(args.chat, query, limit=max(1, args.n))
    if not args.json:
        total = f"{page.total}+" if page.more else str(page.total)
        print(f"{total} found for {query!r}" if page.hits or not page.too_broad
              else f"{query!r} is too broad to search in time: add a word")
    for hit in page.hits:
        snippet = hit.snippet.replace("\x02", "[").replace("\x03", "]")
        emit(args, item_json(hit.item) | {"snippet": snippet}, line_text(hit.item) + f"    {snippet}\n")
    return EXIT_OK


async def show_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_repository(settings) as repository:
        item = await repository.get(args.id, chat_id=args.chat)
        versions = await other_versions(repository, item) if item is not None else []
    if item is None:
        complain(f"no item {args.id} in chat {args.chat}")
        return EXIT_FAILED
    data = item_json(item, with_text=True) | {"story_items": [v.id for v in versions]}
    also = "".join(f"also: {line_text(v)}" for v in versions)
    emit(args, data, card_text(item) + f"\n{item.text or ''}\n" + (f"\n{also}" if also else ""))
    return EXIT_OK


def _format(name: str) -> ExportFormat:
    found = export_format(name)
    if found is None:
        raise argparse.ArgumentTypeError(f"{name!r} is not a format: choose json, jsonl, csv or md")
    return found


async def export_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_repository(settings) as repository:
        items = [item async for item in repository.all_items(args.chat)]
    heading = f"Newsdesk: chat {args.chat}, {utc_now():%d.%m.%Y}"
    sys.stdout.write(export_items(items, args.format, heading=heading))
    return EXIT_OK


async def resummarize_command(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.llm_enabled:
        complain("no language model is configured (LLM_BASE_URL, LLM_MODEL)")
        return EXIT_USAGE
    async with open_services(settings, args.chat) as services:
        item = await services.repository.get(args.id, chat_id=args.chat)
        if item is None:
            complain(f"no item {args.id} in chat {args.chat}")
            return EXIT_FAILED
        item = await services.translate(item, language=await services.language_of(args.chat))
    emit(args, item_json(item), card_text(item) + (f"({item.translation_note})\n" if item.translation_note else ""))
    return EXIT_FAILED if item.summary_source != "llm" else EXIT_OK


async def retry_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, args.chat) as services:
        if args.ids:
            found = [await services.repository.get(x, chat_id=args.chat) for x in args.ids]
            items = [item for item in found if item is not None]
        else:
            items = [item async for item in services.repository.all_items(args.chat, status=FAILED)]
        results = await process_links(services, [item for item in items if item.status == FAILED])
    for item in results:
        emit(args, item_json(item), line_text(item))
    return EXIT_FAILED if any(item.status == FAILED for item in results) else EXIT_OK

"""`newsdesk load FILE [--chat=ID]`: items from an export file, stored without fetching; and
`newsdesk migrate --to URL`: the whole desk from its SQLite file to a PostgreSQL database."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from bot.cli.output import EXIT_FAILED, EXIT_OK, complain, open_repository
from bot.config import Settings
from bot.desk.load import LoadReport, load_items
from bot.desk.transfer import migrate_desk


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # its own --chat (not the common one, whose default is the local chat): without it, each item
    # goes back to the chat it was exported from
    load = commands.add_parser(
        "load", help="store the items of a JSON Lines export (newsdesk export --format jsonl) without fetching")
    load.add_argument("file", help="the file, or - for standard input")
    load.add_argument("--chat", type=int, default=None,
                      help="the chat to load into (default: each item's own chat, as exported)")
    load.add_argument("--json", action="store_true", help="print the counts as one JSON object")
    load.set_defaults(handler=load_command)

    migrate = commands.add_parser(
        "migrate", help="copy the whole desk from its SQLite file to an empty PostgreSQL database (bot stopped)")
    migrate.add_argument("--to", required=True, metavar="URL",
                         help="the PostgreSQL database, postgresql://user:password@host:5432/database")
    migrate.add_argument("--json", action="store_true", help="print the rows copied per table as one JSON object")
    migrate.set_defaults(handler=migrate_command)


async def load_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        source = _open(args.file)
    except OSError as error:
        complain(f"cannot read {args.file}: {error.strerror or error}")
        return EXIT_FAILED
    started = time.monotonic()
    with source:
        async with open_repository(settings) as repository:
            progress = _progress if sys.stderr.isatty() else None
            report = await load_items(repository, args.chat, source, progress=progress)
    seconds = time.monotonic() - started
    for number, why in report.problems:
        print(f"line {number}: {why}", file=sys.stderr)
    if report.bad > len(report.problems):
        print(f"... and {report.bad - len(report.problems)} more bad lines", file=sys.stderr)
    summary = {"read": report.read, "added": report.added, "duplicates": report.duplicates, "bad": report.bad,
               "seconds": round(seconds, 2), "items_per_second": round(report.added / seconds) if seconds else None}
    if args.json:
        print(json.dumps(summary))
    else:
        where = f"chat {args.chat}" if args.chat is not None else "their chats"
        print(f"Loaded {report.added} items into {where} ({report.duplicates} already there, "
              f"{report.bad} bad lines) in {seconds:.1f} s.")
    return EXIT_FAILED if report.bad else EXIT_OK


async def migrate_command(settings: Settings, args: argparse.Namespace) -> int:
    report = await migrate_desk(settings, args.to)
    if args.json:
        print(json.dumps({"rows": report.rows, "seconds": round(report.seconds, 2)}))
    else:
        print(f"Copied {report.items} items and {sum(report.rows.values()) - report.items} other rows from "
              f"{settings.database_path} in {report.seconds:.1f} s. Set NEWSDESK_DB to the new database "
              "and start the bot; keep the SQLite file until you are sure.")
    return EXIT_OK


def _open(name: str) -> TextIO:
    """The file to read (closed by the caller's `with`), standard input for "-"."""
    return sys.stdin if name == "-" else Path(name).open(encoding="utf-8", errors="replace")


def _progress(report: LoadReport) -> None:
    print(f"\r{report.added} items...", end="", file=sys.stderr, flush=True)

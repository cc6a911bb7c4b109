"""The `newsdesk` command: run the bot, or work with the store from a terminal.

Every command but `run` takes --chat=ID (the chat whose items it works on; 0, the default, is a
local chat of the terminal's own) and --json (one JSON object per item, for scripts).
Exit codes: 0 done; 1 when any link failed (reasons printed); 2 for usage errors and settings
that cannot be used (a service manager should not restart on those).
Each group of commands declares its arguments in its own module (`add_parsers`).

Settings come from the environment, and from the first `.env` found in the working directory or
above it, or the file `--env-file` names (the environment wins).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from dotenv import find_dotenv, load_dotenv

from bot.cli import digests, items, load, monitoring, operations, stories, worker
from bot.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, complain
from bot.config import LOCAL_CHAT, Settings, SettingsError
from bot.logs import configure_logging
from storage.errors import StorageError


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(query_words_last(list(sys.argv[1:] if argv is None else argv)))
    if args.env_file is None:
        args.env_file = find_dotenv(usecwd=True) or None  # the working directory first, not where the code is
    elif not os.path.isfile(args.env_file) or not os.access(args.env_file, os.R_OK):
        complain(f"cannot read the settings file {args.env_file}")
        return EXIT_USAGE
    if args.env_file:
        load_dotenv(args.env_file, override=False)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        if args.command == "check":
            return operations.report_bad_settings(error, args)
        for problem in error.problems:
            complain(f"{problem.message}" + (f" ({problem.fix})" if problem.fix else ""))
        return EXIT_USAGE
    configure_logging(settings)
    if args.command == "run":
        from bot.telegram.app import run_bot  # imports python-telegram-bot, which the other commands do not need

        return run_bot(settings, env_file=args.env_file)
    try:
        code: int = asyncio.run(args.handler(settings, args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_went_away()
    except StorageError as error:  # the database cannot be opened or written: one line, not a traceback
        complain(str(error))
        return EXIT_FAILED
    return code


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--chat", type=int, default=LOCAL_CHAT, help="chat id (default: the local chat, 0)")
    common.add_argument("--json", action="store_true", help="print JSON, one object per line")
    parser = argparse.ArgumentParser(prog="newsdesk", description="Newsdesk: a Telegram bot for news-monitoring desks.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--env-file", metavar="PATH",
                        help="read settings from this file (default: the first .env in this folder or above)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="run the Telegram bot")
    items.add_parsers(commands, common)
    digests.add_parsers(commands, common)
    operations.add_parsers(commands, common)
    monitoring.add_parsers(commands, common)
    load.add_parsers(commands)
    stories.add_parsers(commands, common)
    worker.add_parsers(commands)
    return parser


def _version() -> str:
    try:
        return version("newsdesk")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


SEARCH_OPTIONS_WITH_VALUE = ("--chat", "-n")
SEARCH_FLAGS = ("--json", "-h", "--help")


def query_words_last(argv: list[str]) -> list[str]:
    """`newsdesk search -turkey grain`: a search word may start with "-" (an exclusion), which
    argparse would take for an option. The search's own options are moved first, in order, and
    the words of the query after a "--", so every word is read as part of the query."""
    if not argv or argv[0] not in ("search", "watch") or "--" in argv:  # a watch is written as a search
        return argv
    options: list[str] = []
    words: list[str] = []
    rest = iter(argv[1:])
    for word in rest:
        if word in SEARCH_FLAGS or word.startswith(tuple(f"{o}=" for o in SEARCH_OPTIONS_WITH_VALUE)):
            options.append(word)
        elif word in SEARCH_OPTIONS_WITH_VALUE:
            options += [word, next(rest, "")]
        else:
            words.append(word)
    return [argv[0], *options, "--", *words] if words else [argv[0], *options]


def _reader_went_away() -> int:
    """`newsdesk export | head`: the reader closed the pipe; stop quietly, as `cat` does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python's last flush at exit would fail again
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())

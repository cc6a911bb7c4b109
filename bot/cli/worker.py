"""`newsdesk worker`: process the links and feed polls of every chat, apart from the bot, on a
PostgreSQL database that any number of workers and bot replicas share (bot/desk/worker.py)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from dataclasses import replace
from datetime import timedelta

from bot.cli.output import EXIT_OK, EXIT_USAGE, complain, emit
from bot.config import Settings
from bot.desk.worker import run_worker
from bot.pipeline.ingest import DEFAULT_LEASE
from bot.services import Services


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser("worker", help="process pending links and due feeds (PostgreSQL; SIGTERM stops)")
    worker.add_argument("--concurrency", type=_at_least_one, default=None, metavar="N",
                        help="links processed at once (default: INGEST_CONCURRENCY)")
    worker.add_argument("--once", action="store_true",
                        help="process what is pending now (links another worker holds: once they end or come free), "
                             "then exit")
    worker.add_argument("--json", action="store_true", help="print what it did as one JSON object")
    worker.add_argument("--lease", type=_seconds, default=DEFAULT_LEASE, metavar="SECONDS",
                        help=f"how long a claim on a link lasts unless renewed (default "
                             f"{int(DEFAULT_LEASE.total_seconds())}): a dead worker's links wait this long")
    worker.add_argument("--no-feeds", dest="feeds", action="store_false", help="leave feed polls to others")
    worker.set_defaults(handler=worker_command)


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1: {text!r}")
    return int(text)


def _seconds(text: str) -> timedelta:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 1 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"must be from 1 to 3600 seconds: {text}")
    return timedelta(seconds=seconds)


async def worker_command(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.uses_postgres:
        complain("workers share a PostgreSQL database with the bot (NEWSDESK_DB=postgresql://...); a SQLite file "
                 "belongs to the one bot process that holds it, which processes its links itself")
        return EXIT_USAGE
    concurrency = args.concurrency or settings.ingest_concurrency
    services = await Services.open(replace(settings, ingest_concurrency=concurrency), lease=args.lease)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        tally = await run_worker(services, concurrency=concurrency, once=args.once, feeds=args.feeds, stop=stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await services.aclose()
    emit(args, tally.as_json(), f"{tally.done} done, {tally.failed} failed, {tally.cards} cards written, "
                                f"{tally.feeds_polled} feeds polled, {tally.abandoned} left to other workers")
    return EXIT_OK

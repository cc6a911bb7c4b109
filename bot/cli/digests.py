"""`newsdesk digest`: a chat's digest as plain text in the terminal, built as the bot builds it."""

from __future__ import annotations

import argparse
from datetime import date

from bot.cli.output import EXIT_OK, open_repository, plain_text
from bot.config import Settings
from bot.desk.digests import digest_for_date, digest_now
from bot.telegram import render


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
                ) -> None:
    digest = commands.add_parser("digest", parents=[common], help="print the chat's digest as plain text")
    digest.add_argument("--date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="the digest of that local date (default: since the previous digest, until now)")
    digest.set_defaults(handler=digest_command)


async def digest_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_repository(settings) as repository:
        language = (await repository.chat_settings(args.chat)).language or settings.default_language
        if args.date:
            digest = await digest_for_date(repository, args.chat, args.date,
                                           default_timezone=settings.default_timezone)
        else:
            digest = await digest_now(repository, args.chat, default_timezone=settings.default_timezone)
    parts = render.digest(digest.items, digest.day, language)
    print("\n\n".join(plain_text(part) for part in parts))
    return EXIT_OK

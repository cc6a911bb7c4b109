"""`newsdesk stories`, `link`, `unlink`: the chat's recent stories, and an editor's joining and
splitting of them, through the same use cases as /stories, /link and /unlink."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from bot.cli.items import positive
from bot.cli.output import EXIT_FAILED, EXIT_OK, complain, open_repository
from bot.clock import utc_now
from bot.config import Settings
from bot.desk.stories import LinkAnswer, LinkResult, link_items, recent_stories, unlink_item


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """The story commands' arguments."""
    stories = commands.add_parser("stories", parents=[common], help="recent stories, most sources first")
    stories.add_argument("--hours", type=positive, default=24, help="stories with an item in the last N hours "
                                                                     "(default 24)")
    stories.set_defaults(handler=stories_command)
    link = commands.add_parser("link", parents=[common], help="put the second item in the first one's story")
    link.add_argument("first", type=positive)
    link.add_argument("second", type=positive)
    link.set_defaults(handler=link_command)
    unlink = commands.add_parser("unlink", parents=[common], help="take an item out of its story")
    unlink.add_argument("id", type=positive)
    unlink.set_defaults(handler=unlink_command)


async def stories_command(settings: Settings, args: argparse.Namespace) -> int:
    now = utc_now()
    async with open_repository(settings) as repository:
        found = await recent_stories(repository, args.chat, now=now, since=now - timedelta(hours=args.hours))
    for story in found:
        first = story.first
        if args.json:
            print(json.dumps({"id": story.id, "items": [item.id for item in story.items],
                              "sources": list(story.sources), "first_item": first.id,
                              "first_at": first.submitted_at.isoformat(), "title": first.title}, ensure_ascii=False))
        else:
            print(f"story {story.id}: {len(story.sources)} sources, items {', '.join(str(i.id) for i in story.items)}"
                  f" — first [{first.id}] {first.source} {first.submitted_at:%d.%m.%Y %H:%M} UTC — {first.title}")
            print(f"    sources: {', '.join(story.sources)}")
    if not found and not args.json:
        print("no stories in that time")
    return EXIT_OK


async def link_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_repository(settings) as repository:
        answer = await link_items(repository, args.chat, args.first, args.second)
    return _report(args, answer, f"item {args.second} is in item {args.first}'s story")


async def unlink_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_repository(settings) as repository:
        answer = await unlink_item(repository, args.chat, args.id)
    return _report(args, answer, f"item {args.id} is a story of its own")


def _report(args: argparse.Namespace, answer: LinkAnswer, done: str) -> int:
    if answer.result == LinkResult.NOT_FOUND:
        complain(f"no item {answer.missing} in chat {args.chat}")
        return EXIT_FAILED
    if answer.result == LinkResult.NOT_STORED:
        complain(f"item {answer.missing} is not a stored article (pending or failed)")
        return EXIT_FAILED
    if answer.result == LinkResult.SAME:
        complain("two different item ids are needed")
        return EXIT_FAILED
    if args.json:
        print(json.dumps({"result": str(answer.result), "story_id": answer.story_id}))
    else:
        print(f"{done} (story {answer.story_id})")
    return EXIT_OK

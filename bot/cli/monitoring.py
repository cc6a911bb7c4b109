"""`newsdesk follow`, `unfollow`, `feeds`, `poll`, `watch`, `unwatch`, `watches`: a chat's feeds
and watches from a terminal, through the same use cases as the bot. `newsdesk poll` is also how a
cron job runs Newsdesk without the bot: what it finds for a chat to hear is kept in the database
and sent by the bot when it runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, complain, emit, line_text, open_services
from bot.config import Settings
from bot.desk.feeds import FollowOutcome, PollResult, PollStatus, follow, import_opml, poll_due, process_new_items
from bot.desk.watches import add_watch, check_new_items
from bot.export import item_json
from bot.pipeline.feeds import NotAFeed, OpmlFeed, parse_opml, write_opml
from bot.services import Services
from storage.models import Feed, FeedMode, FeedStatus, Item, Watch

MODES = tuple(mode.value for mode in FeedMode)


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
                ) -> None:
    """The monitoring commands' arguments."""
    follow_ = commands.add_parser("follow", parents=[common], help="follow a feed (or a site page naming one)")
    source = follow_.add_mutually_exclusive_group(required=True)
    source.add_argument("url", nargs="?", metavar="URL")
    source.add_argument("--opml", type=Path, metavar="FILE", help="follow every feed of an OPML file")
    follow_.add_argument("--mode", choices=MODES, default=FeedMode.ANNOUNCE.value,
                         help="announce: post each new item's card (default); digest: keep them for the digest")
    follow_.set_defaults(handler=follow_command)
    unfollow = commands.add_parser("unfollow", parents=[common], help="stop following a feed")
    unfollow.add_argument("id", type=int)
    unfollow.set_defaults(handler=unfollow_command)
    feeds = commands.add_parser("feeds", parents=[common], help="the chat's feeds")
    feeds.add_argument("--opml", action="store_true", help="print them as an OPML file")
    feeds.set_defaults(handler=feeds_command)
    poll = commands.add_parser("poll", parents=[common], help="poll every due feed once, now (for cron)")
    poll.set_defaults(handler=poll_command)
    watch = commands.add_parser("watch", parents=[common], help="alert on new items matching a query")
    watch.add_argument("query", nargs="+")
    watch.set_defaults(handler=watch_command)
    unwatch = commands.add_parser("unwatch", parents=[common], help="remove a watch")
    unwatch.add_argument("id", type=int)
    unwatch.set_defaults(handler=unwatch_command)
    watches = commands.add_parser("watches", parents=[common], help="the chat's watches")
    watches.set_defaults(handler=watches_command)


def feed_json(feed: Feed) -> dict[str, Any]:
    def moment(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {"id": feed.id, "chat_id": feed.chat_id, "url": feed.url, "title": feed.title, "site_url": feed.site_url,
            "mode": feed.mode, "status": feed.status, "last_check_at": moment(feed.last_check_at),
            "last_new_at": moment(feed.last_new_at), "errors": feed.errors, "last_error": feed.last_error,
            "next_check_at": moment(feed.next_check_at) if feed.status == FeedStatus.ACTIVE else None,
            "interval_seconds": feed.interval_seconds}


def feed_text(feed: Feed) -> str:
    checked = f"{feed.last_check_at:%Y-%m-%d %H:%M}" if feed.last_check_at else "never"
    new = f"{feed.last_new_at:%Y-%m-%d %H:%M}" if feed.last_new_at else "never"
    next_check = "paused" if feed.status == FeedStatus.PAUSED else f"{feed.next_check_at:%Y-%m-%d %H:%M}"
    lines = [f"[{feed.id}] {feed.name} ({feed.mode})", f"    {feed.url}",
             f"    checked {checked} UTC · last new entry {new} · errors {feed.errors} · next {next_check}"]
    if feed.last_error and feed.errors:
        lines.append(f"    last error: {feed.last_error}")
    return "\n".join(lines)


async def follow_command(settings: Settings, args: argparse.Namespace) -> int:
    mode = FeedMode(args.mode)
    if args.opml is not None:
        return await _import(settings, args, mode)
    async with open_services(settings, args.chat) as services:
        outcome = await follow(services, args.chat, args.url, mode=mode)
        items = await _finish([outcome.first_poll] if outcome.first_poll else [], services)
    _print_follow(args, outcome, items)
    return EXIT_OK if outcome.feed is not None else EXIT_FAILED


def _print_follow(args: argparse.Namespace, outcome: FollowOutcome, items: dict[int, tuple[Item, list[int]]]
                  ) -> None:
    if outcome.feed is None:
        emit(args, {"url": args.url, "status": "failed", "problem": outcome.problem, "detail": outcome.detail},
             f"✗ {args.url}\n  {outcome.problem}: {outcome.detail}")
        return
    others = [{"url": other.url, "title": other.title, "kind": other.kind} for other in outcome.others]
    data = feed_json(outcome.feed) | {"new": outcome.is_new, "others": others,
                                      "items": [_new_item_json(*found) for found in items.values()]}
    lines = [("Following " if outcome.is_new else "Already following ") + feed_text(outcome.feed)]
    lines += ["  + " + line_text(item).rstrip() for item, _ in items.values()]
    if others:
        lines.append("The page names other feeds too:")
        lines += [f"  {other['title'] or other['kind']}: {other['url']}" for other in others]
    emit(args, data, "\n".join(lines))


async def _import(settings: Settings, args: argparse.Namespace, mode: FeedMode) -> int:
    try:
        listed = parse_opml(args.opml.read_bytes())
    except OSError as error:
        complain(f"cannot read {args.opml}: {error.strerror}")
        return EXIT_USAGE
    except NotAFeed as error:
        complain(f"{args.opml}: {error}")
        return EXIT_USAGE
    async with open_services(settings, args.chat) as services:
        imported = await import_opml(services, args.chat, listed, mode=mode)
    refused = 0
    for entry, feed in imported:
        if feed is None:
            refused += 1
            emit(args, {"url": entry.url, "status": "failed", "problem": "invalid_url"},
                 f"✗ {entry.url}: not a web address")
        else:
            emit(args, feed_json(feed), f"[{feed.id}] {feed.name}\n    {feed.url}")
    if not args.json:
        print(f"{len(imported) - refused} feeds followed, {refused} refused; their first polls are spread over "
              f"the next {settings.feed_poll_minutes:g} minutes")
    return EXIT_FAILED if refused else EXIT_OK


async def unfollow_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, args.chat) as services:
        # At the terminal every chat's feeds may be removed; --chat limits it to that chat's.
        removed = await services.repository.remove_feed(args.id, chat_id=args.chat or None)
    if removed is None:
        complain(f"no feed {args.id}" + (f" in chat {args.chat}" if args.chat else ""))
        return EXIT_FAILED
    emit(args, feed_json(removed) | {"removed": True}, f"No longer following [{removed.id}] {removed.name}")
    return EXIT_OK


async def feeds_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, args.chat) as services:
        feeds = await services.repository.feeds(args.chat)
    if args.opml:
        sys.stdout.write(write_opml((OpmlFeed(feed.url, feed.title, feed.site_url) for feed in feeds),
                                    title=f"Newsdesk {args.chat}"))
        return EXIT_OK
    for feed in feeds:
        emit(args, feed_json(feed), feed_text(feed))
    if not feeds and not args.json:
        print("No feeds yet. Follow one: newsdesk follow URL")
    return EXIT_OK


async def poll_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, args.chat) as services:
        results = await poll_due(services, chat_id=args.chat or None)
        items = await _finish(results, services)
    for result in results:
        shown = [items[item.id] for item in result.items if item.id in items]
        data = {"feed": result.feed.id, "chat_id": result.feed.chat_id, "status": result.status, "new": result.new,
                "skipped": result.skipped, "error": result.error,
                "items": [_new_item_json(item, watches) for item, watches in shown]}
        lines = [f"feed {result.feed.id} ({result.feed.name}): {result.status}, {result.new} new"
                 + (f", {result.skipped} skipped" if result.skipped else "")
                 + (f" — {result.error}" if result.error else "")]
        lines += ["  " + line_text(item).rstrip() + (f"  (watches {', '.join(map(str, watches))})" if watches else "")
                  for item, watches in shown]
        emit(args, data, "\n".join(lines))
    if not results and not args.json:
        print("No feed is due.")
    failed = any(result.status in (PollStatus.ERROR, PollStatus.PAUSED) for result in results)
    return EXIT_FAILED if failed else EXIT_OK


async def _finish(results: list[PollResult], services: Services) -> dict[int, tuple[Item, list[int]]]:
    """Process the polls' new items and match them against the watches: each, with the watches it
    matched, by id."""
    finished = await process_new_items(services, results)
    matched = await check_new_items(services, item_ids=[item.id for item in finished])
    return {item.id: (item, matched.get(item.id, list(item.watch_ids))) for item in finished}


def _new_item_json(item: Item, watches: list[int]) -> dict[str, Any]:
    return item_json(item) | {"watches": watches}


async def watch_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, args.chat) as services:
        answer = await add_watch(services, args.chat, " ".join(args.query))
    if answer.watch is None:
        complain(f"not a watch: {answer.problem}")
        return EXIT_USAGE
    emit(args, watch_json(answer.watch) | {"new": answer.is_new},
         f"{'Watching' if answer.is_new else 'Already watching'} [{answer.watch.id}] {answer.watch.query}")
    return EXIT_OK


async def unwatch_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, args.chat) as services:
        removed = await services.repository.remove_watch(args.id, chat_id=args.chat or None)
    if removed is None:
        complain(f"no watch {args.id}" + (f" in chat {args.chat}" if args.chat else ""))
        return EXIT_FAILED
    emit(args, watch_json(removed) | {"removed": True}, f"Removed watch [{removed.id}] {removed.query}")
    return EXIT_OK


async def watches_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, args.chat) as services:
        watches = await services.repository.watches(args.chat)
    for watch in watches:
        emit(args, watch_json(watch), f"[{watch.id}] {watch.query}")
    if not watches and not args.json:
        print("No watches yet. Add one: newsdesk watch QUERY")
    return EXIT_OK


def watch_json(watch: Watch) -> dict[str, Any]:
    return {"id": watch.id, "chat_id": watch.chat_id, "query": watch.query, "created_at": watch.created_at.isoformat()}


"""`newsdesk check`, `backup` and `restore`: is the installation sound, and its database kept safe."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bot.cli.output import EXIT_FAILED, EXIT_OK, complain
from bot.config import Settings, SettingsError
from bot.desk import health
from bot.desk.backups import backup_now, restore
from bot.desk.health import Check, Status
from storage.errors import StorageError

MARKS = {Status.OK: "ok", Status.WARN: "warn", Status.FAIL: "FAIL"}


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """The operations commands' arguments."""
    check = commands.add_parser("check", help="check settings, database, workers and Telegram; exit 1 on a failure")
    check.add_argument("--quick", action="store_true",
                       help="only what is fast and local: settings, database, the running bot (for HEALTHCHECK)")
    check.add_argument("--json", action="store_true", help="print the report as one JSON object")
    check.set_defaults(handler=check_command)
    backup = commands.add_parser("backup", help="a consistent copy of the database, safe while the bot runs")
    backup.add_argument("path", metavar="PATH",
                        help="the file to write, or a folder (an existing one, or a path ending in /) for a dated file")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    backup.add_argument("--json", action="store_true", help="print the result as JSON")
    backup.set_defaults(handler=backup_command)
    restore_ = commands.add_parser("restore", help="replace the database with a backup (stop the bot first)")
    restore_.add_argument("path", type=Path, metavar="PATH", help="a backup made by `newsdesk backup`")
    restore_.add_argument("--json", action="store_true", help="print the result as JSON")
    restore_.set_defaults(handler=restore_command)


async def check_command(settings: Settings, args: argparse.Namespace) -> int:
    checks = await health.run_checks(settings, quick=args.quick)
    if not args.quick:
        from bot.telegram.health import telegram_checks  # python-telegram-bot, only when Telegram is asked

        checks += await telegram_checks(settings)
    return print_report(checks, args, env_file=getattr(args, "env_file", None))


def report_bad_settings(error: SettingsError, args: argparse.Namespace) -> int:
    """`newsdesk check` with settings that cannot be read: each wrong one, with its fix."""
    return print_report(health.bad_settings(error), args, env_file=getattr(args, "env_file", None))


def print_report(checks: list[Check], args: argparse.Namespace, *, env_file: str | None) -> int:
    report = health.report(checks)
    if args.json:
        print(json.dumps({"ok": report.ok, "env_file": env_file,
                          "checks": [{"name": c.name, "status": str(c.status), "detail": c.detail, "fix": c.fix}
                                     for c in report.checks]}, ensure_ascii=False))
        return EXIT_OK if report.ok else EXIT_FAILED
    print(f"Newsdesk check ({'settings from ' + env_file + ' and' if env_file else 'settings from'} the environment)")
    width = max(len(check.name) for check in report.checks)
    for check in report.checks:
        print(f"  {MARKS[check.status]:<4}  {check.name:<{width}}  {check.detail}")
        if check.fix and check.status != Status.OK:
            print(f"  {'':<4}  {'':<{width}}  -> {check.fix}")
    failed, warned = report.count(Status.FAIL), report.count(Status.WARN)
    verdict = "ready" if report.ok else "not ready"
    print(f"{verdict}: {failed} failed, {warned} warnings, {report.count(Status.OK)} ok")
    return EXIT_OK if report.ok else EXIT_FAILED


async def backup_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        made = await backup_now(settings, Path(args.path), overwrite=args.force,
                                into_folder=args.path.endswith(("/", os.sep)))
    except FileExistsError as error:
        complain(f"{error}; choose another name, or add --force to replace it")
        return EXIT_FAILED
    except StorageError as error:
        complain(str(error))
        return EXIT_FAILED
    if args.json:
        print(json.dumps({"path": str(made.path), "bytes": made.size_bytes, "items": made.items,
                          "schema": made.schema_version, "seconds": round(made.seconds, 3)}))
    else:
        print(f"backup written to {made.path} ({made.size_bytes / 1e6:.1f} MB, {made.items} items, "
              f"schema {made.schema_version}), checked with PRAGMA integrity_check, in {made.seconds:.1f} s")
    return EXIT_OK


async def restore_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        restored = await restore(settings, args.path)
    except StorageError as error:  # a running bot, a damaged or newer file
        complain(f"not restored: {error}")
        return EXIT_FAILED
    if args.json:
        print(json.dumps({"database": str(restored.database), "source": str(restored.source),
                          "kept": str(restored.kept) if restored.kept else None, "items": restored.items,
                          "schema": restored.schema_version}))
    else:
        print(f"restored {restored.database} from {restored.source} ({restored.items} items, "
              f"schema {restored.schema_version})")
        if restored.kept:
            print(f"the database it replaced is kept at {restored.kept}")
    return EXIT_OK

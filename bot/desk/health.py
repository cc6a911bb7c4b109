"""`newsdesk check`: can this installation run, and is the bot that runs it alive?

Each check says ok, warn or fail, and for anything but ok, how to put it right. The settings, the
database file (opens, writable, schema current, PRAGMA quick_check, free space), the bot process
(the database's lock and its heartbeat), the backups, and the worker pool are checked here;
Telegram's side (the token, the webhook) is checked by bot/telegram/health.py, since nothing here
knows Telegram. `quick` leaves out what is slow or talks to the network, for a container's
HEALTHCHECK every minute: the database's full scan, the worker pool, and Telegram.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.clock import utc_now
from bot.config import Settings, SettingsError
from bot.pipeline.errors import IngestError
from bot.pipeline.workers import WorkerPool
from storage import postgres
from storage.errors import StorageError
from storage.files import BACKUP_PATTERN, inspect_database, lock_holder, nearest_folder
from storage.models import DatabaseReport
from storage.repository import latest_version

HEARTBEAT_SECONDS = 30
"""How often a running bot shows it is alive (the modification time of its lock file)."""
HEARTBEAT_STALE = timedelta(seconds=4 * HEARTBEAT_SECONDS)
LOW_DISK, VERY_LOW_DISK = 500 * 1024 * 1024, 50 * 1024 * 1024
BACKUP_OVERDUE = timedelta(hours=26)
WORKER_CHECK_SECONDS = 60.0

SAMPLE_PAGE = (
    b"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Health check article</title></head>"
    b"<body><article><h1>Health check article</h1>"
    + b"".join(b"<p>The worker pool reads this paragraph number %d to show that extraction runs, that the "
               b"worker processes start within their memory limit, and that summaries are written.</p>" % n
               for n in range(8))
    + b"</article></body></html>"
)
"""A small page of our own, extracted by the worker pool to prove it works."""


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class HealthReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.status != Status.FAIL for check in self.checks)

    def count(self, status: Status) -> int:
        return sum(1 for check in self.checks if check.status == status)


def bad_settings(error: SettingsError) -> list[Check]:
    """Every wrong setting, named, with its fix."""
    return [Check(problem.name, Status.FAIL, problem.message, problem.fix) for problem in error.problems]


def settings_checks(settings: Settings) -> list[Check]:
    """What the values allow: whether the bot can start, whom it serves, what it exposes."""
    checks = [Check("settings", Status.OK, "every value is valid")]
    if not settings.telegram_bot_token:
        checks.append(Check("TELEGRAM_BOT_TOKEN", Status.FAIL, "not set: `newsdesk run` cannot start",
                            "create the bot with @BotFather (/newbot) and put its token in .env: "
                            "TELEGRAM_BOT_TOKEN=123456:ABC…"))
    else:
        checks.append(Check("TELEGRAM_BOT_TOKEN", Status.OK, "set (never shown)"))
    if not settings.allowed_chats and not settings.admins:
        checks.append(Check("ALLOWED_CHATS", Status.WARN,
                            "ALLOWED_CHATS and ADMINS are empty: the bot runs in set-up mode and serves nobody",
                            "start the bot and write to it in Telegram: it answers with your user id and the chat's "
                            "id; put them in ADMINS and ALLOWED_CHATS and restart it"))
    elif not settings.allowed_chats:
        checks.append(Check("ALLOWED_CHATS", Status.WARN, "empty: the bot answers only ADMINS, in private chats",
                            "add the groups and channels it serves (send /id there to learn their ids)"))
    else:
        checks.append(Check("ALLOWED_CHATS", Status.OK, f"chats served: {len(settings.allowed_chats)}, "
                                                        f"ADMINS: {len(settings.admins)}"))
    if settings.webhook_url:
        if settings.webhook_secret:
            checks.append(Check("webhook", Status.OK, f"{settings.webhook_url} -> listening on "
                                f"http://{settings.webhook_listen}:{settings.webhook_port} behind a TLS proxy"))
        else:
            checks.append(Check("WEBHOOK_SECRET", Status.WARN, "empty: anyone who learns WEBHOOK_URL can post "
                                "made-up updates to the bot",
                                "set WEBHOOK_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"))
    if settings.fetch_allow_networks:
        networks = ", ".join(str(network) for network in settings.fetch_allow_networks)
        checks.append(Check("FETCH_ALLOW_NETWORKS", Status.WARN, f"private addresses may be fetched: {networks}",
                            "leave FETCH_ALLOW_NETWORKS empty in production"))
    if settings.backup_dir is None and not settings.uses_postgres:  # PostgreSQL: pg_dump, deploy/README.md
        checks.append(Check("BACKUP_DIR", Status.WARN, "not set: no daily backup is made",
                            "set BACKUP_DIR to a folder (better on another disk) and BACKUP_KEEP to how many to keep"))
    return checks


async def database_checks(settings: Settings, *, quick: bool = False) -> list[Check]:
    if settings.uses_postgres:
        return [await _postgres(settings)]
    report = await asyncio.to_thread(inspect_database, settings.database_path, latest_version=latest_version(),
                                     full=not quick)
    checks = _database(report)
    checks.append(_bot_process(settings))
    if settings.backup_dir is not None:
        checks.append(await asyncio.to_thread(_backups, settings))
    return checks


async def _postgres(settings: Settings) -> Check:
    """The server answers, and the database's schema is one this Newsdesk knows."""
    where = f"NEWSDESK_DB={settings.database_label}"
    try:
        found = await postgres.inspect(settings.database_url)
    except StorageError as error:
        return Check("database", Status.FAIL, f"{where}: {error}",
                     "start the server, or correct the URL (postgresql://user:password@host:5432/database)")
    latest = postgres.latest_version()
    if found.schema_version > latest:
        return Check("database", Status.FAIL, f"{where}: schema {found.schema_version} was written by a newer "
                     f"Newsdesk (this one knows up to {latest})", "upgrade Newsdesk on every machine")
    schema = (f"schema {found.schema_version}" if found.schema_version == latest
              else f"schema {found.schema_version}, brought up to {latest} at the next start")
    return Check("database", Status.OK, f"{where}: PostgreSQL {found.server_version}, about {found.items} items, "
                 f"{schema}")


def _database(report: DatabaseReport) -> list[Check]:
    where = f"NEWSDESK_DB={report.path}" + ("" if report.path.is_absolute() else f" ({report.path.absolute()})")
    fix_path = (f"point NEWSDESK_DB at a file in a folder that {getpass.getuser()} can write to "
                "(the service: /var/lib/newsdesk/newsdesk.db; the container: /data/newsdesk.db)")
    if report.problem:
        fix = "stop the bot and restore the latest backup: newsdesk restore FILE" if report.damaged else fix_path
        return [Check("database", Status.FAIL, f"{where}: {report.problem}", fix)]
    checks = [_disk(report)]
    if not report.exists:
        checks.insert(0, Check("database", Status.OK, f"{where} does not exist yet: it is created at the first start"))
        return checks
    size = f"{report.size_bytes / 1e6:.1f} MB"
    items = f"{report.items} items, " if report.items is not None else ""
    checks.insert(0, Check("database", Status.OK, f"{where}: {items}{size}, writable"))
    version, latest = report.schema_version or 0, report.latest_version
    if version > latest:
        checks.append(Check("schema", Status.FAIL, f"schema {version} was written by a newer Newsdesk "
                            f"(this one knows up to {latest})",
                            "upgrade Newsdesk, or restore a backup this version made: newsdesk restore FILE"))
    elif version < latest:
        checks.append(Check("schema", Status.WARN, f"schema {version}: brought up to {latest} at the next start",
                            "make a backup before the upgrade runs: newsdesk backup FILE"))
    else:
        checks.append(Check("schema", Status.OK, f"schema {version}, current"))
    if report.integrity is not None:
        if report.integrity == "ok":
            checks.append(Check("integrity", Status.OK, "PRAGMA quick_check: ok"))
        else:
            checks.append(Check("integrity", Status.FAIL, f"PRAGMA quick_check: {report.integrity}",
                                "stop the bot and restore the latest backup: newsdesk restore FILE"))
    return checks


def _disk(report: DatabaseReport) -> Check:
    free = report.free_bytes
    if free is None:
        return Check("disk", Status.WARN, "free space unknown")
    words = f"{free / 1e9:.1f} GB free beside the database"
    if free < VERY_LOW_DISK:
        return Check("disk", Status.FAIL, words, "free some space: with a full disk no link can be saved")
    if free < LOW_DISK:
        return Check("disk", Status.WARN, words, "free some space before the disk fills up")
    return Check("disk", Status.OK, words)


def _bot_process(settings: Settings, now: datetime | None = None) -> Check:
    holder = lock_holder(settings.database_path)
    if holder is None:
        return Check("bot", Status.OK, "no bot is running on this database")
    quiet = (now or utc_now()) - holder.last_beat
    process = f"process {holder.pid}" if holder.pid else "a process"
    if quiet > HEARTBEAT_STALE:
        return Check("bot", Status.FAIL, f"the bot ({process}) has not shown it is alive for "
                     f"{int(quiet.total_seconds())} s", "read its log, then restart it")
    return Check("bot", Status.OK, f"running ({process}, alive {max(0, int(quiet.total_seconds()))} s ago)")


def _backups(settings: Settings) -> Check:
    folder = settings.backup_dir
    assert folder is not None
    if not folder.exists():
        if not os.access(nearest_folder(folder), os.W_OK | os.X_OK):
            return Check("backups", Status.FAIL, f"BACKUP_DIR={folder} does not exist and cannot be created",
                         "create it and let the bot's user write to it")
        return Check("backups", Status.OK, f"BACKUP_DIR={folder}: created at the first backup")
    if not os.access(folder, os.W_OK | os.X_OK):
        return Check("backups", Status.FAIL, f"BACKUP_DIR={folder} is not writable by {getpass.getuser()}",
                     "let the bot's user write to it (chown), or choose another folder")
    backups = sorted(path for path in folder.iterdir() if BACKUP_PATTERN.fullmatch(path.name))
    if not backups:
        return Check("backups", Status.OK, f"BACKUP_DIR={folder}: none yet (daily after "
                     f"{settings.backup_time:%H:%M}, {settings.default_timezone})")
    newest = backups[-1]
    age = timedelta(seconds=time.time() - newest.stat().st_mtime)
    detail = f"{len(backups)} in {folder}, the newest {newest.name} ({age.total_seconds() / 3600:.1f} h old)"
    if age > BACKUP_OVERDUE and lock_holder(settings.database_path) is not None:
        return Check("backups", Status.WARN, detail, "the bot's log says why the daily backup failed")
    return Check("backups", Status.OK, detail)


async def worker_check(settings: Settings) -> Check:
    """Start the worker pool as the bot does and have it read a small page."""
    started = time.monotonic()
    pool = WorkerPool(workers=settings.extract_workers, timeout=WORKER_CHECK_SECONDS,
                      memory_mb=settings.extract_memory_mb)
    try:
        article, summary = await pool.analyse(SAMPLE_PAGE, "https://newsdesk.invalid/health", "utf-8")
    except IngestError as error:
        return Check("workers", Status.FAIL, f"the worker pool could not read a page: {error}",
                     "raise EXTRACT_MEMORY_MB (each worker's memory limit), or reinstall Newsdesk")
    except Exception as error:  # whatever kept a worker from starting is the finding itself
        return Check("workers", Status.FAIL, f"the worker pool did not start: {type(error).__name__}: {error}",
                     "raise EXTRACT_MEMORY_MB (each worker's memory limit), or reinstall Newsdesk")
    finally:
        await pool.aclose()
    if not summary or "Health check" not in (article.title or ""):
        return Check("workers", Status.FAIL, "the worker pool read the test page wrongly", "reinstall Newsdesk")
    return Check("workers", Status.OK, f"{settings.extract_workers} worker processes read a page in "
                 f"{time.monotonic() - started:.1f} s")


async def run_checks(settings: Settings, *, quick: bool = False) -> list[Check]:
    """Everything this layer can check (Telegram's side is added by the caller)."""
    checks = settings_checks(settings)
    checks += await database_checks(settings, quick=quick)
    if not quick:
        checks.append(await worker_check(settings))
    return checks


def report(checks: Sequence[Check]) -> HealthReport:
    return HealthReport(tuple(checks))

"""Backups and restores of the database: `newsdesk backup` and `newsdesk restore`, and the daily
backup the bot makes into BACKUP_DIR, keeping the newest BACKUP_KEEP.

The copy itself is storage's (SQLite's online backup API, verified before it takes its name);
here is when it is made and what is kept. Each day's scheduled backup is claimed in the database
first, so a restart, or a second process on the same database, never makes it twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.clock import utc_now
from bot.config import Settings
from storage.errors import StorageError, StorageUnavailable
from storage.files import DatabaseLock, backup_database, prune_backups, restore_database
from storage.models import BackupReport
from storage.repository import Repository, latest_version

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

CLAIM_STALE_AFTER = timedelta(hours=1)
"""A day's backup claimed this long ago and never finished was left by a process that died."""


@dataclass(frozen=True)
class RestoreReport:
    source: Path
    database: Path
    kept: Path | None
    """Where the database that was replaced was kept."""
    schema_version: int
    """The backup's schema, before it was brought up to date."""
    items: int


async def backup_now(settings: Settings, destination: Path, *, overwrite: bool = False,
                     into_folder: bool = False) -> BackupReport:
    """A verified copy of the database at `destination` (a file, or a folder for a dated file,
    created with `into_folder`), made while the bot goes on writing."""
    _sqlite_only(settings, "backup")
    if into_folder:
        try:
            await asyncio.to_thread(destination.mkdir, parents=True, exist_ok=True)
        except OSError as error:
            raise StorageUnavailable(f"cannot create the folder {destination}: {error.strerror or error}") from error
    return await asyncio.to_thread(backup_database, settings.database_path, destination, now=utc_now(),
                                   overwrite=overwrite)


async def scheduled_backup(services: Services, *, now: datetime | None = None) -> BackupReport | None:
    """Today's backup into BACKUP_DIR when it is due (after BACKUP_TIME, local) and no process has
    made it yet; then only the newest BACKUP_KEEP are kept. None when nothing was due."""
    settings = services.settings
    folder = settings.backup_dir
    if folder is None or settings.uses_postgres:  # the server's own tools back it up
        return None
    now = now or utc_now()
    local = now.astimezone(ZoneInfo(settings.default_timezone))
    if local.time() < settings.backup_time:
        return None
    day = local.date()
    if not await services.repository.claim_backup(day, stale_before=now - CLAIM_STALE_AFTER):
        log.debug("backup for %s: already made or being made", day)
        return None
    try:
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        made = await asyncio.to_thread(backup_database, settings.database_path, folder, now=now)
        removed = await asyncio.to_thread(prune_backups, folder, keep=settings.backup_keep)
    except (StorageError, OSError) as error:
        log.error("backup for %s failed: %s", day, error, extra={"event": "backup", "outcome": "failed"})
        await services.repository.fail_backup(day, str(error))
        return None
    await services.repository.finish_backup(day, made)
    log.info("backup for %s written to %s (%.1f MB, %d items, %.1f s); %d old backups removed", day, made.path,
             made.size_bytes / 1e6, made.items, made.seconds, len(removed),
             extra={"event": "backup", "outcome": "done", "path": str(made.path), "bytes": made.size_bytes,
                    "items": made.items, "ms": round(made.seconds * 1000)})
    return made


async def restore(settings: Settings, source: Path) -> RestoreReport:
    """Replace the database with a backup: refused while a bot runs on it (DatabaseInUse) and for a
    damaged file or one a newer Newsdesk wrote (DamagedDatabase, SchemaTooNew). The replaced
    database is kept beside it, and the backup's schema is brought up to date at once."""
    _sqlite_only(settings, "restore")
    database = settings.database_path
    with DatabaseLock(database).held():
        kept, version, items = await asyncio.to_thread(restore_database, source, database,
                                                       latest_version=latest_version(), now=utc_now())
        repository = await Repository.open(database)  # migrations run here, under the lock
        await repository.close()
    log.info("restored %s from %s (schema %d, %d items); the previous database is kept at %s",
             database, source, version, items, kept)
    return RestoreReport(source, database, kept, version, items)


def _sqlite_only(settings: Settings, command: str) -> None:
    if settings.uses_postgres:
        raise StorageError(f"`newsdesk {command}` copies a SQLite file; NEWSDESK_DB is a PostgreSQL database "
                           f"({settings.database_label}): use the server's tools (pg_dump -Fc / pg_restore, "
                           "or continuous archiving), as deploy/README.md describes")

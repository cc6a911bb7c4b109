"""Moving a desk from its SQLite file to a PostgreSQL server (`newsdesk migrate --to URL`)."""

from __future__ import annotations

import asyncio
import logging

from bot.config import Settings
from storage import postgres
from storage.errors import StorageError
from storage.files import DatabaseLock
from storage.repository import Repository
from storage.transfer import TransferReport, copy_desk

log = logging.getLogger(__name__)


async def migrate_desk(settings: Settings, target_url: str) -> TransferReport:
    """Copy the desk's SQLite database into the empty PostgreSQL database at `target_url`, with
    the bot stopped (DatabaseInUse otherwise): items, stories, feeds, schedules, watches, all."""
    if settings.uses_postgres:
        raise StorageError("NEWSDESK_DB is already a PostgreSQL database: migrate reads a SQLite file")
    if not postgres.is_postgres(target_url):
        raise StorageError(f"--to takes a postgresql:// URL, not {target_url!r}")
    source = settings.database_path
    if not source.exists():
        raise StorageError(f"there is no database at NEWSDESK_DB={source} to migrate")
    with DatabaseLock(source).held():
        for location in (source, target_url):  # both schemas up to date before a row moves
            repository = await Repository.open(location)
            await repository.close()
        report = await asyncio.to_thread(copy_desk, source, target_url)
    log.info("migrated %s to PostgreSQL: %d items, %d rows in all, %.1f s", source, report.items,
             sum(report.rows.values()), report.seconds)
    return report

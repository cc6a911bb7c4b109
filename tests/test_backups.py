"""The daily backup (bot/desk/backups.py): due after BACKUP_TIME in the desk's time zone, made once a
day across restarts and processes (claimed in the database), retried after a failure a few times,
with retention. Real services on a real SQLite file."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.desk.backups import scheduled_backup
from bot.services import Services
from storage.models import BackupStatus
from storage.repository import Repository


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Backups copy a SQLite file: these tests run on SQLite only."""
    return str(tmp_path / "newsdesk.db")

# 03:30 in Kyiv is 01:30 UTC in winter
BEFORE = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)
AFTER = datetime(2026, 11, 28, 1, 45, tzinfo=UTC)
NEXT_DAY = datetime(2026, 11, 29, 1, 45, tzinfo=UTC)


def configured(services: Services, folder: Path, *, keep: int = 7) -> Services:
    settings = dataclasses.replace(services.settings, backup_dir=folder, backup_keep=keep,
                                   backup_time=datetime(2026, 1, 1, 3, 30).time(), default_timezone="Europe/Kyiv")
    return dataclasses.replace(services, settings=settings)


async def test_made_once_a_day_after_its_time(services: Services, tmp_path: Path) -> None:
    desk = configured(services, tmp_path / "backups")
    assert await scheduled_backup(desk, now=BEFORE) is None and not (tmp_path / "backups").exists()
    made = await scheduled_backup(desk, now=AFTER)
    assert made is not None and made.path.parent == tmp_path / "backups"
    assert await scheduled_backup(desk, now=AFTER.replace(hour=5)) is None  # the same local day: done
    run = await desk.repository.backup_run(date(2026, 11, 28))
    assert run is not None and run.status == BackupStatus.DONE and run.path == str(made.path)
    again = await scheduled_backup(desk, now=NEXT_DAY)
    assert again is not None and again.path != made.path


async def test_a_second_process_does_not_make_it_again(services: Services, tmp_path: Path) -> None:
    first = configured(services, tmp_path / "backups")
    assert await scheduled_backup(first, now=AFTER) is not None
    other = await Repository.open(services.settings.database_path)  # another replica, the same database
    try:
        assert await scheduled_backup(dataclasses.replace(first, repository=other), now=AFTER) is None
    finally:
        await other.close()
    assert len(list((tmp_path / "backups").iterdir())) == 1


async def test_a_failure_is_recorded_and_tried_again_three_times(services: Services, tmp_path: Path) -> None:
    (tmp_path / "occupied").write_text("a file where the backup folder should be")
    desk = configured(services, tmp_path / "occupied" / "backups")
    for attempt in range(1, 4):
        assert await scheduled_backup(desk, now=AFTER) is None
        run = await desk.repository.backup_run(date(2026, 11, 28))
        assert run is not None and run.status == BackupStatus.FAILED and run.attempts == attempt and run.error
    assert await scheduled_backup(desk, now=AFTER) is None  # given up for the day
    run = await desk.repository.backup_run(date(2026, 11, 28))
    assert run is not None and run.attempts == 3


async def test_retention_keeps_the_newest(services: Services, tmp_path: Path) -> None:
    desk = configured(services, tmp_path / "backups", keep=2)
    for day in range(1, 5):
        assert await scheduled_backup(desk, now=datetime(2026, 11, day, 2, 0, tzinfo=UTC)) is not None
    kept = sorted(path.name for path in (tmp_path / "backups").iterdir())
    assert kept == ["newsdesk-20261103-020000.db", "newsdesk-20261104-020000.db"]
    with sqlite3.connect(tmp_path / "backups" / kept[-1]) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

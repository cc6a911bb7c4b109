"""The bot's own upkeep recorded in the database: which day's scheduled backup was made, so that a
restart (or another process sharing the database) neither repeats nor forgets it."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

from storage.base import Store, instant, iso
from storage.models import BackupReport, BackupRun, BackupStatus

BACKUP_ATTEMPTS = 3


class OperationsStore(Store):
    async def claim_backup(self, day: date, *, stale_before: datetime) -> bool:
        """Claim `day`'s backup: True when this process is to make it (never claimed, failed fewer
        than BACKUP_ATTEMPTS times, or left running by a process that died before `stale_before`)."""
        now = self._now()
        changed = await self._write(
            """INSERT INTO backup_runs (day, status, started_at) VALUES (?, 'running', ?)
               ON CONFLICT (day) DO UPDATE SET status = 'running', attempts = backup_runs.attempts + 1,
                   started_at = excluded.started_at, finished_at = NULL, error = NULL
               WHERE (backup_runs.status = 'failed' AND backup_runs.attempts < ?)
                  OR (backup_runs.status = 'running' AND backup_runs.started_at < ?)""",
            (day.isoformat(), now, BACKUP_ATTEMPTS, iso(stale_before)),
        )
        return changed == 1

    async def finish_backup(self, day: date, report: BackupReport) -> None:
        await self._write(
            """UPDATE backup_runs SET status = 'done', finished_at = ?, path = ?, size_bytes = ?, items = ?
               WHERE day = ?""",
            (self._now(), str(report.path), report.size_bytes, report.items, day.isoformat()),
        )

    async def fail_backup(self, day: date, error: str) -> None:
        await self._write("UPDATE backup_runs SET status = 'failed', finished_at = ?, error = ? WHERE day = ?",
                          (self._now(), error[:1000], day.isoformat()))

    async def backup_run(self, day: date) -> BackupRun | None:
        row = await self._fetchone("SELECT * FROM backup_runs WHERE day = ?", (day.isoformat(),))
        return _backup_run(row) if row else None

    async def latest_backup_runs(self, limit: int = 7) -> list[BackupRun]:
        rows = await self._fetchall("SELECT * FROM backup_runs ORDER BY day DESC LIMIT ?", (limit,))
        return [_backup_run(row) for row in rows]


def _backup_run(row: sqlite3.Row) -> BackupRun:
    started = instant(row["started_at"])
    assert started is not None  # NOT NULL
    return BackupRun(
        day=date.fromisoformat(row["day"]),
        status=BackupStatus(row["status"]),
        attempts=row["attempts"],
        started_at=started,
        finished_at=instant(row["finished_at"]),
        path=row["path"],
        size_bytes=row["size_bytes"],
        items=row["items"],
        error=row["error"],
    )

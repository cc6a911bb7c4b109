"""Digest schedules and runs. A run is one chat's digest of one LOCAL date: the UNIQUE key
(chat, local date) is what makes it go out at most once a day, across restarts. How a run moves
from claimed to sent, and how a crash in between is settled, is told in bot/desk/digests.py."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, time

from storage.base import Store, instant, iso
from storage.models import DigestRun, DigestSchedule, DigestStatus


class DigestStore(Store):
    async def digest_schedule(self, chat_id: int) -> DigestSchedule | None:
        row = await self._fetchone("SELECT * FROM digest_schedules WHERE chat_id = ?", (chat_id,))
        return _schedule(row) if row else None

    async def digest_schedules(self) -> list[DigestSchedule]:
        """Every enabled schedule."""
        rows = await self._fetchall("SELECT * FROM digest_schedules WHERE enabled = 1 ORDER BY chat_id")
        return [_schedule(row) for row in rows]

    async def set_digest_schedule(self, chat_id: int, *, at: time, timezone: str, now: datetime | None = None) -> None:
        """Set (and enable) a chat's digest time; runs already past today do not count as missed."""
        now_text = iso(now) if now else self._now()
        await self._write(
            """INSERT INTO digest_schedules (chat_id, time, timezone, enabled, since, updated_at)
               VALUES (?, ?, ?, 1, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET time = excluded.time, timezone = excluded.timezone,
                   enabled = 1, since = excluded.since, updated_at = excluded.updated_at""",
            (chat_id, at.isoformat(), timezone, now_text, now_text),
        )

    async def set_digest_flags(
        self, chat_id: int, *, enabled: bool | None = None, quiet: bool | None = None, now: datetime | None = None
    ) -> bool:
        """Turn a schedule on or off, or quiet or loud; False when the chat has no schedule."""
        now_text = iso(now) if now else self._now()
        changed = await self._write(
            """UPDATE digest_schedules SET enabled = coalesce(?, enabled), quiet = coalesce(?, quiet),
                   since = CASE WHEN ? = 1 AND enabled = 0 THEN ? ELSE since END, updated_at = ?
               WHERE chat_id = ?""",
            (None if enabled is None else int(enabled), None if quiet is None else int(quiet),
             int(bool(enabled)), now_text, now_text, chat_id),
        )
        return changed == 1

    async def digest_run(self, chat_id: int, day: date) -> DigestRun | None:
        row = await self._fetchone(
            "SELECT * FROM digest_runs WHERE chat_id = ? AND local_date = ?", (chat_id, day.isoformat()))
        return _run(row) if row else None

    async def claim_digest(self, chat_id: int, day: date, *, scheduled_for: datetime,
                           now: datetime | None = None) -> bool:
        """Claim the chat's run for a local date before sending; False if it was already claimed."""
        return await self._insert_run(chat_id, day, DigestStatus.SENDING, scheduled_for, now, None)

    async def skip_digest(self, chat_id: int, day: date, *, scheduled_for: datetime, reason: str,
                          now: datetime | None = None) -> bool:
        """Record a run that will not be sent (missed beyond the grace); False if one exists."""
        return await self._insert_run(chat_id, day, DigestStatus.SKIPPED, scheduled_for, now, reason)

    async def _insert_run(self, chat_id: int, day: date, status: DigestStatus, scheduled_for: datetime,
                          now: datetime | None, error: str | None) -> bool:
        now_text = iso(now) if now else self._now()
        inserted = await self._write(
            """INSERT INTO digest_runs (chat_id, local_date, status, scheduled_for, claimed_at, finished_at, error)
               VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, local_date) DO NOTHING""",
            (chat_id, day.isoformat(), status, iso(scheduled_for), now_text,
             None if status == DigestStatus.SENDING else now_text, error),
        )
        return inserted == 1

    async def start_digest_sending(self, chat_id: int, day: date, *, since: datetime, until: datetime,
                                   item_count: int, language: str | None = None,
                                   now: datetime | None = None) -> None:
        """Note the window the digest covers and that sending begins."""
        await self._write(
            """UPDATE digest_runs SET since_at = ?, until_at = ?, item_count = ?, language = ?,
                   send_started_at = coalesce(send_started_at, ?)
               WHERE chat_id = ? AND local_date = ? AND status = 'sending'""",
            (iso(since), iso(until), item_count, language, iso(now) if now else self._now(),
             chat_id, day.isoformat()),
        )

    async def mark_digest_part_sending(self, chat_id: int, day: date, part: int) -> None:
        """Note that part `part` (0-based) is about to be sent: a crash now leaves it uncertain."""
        await self._write(
            "UPDATE digest_runs SET sending_part = ? WHERE chat_id = ? AND local_date = ?",
            (part, chat_id, day.isoformat()),
        )

    async def add_digest_message(self, chat_id: int, day: date, message_id: int) -> None:
        """Record one delivered part at once, so a crash afterwards knows it went out."""
        appended = ("json_insert(message_ids, '$[#]', ?)" if self._dialect == "sqlite"
                    else "(message_ids::jsonb || to_jsonb(?::bigint))::text")
        await self._write(
            f"""UPDATE digest_runs SET message_ids = {appended}, sending_part = NULL
               WHERE chat_id = ? AND local_date = ?""",
            (message_id, chat_id, day.isoformat()),
        )

    async def note_digest_attempt(self, chat_id: int, day: date, *, error: str | None = None) -> None:
        await self._write(
            "UPDATE digest_runs SET attempts = attempts + 1, error = ? WHERE chat_id = ? AND local_date = ?",
            (error, chat_id, day.isoformat()),
        )

    async def finish_digest(self, chat_id: int, day: date, *, status: DigestStatus, error: str | None = None,
                            now: datetime | None = None) -> None:
        """Close a claimed run as sent or failed."""
        await self._write(
            """UPDATE digest_runs SET status = ?, error = coalesce(?, error), finished_at = ?
               WHERE chat_id = ? AND local_date = ? AND status = 'sending'""",
            (status, error, iso(now) if now else self._now(), chat_id, day.isoformat()),
        )

    async def last_sent_digest(self, chat_id: int, *, before: date | None = None) -> DigestRun | None:
        """The chat's latest sent run (before a local date, if given): where the next one starts."""
        row = await self._fetchone(
            """SELECT * FROM digest_runs WHERE chat_id = ? AND status = 'sent' AND until_at IS NOT NULL
                   AND local_date < ? ORDER BY local_date DESC LIMIT 1""",
            (chat_id, (before or date.max).isoformat()),
        )
        return _run(row) if row else None

    async def interrupted_digests(self) -> list[DigestRun]:
        """Runs still 'sending'. Asked at start, before this process claims any: so an earlier
        process claimed them and stopped before finishing (even within the same second)."""
        rows = await self._fetchall("SELECT * FROM digest_runs WHERE status = 'sending' ORDER BY id")
        return [_run(row) for row in rows]

    async def release_digest(self, chat_id: int, day: date) -> None:
        """Drop an interrupted claim that never began sending, so the run can be claimed again."""
        await self._write(
            """DELETE FROM digest_runs WHERE chat_id = ? AND local_date = ? AND status = 'sending'
                   AND send_started_at IS NULL""",
            (chat_id, day.isoformat()),
        )


def _schedule(row: sqlite3.Row) -> DigestSchedule:
    return DigestSchedule(
        chat_id=row["chat_id"],
        at=time.fromisoformat(row["time"]),
        timezone=row["timezone"],
        enabled=bool(row["enabled"]),
        quiet=bool(row["quiet"]),
        since=datetime.fromisoformat(row["since"]),
    )


def _run(row: sqlite3.Row) -> DigestRun:
    return DigestRun(
        chat_id=row["chat_id"],
        local_date=date.fromisoformat(row["local_date"]),
        status=DigestStatus(row["status"]),
        scheduled_for=datetime.fromisoformat(row["scheduled_for"]),
        claimed_at=datetime.fromisoformat(row["claimed_at"]),
        send_started_at=instant(row["send_started_at"]),
        finished_at=instant(row["finished_at"]),
        since=instant(row["since_at"]),
        until=instant(row["until_at"]),
        item_count=row["item_count"],
        message_ids=tuple(json.loads(row["message_ids"] or "[]")),
        sending_part=row["sending_part"],
        language=row["language"],
        attempts=row["attempts"],
        error=row["error"],
    )

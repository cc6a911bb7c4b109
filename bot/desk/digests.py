"""Daily digests: what was added to a chat since its previous digest, sent once a day at the
chat's own local time, through an outlet (the Telegram adapter) that renders and sends the parts.

The database is the truth. Exactly once a day: a run is claimed by inserting a row keyed by
(chat, LOCAL date) before anything is sent, and closed as sent or failed afterwards; a second
claim for the same day is refused, in this process or the next. A run missed by more than
DIGEST_GRACE_HOURS (the bot was down) is recorded as skipped and logged instead.

A claim still 'sending' when the bot starts was left by a process that stopped mid-way:
- it never began sending (no send_started_at): nothing can have reached the chat, so the claim
  is dropped and the digest is sent now (if still within the grace);
- it stopped between two parts (no sending_part): the parts are rebuilt from the recorded window
  and language, and the ones not yet delivered are sent — nothing lost, nothing doubled;
- it stopped while a part was in flight (sending_part is set): it may or may not have reached the
  chat. It is not sent again (a doubled message cannot be taken back), the rest are, and the run
  records which part may be missing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from bot.clock import utc_now
from bot.desk import schedule
from storage.models import DigestRun, DigestSchedule, DigestStatus, Item
from storage.repository import Repository

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 3
RETRY_DELAYS = (2.0, 8.0)
"""Seconds before the second and the third attempt."""
FIRST_DIGEST_HOURS = 24
"""A chat's first digest covers the last day."""


class DeliveryFailed(Exception):
    """A part could not be delivered now; a later attempt may succeed."""


class DeliveryRefused(DeliveryFailed):
    """The chat refuses the bot (gone, blocked, not allowed to post): retrying will not help."""


class DigestOutlet(Protocol):
    """Where digests go: renders a digest into message parts and sends one part."""

    def render(self, items: Sequence[Item], day: date, language: str) -> list[str]:
        """The parts of a digest; the same items, day and language always give the same parts."""
        ...

    async def send(self, chat_id: int, part: str) -> int:
        """Send one part; its message id. Raises DeliveryFailed or DeliveryRefused."""
        ...


@dataclass(frozen=True)
class Digest:
    """The chat's items submitted in [since, until), for the local date `day`."""

    items: list[Item]
    day: date
    since: datetime
    until: datetime


async def compose(repository: Repository, chat_id: int, *, day: date, until: datetime,
                  before: date | None = None) -> Digest:
    """The chat's items since its previous sent digest (before local date `before`), up to `until`."""
    previous = await repository.last_sent_digest(chat_id, before=before)
    since = previous.until if previous and previous.until else until - timedelta(hours=FIRST_DIGEST_HOURS)
    return Digest(await repository.items_between(chat_id, since, until), day, since, until)


async def digest_now(repository: Repository, chat_id: int, *, default_timezone: str,
                     now: datetime | None = None) -> Digest:
    """Items since the previous sent digest up to now, dated today in the chat's zone; for /digest,
    nothing is recorded as sent."""
    now = now or utc_now()
    zone = await _zone(repository, chat_id, default_timezone)
    return await compose(repository, chat_id, day=schedule.local_date_of(now, zone), until=now + timedelta(seconds=1))


async def digest_for_date(repository: Repository, chat_id: int, day: date, *, default_timezone: str) -> Digest:
    """The digest of a local date: the recorded window if that run was sent, else the items since
    the previous digest up to that day's run (or the day's end)."""
    run = await repository.digest_run(chat_id, day)
    if run and run.since and run.until:
        return Digest(await repository.items_between(chat_id, run.since, run.until), day, run.since, run.until)
    found = await repository.digest_schedule(chat_id)
    zone = ZoneInfo(found.timezone) if found else ZoneInfo(default_timezone)
    until = schedule.local_instant(day, found.at, zone) if found else \
        schedule.local_instant(day + timedelta(days=1), time(0), zone)
    return await compose(repository, chat_id, day=day, until=min(until, utc_now() + timedelta(seconds=1)), before=day)


async def _zone(repository: Repository, chat_id: int, default_timezone: str) -> ZoneInfo:
    found = await repository.digest_schedule(chat_id)
    return ZoneInfo(found.timezone if found else default_timezone)


# -- /schedule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleAnswer:
    """The chat's schedule after a /schedule command, or what was wrong with the command."""

    schedule: DigestSchedule | None
    problem: str | None = None
    """"usage", "bad_zone", "bad_time", "extra" (words that are not part of a schedule) or "none"
    (no schedule to turn on or off)."""
    zone_text: str = ""
    """The zone as typed, when it is unknown."""
    wrong: str = ""
    """The time or the extra words as typed, for "bad_time" and "extra"."""
    wrong_parts: tuple[str, ...] = ()
    """For "bad_time": the parts out of range ("hours", "minutes", "seconds"), or ("format",)."""

    def next_run(self, now: datetime) -> datetime | None:
        """The next digest, in the schedule's local time; None when it is off."""
        if self.schedule is None or not self.schedule.enabled:
            return None
        zone = ZoneInfo(self.schedule.timezone)
        return schedule.next_run(now, self.schedule.at, zone).astimezone(zone)


async def change_schedule(repository: Repository, chat_id: int, argument: str, *,
                          default_timezone: str) -> ScheduleAnswer:
    """Apply `/schedule [HH:MM[:SS] [Area/City] | Area/City | off | on | quiet | loud]`."""
    words = argument.split()
    current = await repository.digest_schedule(chat_id)
    if not words:
        return ScheduleAnswer(current)
    command = words[0].lower()
    if command in ("off", "on", "quiet", "loud") and len(words) > 1:
        return ScheduleAnswer(current, "extra", wrong=" ".join(words[1:])[:64])
    if command in ("off", "on", "quiet", "loud"):
        if current is None:
            return ScheduleAnswer(None, "none")
        if command in ("off", "on"):
            await repository.set_digest_flags(chat_id, enabled=command == "on")
        else:
            await repository.set_digest_flags(chat_id, quiet=command == "quiet")
        return ScheduleAnswer(await repository.digest_schedule(chat_id))
    at = schedule.parse_time(words[0])
    if at is None and (wrong_parts := schedule.time_problem(words[0])):
        return ScheduleAnswer(current, "bad_time", wrong=words[0][:32], wrong_parts=wrong_parts)
    zone_words = words[1:] if at else words
    if zone_words and schedule.looks_like_time(zone_words[0]):
        return ScheduleAnswer(current, "extra", wrong=" ".join(zone_words)[:64])  # a second time
    if len(zone_words) > 1:
        return ScheduleAnswer(current, "extra", wrong=" ".join(zone_words[1:])[:64])
    zone_name = current.timezone if current else default_timezone
    if zone_words:
        zone_name = schedule.parse_zone(zone_words[0]) or ""
        if not zone_name:
            return ScheduleAnswer(current, "bad_zone", zone_words[0][:64])
    if at is None:
        if current is None:
            return ScheduleAnswer(None, "usage")
        at = current.at
    await repository.set_digest_schedule(chat_id, at=at, timezone=zone_name)
    return ScheduleAnswer(await repository.digest_schedule(chat_id))


# -- the daily run ---------------------------------------------------------------------------


async def run_due(services: Services, chat_id: int, outlet: DigestOutlet, *,
                  now: datetime | None = None) -> DigestStatus | None:
    """Send the chat's digest if one is due and not yet claimed; the run's final status, or None."""
    now = now or utc_now()
    repository = services.repository
    found = await repository.digest_schedule(chat_id)
    if found is None or not found.enabled:
        return None
    grace = timedelta(hours=services.settings.digest_grace_hours)
    decision = schedule.decide(now, found.at, ZoneInfo(found.timezone), since=found.since, grace=grace)
    if decision is None:
        return None
    day, scheduled = decision.occurrence.day, decision.occurrence.at
    if (run := await repository.digest_run(chat_id, day)) is not None:
        log.debug("digest for chat %s on %s: already %s", chat_id, day, run.status)
        return None  # the sweep's usual case, no write
    if decision.action == schedule.SKIP:
        reason = f"missed by {_hours(decision.late)} (grace {_hours(grace)})"
        if await repository.skip_digest(chat_id, day, scheduled_for=scheduled, reason=reason, now=now):
            log.warning("digest for chat %s on %s skipped: %s", chat_id, day, reason)
            return DigestStatus.SKIPPED
        return None
    if not await repository.claim_digest(chat_id, day, scheduled_for=scheduled, now=now):
        return None  # another wake-up of this process, or another process, claimed it first
    language = await services.language_of(chat_id)
    digest = await compose(repository, chat_id, day=day, until=now, before=day)
    await repository.start_digest_sending(chat_id, day, since=digest.since, until=digest.until,
                                          item_count=len(digest.items), language=language, now=now)
    if not digest.items and found.quiet:
        await repository.finish_digest(chat_id, day, status=DigestStatus.SENT, error="quiet: no new items")
        log.info("digest for chat %s on %s: no new items, quiet", chat_id, day)
        return DigestStatus.SENT
    parts = outlet.render(digest.items, day, language)
    status = await deliver(repository, outlet, chat_id, day, parts)
    log.info("digest for chat %s on %s: %s (%d items, %d messages)", chat_id, day, status,
             len(digest.items), len(parts))
    return status


async def deliver(repository: Repository, outlet: DigestOutlet, chat_id: int, day: date, parts: list[str], *,
                  start: int = 0, note: str | None = None) -> DigestStatus:
    """Send the parts from `start` on, recording each, retrying with backoff; close the run."""
    delivered = start
    error: DeliveryFailed | None = None
    for attempt in range(SEND_ATTEMPTS):
        if attempt:
            await asyncio.sleep(RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)])
        try:
            while delivered < len(parts):
                await repository.mark_digest_part_sending(chat_id, day, delivered)
                message_id = await outlet.send(chat_id, parts[delivered])
                await repository.add_digest_message(chat_id, day, message_id)
                delivered += 1
        except DeliveryRefused as failure:
            await repository.note_digest_attempt(chat_id, day, error=str(failure))
            error = failure
            break
        except DeliveryFailed as failure:
            await repository.note_digest_attempt(chat_id, day, error=str(failure))
            log.warning("digest for chat %s, attempt %d failed: %s", chat_id, attempt + 1, failure)
            error = failure
            continue
        await repository.note_digest_attempt(chat_id, day, error=note)
        await repository.finish_digest(chat_id, day, status=DigestStatus.SENT)
        return DigestStatus.SENT
    log.error("digest for chat %s on %s failed: %s", chat_id, day, error)
    await repository.finish_digest(chat_id, day, status=DigestStatus.FAILED, error=str(error))
    return DigestStatus.FAILED


async def recover_interrupted(repository: Repository) -> list[DigestRun]:
    """Settle the runs an earlier process left 'sending' (the rules are in the module docstring);
    return those whose remaining parts are to be sent (see `resume_interrupted`)."""
    to_resume = []
    for run in await repository.interrupted_digests():
        if run.send_started_at is None:
            await repository.release_digest(run.chat_id, run.local_date)
            log.warning("digest for chat %s on %s was interrupted before sending; it will be sent again",
                        run.chat_id, run.local_date)
        elif run.since is None or run.until is None:
            await repository.finish_digest(run.chat_id, run.local_date, status=DigestStatus.FAILED,
                                           error="interrupted; its window was not recorded")
        else:
            to_resume.append(run)
    return to_resume


async def resume_interrupted(services: Services, run: DigestRun, outlet: DigestOutlet) -> DigestStatus:
    """Send the parts of an interrupted digest that did not go out, rebuilt from its window."""
    assert run.since is not None and run.until is not None  # recover_interrupted settled the others
    items = await services.repository.items_between(run.chat_id, run.since, run.until)
    parts = outlet.render(items, run.local_date, run.language or await services.language_of(run.chat_id))
    start, note = len(run.message_ids), None
    if run.sending_part is not None:
        start = run.sending_part + 1  # that part may have reached the chat: never send it twice
        note = f"interrupted while sending part {run.sending_part + 1} of {len(parts)}; it may be missing"
    log.warning("digest for chat %s on %s was interrupted; sending parts %d..%d of %d",
                run.chat_id, run.local_date, start + 1, len(parts), len(parts))
    return await deliver(services.repository, outlet, run.chat_id, run.local_date, parts, start=start, note=note)


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.1f} h"

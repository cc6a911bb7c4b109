"""Daily digests: what was added to a chat since its previous digest, grouped by source, sent
once a day at the chat's own local time.

The database is the truth; PTB's JobQueue only wakes the bot. Each chat has a one-off job at
its next run, and a sweep every SWEEP_SECONDS looks at every schedule, so a job dropped by
APScheduler, a restart or a clock jump only delays a digest by a few seconds.

Exactly once a day: a run is claimed by inserting a `digest_runs` row keyed by (chat, LOCAL
date) before anything is sent, and closed as 'sent' or 'failed' afterwards; a second claim for
the same day is refused, in this process or the next. A run missed by more than
DIGEST_GRACE_HOURS (the bot was down) is recorded as 'skipped' and logged instead.

A claim still 'sending' when the bot starts was left by a process that stopped mid-way:
- it never began sending (send_started_at is empty): nothing can have reached the chat, so the
  claim is dropped and the digest is sent now (if still within the grace);
- it stopped between two parts (sending_part is empty): the parts are rebuilt from the recorded
  window and language, and the ones not yet delivered are sent — nothing lost, nothing doubled;
- it stopped while a sendMessage was in flight (sending_part is set): Telegram may or may not
  have delivered that part. It is not sent again (a doubled message cannot be taken back), the
  rest are, and the run records which part may be missing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, ContextTypes, Job

from bot import render, schedule
from bot.background import start_background
from bot.services import Services
from storage.repository import Repository, utc_now

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30
SEND_ATTEMPTS = 3
RETRY_DELAYS = (2.0, 8.0)  # seconds before the second and third attempt
FIRST_DIGEST_HOURS = 24  # a chat's first digest covers the last day


@dataclass(frozen=True)
class Schedule:
    chat_id: int
    at: time
    zone_name: str
    enabled: bool
    quiet: bool
    since: datetime

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone_name)


@dataclass(frozen=True)
class Digest:
    """A digest ready to send: its messages and the items it covers, submitted in [since, until)."""

    messages: list[str]
    item_count: int
    since: datetime
    until: datetime


def _schedule(row: dict | None) -> Schedule | None:
    if row is None:
        return None
    return Schedule(row["chat_id"], schedule.parse_time(row["time"]) or time(9), row["timezone"],
                    bool(row["enabled"]), bool(row["quiet"]), datetime.fromisoformat(row["since"]))


# -- content -------------------------------------------------------------------------------


async def compose(repository: Repository, chat_id: int, *, language: str, day: date, until: datetime,
                  before: date | None = None) -> Digest:
    """The chat's items since its previous sent digest (before local date `before`), up to `until`."""
    previous = await repository.last_sent_digest(chat_id, before=before)
    since = datetime.fromisoformat(previous["until_at"]) if previous else until - timedelta(hours=FIRST_DIGEST_HOURS)
    items = await repository.items_between(chat_id, since, until)
    return Digest(render.digest(items, day, language), len(items), since, until)


async def build_digest(services: Services, chat_id: int, *, language: str, now: datetime | None = None) -> list[str]:
    """The digest as it would go out now, for /digest: nothing is recorded as sent."""
    return await digest_now(services.repository, chat_id, language=language,
                            default_timezone=services.settings.default_timezone, now=now)


async def digest_now(repository: Repository, chat_id: int, *, language: str, default_timezone: str,
                     now: datetime | None = None) -> list[str]:
    """Items since the previous sent digest up to now, dated today in the chat's zone."""
    now = now or utc_now()
    found = _schedule(await repository.digest_schedule(chat_id))
    zone = found.zone if found else ZoneInfo(default_timezone)
    digest = await compose(repository, chat_id, language=language, day=schedule.local_date_of(now, zone),
                           until=now + timedelta(seconds=1))
    return digest.messages


async def digest_for_date(repository: Repository, chat_id: int, day: date, *, language: str,
                          default_timezone: str) -> list[str]:
    """The digest of a local date, for the terminal: the recorded window if that run was sent,
    else the items since the previous digest up to that day's run (or the day's end)."""
    run = await repository.digest_run(chat_id, day)
    if run and run["since_at"] and run["until_at"]:
        items = await repository.items_between(
            chat_id, datetime.fromisoformat(run["since_at"]), datetime.fromisoformat(run["until_at"]))
        return render.digest(items, day, language)
    found = _schedule(await repository.digest_schedule(chat_id))
    zone = found.zone if found else ZoneInfo(default_timezone)
    until = schedule.local_instant(day, found.at, zone) if found else \
        schedule.local_instant(day + timedelta(days=1), time(0), zone)
    until = min(until, utc_now() + timedelta(seconds=1))
    return (await compose(repository, chat_id, language=language, day=day, until=until, before=day)).messages


# -- the /schedule command -----------------------------------------------------------------


async def change_schedule(application: Application, chat_id: int, argument: str, *, language: str) -> str:
    """Apply `/schedule [HH:MM[:SS] [Area/City] | Area/City | off | on | quiet | loud]`; the answer."""
    services: Services = application.bot_data["services"]
    repository = services.repository
    words = argument.split()
    current = _schedule(await repository.digest_schedule(chat_id))
    if not words:
        return _describe(current, language)
    command = words[0].lower()
    if command in ("off", "on", "quiet", "loud") and len(words) == 1:
        if current is None:
            return render.text("schedule_none", language)
        if command in ("off", "on"):
            await repository.set_digest_flags(chat_id, enabled=command == "on")
        else:
            await repository.set_digest_flags(chat_id, quiet=command == "quiet")
    else:
        at = schedule.parse_time(words[0])
        zone_words = words[1:] if at else words
        if len(zone_words) > 1 or (at is None and not zone_words):
            return render.text("schedule_usage", language)
        zone_name = current.zone_name if current else services.settings.default_timezone
        if zone_words:
            zone_name = schedule.parse_zone(zone_words[0]) or ""
            if not zone_name:
                return render.text("schedule_bad_zone", language, zone=zone_words[0][:64])
        if at is None:
            if current is None:
                return render.text("schedule_usage", language)
            at = current.at
        await repository.set_digest_schedule(chat_id, at=schedule.format_time(at), timezone=zone_name)
    updated = _schedule(await repository.digest_schedule(chat_id))
    register(application, updated)
    return _describe(updated, language)


def _describe(found: Schedule | None, language: str) -> str:
    if found is None:
        return render.text("schedule_none", language)
    upcoming = schedule.next_run(utc_now(), found.at, found.zone).astimezone(found.zone) if found.enabled else None
    return render.schedule(at=schedule.format_time(found.at), zone=found.zone_name, enabled=found.enabled,
                           quiet=found.quiet, next_run=upcoming, language=language)


# -- the job -------------------------------------------------------------------------------


async def start(application: Application) -> None:
    """Settle runs an earlier process left open, then register every schedule and the sweep."""
    services: Services = application.bot_data["services"]
    for run in await recover_interrupted(services.repository):
        application.job_queue.run_once(_resume, when=0, data=run, name=f"resume-digest:{run['chat_id']}")
    for found in map(_schedule, await services.repository.digest_schedules()):
        register(application, found)
    application.job_queue.run_repeating(
        _sweep, interval=SWEEP_SECONDS, first=1, name="digest-sweep",
        job_kwargs={"misfire_grace_time": SWEEP_SECONDS, "coalesce": True, "max_instances": 1},
    )


def register(application: Application, found: Schedule | None) -> None:
    """(Re)place a chat's one-off job at its next run; none for a schedule that is off."""
    if found is None:
        return
    name = f"digest:{found.chat_id}"
    for job in application.job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    if not found.enabled:
        return
    services: Services = application.bot_data["services"]
    when = schedule.next_run(utc_now(), found.at, found.zone)
    application.job_queue.run_once(
        _wake, when=when, name=name, chat_id=found.chat_id,
        # APScheduler drops a run more than 1 s late by default; the database decides anyway
        job_kwargs={"misfire_grace_time": int(services.settings.digest_grace_hours * 3600) + 60,
                    "coalesce": True},
    )
    log.debug("digest for chat %s next at %s", found.chat_id, when.isoformat())


async def _wake(context: ContextTypes.DEFAULT_TYPE) -> None:
    job: Job = context.job
    await run_due(context.application, job.chat_id)
    register(context.application, _schedule(await _services(context).repository.digest_schedule(job.chat_id)))


async def _sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    for found in map(_schedule, await _services(context).repository.digest_schedules()):
        try:
            await run_due(context.application, found.chat_id)
        except Exception:
            log.exception("digest check for chat %s failed", found.chat_id)
        if not context.application.job_queue.get_jobs_by_name(f"digest:{found.chat_id}"):
            register(context.application, found)


def _services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


_running: set[int] = set()


async def run_due(application: Application, chat_id: int, *, now: datetime | None = None) -> str | None:
    """Send the chat's digest if one is due and not yet claimed; the run's final status, or None."""
    if chat_id in _running:
        return None  # the one-off job and the sweep woke at once; the claim would refuse it anyway
    _running.add(chat_id)
    try:
        return await _run_due(application, chat_id, now or utc_now())
    finally:
        _running.discard(chat_id)


async def _run_due(application: Application, chat_id: int, now: datetime) -> str | None:
    services: Services = application.bot_data["services"]
    repository = services.repository
    found = _schedule(await repository.digest_schedule(chat_id))
    if found is None or not found.enabled:
        return None
    grace = timedelta(hours=services.settings.digest_grace_hours)
    decision = schedule.decide(now, found.at, found.zone, since=found.since, grace=grace)
    if decision is None:
        return None
    day, scheduled = decision.occurrence.day, decision.occurrence.at
    if await repository.digest_run(chat_id, day) is not None:
        return None  # already sent, failed, skipped or being sent: the sweep's usual case, no write
    if decision.action == schedule.SKIP:
        reason = f"missed by {_hours(decision.late)} (grace {_hours(grace)})"
        if await repository.skip_digest(chat_id, day, scheduled_for=scheduled, reason=reason, now=now):
            log.warning("digest for chat %s on %s skipped: %s", chat_id, day, reason)
            return "skipped"
        return None
    if not await repository.claim_digest(chat_id, day, scheduled_for=scheduled, now=now):
        return None
    language = await services.language_of(chat_id)
    digest = await compose(repository, chat_id, language=language, day=day, until=now, before=day)
    await repository.start_digest_sending(chat_id, day, since=digest.since, until=digest.until,
                                          item_count=digest.item_count, language=language, now=now)
    if digest.item_count == 0 and found.quiet:
        await repository.finish_digest(chat_id, day, status="sent", error="quiet: no new items")
        log.info("digest for chat %s on %s: no new items, quiet", chat_id, day)
        return "sent"
    status = await _deliver(application, chat_id, day, digest.messages)
    log.info("digest for chat %s on %s: %s (%d items, %d messages)", chat_id, day, status,
             digest.item_count, len(digest.messages))
    return status


async def _deliver(application: Application, chat_id: int, day: date, messages: list[str], *,
                   start: int = 0, note: str | None = None) -> str:
    """Send the parts from `start` on, retrying with backoff; close the run as sent or failed."""
    repository = application.bot_data["services"].repository
    delivered = start
    error: TelegramError | None = None
    for attempt in range(SEND_ATTEMPTS):
        if attempt:
            await asyncio.sleep(RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)])
        try:
            while delivered < len(messages):
                await repository.mark_digest_part_sending(chat_id, day, delivered)
                sent = await application.bot.send_message(chat_id, messages[delivered])
                await repository.add_digest_message(chat_id, day, sent.message_id)
                delivered += 1
        except (BadRequest, Forbidden) as failure:  # the chat is gone or refuses us: retrying won't help
            await repository.note_digest_attempt(chat_id, day, error=str(failure))
            error = failure
            break
        except TelegramError as failure:
            await repository.note_digest_attempt(chat_id, day, error=str(failure))
            log.warning("digest for chat %s, attempt %d failed: %s", chat_id, attempt + 1, failure)
            error = failure
            continue
        await repository.note_digest_attempt(chat_id, day, error=note)
        await repository.finish_digest(chat_id, day, status="sent")
        return "sent"
    log.error("digest for chat %s on %s failed: %s", chat_id, day, error)
    await repository.finish_digest(chat_id, day, status="failed", error=str(error))
    return "failed"


async def recover_interrupted(repository: Repository) -> list[dict]:
    """Settle the runs an earlier process left 'sending' (the rules are in the module docstring);
    return those whose remaining parts are to be sent (see `resume_interrupted`)."""
    to_resume = []
    for run in await repository.interrupted_digests():
        day = date.fromisoformat(run["local_date"])
        if run["send_started_at"] is None:
            await repository.release_digest(run["chat_id"], day)
            log.warning("digest for chat %s on %s was interrupted before sending; it will be sent again",
                        run["chat_id"], day)
        elif run["since_at"] is None or run["until_at"] is None:
            await repository.finish_digest(run["chat_id"], day, status="failed",
                                           error="interrupted; its window was not recorded")
        else:
            to_resume.append(run)
    return to_resume


async def _resume(context: ContextTypes.DEFAULT_TYPE) -> None:
    start_background(context.application, resume_interrupted(context.application, context.job.data),
                     name=f"resume-digest:{context.job.data['chat_id']}")


async def resume_interrupted(application: Application, run: dict) -> str:
    """Send the parts of an interrupted digest that did not go out, rebuilt from its window."""
    services: Services = application.bot_data["services"]
    chat_id, day = run["chat_id"], date.fromisoformat(run["local_date"])
    items = await services.repository.items_between(
        chat_id, datetime.fromisoformat(run["since_at"]), datetime.fromisoformat(run["until_at"]))
    messages = render.digest(items, day, run["language"] or await services.language_of(chat_id))
    start, note = len(run["message_ids"]), None
    if run["sending_part"] is not None:
        start = run["sending_part"] + 1  # that part may have reached the chat: never send it twice
        note = f"interrupted while sending part {run['sending_part'] + 1} of {len(messages)}; it may be missing"
    log.warning("digest for chat %s on %s was interrupted; sending parts %d..%d of %d",
                chat_id, day, start + 1, len(messages), len(messages))
    return await _deliver(application, chat_id, day, messages, start=start, note=note)


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.1f} h"

"""Daily digests on PTB's JobQueue: the jobs only wake the bot; the desk (bot.desk.digests) and
the database decide what is sent, exactly once a day.

Each chat has a one-off job at its next run, and a sweep every SWEEP_SECONDS looks at every
schedule, so a job dropped by APScheduler, a restart or a clock jump only delays a digest by a
few seconds. `TelegramOutlet` is how the desk renders and sends a digest's parts here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, JobQueue

from bot.clock import utc_now
from bot.desk import schedule
from bot.desk.digests import DeliveryFailed, DeliveryRefused, recover_interrupted, resume_interrupted, run_due
from bot.services import Services
from bot.telegram import render
from bot.telegram.background import start_background
from bot.telegram.context import Context, send, services
from bot.telegram.ratelimit import Lane
from storage.models import DigestRun, DigestSchedule, Item

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30


class TelegramOutlet:
    """Digest parts as Telegram HTML messages, sent by the bot."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    def render(self, items: Sequence[Item], day: date, language: str) -> list[str]:
        return render.digest(items, day, language)

    async def send(self, chat_id: int, part: str) -> int:
        try:  # a scheduled digest waits behind answers to commands
            return (await send(self._bot, chat_id, part, lane=Lane.BULK)).message_id
        except (BadRequest, Forbidden) as error:  # the chat is gone or refuses us
            raise DeliveryRefused(str(error)) from error
        except TelegramError as error:
            raise DeliveryFailed(str(error)) from error


def job_queue(application: Application) -> JobQueue:
    """The application's JobQueue (the job-queue extra is a dependency, so it is always there)."""
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot was installed without its job-queue extra")
    return queue


async def start(application: Application) -> None:
    """Settle runs an earlier process left open, then register every schedule and the sweep."""
    svc: Services = application.bot_data["services"]
    queue = job_queue(application)
    for run in await recover_interrupted(svc.repository):
        queue.run_once(_resume, when=0, data=run, name=f"resume-digest:{run.chat_id}")
    for found in await svc.repository.digest_schedules():
        register(application, found)
    queue.run_repeating(
        _sweep, interval=SWEEP_SECONDS, first=1, name="digest-sweep",
        job_kwargs={"misfire_grace_time": SWEEP_SECONDS, "coalesce": True, "max_instances": 1},
    )


def register(application: Application, found: DigestSchedule) -> None:
    """(Re)place a chat's one-off job at its next run; none for a schedule that is off."""
    queue = job_queue(application)
    name = f"digest:{found.chat_id}"
    for job in queue.get_jobs_by_name(name):
        job.schedule_removal()
    if not found.enabled:
        return
    svc: Services = application.bot_data["services"]
    when = schedule.next_run(utc_now(), found.at, ZoneInfo(found.timezone))
    queue.run_once(
        _wake, when=when, name=name, chat_id=found.chat_id,
        # APScheduler drops a run more than 1 s late by default; the database decides anyway
        job_kwargs={"misfire_grace_time": int(svc.settings.digest_grace_hours * 3600) + 60, "coalesce": True},
    )
    log.debug("digest for chat %s next at %s", found.chat_id, when.isoformat())


async def _wake(context: Context) -> None:
    chat_id = context.job.chat_id if context.job else None
    if chat_id is None:
        return
    svc = services(context)
    await run_due(svc, chat_id, TelegramOutlet(context.bot))
    found = await svc.repository.digest_schedule(chat_id)
    if found is not None:
        register(context.application, found)


async def _sweep(context: Context) -> None:
    svc = services(context)
    for found in await svc.repository.digest_schedules():
        try:
            await run_due(svc, found.chat_id, TelegramOutlet(context.bot))
        except Exception:
            log.exception("digest check for chat %s failed", found.chat_id)
        if not job_queue(context.application).get_jobs_by_name(f"digest:{found.chat_id}"):
            register(context.application, found)


async def _resume(context: Context) -> None:
    run: DigestRun | None = context.job.data if context.job else None  # type: ignore[assignment]
    if run is None:
        return
    start_background(context.application, resume_interrupted(services(context), run, TelegramOutlet(context.bot)),
                     name=f"resume-digest:{run.chat_id}")

"""The bot's upkeep on PTB's JobQueue: a heartbeat on the database's lock (read by `newsdesk check
--quick`, a container's HEALTHCHECK), and the daily backup into BACKUP_DIR. The jobs only wake
the desk; the database records which day's backup was made."""

from __future__ import annotations

import logging

from telegram.ext import Application

from bot.desk.backups import scheduled_backup
from bot.desk.health import HEARTBEAT_SECONDS
from bot.telegram.context import Context, services
from bot.telegram.digest_jobs import job_queue
from storage.errors import StorageError
from storage.files import DatabaseLock

log = logging.getLogger(__name__)

BACKUP_CHECK_SECONDS = 600
"""How often the bot looks whether today's backup is due: it is made within this long of BACKUP_TIME."""


def start(application: Application) -> None:
    queue = job_queue(application)
    lock: DatabaseLock | None = application.bot_data.get("lock")
    if lock is not None:
        queue.run_repeating(_beat, interval=HEARTBEAT_SECONDS, first=0, data=lock, name="heartbeat")
    if application.bot_data["settings"].backup_dir is not None:
        queue.run_repeating(_backup, interval=BACKUP_CHECK_SECONDS, first=5, name="daily-backup",
                            job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None})


async def _beat(context: Context) -> None:
    """Runs on the event loop on purpose: a loop too stuck to run it is what the heartbeat shows."""
    lock: DatabaseLock | None = context.job.data if context.job else None  # type: ignore[assignment]
    if lock is not None:
        try:
            lock.beat()
        except OSError as error:
            log.warning("heartbeat not written: %s", error)


async def _backup(context: Context) -> None:
    try:
        await scheduled_backup(services(context))
    except StorageError as error:  # the database could not record the claim: tried again next time
        log.error("daily backup not started: %s", error)

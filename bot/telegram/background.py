"""Long background work: answering posted links, finishing left-over links, resuming a digest.

It runs as plain asyncio tasks that a shutdown cancels: PTB would otherwise wait for it at
SIGTERM, and posting a hundred cards under Telegram's flood limits takes minutes. Cancelling
loses nothing: a link still being processed stays pending, a digest part not yet sent stays
unrecorded, and the next start finishes both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from telegram.ext import Application

log = logging.getLogger(__name__)
_KEY = "background_tasks"


def start_background(application: Application, work: Coroutine[Any, Any, Any], *, name: str) -> None:
    tasks: set[asyncio.Task[Any]] = application.bot_data.setdefault(_KEY, set())
    task = asyncio.create_task(work, name=name)
    tasks.add(task)
    task.add_done_callback(lambda done: _finished(tasks, done))


def _finished(tasks: set[asyncio.Task[Any]], task: asyncio.Task[Any]) -> None:
    tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("background work %s failed", task.get_name(), exc_info=task.exception())


async def cancel_background(application: Application) -> None:
    tasks: set[asyncio.Task[Any]] = application.bot_data.get(_KEY, set())
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

"""Digests: what was added to a chat since its previous digest, grouped by source."""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram.ext import Application

from bot import render
from bot.services import Services
from storage.repository import utc_now


async def build_digest(services: Services, chat_id: int, *, language: str, now: datetime | None = None) -> list[str]:
    """Today's digest for a chat as Telegram messages: the items of the last 24 hours."""
    now = now or utc_now()
    items = await services.repository.items_between(chat_id, now - timedelta(hours=24), now + timedelta(seconds=1))
    return render.digest(items, now.date(), language)


def add_handlers(application: Application) -> None:
    """Handlers the digest schedule needs (none yet)."""


async def start(application: Application) -> None:
    """Register the chats' digest schedules on the JobQueue (none yet)."""

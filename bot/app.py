"""The composition root: build_application(settings) wires handlers, services and jobs."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from telegram import Bot, BotCommand, BotCommandScopeDefault, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import digest, handlers, render
from bot.background import cancel_background, start_background
from bot.config import Settings
from bot.services import Services
from storage.models import DONE
from storage.repository import utc_now

log = logging.getLogger(__name__)
HELD_LINKS_RETRY_SECONDS = 5
STUCK_AFTER = timedelta(minutes=2)
"""A pending link nobody has touched for this long was stopped by a fault: process it again."""


def build_application(settings: Settings) -> Application:
    """The bot, exactly as `newsdesk run` runs it."""
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["settings"] = settings
    application.add_handler(TypeHandler(Update, handlers.guard), group=-1)
    commands = filters.COMMAND & (filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST)
    application.add_handler(MessageHandler(commands, handlers.on_command))
    application.add_handler(MessageHandler((filters.TEXT | filters.CAPTION) & ~filters.COMMAND, handlers.on_links))
    application.add_handler(CallbackQueryHandler(handlers.on_search_page, pattern=r"^search:"))
    application.add_error_handler(handlers.on_error)
    return application


async def _post_init(application: Application) -> None:
    settings: Settings = application.bot_data["settings"]
    services = await Services.open(settings)
    application.bot_data["services"] = services
    await _register_commands(application)
    # post_init runs before the application starts: work that outlives it goes on the JobQueue
    application.job_queue.run_once(_resume_left_over, when=0, name="resume-pending")
    application.job_queue.run_repeating(handlers.retry_held_links, interval=HELD_LINKS_RETRY_SECONDS,
                                        first=HELD_LINKS_RETRY_SECONDS, name="retry-held-links")
    application.job_queue.run_repeating(_resume_stuck, interval=STUCK_AFTER.total_seconds() / 2,
                                        first=STUCK_AFTER.total_seconds(), name="resume-stuck-links")
    await digest.start(application)
    if not settings.allowed_chats:
        log.warning("ALLOWED_CHATS is empty: the bot answers only ADMINS, in private chats")


async def _post_shutdown(application: Application) -> None:
    await cancel_background(application)
    services: Services | None = application.bot_data.pop("services", None)
    if services is not None:
        await services.aclose()


async def _register_commands(application: Application) -> None:
    """Telegram's command menu, in Ukrainian for Ukrainian users and English for the rest."""
    for language, descriptions in handlers.COMMAND_DESCRIPTIONS.items():
        commands = [BotCommand(name, description) for name, description in descriptions.items()]
        await application.bot.set_my_commands(commands, scope=BotCommandScopeDefault(),
                                              language_code=None if language == "en" else language)


async def _resume_left_over(context: ContextTypes.DEFAULT_TYPE) -> None:
    start_background(context.application, _resume_pending(context.application), name="resume-pending")


async def _resume_stuck(context: ContextTypes.DEFAULT_TYPE) -> None:
    start_background(context.application, _resume_pending(context.application, older_than=utc_now() - STUCK_AFTER),
                     name="resume-stuck")


async def _resume_pending(application: Application, *, older_than: datetime | None = None) -> None:
    """Finish links a previous run (or a database fault) left pending, and post their cards
    where they were sent."""
    services: Services = application.bot_data["services"]
    for item in await services.ingestor.resume_pending(older_than=older_than):
        if item.chat_id == 0:
            continue  # the command line's own chat
        language = await services.language_of(item.chat_id)
        text = render.card(item, language) if item.status == DONE else render.failure(
            item.url, item.failure_reason or "", language, detail=item.failure_detail)
        try:
            await application.bot.send_message(
                item.chat_id, text, message_thread_id=item.thread_id,
                reply_to_message_id=item.message_id, allow_sending_without_reply=True,
            )
        except TelegramError as error:
            log.warning("could not post resumed item %s to chat %s: %s", item.id, item.chat_id, error)


async def _check_token(settings: Settings) -> str | None:
    """Ask the Bot API who we are, so a bad token is one clear line rather than a traceback."""
    try:
        async with Bot(settings.telegram_bot_token, base_url=settings.telegram_base_url) as bot:
            log.info("running as @%s", bot.username)
    except InvalidToken:
        return "Telegram rejected the token in TELEGRAM_BOT_TOKEN"
    except NetworkError as error:
        return f"cannot reach the Bot API at {settings.telegram_base_url}: {error}"
    return None


def run_bot(settings: Settings) -> int:
    """Run until stopped (SIGINT/SIGTERM); a missing or rejected token is one line and exit 1."""
    if not settings.telegram_bot_token:
        print("newsdesk: TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)", file=sys.stderr)
        return 1
    problem = asyncio.run(_check_token(settings))
    if problem:
        print(f"newsdesk: {problem}", file=sys.stderr)
        return 1
    application = build_application(settings)
    try:
        if settings.webhook_url:
            application.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlsplit(settings.webhook_url).path.lstrip("/"),  # as a reverse proxy passes it on
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret or None,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        print("newsdesk: Telegram rejected the token in TELEGRAM_BOT_TOKEN", file=sys.stderr)
        return 1
    except NetworkError as error:
        print(f"newsdesk: cannot reach the Bot API at {settings.telegram_base_url}: {error}", file=sys.stderr)
        return 1
    return 0

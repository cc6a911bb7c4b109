"""The composition root: build_application(settings) wires handlers, services and jobs, in order;
run_bot runs it by long polling or as a webhook."""

from __future__ import annotations

import asyncio
import logging
import sys
from urllib.parse import urlsplit

from telegram import Bot, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import Settings
from bot.services import Services
from bot.telegram import access, commands, digest_jobs, handlers, links, monitoring, upkeep
from bot.telegram.background import cancel_background
from bot.telegram.ratelimit import FloodLimiter, SharedBucket
from bot.telegram.repeats import Repeats
from storage.errors import StorageError
from storage.files import DatabaseLock, lock_holder
from storage.repository import Repository

log = logging.getLogger(__name__)

HELD_LINKS_RETRY_SECONDS = 5


EXIT_FAILED, EXIT_SETTINGS = 1, 2
"""A settings problem (exit 2) is not retried by the service manager; a network fault (1) is."""
LOCK_WAIT_SECONDS = 2.0


def build_application(settings: Settings, *, lock: DatabaseLock | None = None) -> Application:
    """The bot, exactly as `newsdesk run` runs it; `lock` is the database's lock it holds, whose
    heartbeat it keeps."""
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(FloodLimiter(max_retries=3))
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["settings"] = settings
    application.bot_data["lock"] = lock
    application.add_handler(TypeHandler(Update, access.guard), group=-1)
    command = filters.COMMAND & (filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST)
    application.add_handler(MessageHandler(command, commands.on_command))
    application.add_handler(MessageHandler((filters.TEXT | filters.CAPTION) & ~filters.COMMAND, links.on_links))
    application.add_handler(CallbackQueryHandler(handlers.on_search_page, pattern=r"^search:"))
    application.add_handler(CallbackQueryHandler(handlers.on_export_button, pattern=r"^export:"))
    application.add_handler(CallbackQueryHandler(handlers.on_cards, pattern=r"^cards:"))
    application.add_handler(CallbackQueryHandler(handlers.on_other_button))
    application.add_error_handler(handlers.on_error)
    return application


async def _post_init(application: Application) -> None:
    settings: Settings = application.bot_data["settings"]
    services = application.bot_data["services"] = await Services.open(settings)
    limiter = application.bot.rate_limiter
    if services.repository.shares_work and isinstance(limiter, FloodLimiter):  # replicas on one bot token
        limiter.share_overall(_overall_bucket(services.repository))
    application.bot_data["repeats"] = Repeats(application.bot, services)
    await commands.register_menu(application)
    # post_init runs before the application starts: work that outlives it goes on the JobQueue
    queue = digest_jobs.job_queue(application)
    queue.run_repeating(links.retry_held_links, interval=HELD_LINKS_RETRY_SECONDS,
                        first=HELD_LINKS_RETRY_SECONDS, name="retry-held-links")
    processes_links = settings.processing == "inline"  # else `newsdesk worker` processes links and feeds
    if processes_links:
        queue.run_once(links.resume_left_over, when=0, name="resume-pending")
        stuck = links.STUCK_AFTER.total_seconds()
        queue.run_repeating(links.resume_stuck, interval=stuck / 2, first=stuck, name="resume-stuck-links")
    await digest_jobs.start(application)
    upkeep.start(application)
    monitoring.start(application, with_feed_polls=processes_links)
    if not settings.allowed_chats and not settings.admins:
        log.warning("set-up mode: ALLOWED_CHATS and ADMINS are empty, so the bot serves nobody yet. Write to it "
                    "in Telegram (https://t.me/%s): it answers with your user id and the chat's id, and they are "
                    "logged here; put them in ADMINS and ALLOWED_CHATS and restart", application.bot.username)
    elif not settings.allowed_chats:
        log.warning("ALLOWED_CHATS is empty: the bot answers only ADMINS, in private chats")


def _overall_bucket(repository: Repository) -> SharedBucket:
    """The bot's overall flood limit as a bucket on the database that every replica takes from."""
    async def take(capacity: float, per_second: float) -> float:
        try:
            return await repository.take_token("telegram-overall", capacity=capacity, per_second=per_second)
        except StorageError as error:  # the server is away: this process's own limits still hold
            log.warning("the shared flood limit could not be read: %s", error)
            return 0.0
    return take


async def _post_shutdown(application: Application) -> None:
    await cancel_background(application)
    repeats: Repeats | None = application.bot_data.pop("repeats", None)
    if repeats is not None:
        await repeats.aclose()
    services: Services | None = application.bot_data.pop("services", None)
    if services is not None:
        await services.aclose()


async def _preflight(settings: Settings) -> tuple[int, str] | None:
    """Ask the Bot API who we are, and open the database (bringing its schema up to date), so a bad
    token or an unusable database is one clear line rather than a traceback."""
    try:
        async with Bot(settings.telegram_bot_token, base_url=settings.telegram_base_url) as bot:
            log.info("running as @%s", bot.username)
    except InvalidToken:
        return EXIT_SETTINGS, ("Telegram rejected the token in TELEGRAM_BOT_TOKEN "
                               "(copy the current one from @BotFather: /mybots, then API Token)")
    except NetworkError as error:
        return EXIT_FAILED, f"cannot reach the Bot API at {settings.telegram_base_url}: {error}"
    try:
        repository = await Repository.open(settings.database)
        await repository.close()
    except StorageError as error:
        return EXIT_FAILED, f"{error} (NEWSDESK_DB={settings.database_label}; `newsdesk check` tells more)"
    return None


def run_bot(settings: Settings, *, env_file: str | None = None) -> int:
    """Run until stopped (SIGINT/SIGTERM); a missing or rejected token, an unusable database or a
    second bot on the same database is one line and a non-zero exit."""
    if not settings.telegram_bot_token:
        where = env_file or ".env in this folder"
        print(f"newsdesk: TELEGRAM_BOT_TOKEN is not set: create the bot with @BotFather (/newbot) and put its token "
              f"in {where} (cp .env.example .env, then TELEGRAM_BOT_TOKEN=...)", file=sys.stderr)
        return EXIT_SETTINGS
    if settings.uses_postgres:  # replicas share the server's database: no file lock between them
        return _run(settings, None)
    lock = DatabaseLock(settings.database_path)
    try:
        locked = lock.acquire(wait=LOCK_WAIT_SECONDS)
    except OSError as error:
        print(f"newsdesk: cannot use the database folder of {settings.database_path}: {error.strerror or error} "
              "(NEWSDESK_DB must be in a folder this user can write to)", file=sys.stderr)
        return EXIT_FAILED
    if not locked:
        holder = lock_holder(settings.database_path)
        pid = f" (process {holder.pid})" if holder and holder.pid else ""
        print(f"newsdesk: another Newsdesk bot{pid} is already running on {settings.database_path}", file=sys.stderr)
        return EXIT_FAILED
    try:
        return _run(settings, lock)
    finally:
        lock.release()


def _run(settings: Settings, lock: DatabaseLock | None) -> int:
    problem = asyncio.run(_preflight(settings))
    if problem:
        code, words = problem
        print(f"newsdesk: {words}", file=sys.stderr)
        return code
    application = build_application(settings, lock=lock)
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
        return EXIT_SETTINGS
    except NetworkError as error:
        print(f"newsdesk: cannot reach the Bot API at {settings.telegram_base_url}: {error}", file=sys.stderr)
        return EXIT_FAILED
    return 0

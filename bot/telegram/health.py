"""Telegram's side of `newsdesk check`: does Telegram accept the token (getMe), and does its
webhook registration agree with the settings (getWebhookInfo)."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.config import Settings
from bot.desk.health import Check, Status

PENDING_WARNING = 100


async def telegram_checks(settings: Settings) -> list[Check]:
    if not settings.telegram_bot_token:
        return []
    try:
        async with Bot(settings.telegram_bot_token, base_url=settings.telegram_base_url) as bot:
            me = bot.bot
            checks = [Check("telegram", Status.OK, f"the token belongs to @{me.username} (id {me.id})")]
            if not me.can_read_all_group_messages:
                checks.append(Check("privacy", Status.OK, "privacy mode is on: in groups the bot sees commands "
                                    "(/add URL) but not plain links; turn it off in @BotFather (/setprivacy) "
                                    "or make the bot a group administrator to have it notice every link"))
            info = await bot.get_webhook_info()
    except InvalidToken:
        return [Check("telegram", Status.FAIL, "Telegram rejected the token in TELEGRAM_BOT_TOKEN",
                      "copy the current token from @BotFather (/mybots, then API Token): a revoked one stops working")]
    except NetworkError as error:
        return [Check("telegram", Status.FAIL, f"cannot reach the Bot API at {settings.telegram_base_url}: {error}",
                      "let this machine make HTTPS connections to api.telegram.org (firewall, proxy, DNS)")]
    except TelegramError as error:
        return [Check("telegram", Status.FAIL, f"the Bot API answered: {error}", "try again in a minute")]
    return [*checks, _webhook(settings, info.url, info.last_error_message, info.last_error_date,
                              info.pending_update_count)]


def _webhook(settings: Settings, registered: str, last_error: str | None, last_error_date: datetime | None,
             pending: int) -> Check:
    if not settings.webhook_url:
        if registered:
            return Check("webhook", Status.WARN, f"Telegram still sends updates to a webhook at {registered}",
                         "`newsdesk run` removes it and polls; set WEBHOOK_URL if the webhook is meant")
        return Check("webhook", Status.OK, "none: the bot polls for updates" + _backlog(pending))
    if registered and registered != settings.webhook_url:
        return Check("webhook", Status.WARN, f"Telegram has {registered}, the settings say {settings.webhook_url}",
                     "`newsdesk run` registers WEBHOOK_URL at start; check that no other bot uses this token")
    if last_error:
        when = f" at {last_error_date.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if last_error_date else ""
        return Check("webhook", Status.FAIL, f"Telegram's last delivery to {settings.webhook_url} failed{when}: "
                     f"{last_error}",
                     f"the TLS proxy must pass {settings.webhook_url} on to http://{settings.webhook_listen}:"
                     f"{settings.webhook_port} with a certificate Telegram trusts")
    if not registered:
        return Check("webhook", Status.OK, f"{settings.webhook_url} is registered when the bot starts")
    return Check("webhook", Status.OK, f"Telegram delivers to {registered}" + _backlog(pending))


def _backlog(pending: int) -> str:
    return f"; {pending} updates waiting" if pending >= PENDING_WARNING else ""

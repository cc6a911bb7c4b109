"""Logging for the process: one format, and secrets never written, even at DEBUG.

Libraries log request URLs and parameters at DEBUG (python-telegram-bot puts the bot token in
every Bot API URL, and the webhook secret in setWebhook's parameters), so every record passes
through a filter that blanks the configured secrets before it is written.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from bot.config import Settings

REDACTED = "[secret]"


class RedactSecrets(logging.Filter):
    """Replaces each secret in a record's message and traceback with REDACTED."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        return True

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets([settings.telegram_bot_token, settings.webhook_secret, settings.llm_api_key,
                                     settings.telegram_bot_token.partition(":")[2]]))
    logging.basicConfig(level=getattr(logging, settings.log_level), handlers=[handler], force=True)
    for chatty in ("httpx", "apscheduler"):  # a line per request, a line per job run every few seconds
        logging.getLogger(chatty).setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.INFO)  # a DEBUG line per query

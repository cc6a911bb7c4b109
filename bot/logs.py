"""Logging for the process: one line per event, as text for people or JSON for machines
(LOG_FORMAT), and secrets never written, even at DEBUG.

Libraries log request URLs and parameters at DEBUG (python-telegram-bot puts the bot token in
every Bot API URL, and the webhook secret in setWebhook's parameters), so every record passes
through a filter that blanks the configured secrets, and every finished line is cleaned once more
(a JSON formatter re-renders tracebacks from the exception itself, and extra fields are not part
of the message).

A multi-line message or traceback is kept on one line (newlines written as "\\n"), so that
journald, `docker logs` and a log shipper see one event as one entry.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from bot.config import Settings

REDACTED = "[secret]"
MINIMUM_SECRET_LENGTH = 4
"""Shorter values (a test's "x") would blank ordinary words."""


def _secrets(values: Iterable[str]) -> list[str]:
    """Each secret as written and as JSON escapes it, longest first (a token before its tail)."""
    found = {value for value in values if len(value) >= MINIMUM_SECRET_LENGTH}
    found |= {json.dumps(value, ensure_ascii=True)[1:-1] for value in found}
    return sorted(found, key=len, reverse=True)


def _clean(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class RedactSecrets(logging.Filter):
    """Replaces each secret in a record's message and traceback with REDACTED."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = _secrets(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = _clean(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _clean(record.exc_text, self.secrets)
        return True


class TextFormatter(logging.Formatter):
    """`2026-11-28T09:30:00.123Z INFO bot.pipeline.ingest: link 12 done in 840 ms`, one line."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets = _secrets(secrets)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def format(self, record: logging.LogRecord) -> str:
        return _one_line(_clean(super().format(record), self.secrets))


class JsonLineFormatter(JsonFormatter):
    """One JSON object a line: time (UTC), level, logger, message, the record's extra fields
    (`log.info(..., extra={"item_id": 12})`) and, for an error, the traceback as `exc_info`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level", "name": "logger"},
                         timestamp="time", json_ensure_ascii=False)
        self.secrets = _secrets(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return _clean(super().format(record), self.secrets)  # json.dumps writes no raw newline

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data.pop("taskName", None)  # asyncio's task name, None in nearly every record
        fields = {"time": log_data.pop("time")} | log_data  # time first, as in the text format
        log_data.clear()
        log_data.update(fields)


def _one_line(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def secrets_of(settings: Settings) -> list[str]:
    """What must never be written: the token (and its secret half), the webhook secret, the API key."""
    return [settings.telegram_bot_token, settings.telegram_bot_token.partition(":")[2], settings.webhook_secret,
            settings.llm_api_key]


def configure_logging(settings: Settings) -> None:
    secrets = secrets_of(settings)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter(secrets) if settings.log_format == "json" else TextFormatter(secrets))
    handler.addFilter(RedactSecrets(secrets))
    logging.basicConfig(level=getattr(logging, settings.log_level), handlers=[handler], force=True)
    for chatty in ("httpx", "apscheduler"):  # a line per request, a line per job run every few seconds
        logging.getLogger(chatty).setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.INFO)  # a DEBUG line per query

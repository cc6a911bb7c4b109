"""Logging (bot/logs.py): one line per event as text or JSON, and no secret at any level in either
format, down to the real bot run at DEBUG."""

from __future__ import annotations

import json
import logging
import sys
import time
import urllib.error
from pathlib import Path

import pytest

from bot.logs import REDACTED, JsonLineFormatter, RedactSecrets, TextFormatter
from tests.support import articles
from tests.support.botapi import BotApiServer
from tests.support.botprocess import BotProcess
from tests.support.llmserver import LlmServer
from tests.support.webserver import WebServer
from tests.test_bot import EDITOR, GROUP, bot_environment, card_for
from tests.test_bot_modes import free_port, post_update


@pytest.fixture
def records() -> list[logging.LogRecord]:
    return []


def test_secrets_are_blanked_in_messages_arguments_and_tracebacks() -> None:
    redact = RedactSecrets(["123:SECRETTOKEN", "SECRETTOKEN", "hook-secret", ""])
    record = logging.LogRecord("telegram", logging.DEBUG, __file__, 1, "url %s params %s",
                               ("https://api.telegram.org/bot123:SECRETTOKEN/getMe", {"secret_token": "hook-secret"}), None)
    assert redact.filter(record)
    message = record.getMessage()
    assert "SECRETTOKEN" not in message and "hook-secret" not in message and REDACTED in message
    try:
        raise ValueError("failed for token SECRETTOKEN")
    except ValueError:
        import sys
        failing = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    redact.filter(failing)
    assert "SECRETTOKEN" not in failing.exc_text and REDACTED in failing.exc_text


def test_nothing_to_redact_leaves_records_alone() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain %s", ("text",), None)
    assert RedactSecrets([]).filter(record) and record.getMessage() == "plain text"


# --------------------------------------------------------------------------- formats

SECRETS = ["123456:AAH-sEcReT_token-value", "AAH-sEcReT_token-value", "hook_Secret-1", "sk-proj-Key+/with\"quote"]


def record_with_traceback(message: str, *args: object, **extra: object) -> logging.LogRecord:
    try:
        raise RuntimeError(f"failed calling https://api.telegram.org/bot{SECRETS[0]}/getMe\nsecond line")
    except RuntimeError:
        record = logging.LogRecord("telegram.ext", logging.ERROR, __file__, 1, message, args, sys.exc_info())
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize("formatter", [TextFormatter(SECRETS), JsonLineFormatter(SECRETS)])
def test_one_line_per_event_and_no_secret(formatter: logging.Formatter) -> None:
    record = record_with_traceback("key %s in\nparams %s", SECRETS[3], {"secret_token": SECRETS[2]},
                                   url=f"https://x/bot{SECRETS[0]}", item_id=12)
    line = formatter.format(record)
    assert "\n" not in line
    for secret in SECRETS:
        assert secret not in line and json.dumps(secret)[1:-1] not in line
    assert "[secret]" in line


def test_json_lines_carry_the_event_fields() -> None:
    record = logging.LogRecord("bot.pipeline.ingest", logging.INFO, __file__, 1, "link %s done in %s", (12, "840 ms"),
                               None)
    record.__dict__.update({"event": "link", "item_id": 12, "outcome": "done", "ms": 840, "chat_id": -100})
    data = json.loads(JsonLineFormatter(SECRETS).format(record))
    assert next(iter(data)) == "time" and data["time"].endswith("+00:00")
    assert data["level"] == "INFO" and data["logger"] == "bot.pipeline.ingest"
    assert data["message"] == "link 12 done in 840 ms"
    assert (data["event"], data["item_id"], data["outcome"], data["ms"]) == ("link", 12, "done", 840)
    failing = json.loads(JsonLineFormatter(SECRETS).format(record_with_traceback("boom")))
    assert "Traceback" in failing["exc_info"] and "second line" in failing["exc_info"]


def test_text_lines_are_timestamped_in_utc() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "plain", (), None)
    record.created = 1764322200.5  # 2025-11-28T09:30:00.500Z
    assert TextFormatter().format(record) == "2025-11-28T09:30:00.500Z WARNING x: plain"


# --------------------------------------------------------------------------- the real bot, at DEBUG

@pytest.mark.slow
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_reaches_the_log_at_any_level(tmp_path: Path, web: WebServer, log_format: str) -> None:
    """The real bot at LOG_LEVEL=DEBUG, in webhook mode (setWebhook carries the secret) and talking to a
    language model (its key in every request), takes a link, fails another, and stops: neither the
    token, nor its secret half, nor the webhook secret, nor the API key is anywhere in its log."""
    token, hook_secret, api_key = "4242:LOGSecretToken_abc-XYZ", "hookSecret_Logs-42", "sk-LogsSecretKey-77"
    with BotApiServer(token=token) as telegram, LlmServer() as llm:
        telegram.add_chat(GROUP, chat_type="supergroup", title="Desk")
        telegram.add_user(EDITOR, first_name="Olena", language_code="uk")
        port = free_port()
        environ = bot_environment(telegram, tmp_path, LOG_FORMAT=log_format, LOG_LEVEL="DEBUG",
                                  WEBHOOK_URL="https://bot.example/hook", WEBHOOK_LISTEN="127.0.0.1",
                                  WEBHOOK_PORT=str(port), WEBHOOK_SECRET=hook_secret, LLM_BASE_URL=llm.base_url,
                                  LLM_MODEL="test-model", LLM_API_KEY=api_key, LLM_CARD_WAIT_SECONDS="1")
        url = web.add(f"/logs/{log_format}", articles.english_article(title=f"Logged article {log_format}"))
        with BotProcess(environ, log_path=tmp_path / "bot.log") as bot:
            telegram.wait_for(lambda s: s.calls_to("setWebhook"), timeout=60)
            local = f"http://127.0.0.1:{port}/hook"
            posted = telegram.send_message(GROUP, f"{url} {web.url('/logs/missing-page')}", user=EDITOR)
            deadline = time.monotonic() + 30
            while True:  # the listener starts right after setWebhook
                try:
                    assert post_update(local, {"update_id": 1, "message": posted}, hook_secret) == 200
                    break
                except (ConnectionError, urllib.error.URLError):
                    assert time.monotonic() < deadline, "the webhook never answered"
                    time.sleep(0.2)
            card_for(telegram, GROUP, posted, f"Logged article {log_format}", timeout=60)
            bot.wait_for_log("failed in", timeout=30)
            assert llm.requests and llm.requests[0].headers["authorization"] == f"Bearer {api_key}"
        log = bot.log()
    for secret in (token, token.split(":")[1], hook_secret, api_key):
        assert secret not in log, f"{secret} in the {log_format} log"
    assert "DEBUG" in log  # the test ran at the level where libraries say the most
    lines = [line for line in log.splitlines() if line.strip()]
    if log_format == "json":
        events = [json.loads(line) for line in lines]  # every line is one JSON object
        links = [e for e in events if e.get("event") == "link"]
        assert {e["outcome"] for e in links} == {"done", "failed"}
        assert all(isinstance(e["ms"], int) for e in links)
        assert any(e.get("reason") == "http_404" for e in links)
    else:
        assert any(" done in " in line and " ms" in line for line in lines)
        assert any("failed in" in line and "http_404" in line for line in lines)

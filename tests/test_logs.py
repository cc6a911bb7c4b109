import logging

import pytest

from bot.logs import REDACTED, RedactSecrets


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

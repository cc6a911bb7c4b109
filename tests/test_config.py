import ipaddress
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.database_path == Path("data/newsdesk.db")
    assert settings.default_language == "uk"
    assert settings.fetch_max_bytes == 5_000_000
    assert settings.fetch_allow_networks == ()
    assert settings.llm_enabled is False


def test_values_are_parsed() -> None:
    settings = Settings.from_env({
        "ALLOWED_CHATS": "-1001234, 42", "ADMINS": "7", "FETCH_ALLOW_NETWORKS": "127.0.0.2/32, ::1",
        "NEWSDESK_DB": "/tmp/x.db", "FETCH_TOTAL_TIMEOUT": "2.5", "TELEGRAM_BOT_TOKEN": "123:secret",
    })
    assert settings.allowed_chats == {-1001234, 42}
    assert settings.admins == {7}
    assert settings.fetch_allow_networks == (ipaddress.ip_network("127.0.0.2/32"), ipaddress.ip_network("::1/128"))
    assert settings.fetch_total_timeout == 2.5
    assert "secret" not in repr(settings)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"ALLOWED_CHATS": "abc", "FETCH_MAX_BYTES": "-5", "DEFAULT_TIMEZONE": "Mars/Base",
                           "FETCH_ALLOW_NETWORKS": "10.0.0.0/33", "DEFAULT_LANGUAGE": "fr"})
    message = str(caught.value)
    for name in ("ALLOWED_CHATS", "FETCH_MAX_BYTES", "DEFAULT_TIMEZONE", "FETCH_ALLOW_NETWORKS", "DEFAULT_LANGUAGE"):
        assert name in message

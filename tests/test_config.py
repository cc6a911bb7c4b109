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


def test_feed_and_watch_settings() -> None:
    settings = Settings.from_env({})
    assert (settings.feed_poll_minutes, settings.feed_first_poll_items, settings.feed_max_new_per_poll,
            settings.max_watches_per_chat) == (15.0, 10, 50, 200)
    custom = Settings.from_env({"FEED_POLL_MINUTES": "5", "FEED_FIRST_POLL_ITEMS": "0", "FEED_MAX_NEW_PER_POLL": "3"})
    assert (custom.feed_poll_minutes, custom.feed_first_poll_items, custom.feed_max_new_per_poll) == (5.0, 0, 3)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"FEED_POLL_MINUTES": "600", "FEED_MAX_INTERVAL_HOURS": "1", "FEED_MAX_NEW_PER_POLL": "0",
                           "MAX_WATCHES_PER_CHAT": "lots"})
    for name in ("FEED_MAX_INTERVAL_HOURS", "FEED_MAX_NEW_PER_POLL", "MAX_WATCHES_PER_CHAT"):
        assert name in str(caught.value)

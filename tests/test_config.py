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


def test_costs_per_chat_and_member() -> None:
    defaults = Settings.from_env({})
    assert (defaults.resummarize_member_daily, defaults.resummarize_cooldown_seconds) == (3, 60.0)
    assert defaults.llm_chat_daily_token_budget == 0 and defaults.llm_chat_token_share == 0
    settings = Settings.from_env({"RESUMMARIZE_MEMBER_DAILY": "0", "RESUMMARIZE_COOLDOWN_SECONDS": "2.5",
                                  "LLM_DAILY_TOKEN_BUDGET": "100000", "ALLOWED_CHATS": "-1,-2,-3,-4"})
    assert (settings.resummarize_member_daily, settings.resummarize_cooldown_seconds) == (0, 2.5)
    assert settings.llm_chat_token_share == 25_000
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"RESUMMARIZE_MEMBER_DAILY": "-1", "LLM_CHAT_DAILY_TOKEN_BUDGET": "lots",
                           "RESUMMARIZE_COOLDOWN_SECONDS": "-3"})
    for name in ("RESUMMARIZE_MEMBER_DAILY", "LLM_CHAT_DAILY_TOKEN_BUDGET", "RESUMMARIZE_COOLDOWN_SECONDS"):
        assert name in str(caught.value)


def test_every_setting_is_in_env_example() -> None:
    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text()
    for name in ("LLM_CHAT_DAILY_TOKEN_BUDGET", "RESUMMARIZE_MEMBER_DAILY", "RESUMMARIZE_COOLDOWN_SECONDS"):
        assert f"\n{name}=" in example

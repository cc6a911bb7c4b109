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


def test_new_operations_settings() -> None:
    settings = Settings.from_env({"LOG_FORMAT": "json", "BACKUP_DIR": "/var/backups/newsdesk", "BACKUP_KEEP": "14",
                                  "BACKUP_TIME": "02:30"})
    assert settings.log_format == "json" and settings.backup_dir == Path("/var/backups/newsdesk")
    assert settings.backup_keep == 14 and settings.backup_time.strftime("%H:%M") == "02:30"
    assert Settings.from_env({}).backup_dir is None


@pytest.mark.parametrize(("environ", "name", "fix_words"), [
    ({"WEBHOOK_PORT": "x"}, "WEBHOOK_PORT", "whole number"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT", "LOG_FORMAT=text"),
    ({"BACKUP_TIME": "25:61"}, "BACKUP_TIME", "24-hour"),
    ({"BACKUP_KEEP": "0"}, "BACKUP_KEEP", "at least 1"),
    ({"ADMINS": "@olena"}, "ADMINS", "/id"),
    ({"TELEGRAM_BOT_TOKEN": "'123:abc'"}, "TELEGRAM_BOT_TOKEN", "without them"),
    ({"TELEGRAM_BOT_TOKEN": "123 abc"}, "TELEGRAM_BOT_TOKEN", "@BotFather"),
    ({"WEBHOOK_URL": "http://bot.example/hook"}, "WEBHOOK_URL", "TLS reverse proxy"),
    ({"WEBHOOK_URL": "https://bot.example:9000/hook"}, "WEBHOOK_URL", "443"),
    ({"WEBHOOK_SECRET": "has spaces!"}, "WEBHOOK_SECRET", "token_urlsafe"),
    ({"TELEGRAM_BASE_URL": "api.telegram.org"}, "TELEGRAM_BASE_URL", "https://api.telegram.org/bot"),
    ({"LLM_BASE_URL": "localhost:11434", "LLM_MODEL": "m"}, "LLM_BASE_URL", "http://"),
    ({"LLM_BASE_URL": "http://127.0.0.1:11434/v1"}, "LLM_MODEL", "LLM_MODEL="),
])
def test_each_problem_has_its_fix(environ: dict[str, str], name: str, fix_words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(environ)
    problem = next(p for p in caught.value.problems if p.name == name)
    assert fix_words in problem.fix, problem
    assert name in problem.message


def test_a_malformed_token_is_never_repeated() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": "123:SECRET PART"})
    assert "SECRET" not in str(caught.value) and "SECRET" not in repr(caught.value.problems)


def test_webhook_urls_telegram_accepts() -> None:
    for url in ("https://bot.example/hook", "https://bot.example:8443/x", "https://bot.example:88/"):
        assert Settings.from_env({"WEBHOOK_URL": url}).webhook_url == url


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

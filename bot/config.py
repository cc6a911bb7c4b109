"""Settings: the only reader of the environment. Validated once, at start-up."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
SUPPORTED_LANGUAGES = ("uk", "en")


class SettingsError(ValueError):
    """One or more settings are wrong; the message names each of them."""


@dataclass(frozen=True)
class Settings:
    telegram_bot_token: str = field(default="", repr=False)
    telegram_base_url: str = DEFAULT_BASE_URL
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str = field(default="", repr=False)
    allowed_chats: frozenset[int] = frozenset()
    admins: frozenset[int] = frozenset()

    database_path: Path = Path("data/newsdesk.db")
    default_language: str = "uk"
    default_timezone: str = "Europe/Kyiv"
    log_level: str = "INFO"

    fetch_connect_timeout: float = 5.0
    fetch_read_timeout: float = 10.0
    fetch_total_timeout: float = 20.0
    fetch_max_bytes: int = 5_000_000
    fetch_max_redirects: int = 5
    fetch_allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    fetch_user_agent: str = "NewsdeskBot/0.1 (+https://github.com/newsdesk/newsdesk; news-monitoring bot)"

    extract_timeout: float = 15.0
    extract_workers: int = 2
    extract_memory_mb: int = 1024
    ingest_concurrency: int = 8
    max_links_per_hour: int = 200

    digest_grace_hours: float = 6.0

    llm_base_url: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_model: str = ""
    llm_timeout: float = 60.0
    llm_max_input_chars: int = 12_000
    llm_concurrency: int = 2
    llm_daily_token_budget: int = 0
    llm_card_wait_seconds: float = 20.0
    llm_chat_daily_token_budget: int = 0
    """One chat's share of the day's tokens; 0: LLM_DAILY_TOKEN_BUDGET split equally among ALLOWED_CHATS."""

    resummarize_member_daily: int = 3
    """/resummarize uses a member who is not an administrator has in 24 hours; 0: administrators only."""
    resummarize_cooldown_seconds: float = 60.0

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @property
    def llm_chat_token_share(self) -> int:
        """The tokens one chat may spend a day (0: no per-chat limit)."""
        if self.llm_chat_daily_token_budget:
            return self.llm_chat_daily_token_budget
        return self.llm_daily_token_budget // max(1, len(self.allowed_chats))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read and validate every setting; raise SettingsError naming all that are wrong."""
        reader = _Reader(environ)
        settings = cls(
            telegram_bot_token=reader.text("TELEGRAM_BOT_TOKEN", ""),
            telegram_base_url=reader.text("TELEGRAM_BASE_URL", DEFAULT_BASE_URL),
            webhook_url=reader.text("WEBHOOK_URL", ""),
            webhook_listen=reader.text("WEBHOOK_LISTEN", "0.0.0.0"),
            webhook_port=reader.integer("WEBHOOK_PORT", 8443, minimum=1),
            webhook_secret=reader.text("WEBHOOK_SECRET", ""),
            allowed_chats=reader.id_set("ALLOWED_CHATS"),
            admins=reader.id_set("ADMINS"),
            database_path=Path(reader.text("NEWSDESK_DB", "data/newsdesk.db")),
            default_language=reader.choice("DEFAULT_LANGUAGE", "uk", SUPPORTED_LANGUAGES),
            default_timezone=reader.timezone("DEFAULT_TIMEZONE", "Europe/Kyiv"),
            log_level=reader.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
            fetch_connect_timeout=reader.number("FETCH_CONNECT_TIMEOUT", 5.0),
            fetch_read_timeout=reader.number("FETCH_READ_TIMEOUT", 10.0),
            fetch_total_timeout=reader.number("FETCH_TOTAL_TIMEOUT", 20.0),
            fetch_max_bytes=reader.integer("FETCH_MAX_BYTES", 5_000_000, minimum=1024),
            fetch_max_redirects=reader.integer("FETCH_MAX_REDIRECTS", 5, minimum=0),
            fetch_allow_networks=reader.networks("FETCH_ALLOW_NETWORKS"),
            fetch_user_agent=reader.text("FETCH_USER_AGENT", cls.fetch_user_agent),
            extract_timeout=reader.number("EXTRACT_TIMEOUT", 15.0),
            extract_workers=reader.integer("EXTRACT_WORKERS", max(1, min(4, os.cpu_count() or 1)), minimum=1),
            extract_memory_mb=reader.integer("EXTRACT_MEMORY_MB", 1024, minimum=128),
            ingest_concurrency=reader.integer("INGEST_CONCURRENCY", 8, minimum=1),
            max_links_per_hour=reader.integer("MAX_LINKS_PER_HOUR", 200, minimum=1),
            digest_grace_hours=reader.number("DIGEST_GRACE_HOURS", 6.0, minimum=0.0),
            llm_base_url=reader.text("LLM_BASE_URL", "").rstrip("/"),
            llm_api_key=reader.text("LLM_API_KEY", ""),
            llm_model=reader.text("LLM_MODEL", ""),
            llm_timeout=reader.number("LLM_TIMEOUT", 60.0),
            llm_max_input_chars=reader.integer("LLM_MAX_INPUT_CHARS", 12_000, minimum=500),
            llm_concurrency=reader.integer("LLM_CONCURRENCY", 2, minimum=1),
            llm_daily_token_budget=reader.integer("LLM_DAILY_TOKEN_BUDGET", 0, minimum=0),
            llm_card_wait_seconds=reader.number("LLM_CARD_WAIT_SECONDS", 20.0, minimum=0.0),
            llm_chat_daily_token_budget=reader.integer("LLM_CHAT_DAILY_TOKEN_BUDGET", 0, minimum=0),
            resummarize_member_daily=reader.integer("RESUMMARIZE_MEMBER_DAILY", 3, minimum=0),
            resummarize_cooldown_seconds=reader.number("RESUMMARIZE_COOLDOWN_SECONDS", 60.0, minimum=0.0),
        )
        if settings.llm_base_url and not settings.llm_model:
            reader.errors.append("LLM_MODEL must be set when LLM_BASE_URL is")
        if reader.errors:
            raise SettingsError("invalid settings: " + "; ".join(reader.errors))
        return settings


class _Reader:
    """Parses environment values, collecting every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.errors: list[str] = []

    def text(self, name: str, default: str) -> str:
        return self.environ.get(name, "").strip() or default

    def number(self, name: str, default: float, *, minimum: float = 0.001) -> float:
        raw = self.text(name, "")
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            self.errors.append(f"{name} must be a number, not {raw!r}")
            return default
        if value < minimum:
            self.errors.append(f"{name} must be at least {minimum}")
            return default
        return value

    def integer(self, name: str, default: int, *, minimum: int) -> int:
        raw = self.text(name, "")
        if not raw:
            return default
        try:
            value = int(raw.replace("_", ""))
        except ValueError:
            self.errors.append(f"{name} must be a whole number, not {raw!r}")
            return default
        if value < minimum:
            self.errors.append(f"{name} must be at least {minimum}")
            return default
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in choices:
            self.errors.append(f"{name} must be one of {', '.join(choices)}, not {value!r}")
            return default
        return value

    def timezone(self, name: str, default: str) -> str:
        value = self.text(name, default)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.errors.append(f"{name} must be an IANA time zone such as Europe/Kyiv, not {value!r}")
            return default
        return value

    def id_set(self, name: str) -> frozenset[int]:
        ids = set()
        for part in self.text(name, "").replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                ids.add(int(part))
            except ValueError:
                self.errors.append(f"{name} must list numeric ids, not {part!r}")
        return frozenset(ids)

    def networks(self, name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        networks = []
        for part in self.text(name, "").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                self.errors.append(f"{name} must list CIDR networks such as 127.0.0.2/32, not {part!r}")
        return tuple(networks)

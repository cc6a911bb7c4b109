"""Settings: the only reader of the environment. Validated once, at start-up."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
SUPPORTED_LANGUAGES = ("uk", "en")
LOCAL_CHAT = 0
"""The command line's own chat (`--chat` not given): nobody to announce to."""
LOG_FORMATS = ("text", "json")
PROCESSING_MODES = ("inline", "workers")
"""Who processes a link posted in a chat: the bot that received it, or `newsdesk worker` processes."""
TOKEN_SHAPE = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")
"""What a Bot API token looks like (BotFather's are digits, a colon and 35 characters)."""
WEBHOOK_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
"""The characters Telegram allows in a webhook's secret token."""
WEBHOOK_PORTS = (443, 80, 88, 8443)
"""The only ports Telegram sends webhook updates to (the public URL's, not WEBHOOK_PORT)."""


@dataclass(frozen=True)
class SettingProblem:
    """One wrong setting: which, what is wrong, and how to put it right."""

    name: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        return self.message


class SettingsError(ValueError):
    """One or more settings are wrong; the message names each of them, `problems` lists them."""

    def __init__(self, problems: list[SettingProblem]) -> None:
        super().__init__("invalid settings: " + "; ".join(problem.message for problem in problems))
        self.problems = tuple(problems)


EXAMPLE_URLS = {"TELEGRAM_BASE_URL": DEFAULT_BASE_URL, "LLM_BASE_URL": "http://127.0.0.1:11434/v1",
                "TELEGRAM_PREVIEW_URL": "https://t.me"}


@dataclass(frozen=True)
class Settings:
    telegram_bot_token: str = field(default="", repr=False)
    telegram_base_url: str = DEFAULT_BASE_URL
    telegram_preview_url: str = "https://t.me"
    """Where public channels' web previews are read (t.me/s/<channel>/<id>); tests point it at loopback."""
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str = field(default="", repr=False)
    allowed_chats: frozenset[int] = frozenset()
    admins: frozenset[int] = frozenset()

    database_path: Path = Path("data/newsdesk.db")
    """The SQLite file, when NEWSDESK_DB is a path (the default)."""
    database_url: str = field(default="", repr=False)
    """A PostgreSQL server's database, when NEWSDESK_DB is a postgresql:// URL (it may hold a password)."""
    processing: str = "inline"
    """"workers": the bot only records links; `newsdesk worker` processes them and the outbox carries
    their cards (PostgreSQL only)."""
    default_language: str = "uk"
    default_timezone: str = "Europe/Kyiv"
    log_level: str = "INFO"
    log_format: str = "text"

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

    backup_dir: Path | None = None
    """Where the daily backup goes; None: no daily backup."""
    backup_keep: int = 7
    backup_time: time = time(3, 0)
    """Local time (DEFAULT_TIMEZONE) after which each day's backup is made."""
    feed_poll_minutes: float = 15.0
    feed_max_interval_hours: float = 6.0
    feed_first_poll_items: int = 10
    feed_max_new_per_poll: int = 50
    feed_poll_concurrency: int = 10
    max_watches_per_chat: int = 200
    story_window_days: float = 3.0

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

    @property
    def database(self) -> Path | str:
        """What Repository.open takes: the PostgreSQL URL, or the SQLite file."""
        return self.database_url or self.database_path

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)

    @property
    def database_label(self) -> str:
        """The database as messages and logs may name it: a URL without its password."""
        if not self.database_url:
            return str(self.database_path)
        parts = urlsplit(self.database_url)
        if parts.password is None:
            return self.database_url
        host = parts.hostname or ""
        netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return parts._replace(netloc=netloc).geturl()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read and validate every setting; raise SettingsError naming all that are wrong."""
        reader = _Reader(environ)
        settings = cls(
            telegram_bot_token=reader.text("TELEGRAM_BOT_TOKEN", ""),
            telegram_base_url=reader.text("TELEGRAM_BASE_URL", DEFAULT_BASE_URL),
            telegram_preview_url=reader.text("TELEGRAM_PREVIEW_URL", "https://t.me").rstrip("/"),
            webhook_url=reader.text("WEBHOOK_URL", ""),
            webhook_listen=reader.text("WEBHOOK_LISTEN", "0.0.0.0"),
            webhook_port=reader.integer("WEBHOOK_PORT", 8443, minimum=1),
            webhook_secret=reader.text("WEBHOOK_SECRET", ""),
            allowed_chats=reader.id_set("ALLOWED_CHATS"),
            admins=reader.id_set("ADMINS"),
            database_path=_database_path(reader.text("NEWSDESK_DB", "data/newsdesk.db")),
            database_url=_database_url(reader.text("NEWSDESK_DB", "")),
            processing=reader.choice("NEWSDESK_PROCESSING", "inline", PROCESSING_MODES),
            default_language=reader.choice("DEFAULT_LANGUAGE", "uk", SUPPORTED_LANGUAGES),
            default_timezone=reader.timezone("DEFAULT_TIMEZONE", "Europe/Kyiv"),
            log_level=reader.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
            log_format=reader.choice("LOG_FORMAT", "text", LOG_FORMATS),
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
            backup_dir=Path(backup_dir) if (backup_dir := reader.text("BACKUP_DIR", "")) else None,
            backup_keep=reader.integer("BACKUP_KEEP", 7, minimum=1),
            backup_time=reader.clock_time("BACKUP_TIME", time(3, 0)),
            feed_poll_minutes=reader.number("FEED_POLL_MINUTES", 15.0, minimum=0.01),
            feed_max_interval_hours=reader.number("FEED_MAX_INTERVAL_HOURS", 6.0, minimum=0.01),
            feed_first_poll_items=reader.integer("FEED_FIRST_POLL_ITEMS", 10, minimum=0),
            feed_max_new_per_poll=reader.integer("FEED_MAX_NEW_PER_POLL", 50, minimum=1),
            feed_poll_concurrency=reader.integer("FEED_POLL_CONCURRENCY", 10, minimum=1),
            max_watches_per_chat=reader.integer("MAX_WATCHES_PER_CHAT", 200, minimum=1),
            story_window_days=reader.number("STORY_WINDOW_DAYS", 3.0, minimum=0.01),
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
        if settings.feed_max_interval_hours * 60 < settings.feed_poll_minutes:
            reader.problem("FEED_MAX_INTERVAL_HOURS",
                           "FEED_MAX_INTERVAL_HOURS must not be shorter than FEED_POLL_MINUTES",
                           "make FEED_MAX_INTERVAL_HOURS × 60 at least FEED_POLL_MINUTES")
        if settings.llm_base_url and not settings.llm_model:
            reader.problem("LLM_MODEL", "LLM_MODEL must be set when LLM_BASE_URL is",
                           "name the model, e.g. LLM_MODEL=qwen2.5:7b, or leave LLM_BASE_URL empty")
        if settings.processing == "workers" and not settings.database_url:
            reader.problem("NEWSDESK_PROCESSING", "NEWSDESK_PROCESSING=workers needs NEWSDESK_DB to be a PostgreSQL "
                           "database (workers and the bot share it)",
                           "set NEWSDESK_DB=postgresql://..., or NEWSDESK_PROCESSING=inline")
        reader.check_links(settings)
        if reader.errors:
            raise SettingsError([_as_problem(error) for error in reader.errors])
        return settings


def _as_problem(error: str | SettingProblem) -> SettingProblem:
    if isinstance(error, SettingProblem):
        return error
    return SettingProblem(error.split(" ", 1)[0], error)


class _Reader:
    """Parses environment values, collecting every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.errors: list[str | SettingProblem] = []

    def problem(self, name: str, message: str, fix: str) -> None:
        self.errors.append(SettingProblem(name, message, fix))

    def text(self, name: str, default: str) -> str:
        return self.environ.get(name, "").strip() or default

    def number(self, name: str, default: float, *, minimum: float = 0.001) -> float:
        raw = self.text(name, "")
        if not raw:
            return default
        fix = f"write a number of at least {minimum:g}, e.g. {name}={default:g}, or remove the line for the default"
        try:
            value = float(raw)
        except ValueError:
            self.problem(name, f"{name} must be a number, not {raw!r}", fix)
            return default
        if value < minimum:
            self.problem(name, f"{name} must be at least {minimum:g}", fix)
            return default
        return value

    def integer(self, name: str, default: int, *, minimum: int) -> int:
        raw = self.text(name, "")
        if not raw:
            return default
        fix = f"write a whole number of at least {minimum}, e.g. {name}={default}, or remove the line for the default"
        try:
            value = int(raw.replace("_", ""))
        except ValueError:
            self.problem(name, f"{name} must be a whole number, not {raw!r}", fix)
            return default
        if value < minimum:
            self.problem(name, f"{name} must be at least {minimum}", fix)
            return default
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in choices:
            self.problem(name, f"{name} must be one of {', '.join(choices)}, not {value!r}",
                         f"write one of them, e.g. {name}={default}")
            return default
        return value

    def timezone(self, name: str, default: str) -> str:
        value = self.text(name, default)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(name, f"{name} must be an IANA time zone such as Europe/Kyiv, not {value!r}",
                         "write Area/City as in `timedatectl list-timezones`, e.g. Europe/Kyiv")
            return default
        return value

    def clock_time(self, name: str, default: time) -> time:
        raw = self.text(name, "")
        if not raw:
            return default
        try:
            return time.fromisoformat(raw)
        except ValueError:
            self.problem(name, f"{name} must be a time of day HH:MM, not {raw!r}",
                         f"write a 24-hour time, e.g. {name}={default:%H:%M}")
            return default

    def id_set(self, name: str) -> frozenset[int]:
        ids = set()
        for part in self.text(name, "").replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                ids.add(int(part))
            except ValueError:
                self.problem(name, f"{name} must list numeric ids, not {part!r}",
                             f"separate ids with commas, e.g. {name}=-1001234567890,501; "
                             "the bot's /id command tells a chat's id and yours")
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
                self.problem(name, f"{name} must list CIDR networks such as 127.0.0.2/32, not {part!r}",
                             f"separate networks with commas, or leave {name} empty in production")
        return tuple(networks)

    def check_links(self, settings: Settings) -> None:
        """The values Telegram and the model's endpoint would refuse later, named now. The token
        itself is never repeated in a message."""
        token = settings.telegram_bot_token
        if token and not TOKEN_SHAPE.fullmatch(token):
            quoted = token[:1] in "\"'" or token[-1:] in "\"'"
            self.problem("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, "
                         "then letters, digits, _ or -)" + (": it is in quotes" if quoted else ""),
                         "copy it again from @BotFather (/mybots, then API Token)"
                         + ("; Docker's --env-file keeps quotes, so write it without them" if quoted else ""))
        for name, url in (("TELEGRAM_BASE_URL", settings.telegram_base_url), ("LLM_BASE_URL", settings.llm_base_url),
                          ("TELEGRAM_PREVIEW_URL", settings.telegram_preview_url)):
            if url and not (urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc):
                self.problem(name, f"{name} must be an http:// or https:// address, not {url!r}",
                             f"write the full address, e.g. {name}=" + EXAMPLE_URLS[name])
        if settings.webhook_url:
            parts = urlsplit(settings.webhook_url)
            if parts.scheme != "https" or not parts.hostname:
                self.problem("WEBHOOK_URL", f"WEBHOOK_URL must be an https:// address, not {settings.webhook_url!r}",
                             "Telegram sends updates only over HTTPS: put a TLS reverse proxy (Caddy, nginx) in front "
                             "of the bot and give its public address, or leave WEBHOOK_URL empty for long polling")
            elif (parts.port or 443) not in WEBHOOK_PORTS:
                self.problem("WEBHOOK_URL", f"WEBHOOK_URL's port must be one of {', '.join(map(str, WEBHOOK_PORTS))}",
                             "Telegram sends webhooks only to those ports; let the proxy listen on 443 and pass "
                             "requests on to WEBHOOK_PORT")
        secret = settings.webhook_secret
        if secret and not WEBHOOK_SECRET_SHAPE.fullmatch(secret):
            self.problem("WEBHOOK_SECRET", "WEBHOOK_SECRET may hold only letters, digits, _ and - (at most 256)",
                         "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")



def _database_url(value: str) -> str:
    """NEWSDESK_DB as a postgresql:// URL, which selects PostgreSQL; empty otherwise."""
    return value if value.startswith(("postgresql://", "postgres://")) else ""


def _database_path(value: str) -> Path:
    """NEWSDESK_DB as a SQLite file's path (the default one when it is a URL: then unused)."""
    return Path("data/newsdesk.db") if _database_url(value) else Path(value)

"""Shared fixtures: a real SQLite repository, a local web server, the services opened on them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.services import Services
from storage.repository import Repository
from tests.support.webserver import WebServer


@pytest.fixture
async def repository(tmp_path: Path) -> AsyncIterator[Repository]:
    repository = await Repository.open(tmp_path / "newsdesk.db")
    yield repository
    await repository.close()


@pytest.fixture(scope="session")
def web() -> Iterator[WebServer]:
    """A local web server on 127.0.0.2 serving our own article pages, for the whole run."""
    with WebServer() as server:
        yield server


def settings_for(tmp_path: Path, **overrides: str) -> Settings:
    """Settings as a test run uses them: a temporary database, only 127.0.0.2 reachable."""
    environ = {
        "NEWSDESK_DB": str(tmp_path / "newsdesk.db"),
        "FETCH_ALLOW_NETWORKS": "127.0.0.2/32",
        "FETCH_TOTAL_TIMEOUT": "5",
        "EXTRACT_WORKERS": "1",
        "EXTRACT_TIMEOUT": "20",
    } | overrides
    return Settings.from_env(environ)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    opened = await Services.open(settings_for(tmp_path))
    yield opened
    await opened.aclose()


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns about retry_after types on every 429 unless told to use timedelta."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")

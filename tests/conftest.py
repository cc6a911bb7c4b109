"""Shared fixtures: a real SQLite repository, a local web server, the services opened on them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.services import Services
from storage.repository import Repository
from tests.support import postgres
from tests.support.webserver import WebServer


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[postgres.TestDatabase]:
    """This test process's database on the PostgreSQL server (skipped without one, but not in CI)."""
    yield from postgres.database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a repository test's database is: a SQLite file, then a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "newsdesk.db")
    made: postgres.TestDatabase = request.getfixturevalue("postgres_database")
    return made.fresh_schema()


@pytest.fixture
async def repository(database_url: str) -> AsyncIterator[Repository]:
    """A real repository on each backend in turn: the same tests pass on both."""
    repository = await Repository.open(database_url)
    yield repository
    await repository.close()


@pytest.fixture(scope="session")
def web() -> Iterator[WebServer]:
    """A local web server on 127.0.0.2 serving our own article pages, for the whole run."""
    with WebServer() as server:
        yield server


def default_database(sqlite_file: Path) -> str:
    """Where a test's bot keeps its data: a SQLite file, or with NEWSDESK_TEST_BACKEND=postgresql
    (the whole suite on the server: not what CI runs, a way to find what differs) a fresh schema."""
    if os.environ.get("NEWSDESK_TEST_BACKEND") == "postgresql":
        if sqlite_file not in _schemas:  # the same test's file: the same schema, run after run of the CLI
            _schemas[sqlite_file] = postgres.scratch_url()
        return _schemas[sqlite_file]
    return str(sqlite_file)


_schemas: dict[Path, str] = {}


def settings_for(tmp_path: Path, **overrides: str) -> Settings:
    """Settings as a test run uses them: a temporary database, only 127.0.0.2 reachable."""
    environ = {
        "NEWSDESK_DB": default_database(tmp_path / "newsdesk.db"),
        "FETCH_ALLOW_NETWORKS": "127.0.0.2/32",
        "FETCH_TOTAL_TIMEOUT": "5",
        "EXTRACT_WORKERS": "1",
        "EXTRACT_TIMEOUT": "20",
    } | overrides
    return Settings.from_env(environ)


@pytest.fixture
async def services(tmp_path: Path, database_url: str) -> AsyncIterator[Services]:
    """The bot's services on each backend in turn."""
    opened = await Services.open(settings_for(tmp_path, NEWSDESK_DB=database_url))
    yield opened
    await opened.aclose()


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns about retry_after types on every 429 unless told to use timedelta."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")

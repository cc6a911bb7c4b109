"""A PostgreSQL database for the tests that run on both backends.

The server is the one on 127.0.0.1:5432 (NEWSDESK_TEST_POSTGRES names another). Each test
process makes a database of its own for the run and drops it at the end; each test gets a
schema of its own in it, so tests never see each other's rows. Without a server the
PostgreSQL cases are skipped, except under CI=true, where they fail: CI has a server.
"""

from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest

ADMIN_URL = os.environ.get("NEWSDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def server_available() -> bool:
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def require_server() -> None:
    if not server_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"no PostgreSQL server at {ADMIN_URL} (CI has one: .ci/run waits for it)")
        pytest.skip(f"no PostgreSQL server at {ADMIN_URL}")


def url_of(database: str, schema: str | None = None) -> str:
    base = ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{database}"
    if schema:
        url += "?options=" + quote(f"-csearch_path={schema},public")
    return url


class TestDatabase:
    """A database of this test process's own, and fresh schemas in it."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self) -> None:
        self.name = f"newsdesk_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        self.url = url_of(self.name)

    def fresh_schema(self) -> str:
        """A new empty schema's URL: the repository opened on it migrates it."""
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        return url_of(self.name, schema)

    def drop(self) -> None:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


_whole_run: TestDatabase | None = None


def scratch_url() -> str:
    """A fresh schema in a database made for this process on first use and dropped at its exit:
    for NEWSDESK_TEST_BACKEND=postgresql, which runs the whole suite on PostgreSQL."""
    global _whole_run
    if _whole_run is None:
        require_server()
        _whole_run = TestDatabase()
        atexit.register(_whole_run.drop)
    return _whole_run.fresh_schema()


def database() -> Iterator[TestDatabase]:
    require_server()
    made = TestDatabase()
    try:
        yield made
    finally:
        made.drop()

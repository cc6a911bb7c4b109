"""Shared fixtures: a real SQLite repository in a temporary folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.repository import Repository


@pytest.fixture
async def repository(tmp_path: Path) -> AsyncIterator[Repository]:
    repository = await Repository.open(tmp_path / "newsdesk.db")
    yield repository
    await repository.close()

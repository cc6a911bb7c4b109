"""Submitting links (bot/desk/links.py, storage/intake.py) on a real SQLite file: the hourly limit
with re-posts counted once an hour, already-saved links answered even at the limit, links over
the limit put aside and released later. Nothing is fetched: submitting only commits links."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.desk.links import Fate, release_deferred, submit_links, waiting_links
from bot.pipeline.ingest import Submitter
from bot.pipeline.models import Article
from bot.services import Services
from storage.models import Item
from tests.conftest import settings_for

CHAT, OTHER = -100500, -100600
MEMBER = Submitter(user_id=501, name="Olena", message_id=10)


@pytest.fixture
async def limited(tmp_path: Path, database_url: str) -> AsyncIterator[Services]:
    opened = await Services.open(settings_for(tmp_path, NEWSDESK_DB=database_url, MAX_LINKS_PER_HOUR="5"))
    yield opened
    await opened.aclose()


def links(count: int, start: int = 0) -> list[str]:
    return [f"https://news.example/{n}" for n in range(start, start + count)]


async def saved(services: Services, item: Item) -> Item:
    article = Article(title="Stored", text="Body.", language="en")
    return await services.repository.mark_done(item.id, article, "Summary.", final_url=item.url)


async def backdate(services: Services, minutes: int) -> None:
    """Move everything counted so far `minutes` into the past."""
    moment = (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat(timespec="seconds")
    await services.repository._db.execute("UPDATE items SET submitted_at = ?", (moment,))
    await services.repository._db.execute("UPDATE link_charges SET charged_at = ?", (moment,))
    await services.repository._db.commit()


async def test_links_over_the_limit_are_put_aside_and_named(limited: Services) -> None:
    outcome = await submit_links(limited, CHAT, links(8), MEMBER)
    assert [link.fate for link in outcome.links] == [Fate.NEW] * 5 + [Fate.DEFERRED] * 3
    assert outcome.room_at is not None and outcome.room_at > datetime.now(UTC) + timedelta(minutes=59)
    waiting = await waiting_links(limited, CHAT)
    assert [link.url for link in waiting.links] == links(3, start=5)
    assert waiting.room == 0 and waiting.room_at is not None
    assert waiting.links[0].submitted_by == 501 and waiting.links[0].message_id == 10
    other = await submit_links(limited, OTHER, links(5), MEMBER)  # each chat has its own hour
    assert {link.fate for link in other.links} == {Fate.NEW}


async def test_an_already_saved_link_is_answered_as_such_even_at_the_limit(limited: Services) -> None:
    first = await submit_links(limited, CHAT, links(5), MEMBER)
    await saved(limited, first.links[0].item)
    again = await submit_links(limited, CHAT, [links(1)[0], links(1)[0] + "?utm_source=tg", links(1, 7)[0]], MEMBER)
    assert [link.fate for link in again.links] == [Fate.ALREADY_SAVED, Fate.DEFERRED]  # the same link once
    assert again.links[0].item.id == first.links[0].item.id
    assert [link.fate for link in (await submit_links(limited, CHAT, links(1, 1), MEMBER)).links] == [
        Fate.IN_PROGRESS]


async def test_a_burst_of_the_same_link_counts_once_an_hour(limited: Services) -> None:
    item = (await submit_links(limited, CHAT, links(1), MEMBER)).links[0].item
    await saved(limited, item)
    await backdate(limited, 61)  # an earlier hour's link, posted again now
    for _ in range(50):
        assert (await submit_links(limited, CHAT, links(1), MEMBER)).links[0].fate == Fate.ALREADY_SAVED
    allowance = await limited.repository.link_allowance(CHAT, since=datetime.now(UTC) - timedelta(hours=1))
    assert allowance.used == 1  # fifty re-posts, one link of the hour
    outcome = await submit_links(limited, CHAT, links(5, 1), MEMBER)
    assert [link.fate for link in outcome.links] == [Fate.NEW] * 4 + [Fate.DEFERRED]
    await backdate(limited, 61)
    await submit_links(limited, CHAT, links(1), MEMBER)  # a new hour: it counts again
    assert (await limited.repository.link_allowance(CHAT, since=datetime.now(UTC) - timedelta(hours=1))).used == 1


async def test_a_repost_within_the_hour_of_its_submission_is_not_counted_again(limited: Services) -> None:
    await submit_links(limited, CHAT, links(1), MEMBER)
    await submit_links(limited, CHAT, links(1) * 3, MEMBER)
    assert (await limited.repository.link_allowance(CHAT, since=datetime.now(UTC) - timedelta(hours=1))).used == 1


async def test_a_failed_link_posted_again_counts_every_time(limited: Services) -> None:
    item = (await submit_links(limited, CHAT, links(1), MEMBER)).links[0].item
    for _ in range(4):
        await limited.repository.mark_failed(item.id, reason="timeout", detail="slow")
        assert (await submit_links(limited, CHAT, links(1), MEMBER)).links[0].fate == Fate.RETRY
    await limited.repository.mark_failed(item.id, reason="timeout", detail="slow")
    assert (await submit_links(limited, CHAT, links(1), MEMBER)).links[0].fate == Fate.DEFERRED


async def test_released_links_keep_their_provenance_and_the_rest_wait(limited: Services) -> None:
    await submit_links(limited, CHAT, links(8), MEMBER)
    nothing = await release_deferred(limited, CHAT, Submitter(user_id=777, message_id=99))
    assert nothing.waiting == 3 and nothing.outcome.links == () and nothing.room_at is not None
    await backdate(limited, 61)
    await submit_links(limited, CHAT, links(3, start=20), MEMBER)  # two places left this hour
    released = await release_deferred(limited, CHAT, Submitter(user_id=777, message_id=99))
    assert [link.fate for link in released.outcome.links] == [Fate.NEW, Fate.NEW]  # the third still waits
    assert released.waiting == 1 and released.outcome.submitter.message_id == 99
    item = released.outcome.links[0].item
    assert item is not None and (item.submitted_by, item.message_id) == (501, 10)  # who posted it, and where
    assert [link.url for link in (await waiting_links(limited, CHAT)).links] == links(1, start=7)


async def test_the_list_for_later_holds_an_hours_worth(limited: Services) -> None:
    await submit_links(limited, CHAT, links(5), MEMBER)
    outcome = await submit_links(limited, CHAT, links(9, start=5), MEMBER)
    assert [link.fate for link in outcome.links] == [Fate.DEFERRED] * 5 + [Fate.OVER_LIMIT] * 4
    assert len((await waiting_links(limited, CHAT)).links) == 5
    again = await submit_links(limited, CHAT, links(1, start=5), MEMBER)  # already waiting: kept once
    assert [link.fate for link in again.links] == [Fate.DEFERRED]
    assert await limited.repository.drop_deferred(CHAT) == 5


async def test_the_command_line_is_not_limited(limited: Services) -> None:
    outcome = await submit_links(limited, CHAT, links(20), Submitter(name="cli"), hourly_limit=False)
    assert {link.fate for link in outcome.links} == {Fate.NEW}

"""bot/desk/watches.py (and storage/watches.py) on a real SQLite file: watches in Ukrainian and
English, the /search syntax, one alert per item, hostile queries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.desk.watches import WatchProblem, add_watch, check_new_items
from bot.pipeline.models import Article
from bot.services import Services
from storage.models import Item, OutboxKind
from tests.conftest import settings_for

CHAT, OTHER = -100800, -100801


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    opened = await Services.open(settings_for(tmp_path, MAX_WATCHES_PER_CHAT="5"))
    yield opened
    await opened.aclose()


_numbers = iter(range(10**6))


async def stored(svc: Services, title: str, text: str = "", *, chat: int = CHAT, language: str = "en",
                 site: str = "Example Times", published: date | None = None) -> Item:
    n = next(_numbers)
    url = f"https://news.example/{n}"
    item, _ = await svc.repository.add_link(chat, url, url, domain="news.example")
    article = Article(title=title, text=text or title, site_name=site, language=language, published_date=published)
    return await svc.repository.mark_done(item.id, article, text or title, final_url=url)


async def matched(svc: Services, item: Item) -> list[int]:
    return (await check_new_items(svc, item_ids=[item.id])).get(item.id, [])


@pytest.mark.parametrize(("query", "title", "text", "hit"), [
    ("м'ясо", "Ціни на мʼясо зросли", "", True),
    ("м’ясо", "Ціни на м'ясо зросли", "", True),
    ("мʼясо", "Ціни на м’ясо зросли", "", True),
    ("зерно", "Експорт зерна", "", False),  # no stemming: the word as written, or a prefix
    ("зерн*", "Експорт зерна", "", True),
    ('"grain deal"', "The grain deal is signed", "", True),
    ('"grain deal"', "Grain prices and a deal", "", False),
    ("grain -turkey", "Grain ships leave Odesa", "Turkey inspects them.", False),
    ("grain -turkey", "Grain ships leave Odesa", "Romania inspects them.", True),
    ("wheat OR maize", "Maize harvest", "", True),
    ("source:reuters grain", "Grain", "", False),
    ("source:example grain", "Grain", "", True),
    ("lang:uk grain", "Grain", "", False),
    ("after:2026-12-01 grain", "Grain", "", False),
    ("GRAIN", "grain", "", True),
])
async def test_a_watch_matches_as_search_does(svc: Services, query: str, title: str, text: str, hit: bool) -> None:
    answer = await add_watch(svc, CHAT, query)
    assert answer.watch is not None
    item = await stored(svc, title, text, published=date(2026, 11, 20))
    assert (await matched(svc, item) == [answer.watch.id]) is hit
    page = await svc.repository.search(CHAT, query)
    assert (item.id in [h.item.id for h in page.hits]) is hit  # the same answer as /search


async def test_one_alert_per_item_in_the_first_watch_topic(svc: Services) -> None:
    first = (await add_watch(svc, CHAT, "sanctions", thread_id=42)).watch
    second = (await add_watch(svc, CHAT, "oil sanctions", thread_id=7)).watch
    await add_watch(svc, CHAT, "unrelated words")
    assert first is not None and second is not None
    item = await stored(svc, "New oil sanctions announced")
    assert await matched(svc, item) == [first.id, second.id]
    assert await check_new_items(svc, item_ids=[item.id]) == {}  # checked once only
    alerts = [m for m in await svc.repository.outbox(CHAT) if m.kind == OutboxKind.ALERT]
    assert len(alerts) == 1 and alerts[0].thread_id == 42 and alerts[0].payload == {"watches": [first.id, second.id]}
    again = await svc.repository.get(item.id)
    assert again is not None and again.watch_ids == (first.id, second.id)


async def test_items_stored_before_the_watch_and_other_chats_do_not_alert(svc: Services) -> None:
    ticks = iter(range(10**6))
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    svc.repository._clock = lambda: start + timedelta(seconds=next(ticks))  # each row a second later
    old = await stored(svc, "Old grain story")
    answer = await add_watch(svc, CHAT, "grain")
    elsewhere = await stored(svc, "Grain in another chat", chat=OTHER)
    fresh = await stored(svc, "Fresh grain story")
    found = await check_new_items(svc)
    assert answer.watch is not None
    assert found.get(fresh.id) == [answer.watch.id]
    assert found.get(old.id, []) == [] and found.get(elsewhere.id) == []
    assert [m.item_id for m in await svc.repository.outbox(CHAT)] == [fresh.id]
    assert await svc.repository.outbox(OTHER) == []


@pytest.mark.parametrize("query", ['"unclosed OR ( NEAR*', "a AND OR NOT", "title:x) OR (", "*", "^x", "\x00",
                                   'col:"x" NEAR(a b)', "-", "—", "source:", "'"])
async def test_hostile_queries_never_raise(svc: Services, query: str) -> None:
    answer = await add_watch(svc, CHAT, query)
    item = await stored(svc, "A NEAR title with col and x")
    await check_new_items(svc, item_ids=[item.id])
    assert answer.watch is not None or answer.problem == WatchProblem.NO_WORDS


async def test_watches_need_words_and_are_limited(svc: Services) -> None:
    assert (await add_watch(svc, CHAT, "-turkey")).problem == WatchProblem.NO_WORDS
    assert (await add_watch(svc, CHAT, "lang:uk")).problem == WatchProblem.NO_WORDS
    assert (await add_watch(svc, CHAT, "x" * 600)).problem == WatchProblem.TOO_LONG
    for n in range(5):
        assert (await add_watch(svc, CHAT, f"word{n}")).is_new
    assert (await add_watch(svc, CHAT, "one more")).problem == WatchProblem.TOO_MANY
    again = await add_watch(svc, CHAT, "word1", thread_id=9)
    assert again.watch is not None and not again.is_new and again.watch.thread_id == 9
    removed = await svc.repository.remove_watch(again.watch.id, chat_id=OTHER)
    assert removed is None  # not that chat's
    assert await svc.repository.remove_watch(again.watch.id, chat_id=CHAT) is not None


async def test_two_hundred_watches_are_asked_in_two_statements(svc: Services, tmp_path: Path) -> None:
    many = await Services.open(settings_for(tmp_path / "many", MAX_WATCHES_PER_CHAT="200"))
    try:
        ids = [(await add_watch(many, CHAT, f"topic{n} OR theme{n}")).watch for n in range(200)]
        item = await stored(many, "A story about topic150 and theme7")
        statements: list[str] = []
        await many.repository._db.set_trace_callback(statements.append)
        found = await matched(many, item)
        await many.repository._db.set_trace_callback(None)
        assert found == [w.id for w in ids if w is not None and w.query in ("topic7 OR theme7", "topic150 OR theme150")]
        lookups = [s for s in statements if "MATCH" in s]
        assert len(lookups) == 2 and all("watch_probe MATCH" in s for s in lookups)  # the one-row table
        probe = await many.repository._fetchall("SELECT rowid FROM temp.watch_probe")
        assert len(probe) == 1
        assert json.loads(json.dumps(found)) == found
    finally:
        await many.aclose()

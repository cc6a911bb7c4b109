import asyncio
import struct
from datetime import date
from pathlib import Path

import pytest

from bot.pipeline.models import Article
from storage.models import HIGHLIGHT_END, HIGHLIGHT_START
from storage.repository import Repository
from storage.stories import Signature

CHAT = -1001234


async def store(repository: Repository, url: str, *, chat: int = CHAT, title: str = "Title",
                text: str = "Body text.", authors: tuple[str, ...] = (), site: str | None = "Site",
                language: str | None = "en", published: date | None = None, summary: str = "Summary."):
    item, created = await repository.add_link(chat, url, url, domain="example.com", submitted_by=7,
                                              submitted_by_name="Olena", message_id=3)
    assert created
    article = Article(title=title, text=text, authors=authors, site_name=site, published_date=published,
                      language=language)
    return await repository.mark_done(item.id, article, summary, final_url=url)


async def test_a_link_is_pending_then_done_with_provenance(repository: Repository) -> None:
    item, created = await repository.add_link(CHAT, "https://e.com/a?utm_source=x", "https://e.com/a",
                                              domain="e.com", submitted_by=7, submitted_by_name="Olena",
                                              message_id=42, thread_id=5)
    assert created and item.status == "pending" and item.fetched_at is None
    assert [p.id for p in await repository.pending()] == [item.id]
    article = Article(title="T", text="Text", authors=("A", "B"), site_name="E", published_date=date(2026, 1, 2),
                      language="uk")
    done = await repository.mark_done(item.id, article, "S", final_url="https://e.com/a")
    assert done.status == "done"
    assert done.authors == ("A", "B")
    assert done.published_date == date(2026, 1, 2)
    assert (done.submitted_by, done.submitted_by_name, done.message_id, done.thread_id) == (7, "Olena", 42, 5)
    assert done.fetched_at is not None and done.text_hash and len(done.text_hash) == 64
    assert await repository.pending() == []


async def test_same_canonical_url_is_one_item_per_chat(repository: Repository) -> None:
    first, created = await repository.add_link(CHAT, "u1", "https://e.com/a")
    again, created_again = await repository.add_link(CHAT, "u2", "https://e.com/a")
    other_chat, created_other = await repository.add_link(5, "u1", "https://e.com/a")
    assert created and not created_again and created_other
    assert again.id == first.id and other_chat.id != first.id


async def test_failed_link_keeps_reason_and_can_be_retried(repository: Repository) -> None:
    item, _ = await repository.add_link(CHAT, "u", "https://e.com/x")
    failed = await repository.mark_failed(item.id, reason="http_404", detail="the server answered HTTP 404")
    assert (failed.status, failed.failure_reason) == ("failed", "http_404")
    retried = await repository.retry(item.id)
    assert retried.status == "pending"


async def test_data_survives_reopening(tmp_path: Path) -> None:
    repository = await Repository.open(tmp_path / "db" / "n.db")
    await store(repository, "https://e.com/1", title="Persisted")
    await repository.close()
    reopened = await Repository.open(tmp_path / "db" / "n.db")
    try:
        assert [i.title for i in await reopened.latest(CHAT)] == ["Persisted"]
    finally:
        await reopened.close()


async def test_search_ranks_title_above_body_and_highlights(repository: Repository) -> None:
    await store(repository, "https://e.com/body", title="Other news", text="The grain deal was signed.")
    await store(repository, "https://e.com/title", title="Grain deal collapses", text="Talks ended.")
    page = await repository.search(CHAT, "grain")
    assert [hit.item.canonical_url for hit in page.hits] == ["https://e.com/title", "https://e.com/body"]
    assert page.total == 2
    assert f"{HIGHLIGHT_START}grain{HIGHLIGHT_END}" in page.hits[1].snippet


async def test_search_is_scoped_to_the_chat(repository: Repository) -> None:
    await store(repository, "https://e.com/1", title="Grain", chat=1)
    assert (await repository.search(2, "grain")).total == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("київ", {"uk"}),
        ("КИЇВ", {"uk"}),
        ("м’ясо", {"uk"}),
        ("м'ясо", {"uk"}),
        ("мʼясо", {"uk"}),
        ("МОСКВЕ", {"ru"}),
        ("москв*", {"ru"}),
        ('"energy prices"', {"en"}),
        ('"prices energy"', set()),
        ("energy -prices", set()),
        ("energ*", {"en"}),
        ("energy OR москве", {"en", "ru"}),
        ("author:smith", {"en"}),
        ("source:kyivpost", {"uk"}),
        ("lang:ru", {"ru"}),
        ("lang:ru москве", {"ru"}),
        ("lang:en москве", set()),
        ("after:2026-03-01", {"ru"}),
        ("before:2026-02-01", {"uk"}),
        ("🚀", set()),
        ('" OR AND NOT NEAR( * - ^', set()),
        ("", set()),
    ],
)
async def test_search_operators_filters_and_cyrillic(repository: Repository, query: str, expected: set[str]) -> None:
    await store(repository, "https://e.com/en", title="Energy prices rise", text="Energy prices rose 3.5% in Europe.",
                authors=("John Smith",), language="en", published=date(2026, 2, 10), site="Reuters")
    await store(repository, "https://e.com/uk", title="Київ готується до зими", text="Ціни на мʼясо зросли.",
                language="uk", published=date(2026, 1, 15), site="KyivPost")
    await store(repository, "https://e.com/ru", title="Новости", text="В Москве выпал снег 🚀.",
                language="ru", published=date(2026, 3, 20), site="Meduza")
    page = await repository.search(CHAT, query, limit=10)
    assert {hit.item.language for hit in page.hits} == expected


async def test_search_pages(repository: Repository) -> None:
    for n in range(7):
        await store(repository, f"https://e.com/{n}", title=f"Budget {n}")
    first = await repository.search(CHAT, "budget", limit=5)
    second = await repository.search(CHAT, "budget", limit=5, offset=5)
    assert (len(first.hits), first.has_next, len(second.hits), second.has_next) == (5, True, 2, False)
    assert not {h.item.id for h in first.hits} & {h.item.id for h in second.hits}


async def test_failed_and_pending_items_are_not_searched(repository: Repository) -> None:
    item, _ = await repository.add_link(CHAT, "u", "https://e.com/p")
    await repository.mark_failed(item.id, reason="timeout", detail="slow")
    assert (await repository.search(CHAT, "e.com")).total == 0


async def test_stats(repository: Repository) -> None:
    await store(repository, "https://e.com/1", site="Reuters")
    await store(repository, "https://e.com/2", site="Reuters")
    await store(repository, "https://e.com/3", site="BBC")
    failed, _ = await repository.add_link(CHAT, "u", "https://e.com/f")
    await repository.mark_failed(failed.id, reason="timeout", detail="slow")
    stats = await repository.stats(CHAT)
    assert (stats.items, stats.failed, stats.sources, stats.last_7_days) == (3, 1, 2, 3)
    assert stats.top_sources[0] == ("Reuters", 2)
    assert stats.failure_reasons == (("timeout", 1),)


async def test_translation_is_shown_when_present(repository: Repository) -> None:
    item = await store(repository, "https://e.com/t", title="Energy", summary="Prices rose.")
    assert (item.summary, item.summary_source, item.summary_language) == ("Prices rose.", "extractive", "en")
    translated = await repository.set_translation(item.id, language="uk", title="Енергія",
                                                  summary="Ціни зросли.", note=None)
    assert (translated.summary, translated.summary_source, translated.summary_language) == ("Ціни зросли.", "llm", "uk")
    assert (await repository.search(CHAT, "енергія")).total == 1


async def test_denied_notice_only_once(repository: Repository) -> None:
    assert await repository.note_denied(99) is True
    assert await repository.note_denied(99) is False


async def test_chat_language(repository: Repository) -> None:
    assert (await repository.chat_settings(5)).language is None
    await repository.set_chat_language(5, "en")
    assert (await repository.chat_settings(5)).language == "en"


async def test_llm_usage_is_counted_per_day(repository: Repository) -> None:
    day = date(2026, 11, 29)
    assert await repository.llm_tokens_used(day) == 0
    await repository.add_llm_tokens(day, 120)
    assert await repository.add_llm_tokens(day, 30) == 150
    assert await repository.llm_tokens_used(date(2026, 11, 30)) == 0


async def test_many_concurrent_writes_of_the_same_statements(repository: Repository) -> None:
    """Ingests run concurrently and write with the same statements: a cursor left to the garbage
    collector once reset its statement from the wrong thread while another cursor used it
    (sqlite3.InterfaceError "bad parameter or other API misuse" after a few hundred links)."""
    items = [(await repository.add_link(CHAT, f"https://e.com/{n}", f"https://e.com/{n}"))[0] for n in range(400)]

    async def one(n: int) -> None:
        item = items[n]
        await repository.mark_done(item.id, Article(title=f"Title {n}", text=f"Words {n} and more words."), "S",
                                   final_url=item.url)
        signature = Signature("text", "en", struct.pack("<128I", *range(128)), tuple(range(n, n + 32)))
        await repository.save_signatures(item, [signature])

    await asyncio.gather(*(one(n) for n in range(len(items))))
    assert (await repository.stats(CHAT)).items == 400


@pytest.mark.parametrize(("query", "title", "text", "hit"), [
    ("м'ясо", "Ціни на мʼясо зросли", "Body.", True),
    ("мʼясо", "Ціни на м’ясо зросли", "Body.", True),
    ("зерно", "Експорт зерна", "Body.", False),
    ("зерн*", "Експорт зерна", "Body.", True),
    ('"grain deal"', "The grain deal is signed", "Body.", True),
    ('"grain deal"', "Grain prices and a deal", "Body.", False),
    ("grain -turkey", "Grain ships leave Odesa", "Turkey inspects them.", False),
    ("grain -turkey", "Grain ships leave Odesa", "Romania inspects them.", True),
    ("wheat OR maize", "Maize harvest", "Body.", True),
    ("source:reuters grain", "Grain", "Body.", False),
    ("source:site grain", "Grain", "Body.", True),
    ("lang:uk grain", "Grain", "Body.", False),
    ("café", "Cafe opens", "Body.", True),
    ("grain' & \\ |", "Grain", "Body.", True),
    ("grain !x:*", "Grain", "Body.", False),  # "x:*" is the prefix x*, which nothing here begins
])
async def test_a_watch_matches_an_item_as_search_finds_it(repository: Repository, query: str, title: str,
                                                          text: str, hit: bool) -> None:
    watch, _ = await repository.add_watch(CHAT, query, thread_id=None, created_by=7)
    other, _ = await repository.add_watch(CHAT, "unrelated", thread_id=None, created_by=7)
    item = await store(repository, "https://e.com/w", title=title, text=text)
    assert await repository.matching_watches(item, [watch, other]) == ([watch.id] if hit else [])
    assert (item.id in [h.item.id for h in (await repository.search(CHAT, query)).hits]) is hit

"""Search at scale: the plan's behaviours (ranking, caps, budgets, readers apart from the writer,
counts kept as items change), not its timings, which bench/search.py measures."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import date

import pytest

import storage.pg_search
import storage.readers
import storage.search
from bot.pipeline.models import Article
from storage.fts import MAX_TERMS
from storage.models import HIGHLIGHT_END, HIGHLIGHT_START
from storage.repository import Repository
from storage.tokens import words
from tests.test_repository import CHAT, store


@pytest.mark.parametrize("others", [5, 60])  # grain in 2 of 7 items: ranked by titles; of 62: by bm25
async def test_a_title_match_outranks_a_body_mention_among_recent_items(repository: Repository, others: int) -> None:
    body = await store(repository, "https://e.com/body", title="Weather report",
                       text="Rain is expected. The grain harvest is mentioned once here. Winds from the west.")
    title = await store(repository, "https://e.com/title", title="Grain exports resume",
                        text="Ships left the ports on Monday with wheat and maize.")
    for n in range(others):
        await store(repository, f"https://e.com/filler{n}", title=f"Other news {n}", text="Nothing of interest.")
    page = await repository.search(CHAT, "grain", limit=5)
    assert [hit.item.id for hit in page.hits] == [title.id, body.id]
    assert page.total == 2 and not page.more


async def test_a_chat_sees_only_its_own_stored_items(repository: Repository) -> None:
    await store(repository, "https://e.com/mine", title="Harbour strike")
    await store(repository, "https://e.com/theirs", chat=555, title="Harbour strike elsewhere")
    await repository.add_link(CHAT, "https://e.com/p", "https://e.com/p")  # pending: never found
    page = await repository.search(CHAT, "harbour", limit=5)
    assert [hit.item.canonical_url for hit in page.hits] == ["https://e.com/mine"]
    assert (await repository.search(777, "harbour")).total == 0


async def test_filters_by_day_and_language_are_exact(repository: Repository) -> None:
    for day in (date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 31), date(2026, 2, 1), date(2027, 3, 1)):
        await store(repository, f"https://e.com/{day}", title=f"Energy {day}", published=day)
    await store(repository, "https://e.com/uk", title="Energy in Kyiv", language="uk", published=date(2026, 1, 15))

    async def days(query: str) -> list[str]:
        page = await repository.search(CHAT, query, limit=10)
        return sorted(str(hit.item.published_date) for hit in page.hits)

    assert await days("energy after:2026-01-01 before:2026-01-31") == ["2026-01-01", "2026-01-15", "2026-01-31"]
    assert await days("energy after:2026-02-01") == ["2026-02-01", "2027-03-01"]
    assert await days("energy before:2025-12-31") == ["2025-12-31"]
    assert await days("energy lang:uk") == ["2026-01-15"]
    assert await days("lang:uk") == ["2026-01-15"]


async def test_a_prefix_stands_for_the_words_of_the_index(repository: Repository) -> None:
    await store(repository, "https://e.com/1", title="Actual figures", text="Actually, the actuary said so.")
    await store(repository, "https://e.com/2", title="Action plan", text="Nothing actual here? No: active.")
    item = await store(repository, "https://e.com/3", title="Unrelated", text="Nothing.")
    await repository.set_translation(item.id, language="uk", title="Актуальні новини", summary="Дуже актуально.",
                                     note=None)
    assert (await repository.search(CHAT, "actu*")).total == 2
    assert (await repository.search(CHAT, "актуал*")).total == 1
    assert (await repository.search(CHAT, "zzz*")).total == 0
    assert (await repository.search(CHAT, "act* -actually")).total == 1


async def test_a_prefix_stands_for_its_most_common_words(repository: Repository, monkeypatch) -> None:
    for n in range(1, 6):  # "actu<letter>" in n items: the rarest, actua, is left out of four words
        for copy in range(n):
            await store(repository, f"https://e.com/{n}/{copy}", title=f"Report {n}", text=f"Word actu{'abcde'[n - 1]}.")
    await store(repository, "https://e.com/smith", title="Other", text="Nothing.", authors=("Jane Smith",))
    monkeypatch.setattr(storage.search, "PREFIX_WORDS", 4)
    page = await repository.search(CHAT, "actu*", limit=20)
    assert page.total == 2 + 3 + 4 + 5 and "Report 1" not in {hit.item.title for hit in page.hits}
    assert (await repository.search(CHAT, "actub* OR actua*")).total == 1 + 2
    assert (await repository.search(CHAT, "author:smi*")).total == 1
    assert (await repository.search(CHAT, "author:actu*")).total == 0  # the words are in the text, not the authors


async def test_words_of_the_dictionary_are_the_index_s_own_words(tmp_path) -> None:
    text = ("Київ і Львів: м'ясо, мʼясо та м’ясо; ЇЖАК ґанок. Café naïve Łódź İstanbul straße ŠKODA Ærø "
            "Việt CO₂ 3½ x_y 2026-01-31 e-mail O'Neil")
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize = \"unicode61 remove_diacritics 2 "
                       "separators 'ʼ'\")")
    connection.execute("INSERT INTO t VALUES (?)", (text,))
    connection.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    assert words([text]) == {row[0] for row in connection.execute("SELECT term FROM v")}


async def test_repeated_words_prefix_ors_and_long_exclusions_are_capped(repository: Repository) -> None:
    await store(repository, "https://e.com/a", title="A tale of a town", text="A a a a. The end.")
    repeated = await repository.search(CHAT, " ".join(["a"] * 2000))
    assert repeated.total == 1 and repeated.terms_dropped == 0  # one word, once
    prefixes = await repository.search(CHAT, " OR ".join(f"t{n}*" for n in range(680)) + " OR ta*")
    assert prefixes.terms_dropped == 681 - MAX_TERMS
    exclusions = await repository.search(CHAT, "tale " + " ".join(f"-w{n}" for n in range(300)))
    assert exclusions.total == 1 and exclusions.terms_dropped == 301 - MAX_TERMS


async def test_past_its_budget_a_search_answers_too_broad(repository: Repository, monkeypatch) -> None:
    for n in range(20):
        await store(repository, f"https://e.com/{n}", title=f"Common word {n}")
    monkeypatch.setattr(storage.search, "SEARCH_BUDGET", -1.0)  # already spent before the first statement
    page = await repository.search(CHAT, "common")
    assert page.hits == () and page.too_broad and page.more


async def test_over_the_candidate_cap_the_total_is_a_lower_bound(repository: Repository, monkeypatch) -> None:
    for n in range(8):
        await store(repository, f"https://e.com/{n}", title=f"Grain {n}")
    monkeypatch.setattr(storage.search, "CANDIDATES", 5)
    page = await repository.search(CHAT, "grain", limit=3)
    assert page.total == 5 and page.more and len(page.hits) == 3 and page.has_next
    newest = {hit.item.title for hit in (await repository.search(CHAT, "grain", limit=5)).hits}
    assert newest == {f"Grain {n}" for n in range(3, 8)}  # the newest five are the candidates


@pytest.mark.parametrize("window", [2, 65_536])
async def test_narrow_and_wide_walks_find_the_same_matches_in_big_and_small_chats(
        repository: Repository, monkeypatch, window: int) -> None:
    """The walk's windows (and, on PostgreSQL, a small chat's plan) change what is read, never
    what is found: windows of two ids find what one window of everything finds."""
    for module in (storage.search, storage.pg_search):
        monkeypatch.setattr(module, "FIRST_WINDOW", window)
    monkeypatch.setattr(storage.pg_search, "MIN_WINDOW", window)
    big: dict[str, list[int]] = {"grain": [], "harbour": [], "grain harbour": [], '"grain harbour"': []}
    small: dict[str, list[int]] = {query: [] for query in big}
    for n in range(30):
        harbour = n in (3, 17, 25)
        text = "Grain harbour news." if n == 17 else "Grain news from the harbour." if harbour else "Grain news."
        item = await store(repository, f"https://e.com/big{n}", title=f"Report {n}", text=text)
        if n % 10 == 0:
            mine = await store(repository, f"https://e.com/small{n}", chat=555, title=f"Note {n}", text=text)
            small["grain"].append(mine.id)
        big["grain"].append(item.id)
        if harbour:
            big["harbour"].append(item.id)
            big["grain harbour"].append(item.id)
        if n == 17:
            big['"grain harbour"'].append(item.id)
    for chat, expected in ((CHAT, big), (555, small)):
        for query, ids in expected.items():
            page = await repository.search(chat, query, limit=50)
            assert sorted(hit.item.id for hit in page.hits) == sorted(ids), (chat, query)
            assert page.total == len(ids) and not page.more


async def test_a_slow_search_does_not_hold_up_the_writer(repository: Repository) -> None:
    """A search runs on a read connection of its own: while one is stuck in a statement that
    would run for ever (stopped by its budget), /latest and a write on the writer go on."""
    await store(repository, "https://e.com/a", title="First")
    endless = """WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"""

    async def slow_search() -> None:
        async with repository._reading(2.0) as reader:
            with pytest.raises(storage.readers.Interrupted):
                await reader.fetchall(endless)

    slow = asyncio.create_task(slow_search())
    await asyncio.sleep(0.2)  # the endless statement is running on the reader's thread
    started = time.monotonic()
    latest = await repository.latest(CHAT, limit=5)
    await store(repository, "https://e.com/b", title="Second")
    waited = time.monotonic() - started
    assert not slow.done(), "the slow read should still be running"
    assert [item.title for item in latest] == ["First"] and waited < 0.5
    await slow  # and it ends by its budget, not by running for ever


async def test_latest_by_keyset_is_the_same_as_by_offset(repository: Repository) -> None:
    for n in range(12):
        await store(repository, f"https://e.com/{n}", title=f"Item {n}")
    first = await repository.latest(CHAT, limit=5)
    after = await repository.latest(CHAT, limit=5, before=first[-1].id)
    assert [i.id for i in after] == [i.id for i in await repository.latest(CHAT, limit=5, offset=5)]
    assert len(await repository.latest(CHAT, limit=5, before=after[-1].id)) == 2


async def test_kept_counts_agree_with_counting_the_items(repository: Repository) -> None:
    await store(repository, "https://e.com/1", site="Reuters")
    await store(repository, "https://e.com/2", site="Reuters")
    await store(repository, "https://e.com/3", site="BBC")
    failed, _ = await repository.add_link(CHAT, "https://e.com/f", "https://e.com/f")
    await repository.mark_failed(failed.id, reason="http_404", detail="404")
    retried, _ = await repository.add_link(CHAT, "https://e.com/r", "https://e.com/r")
    await repository.mark_failed(retried.id, reason="timeout", detail="slow")
    await repository.retry(retried.id)
    await repository.mark_done(retried.id, Article(title="R", text="Now it worked.", site_name="BBC"), "S",
                               final_url="https://e.com/r")
    await repository.add_link(CHAT, "https://e.com/p", "https://e.com/p")
    stats = await repository.stats(CHAT)
    assert (stats.items, stats.pending, stats.failed, stats.sources) == (4, 1, 1, 2)
    assert set(stats.top_sources) == {("Reuters", 2), ("BBC", 2)}
    assert stats.failure_reasons == (("http_404", 1),)
    assert stats.last_7_days == 4


@pytest.mark.parametrize("query", ["об'єкт", "обʼєкт", "об’єкт", "ОБ'ЄКТ"])
async def test_apostrophe_forms_of_ukrainian_find_each_other(repository: Repository, query: str) -> None:
    for n, form in enumerate(("об'єкт", "обʼєкт", "об’єкт")):
        await store(repository, f"https://e.com/{n}", title=f"Новий {form} у місті", language="uk")
    assert (await repository.search(CHAT, query)).total == 3


async def test_accents_are_folded_and_words_are_not_stemmed(repository: Repository) -> None:
    await store(repository, "https://e.com/cafe", title="Café culture", text="The runner was running late.")
    await store(repository, "https://e.com/cities", title="Міста України", text="Нові міста.")
    assert (await repository.search(CHAT, "cafe")).total == 1
    assert (await repository.search(CHAT, "CAFÉ")).total == 1
    assert (await repository.search(CHAT, "runs")).total == 0
    assert (await repository.search(CHAT, "run")).total == 0
    assert (await repository.search(CHAT, "running")).total == 1
    assert (await repository.search(CHAT, "місто")).total == 0
    assert (await repository.search(CHAT, "міста")).total == 1


@pytest.mark.parametrize("query", [
    "grain' OR '1'='1", "grain\\", "grain & ports", "grain | x", "!grain", "grain:*", "gr:*A", "(grain", "grain)",
    "<grain>", "grain <-> ports", "'grain'", '"grain', "grain* ports*", "-\\ grain", "grain:D", "\\'grain\\'",
])
async def test_hostile_queries_find_what_their_words_find(repository: Repository, query: str) -> None:
    grain = await store(repository, "https://e.com/grain", title="Grain ports reopen", text="Ships wait.")
    await store(repository, "https://e.com/other", title="Weather", text="Rain.")
    page = await repository.search(CHAT, query, limit=5)
    assert {hit.item.id for hit in page.hits} <= {grain.id}


SEPARATED = ("Read it at newsroom.ua or write to press@desk.org. Prices rose 3.5% while it was -19 outside; "
             "a well-known e-mail list, version 2.0.1 in /usr/local, Київ—Львів, café2.")


@pytest.mark.parametrize("query", [
    "newsroom", "ua", "newsroom.ua", '"newsroom ua"', "press", "desk", "press@desk.org", "3", "5", '"3 5"', "19",
    "known", "well-known", "mail", "2", "usr", "local", "львів", "київ", "cafe2",
])
async def test_words_split_at_every_character_that_is_not_a_letter_or_a_digit(repository: Repository,
                                                                               query: str) -> None:
    """PostgreSQL's parser keeps hosts, e-mail addresses, decimals and signed numbers whole; the
    index splits them as SQLite's tokenizer does, so both backends find the same items."""
    item = await store(repository, "https://e.com/separated", title="Markets", text=SEPARATED)
    await store(repository, "https://e.com/other", title="Weather", text="Rain and 4 degrees.")
    page = await repository.search(CHAT, query, limit=5)
    assert [hit.item.id for hit in page.hits] == [item.id]


async def test_an_excerpt_highlights_a_word_inside_a_host_and_keeps_the_text_as_it_was(
        repository: Repository) -> None:
    await store(repository, "https://e.com/separated", title="Markets", text=SEPARATED)
    snippet = (await repository.search(CHAT, "newsroom")).hits[0].snippet
    assert f"{HIGHLIGHT_START}newsroom{HIGHLIGHT_END}.ua or write to press@desk.org" in snippet
    assert "\x01" not in snippet

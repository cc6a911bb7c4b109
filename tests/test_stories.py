"""Stories: address forms (pure), MinHash signatures (pure), and grouping, collapsing, /link and
/unlink against a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.desk.stories import (
    LinkResult,
    collapse,
    collapse_search,
    link_items,
    other_versions,
    recent_stories,
    story_note,
    unlink_item,
)
from bot.pipeline import minhash
from bot.pipeline.models import Article
from bot.pipeline.stories import group, regroup_translated
from bot.pipeline.urlforms import article_key, declared_addresses, from_amp_cache
from bot.telegram import render
from storage.models import Item, SearchHit, SearchPage
from storage.repository import Repository
from tests.support import stories

CHAT = -100555
NOW = datetime(2026, 12, 4, 9, 14, tzinfo=UTC)


@pytest.mark.parametrize(("form", "key"), [
    ("https://www.example.com/world/quake", "example.com/world/quake"),
    ("http://example.com/world/quake/", "example.com/world/quake"),
    ("https://amp.example.com/world/quake", "example.com/world/quake"),
    ("https://example.com/world/quake/amp", "example.com/world/quake"),
    ("https://example.com/amp/world/quake", "example.com/world/quake"),
    ("https://example.com/world/quake?amp=1", "example.com/world/quake"),
    ("https://example.com/world/quake?outputType=amp&page=2", "example.com/world/quake?page=2"),
    ("https://example.com/world/quake.amp.html", "example.com/world/quake.html"),
    ("https://example.com/world/quake/amp.html", "example.com/world/quake"),
    ("https://www-example-com.cdn.ampproject.org/c/s/www.example.com/world/quake/amp", "example.com/world/quake"),
    ("https://example.com/world/quake?utm_source=tg&fbclid=1", "example.com/world/quake"),
    # never undone: a slug starting with amp, a mobile host (only the page can say), another segment
    ("https://example.com/world/amp-stadium", "example.com/world/amp-stadium"),
    ("https://m.example.com/world/quake", "m.example.com/world/quake"),
    ("https://amp.com/world/quake", "amp.com/world/quake"),
    ("https://example.com/world/quake?id=2", "example.com/world/quake?id=2"),
    ("mailto:someone@example.com", None),
    ("javascript:alert(1)", None),
])
def test_article_key(form: str, key: str | None) -> None:
    assert article_key(form) == key


def test_amp_cache_addresses() -> None:
    assert from_amp_cache("https://x-com.cdn.ampproject.org/v/s/x.com/a?b=1") == "https://x.com/a?b=1"
    assert from_amp_cache("https://x-com.cdn.ampproject.org/c/x.com/a") == "http://x.com/a"
    assert from_amp_cache("https://evil.example/c/s/x.com/a") == "https://evil.example/c/s/x.com/a"


@pytest.mark.parametrize(("head", "expected"), [
    ('<link rel="canonical" href="/world/quake">', ["https://m.example.com/world/quake"]),
    ("<link href='https://www.example.com/world/quake?utm_source=x' rel='Canonical'>",
     ["https://www.example.com/world/quake"]),
    ('<meta property="og:url" content="https://example.com/world/quake">', ["https://example.com/world/quake"]),
    ('<link rel="canonical" href="https://example.com/">', []),  # the site root: ignored
    ('<link rel="canonical" href="javascript:alert(1)">', []),
    ('<link rel="alternate" href="https://example.com/other">', []),
    ('<link rel="canonical" href="https://example.com/a?x=1&amp;y=2">', ["https://example.com/a?x=1&y=2"]),
])
def test_declared_addresses(head: str, expected: list[str]) -> None:
    page = f"<html><head>{head}</head><body><link rel=canonical href=/in-body></body></html>".encode()
    assert declared_addresses(page, "https://m.example.com/world/quake") == expected


def test_declared_addresses_survive_hostile_pages() -> None:
    assert declared_addresses(b"\xff\xfe<link rel=canonical href=" + b"a" * 300_000, "https://x.com/") == []
    assert declared_addresses(b"", "https://x.com/a") == []


def test_minhash_estimates_jaccard() -> None:
    title, paragraphs = stories.QUAKE["Reuters Wire"]
    other_title, other_paragraphs = stories.QUAKE["Daily Courier"]
    first = minhash.features(title, " ".join(paragraphs))
    second = minhash.features(other_title, " ".join(other_paragraphs))
    jaccard = len(first & second) / len(first | second)
    estimate = minhash.similarity(minhash.signature(first), minhash.signature(second))
    assert abs(estimate - jaccard) < 0.15
    assert minhash.similarity(minhash.signature(first), minhash.signature(first)) == 1.0
    assert minhash.similarity(minhash.signature(set()), minhash.signature(set())) == 0.0
    assert minhash.buckets(minhash.signature(set()), kind="text", language="en") == []
    sig = minhash.signature(first)
    assert minhash.unpack(minhash.pack(sig)) == sig
    assert len(minhash.buckets(sig, kind="text", language="en")) == minhash.BANDS
    assert minhash.buckets(sig, kind="text", language="en") != minhash.buckets(sig, kind="text", language="uk")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def clocked(database_url: str) -> tuple[Repository, Clock]:
    clock = Clock()
    repository = await Repository.open(database_url, clock=clock)
    yield repository, clock  # type: ignore[misc]
    await repository.close()


async def stored(repository: Repository, path: str, title: str, paragraphs: list[str], site: str,
                 *, language: str = "en") -> Item:
    url = f"https://{site.lower().replace(' ', '')}.example/{path}"
    item, _ = await repository.add_link(CHAT, url, url, domain=site.lower())
    done = await repository.mark_done(item.id, Article(title=title, text=" ".join(paragraphs), site_name=site,
                                                       language=language), "Summary.", final_url=url)
    story_id = await group(repository, done)
    return await repository.get(done.id) or done if story_id else done


async def test_grouping_window_notes_collapse_and_editor_choices(clocked: tuple[Repository, Clock]) -> None:
    repository, clock = clocked
    items = []
    for n, (site, (title, paragraphs)) in enumerate(stories.QUAKE.items()):
        clock.now = NOW + timedelta(minutes=n * 30)
        items.append(await stored(repository, f"q{n}", title, paragraphs, site))
    assert len({item.story_id for item in items}) == 1
    clock.now = NOW + timedelta(days=4)  # outside the window: a story of its own
    title, paragraphs = stories.QUAKE["Reuters Wire"]
    late = await stored(repository, "late", title, paragraphs, "Late Gazette")
    assert late.story_id != items[0].story_id

    note = await story_note(repository, items[2], ZoneInfo("Europe/Kyiv"))
    assert note is not None and (note.position, note.sources, note.first.id) == (3, 3, items[0].id)
    assert await story_note(repository, items[0], ZoneInfo("Europe/Kyiv")) is None
    assert "3rd source on this story, first: Reuters Wire 11:14" in render.story_note(note, "en")
    assert "3-є джерело" in render.story_note(note, "uk")
    assert [render.ordinal(n, "en") for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 111)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "111th"]

    shown = collapse(items)
    assert len(shown) == 1 and set(shown[0].also) | {shown[0].item.source} == set(stories.QUAKE)
    digest = render.digest([*items, late], NOW.date(), "en")[0]
    assert digest.count("also: ") == 1

    page = SearchPage("quake", tuple(SearchHit(item, "") for item in [*items, late]), 4, 0, 10)
    collapsed, versions = await collapse_search(repository, page)
    assert [hit.item.id for hit in collapsed.hits] == [items[0].id, late.id]
    assert versions == {items[0].id: 2}
    assert "+2 versions" in render.search_results(collapsed, "en", versions)

    assert [item.id for item in await other_versions(repository, items[1])] == [items[0].id, items[2].id]
    ranked = await recent_stories(repository, CHAT, now=NOW + timedelta(hours=2))
    assert [len(story.sources) for story in ranked] == [3]

    # /unlink sticks: grouping the item again leaves it alone
    answer = await unlink_item(repository, CHAT, items[2].id)
    assert answer.result == LinkResult.UNLINKED
    split = await repository.get(items[2].id)
    assert split is not None and split.story_id not in (None, items[0].story_id)
    assert await group(repository, split) == split.story_id
    assert (await unlink_item(repository, CHAT, items[2].id)).result == LinkResult.ALONE
    # /link joins and sticks
    assert (await link_items(repository, CHAT, late.id, items[1].id)).result == LinkResult.LINKED
    moved = await repository.get(items[1].id)
    assert moved is not None and moved.story_id == late.story_id
    assert await group(repository, moved) == late.story_id
    assert (await link_items(repository, CHAT, late.id, items[1].id)).result == LinkResult.ALREADY
    assert (await link_items(repository, CHAT, late.id, late.id)).result == LinkResult.SAME
    missing = await link_items(repository, CHAT, late.id, 99999)
    assert (missing.result, missing.missing) == (LinkResult.NOT_FOUND, 99999)
    assert (await link_items(repository, CHAT + 1, late.id, items[0].id)).result == LinkResult.NOT_FOUND
    assert "#99999" in render.link_answer(missing, "en", first=late.id, second=99999)


async def test_across_languages_by_the_translated_title(clocked: tuple[Repository, Clock]) -> None:
    repository, _ = clocked
    title, paragraphs = stories.QUAKE["Reuters Wire"]
    english = await stored(repository, "en", title, paragraphs, "Reuters Wire")
    ukrainian = await stored(repository, "uk", "Землетрус магнітудою 6,1 у Туреччині: десятки поранених",
                             ["Потужний землетрус стався в провінції Адана на півдні Туреччини.",
                              "Постраждали щонайменше 40 людей, зруйновано два будинки в Козані."],
                             "Київські новини", language="uk")
    assert ukrainian.story_id != english.story_id  # no common words until the model translates the title
    translated = await repository.set_translation(
        ukrainian.id, language="en", title="Magnitude 6.1 earthquake hits southern Turkey, dozens injured",
        summary=None, note=None)
    assert await regroup_translated(repository, translated) == english.story_id
    title, paragraphs = stories.NEAR_MISS  # a near miss in English stays apart
    greece = await stored(repository, "gr", title, paragraphs, "Daily Courier")
    assert greece.story_id != english.story_id


async def test_items_grouped_at_once_join_one_story(clocked: tuple[Repository, Clock]) -> None:
    """Links of one message are processed concurrently: grouping them at the same moment must
    still give one story (each grouping sees the others' signatures and stories)."""
    repository, _ = clocked
    done = []
    for n, (site, (title, paragraphs)) in enumerate(stories.QUAKE.items()):
        url = f"https://{site.lower().replace(' ', '')}.example/at-once-{n}"
        item, _ = await repository.add_link(CHAT, url, url, domain=site.lower())
        done.append(await repository.mark_done(item.id, Article(
            title=title, text=" ".join(paragraphs), site_name=site, language="en"), "Summary.", final_url=url))
    story_ids = await asyncio.gather(*(group(repository, item) for item in done))
    assert len(set(story_ids)) == 1
    stored_ids = {(await repository.get(item.id) or item).story_id for item in done}
    assert stored_ids == set(story_ids)

"""Whatever a page says, every message render builds is Telegram HTML that parses, within the limit.

Items are built directly with hostile text in every field a page controls (title, authors, site
name, summary, snippets): markup, entities, quotes, emoji, control and bidi characters, 5,000-
character headlines. The Bot API emulator's strict parser (`parse_html`) is the judge; it raises
where Telegram would answer "Bad Request: can't parse entities". The search fuzz runs against a
real SQLite repository.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.pipeline.models import Article
from bot.telegram import render
from storage.models import DONE, FAILED, HIGHLIGHT_END, HIGHLIGHT_START, Item, SearchHit, SearchPage, Stats
from storage.repository import Repository
from tests.support.botapi import parse_html, utf16_len

LIMIT = 4096
LANGUAGES = st.sampled_from(["uk", "en", "de"])  # "de" has no texts of its own: English is used

# --- What a hostile page can put in an item ------------------------------------------------------

TRICKY = [
    "<", ">", "&", '"', "'", "&amp;", "&lt;b&gt;", "&#0;", "&#x110000;", "&#xD800;", "&nbsp;", "&", "&amp",
    "<b>", "</b>", "<a href=\"javascript:x\">", "</a>", "<script>alert(1)</script>", "<tg-spoiler>", "<!--",
    "\x00", "\x02", "\x03", "\x1b[31m", "\x7f", "\n", "\r\n", "\t", "\u2028", "\u00a0", "\u200b",
    "\u202e", "\u200f", "\u200d", "\ufeff", "🇺🇦", "👩\u200d💻", "😀", "𝕏", "é", "e\u0301", "Київ", "עברית",
    "العربية", "中文", "…", "—", " ",
]
SAFE_CHARACTERS = st.characters(exclude_categories=("Cs",))  # lone surrogates cannot be sent at all

fragment = st.one_of(st.sampled_from(TRICKY), st.text(SAFE_CHARACTERS, max_size=20))
hostile_text = st.one_of(
    st.lists(fragment, max_size=30).map("".join),
    # long headlines: a hostile fragment repeated up to 5,000 characters and beyond
    st.tuples(st.lists(fragment, min_size=1, max_size=4).map("".join), st.integers(100, 5000)).map(
        lambda pair: (pair[0] * pair[1])[:6000]
    ),
)
maybe_text = st.none() | hostile_text
url = st.builds(
    lambda host, path: f"https://{host}.example/{path}",
    st.from_regex(r"[a-z0-9-]{1,30}", fullmatch=True),
    st.text(SAFE_CHARACTERS, max_size=200),
)
moment = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)


MOSTLY_DONE = st.sampled_from([DONE, DONE, DONE, FAILED])


@st.composite
def items(draw: st.DrawFn, *, status: st.SearchStrategy[str] = MOSTLY_DONE) -> Item:
    link = draw(url)
    return Item(
        id=draw(st.integers(1, 10**9)),
        chat_id=-100500,
        url=draw(st.one_of(st.just(link), hostile_text)),
        canonical_url=link,
        status=draw(status),
        submitted_at=draw(moment),
        domain=draw(st.sampled_from(["", "news.example", "київ.укр"])),
        failure_reason=draw(st.none() | st.sampled_from(["timeout", "http_404", "http_429", "no_article", "weird"])),
        failure_detail=draw(maybe_text),
        title=draw(maybe_text),
        authors=tuple(draw(st.lists(hostile_text, max_size=4))),
        site_name=draw(maybe_text),
        published_date=draw(st.none() | st.dates(date(1990, 1, 1), date(2100, 1, 1))),
        language=draw(st.none() | st.sampled_from(["uk", "en", "ru"])),
        summary_extractive=draw(maybe_text),
        title_translated=draw(maybe_text),
        summary_translated=draw(maybe_text),
        translation_language=draw(st.none() | st.sampled_from(["uk", "en"])),
        submitted_by_name=draw(maybe_text),
    )


def assert_telegram_html(message: str) -> str:
    """The message parses as Telegram HTML and fits one message; returns its plain text."""
    plain, _ = parse_html(message)  # raises HtmlParseError where Telegram would refuse the message
    assert plain.strip(), "Telegram refuses an empty message"
    assert utf16_len(plain) <= LIMIT, utf16_len(plain)
    return plain


def shown(value: str) -> str:
    """A short page text as a card shows it: whitespace runs collapsed to one space."""
    return " ".join(value.split())


FUZZ = settings(max_examples=150, deadline=None)
FUZZ_MANY = settings(max_examples=50, deadline=None)
"""For examples made of many items: each is already a few dozen hostile texts."""


# --- Cards, lines, lists ---------------------------------------------------------------------------

@FUZZ
@given(item=items(), language=LANGUAGES)
def test_card_is_valid_html_and_shows_the_page_text_literally(item: Item, language: str) -> None:
    plain = assert_telegram_html(render.card(item, language))
    if item.status == DONE:
        title = shown(item.title or item.url)
        if 0 < utf16_len(title) <= render.TITLE_LIMIT:  # clipped in UTF-16 units, as Telegram counts
            assert title in plain  # escaped on the way in, unescaped by the parser: nothing lost or added
        source = shown(item.source)
        if 0 < utf16_len(source) <= 100:
            assert source in plain
    _, entities = parse_html(render.card(item, language))
    assert {e["type"] for e in entities} <= {"bold", "italic", "text_link"}  # the page's markup made none
    assert len(entities) <= 4


def test_card_of_astral_text_fits() -> None:
    """Every field 5,000 emoji long: each emoji is two UTF-16 units, which is what Telegram counts."""
    emoji = "😀" * 5000
    item = Item(id=1, chat_id=1, url="https://a.example/", canonical_url="https://a.example/", status=DONE,
                submitted_at=datetime(2026, 1, 1, tzinfo=UTC), title=emoji, site_name=emoji,
                authors=(emoji, emoji), summary_extractive=emoji, title_translated=emoji, summary_translated=emoji,
                translation_language="en")
    for language in ("en", "uk"):
        plain = assert_telegram_html(render.card(item, language))
        assert plain.count("😀") > 1000
        assert_telegram_html(render.already_saved(item, language))
        (digest,) = render.digest([item], date(2026, 1, 1), language)
        assert_telegram_html(digest)


@FUZZ
@given(item=items(), language=LANGUAGES)
def test_already_saved_and_status_lines_are_valid_html(item: Item, language: str) -> None:
    assert_telegram_html(render.already_saved(item, language))
    assert_telegram_html(render.status_line(item, language))
    assert_telegram_html(render.item_line(item, language))


@FUZZ
@given(link=hostile_text, reason=st.text(max_size=30), detail=maybe_text, language=LANGUAGES)
def test_failure_is_valid_html(link: str, reason: str, detail: str | None, language: str) -> None:
    assert_telegram_html(render.failure(link or "x", reason, language, detail=detail))


@FUZZ_MANY
@given(batch=st.lists(items(status=st.just(DONE)), min_size=1, max_size=25), language=LANGUAGES)
def test_latest_lists_every_item_in_valid_messages(batch: list[Item], language: str) -> None:
    messages = render.latest(batch, language)
    plain = [assert_telegram_html(message) for message in messages]
    marker = render.TEXTS.get(language, render.TEXTS["en"])["id"]
    for item in batch:
        assert sum(f"{marker}{item.id} · " in text for text in plain) >= 1


# --- Search results ---------------------------------------------------------------------------------

@st.composite
def snippets(draw: st.DrawFn) -> str:
    """An FTS snippet: page text with highlight markers, balanced or (from hostile page text) not."""
    parts = draw(st.lists(st.one_of(hostile_text, st.sampled_from([HIGHLIGHT_START, HIGHLIGHT_END])), max_size=12))
    return "".join(parts)


@FUZZ_MANY
@given(
    query=hostile_text,
    hits=st.lists(st.tuples(items(status=st.just(DONE)), snippets()), max_size=8),
    total=st.integers(0, 10**6),
    language=LANGUAGES,
)
def test_search_results_are_one_valid_message(
    query: str, hits: list[tuple[Item, str]], total: int, language: str
) -> None:
    page = SearchPage(query, tuple(SearchHit(item, snippet) for item, snippet in hits), max(total, len(hits)), 0, 5)
    plain = assert_telegram_html(render.search_results(page, language))
    assert plain


@FUZZ
@given(words=st.lists(st.text(SAFE_CHARACTERS.filter(lambda c: not c.isspace() and c not in "\x02\x03"),
                              min_size=1, max_size=15), min_size=1, max_size=6))
def test_balanced_highlights_become_bold(words: list[str]) -> None:
    snippet = " … ".join(f"{HIGHLIGHT_START}{word}{HIGHLIGHT_END}" for word in words)
    item = Item(id=1, chat_id=1, url="https://a.example/", canonical_url="https://a.example/", status=DONE,
                submitted_at=datetime(2026, 1, 1, tzinfo=UTC), title="t")
    message = render.search_results(SearchPage("q", (SearchHit(item, snippet),), 1, 0, 5), "en")
    plain, entities = parse_html(message)
    bold = [entity_text(plain, e) for e in entities if e["type"] == "bold"][1:]  # the first is the header
    assert bold == words


@pytest.mark.parametrize("snippet", [
    "before\x03 the page's own marker \x02grain\x03 after",  # an end before any start
    "\x03\x02", "\x02a\x03 x\x03 y\x02", "\x02\x02grain\x03\x03", "\x02" * 500 + "x",
])
def test_stray_highlight_markers_never_break_the_html(snippet: str) -> None:
    item = Item(id=1, chat_id=1, url="https://a.example/", canonical_url="https://a.example/", status=DONE,
                submitted_at=datetime(2026, 1, 1, tzinfo=UTC), title="t")
    message = render.search_results(SearchPage("q", (SearchHit(item, snippet),), 1, 0, 5), "en")
    plain = assert_telegram_html(message)
    assert "\x02" not in plain and "\x03" not in plain


def entity_text(plain: str, entity: dict) -> str:
    """The text an entity covers; its offset and length are in UTF-16 units."""
    units = plain.encode("utf-16-le")
    return units[2 * entity["offset"]:2 * (entity["offset"] + entity["length"])].decode("utf-16-le")


# --- Stats and digests -----------------------------------------------------------------------------

@FUZZ
@given(
    counts=st.lists(st.integers(0, 10**9), min_size=5, max_size=5),
    sources=st.lists(st.tuples(hostile_text, st.integers(1, 10**9)), max_size=5),
    reasons=st.lists(st.tuples(hostile_text, st.integers(1, 10**9)), max_size=5),
    language=LANGUAGES,
)
def test_stats_are_one_valid_message(
    counts: list[int], sources: list[tuple[str, int]], reasons: list[tuple[str, int]], language: str
) -> None:
    data = Stats(*counts, top_sources=tuple(sources), failure_reasons=tuple(reasons))
    assert_telegram_html(render.stats(data, language))


@FUZZ_MANY
@given(
    batch=st.lists(items(status=st.just(DONE)), min_size=0, max_size=25, unique_by=lambda item: item.id),
    day=st.dates(date(2000, 1, 1), date(2100, 1, 1)),
    language=LANGUAGES,
    sentences=st.integers(1, 5),
)
def test_digest_messages_are_valid_and_hold_every_item_once(
    batch: list[Item], day: date, language: str, sentences: int
) -> None:
    messages = render.digest(batch, day, language, sentences=sentences)
    plain = [assert_telegram_html(message) for message in messages]
    marker = render.TEXTS.get(language, render.TEXTS["en"])["id"]
    everything = "\n".join(plain)
    for item in batch:
        assert len(re.findall(rf"(?m)^  {re.escape(marker)}{item.id}$", everything)) == 1, item.id


# --- Splitting ----------------------------------------------------------------------------------------

@st.composite
def blocks(draw: st.DrawFn) -> list[str]:
    """Blocks as render builds them: lines of escaped text, each line's tags closed on that line."""
    def line(text: str, tag: str | None) -> str:
        escaped = render._e(shown(text)) or "·"
        return f"<{tag}>{escaped}</{tag}>" if tag else escaped

    tagged = st.builds(line, hostile_text, st.sampled_from([None, "b", "i", "u", "s", "code"]))
    return draw(st.lists(st.lists(tagged, min_size=1, max_size=4).map("\n".join), min_size=1, max_size=40))


@FUZZ_MANY
@given(parts=blocks(), limit=st.sampled_from([200, 1000, LIMIT]))
def test_split_messages_breaks_only_between_blocks_and_loses_none(parts: list[str], limit: int) -> None:
    messages = render.split_messages(parts, limit=limit)
    for message in messages:
        parse_html(message)
        assert render._length(message) <= limit
    # walk the blocks through the messages: each message is a run of whole blocks, in order
    remaining = list(parts)
    for message in messages:
        taken: list[str] = []
        while remaining:
            block = remaining[0]
            whole = block if render._length(block) <= limit else render._shrink(block, limit)
            candidate = "\n\n".join([*taken, whole])
            if message != candidate and not message.startswith(candidate + "\n\n"):
                break
            taken.append(whole)
            remaining.pop(0)
        assert "\n\n".join(taken) == message, "a message is not a run of whole blocks"
    assert remaining == [], "blocks were lost"


@FUZZ_MANY
@given(parts=blocks())
def test_oversized_blocks_are_cut_at_a_line_and_marked(parts: list[str]) -> None:
    giant = "\n".join(parts + ["<b>a line of filler</b>"] * 40)
    (message,) = render.split_messages([giant], limit=500)
    parse_html(message)
    assert render._length(message) <= 500
    assert message.endswith("…")
    kept = message.removesuffix("…").removesuffix("\n")
    assert giant.startswith(kept)
    assert kept == "" or giant[len(kept)] == "\n"  # cut at a line boundary, never inside a tag


# --- Search never raises ------------------------------------------------------------------------------

STORED = [
    ("Grain deal extended", "Grain exports through the Black Sea rose. The grain deal holds, officials said."),
    ("Київ готується до зими", "Київська рада ухвалила програму. Мʼясо подорожчало, а зерно — ні."),
    ('<b>Markup</b> & "quotes" \x02 in a title', "Text with \x02 markers \x03 and <tags> & entities &amp; grain."),
]


@pytest.fixture
async def searchable(repository: Repository) -> Repository:
    """A repository holding a few stored articles in chat -1, one with highlight markers in its text."""
    for n, (title, text) in enumerate(STORED):
        link = f"https://news.example/{n}"
        item, _ = await repository.add_link(-1, link, link, domain="news.example")
        article = Article(title=title, text=text, authors=("Anna O'Neil",), site_name="News & <Co>",
                          published_date=date(2026, 1, n + 1), language="en")
        await repository.mark_done(item.id, article, text, final_url=link)
    return repository


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.one_of(
    st.text(SAFE_CHARACTERS, max_size=10_000),
    st.lists(st.sampled_from(['"', "OR", "AND", "NOT", "NEAR", "(", ")", "*", "-", ":", "^", "source:", "author:",
                              "lang:", "after:", "before:2026-13-45", "'", "’", "ʼ", "\x00", "{", "}", " ", "grain",
                              "Київ", "Ё"]), max_size=200).map("".join),
    st.tuples(st.text(SAFE_CHARACTERS, min_size=1, max_size=50), st.integers(1, 10_000)).map(
        lambda pair: (pair[0] * pair[1])[:10_000]
    ),
))
async def test_search_never_raises(query: str, searchable: Repository) -> None:
    for offset in (0, 5):
        page = await searchable.search(-1, query, limit=5, offset=offset)
        assert page.total >= len(page.hits)
        assert_telegram_html(render.search_results(page, "uk"))

"""The language-model summariser against a real local endpoint, with a real SQLite file."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from itertools import count
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Settings
from bot.pipeline.briefs import InvalidReply, check_brief, clip_text, is_in_language
from bot.pipeline.models import Article
from bot.pipeline.summarise import split_sentences, summarise_extractive
from bot.pipeline.summarise_llm import LlmSummariser, TokenBudget, utc_today
from bot.pipeline.translate import translate_item
from storage.models import Item
from storage.repository import Repository
from tests.support.llmserver import LlmServer, english_brief, ukrainian_brief

CHAT = -1001234
API_KEY = "sk-test-Secret-0f9e8d7c6b5a"

PARAGRAPHS = [
    "Grain exports through the Black Sea corridor reached a record in November, the ministry said. "
    "Ships carried more than six million tonnes of wheat, corn and barley. "
    "Insurers cut their premiums for the route for the third month in a row.",
    "Analysts at the Kyiv School of Economics said the corridor had changed the market. "
    "Traders in Odesa reported queues of lorries at the ports. "
    "Prices for farmers rose by a fifth compared with the spring.",
    "The navy said it had cleared the approaches of mines again this week. "
    "Officials warned that drone attacks on port infrastructure continue. "
    "Two terminals in Izmail were damaged in October, the regional governor said.",
    "Buyers in Egypt and Indonesia took the largest share of the cargoes. "
    "European importers bought mostly corn for animal feed. "
    "The ministry expects exports to stay high through the winter if the weather allows.",
]
ARTICLE_TEXT = "\n\n".join(PARAGRAPHS)
ARTICLE = Article(
    title="Grain exports through the Black Sea hit a record",
    text=ARTICLE_TEXT,
    authors=("Maria Kovalenko",),
    site_name="Example Times",
    published_date=date(2026, 11, 20),
    language="en",
)
_urls = count(1)


@pytest.fixture
def llm() -> Iterator[LlmServer]:
    with LlmServer() as server:
        yield server


Make = Callable[..., LlmSummariser]


@pytest.fixture
async def make(llm: LlmServer, repository: Repository) -> AsyncIterator[Make]:
    """Builds summarisers pointed at the local endpoint (timeouts short), and closes them after."""
    made: list[LlmSummariser] = []

    def build(*, daily_limit: int = 0, **options: Any) -> LlmSummariser:
        options = {
            "base_url": llm.base_url,
            "model": "test-model",
            "timeout": 5.0,
            "backoff": 0.05,
            "budget": TokenBudget(repository, daily_limit),
        } | options
        summariser = LlmSummariser(**options)
        made.append(summariser)
        return summariser

    yield build
    for summariser in made:
        await summariser.aclose()


async def stored_item(repository: Repository, text: str = ARTICLE_TEXT) -> Item:
    url = f"https://example.com/grain/{next(_urls)}"
    item, _ = await repository.add_link(CHAT, url, url, domain="example.com")
    article = Article(title=ARTICLE.title, text=text, authors=ARTICLE.authors, site_name=ARTICLE.site_name,
                      published_date=ARTICLE.published_date, language="en")
    return await repository.mark_done(item.id, article, summarise_extractive(text), final_url=url)


# --- a brief comes back ---------------------------------------------------------------------


async def test_a_ukrainian_brief_is_stored_with_the_item(llm: LlmServer, make: Make, repository: Repository) -> None:
    item = await translate_item(repository, make(), await stored_item(repository), language="uk")

    assert item.title_translated == ukrainian_brief("Grain")["title"]
    assert item.summary_translated == ukrainian_brief("Grain")["summary"]
    assert (item.summary_source, item.summary_language, item.translation_note) == ("llm", "uk", None)
    assert item.summary_extractive == summarise_extractive(ARTICLE_TEXT)
    [request] = llm.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == "test-model"
    assert request.body["temperature"] <= 0.3
    assert request.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "brief",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"title": {"type": "string"}, "summary": {"type": "string"}},
                "required": ["title", "summary"],
                "additionalProperties": False,
            },
        },
    }
    system, user = request.body["messages"]
    assert system["role"] == "system" and "Ukrainian" in system["content"] and "за словами автора" in system["content"]
    assert "Title: Grain exports through the Black Sea hit a record" in user["content"]
    assert "Maria Kovalenko" in user["content"] and PARAGRAPHS[-1] in user["content"]
    assert "authorization" not in request.headers  # a local server needs no key
    assert await repository.llm_tokens_used(utc_today()) == llm.tokens_per_reply


async def test_an_english_brief(llm: LlmServer, make: Make) -> None:
    llm.always("english")
    summary = await make().summarise(ARTICLE, language="en")
    assert (summary.source, summary.language, summary.fallback_reason) == ("llm", "en", None)
    assert summary.title_translated == english_brief("Grain")["title"]
    assert "English" in llm.requests[0].body["messages"][0]["content"]


async def test_the_article_text_sent_is_bounded_at_a_sentence(llm: LlmServer, make: Make) -> None:
    sentences = [f"Sentence {n} says something about the harbour and its cranes." for n in range(600)]
    long_article = Article(title="Long read", text=" ".join(sentences), language="en")
    await make(max_input_chars=2000).summarise(long_article, language="uk")

    sent = llm.requests[0].article.split("Article text:\n", 1)[1].strip()
    assert 1000 <= len(sent) <= 2000
    assert long_article.text.startswith(sent) and sent.endswith("cranes.")
    assert len(llm.requests[0].article) < 2300  # the rest is a few lines of metadata


async def test_an_unusable_reply_is_asked_for_once_more(llm: LlmServer, make: Make) -> None:
    llm.then("english")
    summary = await make().summarise(ARTICLE, language="uk")
    assert summary.source == "llm"
    first, second = llm.requests
    assert second.body["messages"][:2] == first.body["messages"]
    assert "reply in the wrong language (expected uk)" in second.body["messages"][2]["content"]


# --- every failure ends in the extractive summary, with the reason kept -----------------------


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("malformed", "llm: reply is not a JSON object"),
        ("empty", "llm: empty reply"),
        ("english", "llm: reply in the wrong language (expected uk)"),
        ("russian", "llm: reply in the wrong language (expected uk)"),
        ("oversize", "llm: reply too long (summary over 1500 characters)"),
    ],
)
async def test_a_bad_reply_twice_falls_back_with_the_reason(
    llm: LlmServer, make: Make, repository: Repository, behaviour: str, reason: str
) -> None:
    llm.always(behaviour)
    item = await translate_item(repository, make(), await stored_item(repository), language="uk")

    assert item.translation_note == reason
    assert (item.title_translated, item.summary_translated) == (None, None)
    assert item.summary == summarise_extractive(ARTICLE_TEXT)
    assert item.summary_source == "extractive"
    assert len(llm.requests) == 2  # asked once more, then no further
    assert await repository.llm_tokens_used(utc_today()) == 2 * llm.tokens_per_reply  # bad replies cost too


async def test_the_fallback_summary_is_the_extractive_one(llm: LlmServer, make: Make) -> None:
    llm.always("malformed")
    summary = await make().summarise(ARTICLE, language="uk")
    assert summary.text == summarise_extractive(ARTICLE_TEXT)
    assert (summary.source, summary.language, summary.title_translated) == ("extractive", "en", None)


async def test_rate_limit_honours_retry_after_then_succeeds(llm: LlmServer, make: Make) -> None:
    llm.then("rate_limited")  # Retry-After: 1
    started = time.monotonic()
    summary = await make().summarise(ARTICLE, language="uk")
    assert summary.source == "llm"
    assert time.monotonic() - started >= 0.95
    assert len(llm.requests) == 2


async def test_server_errors_are_retried_with_backoff(llm: LlmServer, make: Make) -> None:
    llm.then("error", times=2)
    summary = await make().summarise(ARTICLE, language="uk")
    assert summary.source == "llm"
    assert len(llm.requests) == 3


@pytest.mark.parametrize(
    ("behaviour", "requests", "reason"),
    [
        ("error", 3, "llm: the endpoint answered HTTP 500, 3 times"),
        ("rate_limited", 3, "llm: the endpoint answered HTTP 429, 3 times"),
        ("unauthorized", 1, "llm: the endpoint answered HTTP 401"),
    ],
)
async def test_http_errors_end_in_a_fallback(
    llm: LlmServer, make: Make, repository: Repository, behaviour: str, requests: int, reason: str
) -> None:
    llm.always(behaviour)
    llm.retry_after = 0
    item = await translate_item(repository, make(), await stored_item(repository), language="uk")
    assert item.translation_note == reason
    assert item.summary_source == "extractive"
    assert len(llm.requests) == requests
    assert await repository.llm_tokens_used(utc_today()) == 0


async def test_a_retry_after_longer_than_the_call_may_last_is_not_waited_for(llm: LlmServer, make: Make) -> None:
    llm.always("rate_limited")
    llm.retry_after = 100
    started = time.monotonic()
    summary = await make().summarise(ARTICLE, language="uk")
    assert summary.fallback_reason == "llm: the endpoint asked to wait 100 s (HTTP 429)"
    assert time.monotonic() - started < 1
    assert len(llm.requests) == 1


async def test_a_request_timeout_falls_back_quickly(llm: LlmServer, make: Make, repository: Repository) -> None:
    llm.always("hang")
    started = time.monotonic()
    item = await translate_item(repository, make(timeout=0.3), await stored_item(repository), language="uk")
    assert item.translation_note == "llm: no answer within 0.3 s"
    assert item.summary_source == "extractive"
    assert time.monotonic() - started < 2
    assert len(llm.requests) == 1  # a timeout is not retried


async def test_the_whole_call_has_a_deadline(llm: LlmServer, make: Make) -> None:
    llm.always("error")
    llm.delay = 0.2
    llm.retry_after = 0
    summary = await make(deadline=0.3).summarise(ARTICLE, language="uk")
    assert summary.fallback_reason == "llm: gave up after 0.3 s"
    assert summary.source == "extractive"


async def test_an_unreachable_endpoint_falls_back(make: Make) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    summary = await make(base_url=f"http://127.0.0.1:{port}/v1").summarise(ARTICLE, language="uk")
    assert summary.fallback_reason == "llm: could not reach the endpoint (ConnectError)"
    assert summary.text == summarise_extractive(ARTICLE_TEXT)


# --- the daily token budget ---------------------------------------------------------------------


async def test_a_spent_budget_stops_calls_for_the_day(
    llm: LlmServer, repository: Repository, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    today = date(2026, 11, 20)
    budget = TokenBudget(repository, 150, today=lambda: today)
    summariser = make(budget=budget)
    caplog.set_level(logging.INFO)

    assert (await summariser.summarise(ARTICLE, language="uk")).source == "llm"  # 100 used
    assert (await summariser.summarise(ARTICLE, language="uk")).source == "llm"  # 200 used
    refused = [await summariser.summarise(ARTICLE, language="uk") for _ in range(3)]

    assert {s.fallback_reason for s in refused} == {"llm: daily token budget spent"}
    assert {s.text for s in refused} == {summarise_extractive(ARTICLE_TEXT)}
    assert len(llm.requests) == 2
    assert await repository.llm_tokens_used(today) == 200
    assert len([r for r in caplog.records if "budget" in r.getMessage()]) == 1

    today = date(2026, 11, 21)  # a new UTC day, a new budget
    assert (await summariser.summarise(ARTICLE, language="uk")).source == "llm"
    assert len(llm.requests) == 3


async def test_a_spent_budget_is_recorded_through_translate_item(
    llm: LlmServer, make: Make, repository: Repository
) -> None:
    await repository.add_llm_tokens(utc_today(), 1000)
    item = await translate_item(repository, make(daily_limit=1000), await stored_item(repository), language="uk")
    assert item.translation_note == "llm: daily token budget spent"
    assert item.summary_source == "extractive"
    assert llm.requests == []


async def test_tokens_are_estimated_when_the_endpoint_reports_no_usage(
    llm: LlmServer, make: Make, repository: Repository
) -> None:
    llm.usage = False
    await make().summarise(ARTICLE, language="uk")
    sent = sum(len(m["content"]) for m in llm.requests[0].body["messages"])
    used = await repository.llm_tokens_used(utc_today())
    assert sent // 4 < used < sent // 4 + 200


# --- limits and secrets ------------------------------------------------------------------------


async def test_no_more_than_the_configured_requests_at_once(llm: LlmServer, make: Make) -> None:
    llm.delay = 0.15
    summariser = make(concurrency=2)
    summaries = await asyncio.gather(*(summariser.summarise(ARTICLE, language="uk") for _ in range(6)))
    assert {s.source for s in summaries} == {"llm"}
    assert len(llm.requests) == 6
    assert llm.max_in_flight == 2


async def test_the_api_key_is_sent_as_bearer_and_never_logged(
    llm: LlmServer, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    caplog.set_level(logging.INFO, logger="aiosqlite")  # its worker thread logs each query, even after teardown
    summariser = make(api_key=API_KEY)
    llm.then("malformed")
    llm.then("unauthorized")
    assert (await summariser.summarise(ARTICLE, language="uk")).source == "extractive"
    assert (await summariser.summarise(ARTICLE, language="uk")).source == "llm"

    assert {r.headers["authorization"] for r in llm.requests} == {f"Bearer {API_KEY}"}
    assert caplog.records  # something was logged, and none of it is the key
    assert "Secret-0f9e" not in caplog.text
    assert "Secret-0f9e" not in repr(summariser)


async def test_settings_describe_the_summariser(llm: LlmServer, repository: Repository) -> None:
    settings = Settings.from_env(
        {"LLM_BASE_URL": llm.base_url + "/", "LLM_MODEL": "qwen", "LLM_API_KEY": API_KEY, "LLM_TIMEOUT": "5"}
    )
    summariser = LlmSummariser.from_settings(settings, repository=repository)
    try:
        assert (await summariser.summarise(ARTICLE, language="uk")).source == "llm"
    finally:
        await summariser.aclose()
    assert llm.requests[0].body["model"] == "qwen"
    assert llm.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


async def test_only_known_languages_and_stored_items(make: Make, repository: Repository) -> None:
    with pytest.raises(ValueError):
        await make().summarise(ARTICLE, language="de")
    item, _ = await repository.add_link(CHAT, "https://example.com/p", "https://example.com/p")
    with pytest.raises(ValueError):
        await translate_item(repository, make(), item, language="uk")


# --- checking a reply, without a server -----------------------------------------------------------

UK = ukrainian_brief("Grain")
UK_JSON = f'{{"title": "{UK["title"]}", "summary": "{UK["summary"]}"}}'


@pytest.mark.parametrize(
    ("content", "language", "problem"),
    [
        (UK_JSON, "uk", None),
        ("```json\n" + UK_JSON + "\n```", "uk", None),
        ('{"title": "Apple представила iPhone 17", "summary": "За словами автора, Apple показала новий '
         'iPhone 17 Pro. Як пише видання, продажі почнуться у вересні. Аналітики IDC вважають, що попит '
         'буде високим."}', "uk", None),
        ("", "uk", "empty reply"),
        ("   ", "uk", "empty reply"),
        ("not json", "uk", "reply is not a JSON object"),
        ('["title", "summary"]', "uk", "reply is not a JSON object"),
        ('{"summary": "Текст. Ще текст."}', "uk", "reply has an empty title"),
        ('{"title": 5, "summary": "Текст. Ще текст."}', "uk", "reply has an empty title"),
        ('{"title": "Заголовок", "summary": "  "}', "uk", "reply has an empty summary"),
        ('{"title": "' + "Дуже довгий заголовок " * 20 + '", "summary": "Це є. Це теж є."}', "uk",
         "reply too long (title over 300 characters)"),
        ('{"title": "Зерно", "summary": "Одне речення про зерно і порти."}', "uk",
         "summary has 1 sentences (expected 2–6)"),
        ('{"title": "Зерно", "summary": "' + "Речення про зерно і порти. " * 8 + '"}', "uk",
         "summary has 8 sentences (expected 2–6)"),
        ('{"title": "<script>alert(1)</script>", "summary": "<b>x</b>. <i>y</i>."}', "uk",
         "reply in the wrong language (expected uk)"),
        (UK_JSON, "en", "reply in the wrong language (expected en)"),
    ],
)
def test_check_brief(content: str, language: str, problem: str | None) -> None:
    if problem is None:
        brief = check_brief(content, language)
        assert brief.title and 2 <= len(split_sentences(brief.summary)) <= 6
    else:
        with pytest.raises(InvalidReply) as raised:
            check_brief(content, language)
        assert str(raised.value) == problem


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Уряд ухвалив рішення про підтримку енергетики.", "uk", True),
        ("Правительство приняло решение о поддержке энергетики.", "uk", False),  # Russian
        ("Урядова програма", "uk", False),  # Cyrillic, but nothing only Ukrainian has
        ("The government approved the plan.", "uk", False),
        ("За словами NATO, Київ отримає F-16.", "uk", True),
        ("The government approved the plan for Kyiv.", "en", True),
        ("Уряд ухвалив рішення.", "en", False),
        ("12345 — !!!", "en", False),
    ],
)
def test_is_in_language(text: str, language: str, expected: bool) -> None:
    assert is_in_language(text, language) is expected


def test_clip_text_prefers_paragraphs_then_sentences() -> None:
    assert clip_text(ARTICLE_TEXT, 10_000) == ARTICLE_TEXT
    by_paragraph = clip_text(ARTICLE_TEXT, len(PARAGRAPHS[0]) + len(PARAGRAPHS[1]) + 10)
    assert by_paragraph == "\n\n".join(PARAGRAPHS[:2])
    by_sentence = clip_text("One sentence here. Two sentences here. Three sentences here.", 45)
    assert by_sentence == "One sentence here. Two sentences here."
    assert clip_text("word " * 100, 52) == ("word " * 10).strip()


@given(st.text(max_size=3000), st.integers(min_value=10, max_value=2000))
def test_clip_text_never_exceeds_the_limit(text: str, limit: int) -> None:
    clipped = clip_text(text, limit)
    assert len(clipped) <= limit
    assert text.strip().startswith(clipped)

"""render: plain values to Telegram HTML, checked with the emulator's strict parser."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.telegram import render
from storage.models import Item, SearchHit, SearchPage, Stats
from tests.support.botapi import parse_html, utf16_len

SUBMITTED = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def item(**fields: object) -> Item:
    values: dict[str, object] = {
        "id": 7, "chat_id": -100, "url": "https://example.com/a", "canonical_url": "https://example.com/a", "status": "done",
        "submitted_at": SUBMITTED, "domain": "example.com", "title": "Grain deal signed", "authors": ("Maria Kovalenko",),
        "site_name": "Example Times", "published_date": date(2026, 11, 20), "language": "en",
        "summary_extractive": "Grain exports rose. Insurers cut premiums. Ports stayed open.",
        "summary_extractive_language": "en", "submitted_by_name": "Olena",
    }
    values.update(fields)
    return Item(**values)  # type: ignore[arg-type]


def visible(html_text: str) -> str:
    text, _ = parse_html(html_text)
    return text


def test_card_has_the_briefs_shape() -> None:
    card = render.card(item(), "uk")
    assert visible(card).splitlines() == [
        "Example Times — 20.11.2026", "Maria Kovalenko", "Grain deal signed", "",
        "Grain exports rose. Insurers cut premiums. Ports stayed open.", "", "№7",
    ]
    assert '<a href="https://example.com/a">Grain deal signed</a>' in card


def test_card_shows_the_translation_in_the_chats_language_only() -> None:
    translated = item(title_translated="Угоду про зерно підписано", summary_translated="Експорт зерна зріс.",
                      translation_language="uk")
    assert "Угоду про зерно підписано" in visible(render.card(translated, "uk"))
    assert "Експорт зерна зріс." in visible(render.card(translated, "uk"))
    english = visible(render.card(translated, "en"))
    assert "Угоду" not in english and "Grain exports rose." in english


@pytest.mark.parametrize(
    "title",
    ["<script>alert(1)</script>", "Tom & Jerry <b>bold</b> &amp; more", 'Quote " and \' and < > ', "x" * 5000,
     "😀" * 3000, "\u202eRTL override", "A\x00B\x07C"],
)
def test_hostile_titles_are_shown_not_parsed(title: str) -> None:
    for html_text in (render.card(item(title=title, site_name=title, authors=(title,)), "en"),
                      render.item_line(item(title=title), "en"), render.already_saved(item(title=title), "uk")):
        text, entities = parse_html(html_text)
        assert utf16_len(text) <= render.MESSAGE_LIMIT
        assert {e["type"] for e in entities} <= {"bold", "italic", "text_link"}
    short = "Tom & Jerry <b>bold</b> &amp; more"
    assert short in visible(render.card(item(title=short), "en"))


@pytest.mark.parametrize(
    ("reason", "language", "words"),
    [("blocked_address", "en", "private network"), ("http_404", "uk", "HTTP 404"), ("no_article", "uk", "тексту статті"),
     ("something_new", "en", "detail given")],
)
def test_failures_are_plain_words(reason: str, language: str, words: str) -> None:
    message = render.failure("https://example.com/<x>", reason, language, detail="detail given")
    assert words in visible(message) and "https://example.com/<x>" in visible(message)


def test_search_results_highlight_and_fit() -> None:
    hits = tuple(SearchHit(item(id=n), "the \x02grain\x03 deal <b> & co") for n in range(5))
    message = render.search_results(SearchPage('"grain" -x', hits, 12, 0, 5), "en")
    text, entities = parse_html(message)
    assert text.startswith("12 found for “\"grain\" -x”")
    assert sum(1 for e in entities if e["type"] == "bold") >= 5 and "<b> & co" in text


def test_long_lists_split_between_items_and_keep_every_one() -> None:
    items = [item(id=n, title=f"Article number {n} " + "long words " * 30) for n in range(60)]
    messages = render.latest(items, "en")
    assert len(messages) > 1
    joined = "\n".join(visible(m) for m in messages)
    assert all(f"#{n} ·" in joined for n in range(60))
    assert all(utf16_len(visible(m)) <= render.MESSAGE_LIMIT for m in messages)


def test_digest_groups_by_source_and_counts() -> None:
    items = [item(id=1, site_name="A", submitted_at=SUBMITTED), item(id=2, site_name="B", submitted_at=SUBMITTED),
             item(id=3, site_name="A", submitted_at=SUBMITTED.replace(hour=9))]
    [message] = render.digest(items, date(2026, 11, 29), "en")
    text = visible(message)
    assert text.index("\nA\n") < text.index("\nB\n")  # A has the newest item
    assert "/search" in text and "29.11.2026" in text


def test_stats_and_empty_answers() -> None:
    text = visible(render.stats(Stats(3, 1, 2, 2, 3, (("Reuters", 2),), (("timeout", 2),)), "en"))
    assert "Items: 3" in text and "Reuters: 2" in text and "timeout — the page took too long to answer: 2" in text
    assert render.latest([], "uk") == [render.text("latest_empty", "uk")]
    assert "«x»" in visible(render.search_results(SearchPage("x", (), 0, 0, 5), "uk"))


# -- monitoring ------------------------------------------------------------------------------

from bot.desk.feeds import FollowOutcome, PollResult, PollStatus  # noqa: E402
from bot.desk.watches import WatchAnswer, WatchProblem  # noqa: E402
from bot.pipeline.feeds import Alternate  # noqa: E402
from storage.models import Feed, FeedMode, FeedStatus, OutboxKind, OutboxMessage, Watch  # noqa: E402

HOSTILE = "<script>alert(1)</script> & \"quotes\" " + "x" * 5000


def feed(**fields: object) -> Feed:
    values: dict[str, object] = {
        "id": 3, "chat_id": -100, "url": "https://news.example/rss.xml", "mode": FeedMode.ANNOUNCE,
        "status": FeedStatus.ACTIVE, "interval_seconds": 900, "next_check_at": SUBMITTED, "created_at": SUBMITTED,
        "title": "Example Times — all news", "last_check_at": SUBMITTED, "errors": 0,
    }
    values.update(fields)
    return Feed(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["uk", "en"])
def test_follow_answers_parse_and_name_the_other_feeds(language: str) -> None:
    followed = FollowOutcome(feed(title=HOSTILE), True, (Alternate("https://news.example/a.atom", HOSTILE, "Atom"),),
                             PollResult(feed(), PollStatus.OK))
    text = visible(render.follow_result(followed, language, url="https://news.example/"))
    assert "https://news.example/a.atom" in text and "<script>" in text
    for problem in ("not_a_feed", "too_costly", "http_500", "blocked_address", "timeout", "weird"):
        refused = visible(render.follow_result(FollowOutcome(None, problem=problem, detail=HOSTILE), language,
                                               url=HOSTILE))
        assert utf16_len(refused) < 1200


@pytest.mark.parametrize("language", ["uk", "en"])
def test_feeds_list_shows_state_and_fits_messages(language: str) -> None:
    paused = feed(id=4, status=FeedStatus.PAUSED, errors=9, last_error=HOSTILE, title=None)
    parts = render.feeds_list([feed(id=n, title=HOSTILE) for n in range(40)] + [paused], language, zone=UTC)
    assert len(parts) > 1 and all(utf16_len(visible(part)) <= 4096 for part in parts)
    assert "⏸" in visible(parts[-1]) and "29.11 08:00" in visible(parts[0])
    assert render.feeds_list([], language, zone=UTC)[0]


@pytest.mark.parametrize("language", ["uk", "en"])
def test_outbox_messages(language: str) -> None:
    watch = Watch(5, -100, HOSTILE, SUBMITTED)
    alert = OutboxMessage(1, -100, OutboxKind.ALERT, "waiting", SUBMITTED, item_id=7, payload={"watches": [5]})
    shown = render.outbox_message(alert, item(title=HOSTILE, from_feed=True), [watch], language)
    text = visible(shown)
    assert text.startswith("🔔") and ("№7" if language == "uk" else "#7") in text and utf16_len(text) <= 4096
    assert ("зі стрічки" if language == "uk" else "from the feed") in text
    for key, values in (("feed_capped", {"new": 5000, "taken": 50, "skipped": 4950}),
                        ("feed_failing", {"error": HOSTILE, "since": "2026-11-28"}), ("feed_paused", {"error": "x"})):
        notice = OutboxMessage(2, -100, OutboxKind.NOTICE, "waiting", SUBMITTED,
                               payload={"key": key, "title": HOSTILE, "url": "https://n.example/rss", "values": values})
        assert visible(render.outbox_message(notice, None, [], language))
    unknown = OutboxMessage(3, -100, OutboxKind.NOTICE, "waiting", SUBMITTED, payload={"key": "help_intro<b>"})
    assert visible(render.outbox_message(unknown, None, [], language))


@pytest.mark.parametrize("language", ["uk", "en"])
def test_watch_answers_and_list(language: str) -> None:
    watch = Watch(5, -100, HOSTILE, SUBMITTED)
    assert "<script>" in visible(render.watch_result(WatchAnswer(watch, True), language, limit=200))
    for problem in WatchProblem:
        assert visible(render.watch_result(WatchAnswer(None, problem=problem), language, limit=200))
    assert all(utf16_len(visible(p)) <= 4096 for p in render.watches_list([watch] * 20, language))


def test_digest_marks_items_that_matched_a_watch() -> None:
    [part] = render.digest([item(watch_ids=(5,)), item(id=8, title="Other")], date(2026, 11, 29), "en")
    text = visible(part)
    assert "🔔 Grain deal signed" in text and "• Other" in text
# -- answers that scale with what is new ----------------------------------------------------

HOSTILE_TEXTS = ["<script>alert(1)</script>", "Tom & Jerry <b>", "x" * 5000, "😀" * 3000, 'Quote " <a href="x">']


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_batch_lines_and_repeats_are_valid_telegram_html(hostile: str) -> None:
    done = item(title=hostile, site_name=hostile, url="https://e.example/" + hostile, submitted_by_name=hostile)
    failed = item(id=8, status="failed", failure_reason="http_500", failure_detail=hostile, url=hostile)
    pending = item(id=9, status="pending", title=None, url=hostile)
    many = [item(id=n, title=f"{hostile} {n}") for n in range(10, 150)]
    produced = [
        *render.batch_outcome([done, failed, pending, *many], "en"),
        render.repeats([(done, 49)], "uk"), render.repeats([(pending, 3)], "en"),
        render.repeats([(failed, 2)], "en"), render.repeats([(it, 2) for it in [done, failed, pending, *many]], "uk"),
    ]
    for html_text in produced:
        text, _ = parse_html(html_text)
        assert utf16_len(text) <= render.MESSAGE_LIMIT


def test_a_hundred_links_are_one_list_in_a_few_messages() -> None:
    items = [item(id=n, title=f"Article {n} of a hundred") for n in range(100)]
    items[7] = item(id=7, status="failed", failure_reason="timeout", url="https://slow.example/7")
    messages = render.batch_outcome(items, "en")
    assert len(messages) <= 3
    text = "\n".join(visible(m) for m in messages)
    assert text.startswith("Saved 99 of 100 links, 1 failed")
    assert "⚠️ https://slow.example/7 — the page took too long to answer" in text
    assert all(f"#{n} Article {n} of a hundred · Example Times" in text for n in range(100) if n != 7)
    assert text.endswith("Any item's card: /item number")


def test_repeats_of_one_article_are_one_answer() -> None:
    answer = visible(render.repeats([(item(), 49)], "en"))
    assert answer.startswith("ℹ️ Already saved: 49 links, the same article, first by Olena on 29.11.2026")
    assert "Grain deal signed" in answer  # with its card
    assert visible(render.repeats([(item(), 1)], "uk")).startswith("ℹ️ Уже збережено: Olena, 29.11.2026")
    pending = visible(render.repeats([(item(status="pending"), 12)], "uk"))
    assert pending.startswith("⏳ Уже обробляється (посилань: 12, та сама стаття)")


def test_repeats_of_many_articles_fit_one_message() -> None:
    entries = [(item(id=n, title="t" * 150), 2) for n in range(200)]
    answer = render.repeats(entries, "en")
    text = visible(answer)
    assert text.startswith("ℹ️ Already in this chat: 400 links to 200 articles:")
    assert utf16_len(text) <= render.MESSAGE_LIMIT and text.splitlines()[-1].startswith("…and ")


def _outcome(*fates: tuple[str, str]):
    from bot.desk.links import Fate, LinkOutcome, SubmitOutcome
    from bot.pipeline.ingest import Submitter

    links = tuple(LinkOutcome(url, Fate(fate)) for url, fate in fates)
    return SubmitOutcome(-100, Submitter(), links, room_at=SUBMITTED.replace(hour=9))


def test_links_over_the_limit_are_named_with_when_there_is_room() -> None:
    outcome = _outcome(*[(f"https://e.example/{n}", "deferred") for n in range(12)],
                       ("https://e.example/<script>", "over_limit"))
    [notice] = render.submit_notices(outcome, "en", hourly_limit=5, now=SUBMITTED.replace(minute=36))
    text = visible(notice)
    assert text.startswith("Too many links this hour (limit 5).\nPut aside for later: 12. There is room again in "
                           "24 min; then send /later go.\nNeither saved nor put aside (the list for later is full at "
                           "5): 1.")
    assert "• https://e.example/0\n" in text and "…and 3 more" in text
    uk = visible(render.submit_notices(outcome, "uk", hourly_limit=5, now=SUBMITTED)[0])
    assert uk.startswith("Забагато посилань за годину (ліміт 5).\nВідкладено на потім: 12. Місце звільниться за 1 год 0 хв")


@pytest.mark.parametrize(("seconds", "en", "uk"), [
    (0.2, "1 s", "1 с"), (59, "59 s", "59 с"), (61, "2 min", "2 хв"), (3600, "1 h 0 min", "1 год 0 хв"),
    (86399, "24 h 0 min", "24 год 0 хв"),
])
def test_durations(seconds: float, en: str, uk: str) -> None:
    from datetime import timedelta

    assert render.duration(timedelta(seconds=seconds), "en") == en
    assert render.duration(timedelta(seconds=seconds), "uk") == uk


def test_refusals_say_what_and_when() -> None:
    from datetime import timedelta

    from bot.desk.costs import Permit, Refusal

    assert render.refusal(Permit(Refusal.COOLDOWN, timedelta(seconds=42), 60), "en") == \
        "Please wait 42 s before the next /resummarize (at least 60 s apart)."
    assert "3 на 24 години" in render.refusal(Permit(Refusal.DAILY_LIMIT, timedelta(hours=5), 3), "uk")
    assert "(5000 tokens)" in render.refusal(Permit(Refusal.CHAT_BUDGET, timedelta(hours=1), 5000), "en")
    assert render.refusal(Permit(Refusal.ADMINS_ONLY), "uk").startswith("Просити модель заново можуть лише")


def test_search_says_when_terms_were_left_out() -> None:
    page = SearchPage("t* OR …", (SearchHit(item(), "snippet"),), 1, 0, 5, terms_dropped=648)
    assert "Only the first 12 terms were searched; 648 more were left out." in visible(render.search_results(page, "en"))


# -- coverage: PDFs, paywalls, Telegram posts ------------------------------------------------

from dataclasses import replace  # noqa: E402

from storage.models import DONE  # noqa: E402


def _done(**fields: object) -> Item:
    base = Item(id=9, chat_id=1, url="https://e.com/a", canonical_url="https://e.com/a", status=DONE,
                 submitted_at=datetime(2026, 11, 20, 9, tzinfo=UTC), domain="e.com", title="T",
                 summary_extractive="S.")
    return replace(base, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("count", "uk", "en"), [(1, "1 сторінка", "1 page"), (3, "3 сторінки", "3 pages"),
                                                  (5, "5 сторінок", "5 pages"), (12, "12 сторінок", "12 pages"),
                                                  (22, "22 сторінки", "22 pages"), (111, "111 сторінок", "111 pages")])
def test_a_pdf_card_says_pdf_and_its_pages(count: int, uk: str, en: str) -> None:
    item = _done(content_kind="pdf", page_count=count)
    assert f"📄 PDF, {uk}" in render.card(item, "uk")
    assert f"📄 PDF, {en}" in render.card(item, "en")


def test_a_paywalled_card_says_the_summary_is_from_the_visible_part() -> None:
    item = _done(access="partial")
    assert "Платний доступ: підсумок за видимою частиною" in render.card(item, "uk")
    assert "Paywalled: summary from the visible part" in render.card(item, "en")
    assert "Paywalled" not in render.card(_done(), "en")


def test_a_post_card_has_its_time_and_links_to_add() -> None:
    hostile = 'https://e.com/x?a=1&b="><script>'
    item = _done(content_kind="telegram_post", site_name="Канал <новин>",
                 published_at=datetime(2026, 11, 20, 7, 45, tzinfo=UTC), post_links=(hostile, "https://e.org/y"))
    card = render.card(item, "uk")
    assert "<b>Канал &lt;новин&gt;</b> — 20.11.2026 07:45 UTC" in card
    assert "<script>" not in card
    assert "Допис посилається на:" in card and "/add https://e.com/x?a=1&amp;b=&quot;&gt;&lt;script&gt;" in card
    assert "The post links to:" in render.card(item, "en")


@pytest.mark.parametrize("reason", ["pdf_encrypted", "pdf_broken", "pdf_no_text", "pdf_too_large", "paywall",
                                    "telegram_post_not_found", "telegram_private"])
def test_new_reasons_have_words_in_both_languages(reason: str) -> None:
    for language in ("uk", "en"):
        words = render.REASONS[language][reason]
        assert words
        assert words in visible(render.stats(Stats(0, 0, 1, 0, 0, (), ((reason, 1),)), language))
    assert render.REASONS["en"]["pdf_no_text"] == "a scanned PDF with no text layer"
    assert render.REASONS["en"]["paywall"] == "paywall: no article text visible"


def test_a_batch_names_the_stored_item_for_another_address_of_it() -> None:
    merged = _done(status="failed", failure_reason="same_article", same_as=12, url="https://amp.e.com/a")
    assert "already saved as #12" in visible(render.batch_line(merged, "en"))
    assert "вже збережено як №12" in visible(render.batch_line(merged, "uk"))
    parse_html(render.batch_line(merged, "en"))  # valid Telegram HTML

"""Digests: the runs table (claims, marks, recovery) on a real SQLite file, the digest's content
and its splitting, and the send loop's retries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from bot.desk import digests as digest
from bot.desk.digests import DeliveryFailed, DeliveryRefused
from bot.pipeline.models import Article
from bot.telegram import render
from storage.models import DigestRun, DigestStatus, Item, ItemStatus
from storage.repository import Repository

DAY = date(2026, 3, 29)
CHAT = -100500


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def add_item(repository: Repository, n: int, *, submitted: datetime, chat_id: int = CHAT,
                   site: str = "Example Times", summary: str = "First sentence. Second one. Third one.") -> Item:
    item, _ = await repository.add_link(chat_id, f"https://e.example/{n}", f"https://e.example/{n}", domain="e.example")
    article = Article(title=f"Article {n} <b>", text="body", site_name=site, language="en")
    await repository.mark_done(item.id, article, summary, final_url=item.url)
    await repository._db.execute("UPDATE items SET submitted_at = ? WHERE id = ?",  # backdate: the clock is fixed
                                 (submitted.isoformat(timespec="seconds"), item.id))
    await repository._db.commit()
    return await repository.get(item.id)


# -- storage of schedules and runs ---------------------------------------------------------


async def test_schedule_is_stored_and_toggled(repository: Repository) -> None:
    assert await repository.digest_schedule(CHAT) is None
    assert not await repository.set_digest_flags(CHAT, enabled=False)  # nothing to turn off
    await repository.set_digest_schedule(CHAT, at=time(9), timezone="Europe/Kyiv", now=utc(2026, 1, 1))
    await repository.set_digest_schedule(-1, at=time(7, 30, 15), timezone="Asia/Tokyo", now=utc(2026, 1, 1))
    found = await repository.digest_schedule(CHAT)
    assert found is not None
    assert (found.at, found.timezone, found.enabled, found.quiet) == (time(9), "Europe/Kyiv", True, False)
    assert await repository.set_digest_flags(CHAT, quiet=True)
    assert await repository.set_digest_flags(CHAT, enabled=False, now=utc(2026, 1, 2))
    assert [s.chat_id for s in await repository.digest_schedules()] == [-1]
    assert (await repository.digest_schedules())[0].at == time(7, 30, 15)
    assert await repository.set_digest_flags(CHAT, enabled=True, now=utc(2026, 1, 3))
    found = await repository.digest_schedule(CHAT)
    assert found is not None and found.enabled and found.quiet and found.since == utc(2026, 1, 3)


async def test_a_day_is_claimed_once(repository: Repository) -> None:
    at = utc(2026, 3, 29, 6)
    assert await repository.claim_digest(CHAT, DAY, scheduled_for=at)
    assert not await repository.claim_digest(CHAT, DAY, scheduled_for=at)
    assert not await repository.skip_digest(CHAT, DAY, scheduled_for=at, reason="x")
    assert await repository.claim_digest(CHAT, DAY + timedelta(days=1), scheduled_for=at)  # the next day
    assert await repository.claim_digest(-1, DAY, scheduled_for=at)  # another chat
    await repository.start_digest_sending(CHAT, DAY, since=at - timedelta(days=1), until=at, item_count=3)
    await repository.add_digest_message(CHAT, DAY, 11)
    await repository.add_digest_message(CHAT, DAY, 12)
    await repository.note_digest_attempt(CHAT, DAY)
    await repository.finish_digest(CHAT, DAY, status=DigestStatus.SENT)
    run = await repository.digest_run(CHAT, DAY)
    assert run is not None
    assert (run.status, run.message_ids, run.attempts, run.item_count) == ("sent", (11, 12), 1, 3)
    assert not await repository.claim_digest(CHAT, DAY, scheduled_for=at)  # sent stays sent
    await repository.finish_digest(CHAT, DAY, status=DigestStatus.FAILED)  # only a 'sending' run can be closed
    assert await status_of(repository, DAY) == DigestStatus.SENT
    last = await repository.last_sent_digest(CHAT)
    assert last is not None and last.local_date == DAY
    assert await repository.last_sent_digest(CHAT, before=DAY) is None


async def test_interrupted_runs_are_settled_on_start(repository: Repository) -> None:
    claimed = utc(2026, 3, 29, 6)
    days = [DAY + timedelta(days=n) for n in range(3)]
    for day in days:
        await repository.claim_digest(CHAT, day, scheduled_for=claimed, now=claimed)
    # days[0]: never began sending; days[1]: a part went out; days[2]: a send was in flight
    await repository.start_digest_sending(CHAT, days[1], since=claimed, until=claimed, item_count=1, now=claimed)
    await repository.add_digest_message(CHAT, days[1], 5)
    await repository.start_digest_sending(CHAT, days[2], since=claimed, until=claimed, item_count=1, now=claimed)
    to_resume = await digest.recover_interrupted(repository)
    assert await repository.digest_run(CHAT, days[0]) is None  # released: it can be claimed and sent
    assert [run.local_date for run in to_resume] == [days[1], days[2]]


async def status_of(repository: Repository, day: date) -> DigestStatus | None:
    run = await repository.digest_run(CHAT, day)
    return run.status if run else None


# -- content -------------------------------------------------------------------------------


async def test_a_digest_covers_the_items_since_the_previous_one(repository: Repository) -> None:
    await add_item(repository, 1, submitted=utc(2026, 3, 27, 12))  # older than a day: not in the first digest
    await add_item(repository, 2, submitted=utc(2026, 3, 28, 12))
    first = await digest.compose(repository, CHAT, day=DAY, until=utc(2026, 3, 29, 6), before=DAY)
    assert titles(first.items) == ["Article 2 <b>"]
    await repository.claim_digest(CHAT, DAY, scheduled_for=first.until)
    await repository.start_digest_sending(CHAT, DAY, since=first.since, until=first.until, item_count=1)
    await repository.finish_digest(CHAT, DAY, status=DigestStatus.SENT)
    await add_item(repository, 3, submitted=utc(2026, 3, 29, 6, 0, 1))
    later = await digest.compose(repository, CHAT, day=DAY + timedelta(days=1),
                                 until=utc(2026, 3, 30, 6), before=DAY + timedelta(days=1))
    assert later.since == first.until and titles(later.items) == ["Article 3 <b>"]
    # /digest shows what the next digest would hold, without recording anything
    shown = await digest.digest_now(repository, CHAT, default_timezone="Europe/Kyiv", now=utc(2026, 3, 29, 8))
    assert titles(shown.items) == ["Article 3 <b>"] and shown.day == DAY
    # the terminal's --date replays a sent day's window
    replay = await digest.digest_for_date(repository, CHAT, DAY, default_timezone="Europe/Kyiv")
    assert titles(replay.items) == ["Article 2 <b>"]


def titles(items: Sequence[Item]) -> list[str | None]:
    return [item.title for item in items]


def item(n: int, source: str, minute: int, **fields: object) -> Item:
    return Item(id=n, chat_id=CHAT, url=f"https://x.example/{n}", canonical_url=f"https://x.example/{n}",
                status=ItemStatus.DONE, submitted_at=utc(2026, 3, 29, 5, minute), site_name=source,
                title=fields.pop("title", f"Title {n}"),
                summary_extractive=fields.pop("summary", "One. Two. Three."), **fields)


def test_render_groups_by_source_newest_first_with_translations() -> None:
    items = [item(1, "Old Source", 1), item(2, "New Source", 9, title_translated="Переклад",
                                           summary_translated="Речення один. Речення два. Три.",
                                           translation_language="uk"),
             item(3, "Old Source", 5, title="<script>x</script>")]
    [message] = render.digest(items, DAY, "uk")
    assert message.index("New Source") < message.index("Old Source")
    assert "<b>Переклад</b>" in message and "Речення один. Речення два." in message and "Три." not in message
    assert "&lt;script&gt;" in message and "матеріалів: 3, джерел: 2" in message
    assert message.endswith(render.text("digest_footer", "uk"))
    assert render.digest([], DAY, "en") == ["Digest for 29.03.2026: no new items."]


def test_a_long_digest_is_split_between_items_and_keeps_every_item() -> None:
    items = [item(n, f"Source {n % 3}", n % 60, summary="A sentence that is rather long. " * 30) for n in range(1, 301)]
    messages = render.digest(items, DAY, "en")
    assert len(messages) > 5
    assert all(render._length(m) <= render.MESSAGE_LIMIT for m in messages)
    text = "\n".join(messages)
    assert all(f"#{n}\n" in text + "\n" for n in range(1, 301))
    assert all(m.startswith("<b>") for m in messages)  # each part opens with the header or a source name
    assert messages[-1].endswith("/search")


# -- sending -------------------------------------------------------------------------------


class FlakyOutlet:
    """A digest outlet that fails on demand: what the Bot API emulator cannot stage."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures, self.sent = failures, []

    def render(self, items: Sequence[Item], day: date, language: str) -> list[str]:
        return render.digest(items, day, language)

    async def send(self, chat_id: int, part: str) -> int:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(part)
        return 100 + len(self.sent)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest, "RETRY_DELAYS", (0.0, 0.0))


async def deliver(repository: Repository, outlet: FlakyOutlet) -> DigestStatus:
    await repository.claim_digest(CHAT, DAY, scheduled_for=utc(2026, 3, 29, 6))
    return await digest.deliver(repository, outlet, CHAT, DAY, ["part one", "part two"])


async def test_a_failed_send_is_retried(repository: Repository, fast_retries: None) -> None:
    outlet = FlakyOutlet([DeliveryFailed("down"), DeliveryFailed("still down")])
    assert await deliver(repository, outlet) == DigestStatus.SENT
    run = await repository.digest_run(CHAT, DAY)
    assert run is not None
    assert outlet.sent == ["part one", "part two"] and run.message_ids == (101, 102) and run.attempts == 3


async def test_a_send_that_keeps_failing_is_recorded_as_failed(repository: Repository, fast_retries: None) -> None:
    assert await deliver(repository, FlakyOutlet([DeliveryFailed("down")] * 3)) == DigestStatus.FAILED
    run = await repository.digest_run(CHAT, DAY)
    assert run is not None
    assert run.status == DigestStatus.FAILED and run.attempts == 3 and "down" in (run.error or "")


async def test_a_chat_that_refuses_is_not_retried(repository: Repository, fast_retries: None) -> None:
    assert await deliver(repository, FlakyOutlet([DeliveryRefused("bot was kicked")])) == DigestStatus.FAILED
    run = await repository.digest_run(CHAT, DAY)
    assert run is not None and run.attempts == 1


async def interrupted_run(repository: Repository, *, delivered: int, in_flight: bool) -> tuple[list[str], DigestRun]:
    """A digest of several parts whose sending stopped after `delivered` parts."""
    for n in range(60):
        await add_item(repository, n, submitted=utc(2026, 3, 28, 12, n), summary="Word " * 60 + "end.")
    claimed = utc(2026, 3, 29, 6)
    await repository.claim_digest(CHAT, DAY, scheduled_for=claimed, now=claimed)
    composed = await digest.compose(repository, CHAT, day=DAY, until=claimed, before=DAY)
    parts = render.digest(composed.items, DAY, "en")
    assert len(parts) >= 3
    await repository.start_digest_sending(CHAT, DAY, since=composed.since, until=composed.until,
                                          item_count=len(composed.items), language="en", now=claimed)
    for part in range(delivered):
        await repository.mark_digest_part_sending(CHAT, DAY, part)
        await repository.add_digest_message(CHAT, DAY, 500 + part)
    if in_flight:
        await repository.mark_digest_part_sending(CHAT, DAY, delivered)
    [run] = await digest.recover_interrupted(repository)
    return parts, run


def services_on(repository: Repository) -> SimpleNamespace:
    """The two services resume_interrupted uses; the digest's language is recorded with its run."""
    async def language_of(chat_id: int) -> str:
        return "en"
    return SimpleNamespace(repository=repository, language_of=language_of)


async def test_a_digest_stopped_between_parts_sends_the_rest_once(repository: Repository) -> None:
    parts, run = await interrupted_run(repository, delivered=1, in_flight=False)
    outlet = FlakyOutlet([])
    assert await digest.resume_interrupted(services_on(repository), run, outlet) == DigestStatus.SENT
    assert outlet.sent == parts[1:]  # the first part is not sent again, none is lost
    final = await repository.digest_run(CHAT, DAY)
    assert final is not None and final.status == DigestStatus.SENT and len(final.message_ids) == len(parts)


async def test_a_part_in_flight_at_the_crash_is_not_sent_twice(repository: Repository) -> None:
    parts, run = await interrupted_run(repository, delivered=1, in_flight=True)
    outlet = FlakyOutlet([])
    assert await digest.resume_interrupted(services_on(repository), run, outlet) == DigestStatus.SENT
    assert outlet.sent == parts[2:]
    final = await repository.digest_run(CHAT, DAY)
    assert final is not None and final.status == DigestStatus.SENT and "part 2" in (final.error or "")


def test_the_terminal_prints_the_digest_as_plain_text(tmp_path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from bot import cli

    async def prepare() -> None:
        repository = await Repository.open(tmp_path / "cli.db")
        await add_item(repository, 7, submitted=datetime.now(UTC) - timedelta(hours=1), site="R&D <Weekly>")
        await repository.close()

    asyncio.run(prepare())
    monkeypatch.setenv("NEWSDESK_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    assert cli.main(["digest", f"--chat={CHAT}"]) == 0
    out = capsys.readouterr().out
    assert "R&D <Weekly>" in out and "Article 7 <b> (https://e.example/7)" in out
    assert "<a " not in out and "&amp;" not in out and "Search everything: /search" in out


# -- /schedule's arguments -----------------------------------------------------------------


@pytest.mark.parametrize(("argument", "problem", "words"), [
    ("25:99", "bad_time", "«25:99» — не час доби: години — від 00 до 23; хвилини — від 00 до 59"),
    ("09:75 Europe/Kyiv", "bad_time", "хвилини — від 00 до 59"),
    ("9", "bad_time", "пишіть ГГ:ХХ"),
    ("09:00 Europe/Kyiv tomorrow", "extra", "Не розумію «tomorrow» у розкладі"),
    ("09:00 10:00", "extra", "Не розумію «10:00»"),
    ("off now", "extra", "Не розумію «now»"),
    ("09:00 Europe/Kyvi", "bad_zone", "Невідомий часовий пояс «Europe/Kyvi»"),
    ("Mars/Olympus", "bad_zone", "Невідомий часовий пояс «Mars/Olympus»"),
])
async def test_schedule_says_which_part_is_wrong(repository: Repository, argument: str, problem: str,
                                                 words: str) -> None:
    answer = await digest.change_schedule(repository, CHAT, argument, default_timezone="Europe/Kyiv")
    assert answer.problem == problem
    assert words in render.schedule(answer, "uk", now=utc(2026, 1, 1))
    assert await repository.digest_schedule(CHAT) is None  # nothing was changed


async def test_schedule_answers_in_english_too(repository: Repository) -> None:
    answer = await digest.change_schedule(repository, CHAT, "25:99", default_timezone="Europe/Kyiv")
    assert render.schedule(answer, "en", now=utc(2026, 1, 1)) == (
        "“25:99” is not a time of day: hours go from 00 to 23; minutes from 00 to 59. "
        "Example: /schedule 09:00 Europe/Kyiv")

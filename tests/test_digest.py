"""Digests: the runs table (claims, marks, recovery) on a real SQLite file, the digest's content
and its splitting, and the send loop's retries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from telegram.error import Forbidden, NetworkError

from bot import digest, render
from storage.models import Item
from storage.repository import Repository

DAY = date(2026, 3, 29)
CHAT = -100500


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def add_item(repository: Repository, n: int, *, submitted: datetime, chat_id: int = CHAT,
                   site: str = "Example Times", summary: str = "First sentence. Second one. Third one.") -> Item:
    item, _ = await repository.add_link(chat_id, f"https://e.example/{n}", f"https://e.example/{n}", domain="e.example")
    await repository.mark_done(item.id, final_url=item.url, title=f"Article {n} <b>", text="body", authors=(),
                               site_name=site, published_date=None, language="en", description=None,
                               summary=summary, summary_language="en")
    await repository._db.execute("UPDATE items SET submitted_at = ? WHERE id = ?",  # backdate: the clock is fixed
                                 (submitted.isoformat(timespec="seconds"), item.id))
    await repository._db.commit()
    return await repository.get(item.id)


# -- storage of schedules and runs ---------------------------------------------------------


async def test_schedule_is_stored_and_toggled(repository: Repository) -> None:
    assert await repository.digest_schedule(CHAT) is None
    assert not await repository.set_digest_flags(CHAT, enabled=False)  # nothing to turn off
    await repository.set_digest_schedule(CHAT, at="09:00", timezone="Europe/Kyiv", now=utc(2026, 1, 1))
    await repository.set_digest_schedule(-1, at="07:30:15", timezone="Asia/Tokyo", now=utc(2026, 1, 1))
    row = await repository.digest_schedule(CHAT)
    assert (row["time"], row["timezone"], row["enabled"], row["quiet"]) == ("09:00", "Europe/Kyiv", 1, 0)
    assert await repository.set_digest_flags(CHAT, quiet=True)
    assert await repository.set_digest_flags(CHAT, enabled=False, now=utc(2026, 1, 2))
    assert [r["chat_id"] for r in await repository.digest_schedules()] == [-1]
    assert await repository.set_digest_flags(CHAT, enabled=True, now=utc(2026, 1, 3))
    row = await repository.digest_schedule(CHAT)
    assert row["enabled"] == 1 and row["quiet"] == 1 and row["since"] == "2026-01-03T00:00:00+00:00"


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
    await repository.finish_digest(CHAT, DAY, status="sent")
    run = await repository.digest_run(CHAT, DAY)
    assert (run["status"], run["message_ids"], run["attempts"], run["item_count"]) == ("sent", [11, 12], 1, 3)
    assert not await repository.claim_digest(CHAT, DAY, scheduled_for=at)  # sent stays sent
    await repository.finish_digest(CHAT, DAY, status="failed")  # only a 'sending' run can be closed
    assert (await repository.digest_run(CHAT, DAY))["status"] == "sent"
    assert (await repository.last_sent_digest(CHAT))["local_date"] == DAY.isoformat()
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
    assert [run["local_date"] for run in to_resume] == [days[1].isoformat(), days[2].isoformat()]


# -- content -------------------------------------------------------------------------------


async def test_a_digest_covers_the_items_since_the_previous_one(repository: Repository) -> None:
    await add_item(repository, 1, submitted=utc(2026, 3, 27, 12))  # older than a day: not in the first digest
    await add_item(repository, 2, submitted=utc(2026, 3, 28, 12))
    first = await digest.compose(repository, CHAT, language="en", day=DAY, until=utc(2026, 3, 29, 6), before=DAY)
    assert first.item_count == 1 and "Article 2" in first.messages[0] and "Article 1" not in first.messages[0]
    await repository.claim_digest(CHAT, DAY, scheduled_for=first.until)
    await repository.start_digest_sending(CHAT, DAY, since=first.since, until=first.until, item_count=1)
    await repository.finish_digest(CHAT, DAY, status="sent")
    await add_item(repository, 3, submitted=utc(2026, 3, 29, 6, 0, 1))
    later = await digest.compose(repository, CHAT, language="en", day=DAY + timedelta(days=1),
                                 until=utc(2026, 3, 30, 6), before=DAY + timedelta(days=1))
    assert later.since == first.until and later.item_count == 1 and "Article 3" in later.messages[0]
    # /digest shows what the next digest would hold, without recording anything
    shown = await digest.digest_now(repository, CHAT, language="en", default_timezone="Europe/Kyiv",
                                    now=utc(2026, 3, 29, 8))
    assert "Article 3" in shown[0] and "Article 2" not in shown[0]
    # the terminal's --date replays a sent day's window
    replay = await digest.digest_for_date(repository, CHAT, DAY, language="en", default_timezone="Europe/Kyiv")
    assert "Article 2" in replay[0] and "Article 3" not in replay[0]


def item(n: int, source: str, minute: int, **fields: object) -> Item:
    return Item(id=n, chat_id=CHAT, url=f"https://x.example/{n}", canonical_url=f"https://x.example/{n}",
                status="done", submitted_at=utc(2026, 3, 29, 5, minute), site_name=source,
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


class FlakyBot:
    """Stands in for application.bot: failures on demand are what the Bot API emulator can't stage."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures, self.sent = failures, []

    async def send_message(self, chat_id: int, text: str) -> SimpleNamespace:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(text)
        return SimpleNamespace(message_id=100 + len(self.sent))


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest, "RETRY_DELAYS", (0.0, 0.0))


async def deliver(repository: Repository, bot: FlakyBot) -> str:
    application = SimpleNamespace(bot=bot, bot_data={"services": SimpleNamespace(repository=repository)})
    await repository.claim_digest(CHAT, DAY, scheduled_for=utc(2026, 3, 29, 6))
    return await digest._deliver(application, CHAT, DAY, ["part one", "part two"])


async def test_a_failed_send_is_retried(repository: Repository, fast_retries: None) -> None:
    bot = FlakyBot([NetworkError("down"), NetworkError("still down")])
    assert await deliver(repository, bot) == "sent"
    run = await repository.digest_run(CHAT, DAY)
    assert bot.sent == ["part one", "part two"] and run["message_ids"] == [101, 102] and run["attempts"] == 3


async def test_a_send_that_keeps_failing_is_recorded_as_failed(repository: Repository, fast_retries: None) -> None:
    assert await deliver(repository, FlakyBot([NetworkError("down")] * 3)) == "failed"
    run = await repository.digest_run(CHAT, DAY)
    assert run["status"] == "failed" and run["attempts"] == 3 and "down" in run["error"]


async def test_a_chat_that_refuses_is_not_retried(repository: Repository, fast_retries: None) -> None:
    assert await deliver(repository, FlakyBot([Forbidden("bot was kicked")])) == "failed"
    assert (await repository.digest_run(CHAT, DAY))["attempts"] == 1


async def interrupted_run(repository: Repository, *, delivered: int, in_flight: bool) -> tuple[list[str], dict]:
    """A digest of several parts whose sending stopped after `delivered` parts."""
    for n in range(60):
        await add_item(repository, n, submitted=utc(2026, 3, 28, 12, n), summary="Word " * 60 + "end.")
    claimed = utc(2026, 3, 29, 6)
    await repository.claim_digest(CHAT, DAY, scheduled_for=claimed, now=claimed)
    composed = await digest.compose(repository, CHAT, language="en", day=DAY, until=claimed, before=DAY)
    assert len(composed.messages) >= 3
    await repository.start_digest_sending(CHAT, DAY, since=composed.since, until=composed.until,
                                          item_count=composed.item_count, language="en", now=claimed)
    for part in range(delivered):
        await repository.mark_digest_part_sending(CHAT, DAY, part)
        await repository.add_digest_message(CHAT, DAY, 500 + part)
    if in_flight:
        await repository.mark_digest_part_sending(CHAT, DAY, delivered)
    [run] = await digest.recover_interrupted(repository)
    return composed.messages, run


async def test_a_digest_stopped_between_parts_sends_the_rest_once(repository: Repository) -> None:
    messages, run = await interrupted_run(repository, delivered=1, in_flight=False)
    bot = FlakyBot([])
    application = SimpleNamespace(bot=bot, bot_data={"services": SimpleNamespace(repository=repository)})
    assert await digest.resume_interrupted(application, run) == "sent"
    assert bot.sent == messages[1:]  # the first part is not sent again, none is lost
    final = await repository.digest_run(CHAT, DAY)
    assert final["status"] == "sent" and len(final["message_ids"]) == len(messages)


async def test_a_part_in_flight_at_the_crash_is_not_sent_twice(repository: Repository) -> None:
    messages, run = await interrupted_run(repository, delivered=1, in_flight=True)
    bot = FlakyBot([])
    application = SimpleNamespace(bot=bot, bot_data={"services": SimpleNamespace(repository=repository)})
    assert await digest.resume_interrupted(application, run) == "sent"
    assert bot.sent == messages[2:]
    final = await repository.digest_run(CHAT, DAY)
    assert final["status"] == "sent" and "part 2" in final["error"]


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

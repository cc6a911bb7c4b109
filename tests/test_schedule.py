"""bot/schedule.py: the digest schedule's arithmetic with fixed clocks, DST days included."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.desk import schedule

KYIV, AUCKLAND, TOKYO = ZoneInfo("Europe/Kyiv"), ZoneInfo("Pacific/Auckland"), ZoneInfo("Asia/Tokyo")
GRACE = timedelta(hours=6)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("09:00", time(9)), ("9:05", time(9, 5)), ("23:59:30", time(23, 59, 30)), ("7.30", time(7, 30)),
    ("24:00", None), ("12:60", None), ("noon", None), ("", None), ("09:00:00:00", None), ("-1:00", None),
])
def test_parse_time(text: str, expected: time | None) -> None:
    assert schedule.parse_time(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Europe/Kyiv", "Europe/Kyiv"), ("europe/kyiv", "Europe/Kyiv"), ("Asia/Tokyo", "Asia/Tokyo"),
    ("Europe/Kiev", "Europe/Kiev"), ("Mars/Olympus", None), ("../../etc/passwd", None), ("/etc/localtime", None),
    ("", None), ("<script>", None),
])
def test_parse_zone(text: str, expected: str | None) -> None:
    assert schedule.parse_zone(text) == expected


def test_format_time_keeps_seconds_only_when_set() -> None:
    assert schedule.format_time(time(9)) == "09:00"
    assert schedule.format_time(time(9, 0, 5)) == "09:00:05"


def test_an_ordinary_day_in_kyiv() -> None:
    # winter, UTC+2: 09:00 local is 07:00 UTC
    assert schedule.next_run(utc(2026, 1, 10, 6, 0), time(9), KYIV) == utc(2026, 1, 10, 7, 0)
    assert schedule.next_run(utc(2026, 1, 10, 7, 0), time(9), KYIV) == utc(2026, 1, 11, 7, 0)  # strictly after
    assert schedule.next_run(utc(2026, 7, 10, 8, 0), time(9), KYIV) == utc(2026, 7, 11, 6, 0)  # summer, UTC+3


def test_spring_forward_runs_at_the_first_valid_instant_after_the_gap() -> None:
    # 2026-03-29: 03:00 EET jumps to 04:00 EEST (01:00 UTC); 03:30 does not exist that day
    day = date(2026, 3, 29)
    assert schedule.local_instant(day, time(3, 30), KYIV) == utc(2026, 3, 29, 1, 0)
    assert schedule.local_instant(day, time(3, 30), KYIV).astimezone(KYIV).strftime("%H:%M %Z") == "04:00 EEST"
    before = schedule.next_run(utc(2026, 3, 28, 12, 0), time(3, 30), KYIV)
    assert before == utc(2026, 3, 29, 1, 0)
    # the day before and after run at 03:30 local as usual; the spring day is neither skipped nor doubled
    assert schedule.next_run(utc(2026, 3, 27, 12, 0), time(3, 30), KYIV) == utc(2026, 3, 28, 1, 30)
    assert schedule.next_run(before, time(3, 30), KYIV) == utc(2026, 3, 30, 0, 30)
    assert schedule.previous_run(utc(2026, 3, 29, 1, 0), time(3, 30), KYIV).day == day
    # the times around the gap are untouched
    assert schedule.local_instant(day, time(2, 59), KYIV) == utc(2026, 3, 29, 0, 59)
    assert schedule.local_instant(day, time(4, 0), KYIV) == utc(2026, 3, 29, 1, 0)


def test_fall_back_runs_once_at_the_first_occurrence() -> None:
    # 2026-10-25: 04:00 EEST falls back to 03:00 EET (01:00 UTC); 03:30 happens twice
    day = date(2026, 10, 25)
    first = schedule.local_instant(day, time(3, 30), KYIV)
    assert first == utc(2026, 10, 25, 0, 30)
    assert first.astimezone(KYIV).strftime("%H:%M %Z") == "03:30 EEST"
    assert schedule.next_run(utc(2026, 10, 24, 12, 0), time(3, 30), KYIV) == first
    # at the second 03:30 (EET, 01:30 UTC) the next run is tomorrow's, not a second one today
    second = utc(2026, 10, 25, 1, 30)
    assert schedule.next_run(second, time(3, 30), KYIV) == utc(2026, 10, 26, 1, 30)
    assert schedule.previous_run(second, time(3, 30), KYIV) == schedule.Occurrence(day, first)
    decision = schedule.decide(second, time(3, 30), KYIV, since=utc(2026, 10, 1), grace=GRACE)
    assert decision is not None and decision.occurrence.day == day  # the same key: a claim refuses it


@pytest.mark.parametrize("zone", [KYIV, AUCKLAND, TOKYO, ZoneInfo("America/New_York")])
def test_every_local_date_of_a_year_has_exactly_one_run(zone: ZoneInfo) -> None:
    for at in (time(0, 30), time(2, 30), time(3, 30), time(23, 59, 59)):
        moment, days = utc(2026, 1, 1), []
        while moment < utc(2027, 1, 1):
            moment = schedule.next_run(moment, at, zone)
            days.append(schedule.previous_run(moment, at, zone).day)
        assert days == sorted(set(days))
        assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(days))


def test_east_of_utc_the_local_date_is_ahead_of_utc() -> None:
    # Auckland in January is UTC+13: 08:00 on the 15th is 19:00 UTC on the 14th
    run = schedule.next_run(utc(2026, 1, 14, 12, 0), time(8), AUCKLAND)
    assert run == utc(2026, 1, 14, 19, 0)
    assert schedule.local_date_of(run, AUCKLAND) == date(2026, 1, 15)
    assert run.date() == date(2026, 1, 14)
    decision = schedule.decide(utc(2026, 1, 14, 19, 0, 5), time(8), AUCKLAND, since=utc(2026, 1, 1), grace=GRACE)
    assert decision == schedule.Decision(schedule.SEND, schedule.Occurrence(date(2026, 1, 15), run), timedelta(seconds=5))
    # Tokyo, UTC+9: 06:00 on the 2nd is 21:00 UTC on the 1st
    assert schedule.local_date_of(utc(2026, 5, 1, 21, 0), TOKYO) == date(2026, 5, 2)


def test_decide_due_missed_and_not_yet() -> None:
    at, since = time(9), utc(2026, 1, 1)
    # 09:00 Kyiv = 07:00 UTC
    assert schedule.decide(utc(2026, 1, 10, 7, 0), at, KYIV, since=since, grace=GRACE).action == schedule.SEND
    late = schedule.decide(utc(2026, 1, 10, 12, 59), at, KYIV, since=since, grace=GRACE)
    assert late.action == schedule.SEND and late.late == timedelta(hours=5, minutes=59)
    missed = schedule.decide(utc(2026, 1, 10, 13, 1), at, KYIV, since=since, grace=GRACE)
    assert missed.action == schedule.SKIP and missed.occurrence.day == date(2026, 1, 10)
    # before today's time, yesterday's run is the latest one (long missed, or long sent)
    earlier = schedule.decide(utc(2026, 1, 10, 6, 0), at, KYIV, since=since, grace=GRACE)
    assert earlier.occurrence.day == date(2026, 1, 9) and earlier.action == schedule.SKIP


def test_a_schedule_set_after_todays_time_starts_tomorrow() -> None:
    set_at = utc(2026, 1, 10, 8, 0)  # 10:00 Kyiv, for a 09:00 digest
    assert schedule.decide(utc(2026, 1, 10, 8, 0, 30), time(9), KYIV, since=set_at, grace=GRACE) is None
    tomorrow = schedule.decide(utc(2026, 1, 11, 7, 0), time(9), KYIV, since=set_at, grace=GRACE)
    assert tomorrow.occurrence.day == date(2026, 1, 11) and tomorrow.action == schedule.SEND


@pytest.mark.parametrize(("text", "problem"), [
    ("25:99", ("hours", "minutes")), ("24:00", ("hours",)), ("9:60", ("minutes",)), ("12:30:61", ("seconds",)),
    ("9", ("format",)), ("9:5", ("format",)), ("123:45", ("format",)), ("12:34:56:78", ("format",)),
    ("1.2.3", ("format",)), ("99999999999999999999:00", ("format",)),
    ("09:00", ()), ("9.30", ()), ("23:59:59", ()), ("Europe/Kyiv", ()), ("off", ()), ("", ()),
])
def test_time_problem_names_the_wrong_part(text: str, problem: tuple[str, ...]) -> None:
    assert schedule.time_problem(text) == problem

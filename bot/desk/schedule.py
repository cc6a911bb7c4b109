"""Digest schedule arithmetic: pure functions over aware datetimes and IANA zones, no I/O.

A schedule is a local wall-clock time ("09:00", or "09:00:30" to the second) in a chat's zone.
Runs are keyed by the LOCAL date they belong to, so daylight-saving changes neither skip nor
double a day:

- spring forward (a local time that does not exist that day, e.g. 03:30 in Europe/Kyiv on
  2026-03-29): the run happens at the first valid instant after it (04:00 EEST);
- fall back (a local time that happens twice, e.g. 03:30 on 2026-10-25): the first one (fold=0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class Action(StrEnum):
    SEND = "send"
    SKIP = "skip"
    """Missed by more than the grace period: recorded, never sent."""


SEND, SKIP = Action.SEND, Action.SKIP
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)(?::([0-5]\d))?$")


def parse_time(text: str) -> time | None:
    """A time from HH:MM or HH:MM:SS (also 9.30), or None."""
    match = _TIME.match(text.strip())
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return time(int(hours), int(minutes), int(seconds or 0))


_TIME_LIKE = re.compile(r"^[\d:.]*\d[\d:.]*$")


def looks_like_time(text: str) -> bool:
    """Digits with ":" or "." between them: meant as a time of day, right or wrong."""
    return bool(_TIME_LIKE.match(text.strip()))


def time_problem(text: str) -> tuple[str, ...]:
    """What is wrong with something written as a time of day: the parts out of range ("hours",
    "minutes", "seconds"), or ("format",); () when it is a valid time or not meant as one."""
    text = text.strip()
    if not looks_like_time(text) or parse_time(text) is not None:
        return ()
    parts = re.split(r"[:.]", text)
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() and 1 <= len(p) <= 2 for p in parts) or len(parts[1]) != 2:
        return ("format",)
    limits = (("hours", 23), ("minutes", 59), ("seconds", 59))
    return tuple(name for (name, most), part in zip(limits, parts, strict=False) if int(part) > most) or ("format",)


def format_time(at: time) -> str:
    return at.strftime("%H:%M:%S" if at.second else "%H:%M")


def parse_zone(text: str) -> str | None:
    """An IANA zone name as the database spells it ("europe/kyiv" -> "Europe/Kyiv"), or None."""
    name = text.strip()
    if not name or "\\" in name or name.startswith(("/", ".")) or ".." in name:
        return None
    name = _zone_names().get(name.lower(), name)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of local `at` on local `day`: gaps move to their end, repeats take the first."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0)
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == wall:
        return utc  # exists (an ambiguous time resolves to its first occurrence with fold=0)
    # In a gap, fold=0 reads the wall time with the offset from before the transition and fold=1
    # with the one after; the transition itself, the first valid instant, lies between the two.
    low, high = wall.replace(tzinfo=zone, fold=1).astimezone(UTC), utc
    after = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def local_date_of(moment: datetime, zone: ZoneInfo) -> date:
    """The local date in `zone` of an aware instant."""
    return moment.astimezone(zone).date()


@dataclass(frozen=True)
class Occurrence:
    """One scheduled run: the local date it belongs to and its UTC instant."""

    day: date
    at: datetime


def _occurrences(now: datetime, at: time, zone: ZoneInfo) -> list[Occurrence]:
    today = local_date_of(now, zone)
    return [Occurrence(day, local_instant(day, at, zone)) for day in
            (today + timedelta(days=offset) for offset in (-2, -1, 0, 1, 2))]


def next_run(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first scheduled instant strictly after `now`, in UTC."""
    return next(o.at for o in _occurrences(now, at, zone) if o.at > now)


def previous_run(now: datetime, at: time, zone: ZoneInfo) -> Occurrence:
    """The latest scheduled run at or before `now`."""
    return [o for o in _occurrences(now, at, zone) if o.at <= now][-1]


@dataclass(frozen=True)
class Decision:
    """What to do about the latest scheduled run: SEND it, or SKIP it as missed beyond the grace."""

    action: Action
    occurrence: Occurrence
    late: timedelta


def decide(now: datetime, at: time, zone: ZoneInfo, *, since: datetime, grace: timedelta) -> Decision | None:
    """The run due at `now`, if any: the latest one not before `since` (when the schedule was set)."""
    occurrence = previous_run(now, at, zone)
    if occurrence.at < since:
        return None  # the time had already passed today when the schedule was set
    late = now - occurrence.at
    return Decision(SEND if late <= grace else SKIP, occurrence, late)

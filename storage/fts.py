"""Users' search strings made safe for FTS5 MATCH, with a few documented operators and filters.

Supported, as the bot's /help says:

    word other          both words (any form of case; Cyrillic too)
    "exact phrase"      the words next to each other
    a OR b              either
    -word, -"phrase"    without
    prefix*             words starting with "prefix"
    source:bbc          site name or domain      author:smith   an author's name
    lang:uk             the article's language   after:2026-01-31  before:2026-02-28  by date

Everything else is searched as plain words: every term is sent to SQLite as a quoted string,
so no user text can ever be read as FTS syntax.

A query is bounded: a term repeated within an OR (or a whole AND part repeated) is used once, and
only the first MAX_TERMS distinct terms are searched (`ParsedQuery.dropped` counts the rest), so
a `t* OR t* OR …` of hundreds of prefix terms costs what one does. (The search's time budget is
the Performance issue's.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_TOKEN = re.compile(
    r"""
    (?P<neg>-)?
    (?:(?P<key>[A-Za-z]+):)?
    (?:"(?P<quoted>[^"]*)(?:"|$)(?P<qstar>\*)? | (?P<bare>[^\s"()]+))
    """,
    re.VERBOSE,
)
_WORDLIKE = re.compile(r"\w", re.UNICODE)
_FILTER_KEYS = {"source", "site", "author", "lang", "language", "after", "before"}
_COLUMN_FOR_KEY = {"source": "source_text", "site": "source_text", "author": "authors_text"}
MAX_TERMS = 32
"""Distinct terms (positive and excluded together) one search may use; those after are dropped."""


@dataclass(frozen=True)
class Term:
    text: str
    prefix: bool = False
    phrase: bool = False

    def to_fts(self) -> str:
        quoted = '"' + self.text.replace('"', '""') + '"'
        return quoted + "*" if self.prefix else quoted


@dataclass(frozen=True)
class ParsedQuery:
    match: str | None
    """The positive FTS5 expression, or None when the query has only filters or exclusions."""
    exclude: str | None
    """An FTS5 expression of excluded terms (items matching it are left out), or None."""
    language: str | None = None
    after: date | None = None
    before: date | None = None
    dropped: int = 0
    """Terms left out over MAX_TERMS."""

    @property
    def is_empty(self) -> bool:
        return not (self.match or self.exclude or self.language or self.after or self.before)


def parse_query(text: str) -> ParsedQuery:
    """Turn whatever a user typed into a safe FTS5 expression and SQL filters; never raises."""
    groups: list[list[str]] = []  # AND of ORs
    excluded: list[str] = []
    language = after = before = None
    pending_or = False
    kept = dropped = 0
    for match in _TOKEN.finditer(text.replace("\x00", " ")):
        negative = bool(match["neg"])
        key = (match["key"] or "").lower()
        quoted = match["quoted"]
        raw = quoted if quoted is not None else match["bare"]
        if key and key not in _FILTER_KEYS:
            raw = f"{match['key']}:{raw}"  # not a filter: the colon is part of the words
            key = ""
        if not key and not negative and quoted is None and raw == "OR":
            pending_or = bool(groups)
            continue
        if key in ("lang", "language"):
            language = raw.strip().lower()[:12] or None
            continue
        if key in ("after", "before"):
            day = _parse_day(raw)
            if day is not None:
                if key == "after":
                    after = day
                else:
                    before = day
                continue
            raw, key = f"{match['key']}:{raw}", ""
        term = _term(raw, phrase=quoted is not None, star=bool(match["qstar"]))
        if term is None:
            continue
        expression = term.to_fts()
        if key in _COLUMN_FOR_KEY:
            expression = f"{_COLUMN_FOR_KEY[key]} : {expression}"
        joins = pending_or
        pending_or = False
        if expression in (excluded if negative else groups[-1] if joins else ()):
            continue  # the same term again in the same OR (or exclusion) adds nothing
        if kept == MAX_TERMS:
            dropped += 1
            continue
        kept += 1
        if negative:
            excluded.append(expression)
        elif joins:
            groups[-1].append(expression)
        else:
            groups.append([expression])
    parts = list(dict.fromkeys(_group(group) for group in groups))  # "a AND a" is "a"
    return ParsedQuery(
        match=" AND ".join(parts) or None,
        exclude=" OR ".join(excluded) or None,
        language=language,
        after=after,
        before=before,
        dropped=dropped,
    )


def _term(raw: str, *, phrase: bool, star: bool) -> Term | None:
    prefix = star
    if not phrase and raw.endswith("*"):
        raw, prefix = raw.rstrip("*"), True
    if not _WORDLIKE.search(raw):
        return None  # punctuation alone has no tokens to match
    return Term(raw, prefix=prefix, phrase=phrase)


def _group(expressions: list[str]) -> str:
    return expressions[0] if len(expressions) == 1 else "(" + " OR ".join(expressions) + ")"


def _parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None

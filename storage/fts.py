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
a `t* OR t* OR …` of hundreds of prefix terms costs what one does. Twelve is more than any
question an editor asks (a name, a place and a few words, in two spellings), and each term is one
more list of postings to walk. A prefix is searched as the most common words it begins
(`ParsedQuery.expression` with an expander, see storage/search.py), not as FTS5's own prefix
query, which merges every word of the index that begins so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

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
FIRST_WINDOW = 65_536
"""Ids in the first window of the newest-first walk over a query's matches; each next window is
twice as wide (storage/search.py on SQLite, storage/pg_search.py on PostgreSQL)."""
WALK_BUDGET = 0.008
"""Seconds of walking after which a search that has a page stops looking for more candidates."""
SMALL_CHAT = 0.25
"""A chat with less than this share of the archive's items is searched through the chat first:
its tag on SQLite, its index on PostgreSQL."""
MAX_TERMS = 12
"""Distinct terms (positive and excluded together) one search may use; those after are dropped."""


CONTENT_COLUMNS = "{title title_translated summary_translated text authors_text source_text}"
"""The index's columns of words. A term shaped like a tag of the tags column (a digit 0 and a
letter, as "0cm1001234") is looked for in these alone, so no one's query matches the tags;
other terms need no column filter, which would cost a look at every match's positions."""
_TAG_SHAPE = re.compile(r"0[a-z]", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    text: str
    prefix: bool = False
    phrase: bool = False
    column: str | None = None
    """source: and author: terms look in one column."""

    def to_fts(self, words: Sequence[str] | None = None) -> str:
        """The term as FTS5 syntax; a prefix term given `words` is those words' OR."""
        if self.prefix and words is not None:
            # nothing in the index begins so: the empty phrase, which matches nothing
            expression = _or([_quote(word) for word in words]) if words else '""'
        else:
            expression = _quote(self.text) + ("*" if self.prefix else "")
        column = self.column or (CONTENT_COLUMNS if _TAG_SHAPE.match(self.text) else None)
        return f"{column} : {expression}" if column else expression


Expander = Callable[[Term], Sequence[str] | None]
"""The index's words a prefix term stands for (None: leave the prefix to FTS5)."""


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _or(expressions: Sequence[str]) -> str:
    return expressions[0] if len(expressions) == 1 else "(" + " OR ".join(expressions) + ")"


@dataclass(frozen=True)
class ParsedQuery:
    groups: tuple[tuple[Term, ...], ...] = ()
    """Every group must match; a group matches when any of its terms does."""
    excluded: tuple[Term, ...] = ()
    """Items matching any of these are left out."""
    language: str | None = None
    after: date | None = None
    before: date | None = None
    dropped: int = 0
    """Terms left out over MAX_TERMS."""

    @property
    def match(self) -> str | None:
        """The positive FTS5 expression, or None when the query has only filters or exclusions."""
        return self.expression()

    @property
    def exclude(self) -> str | None:
        """An FTS5 expression of the excluded terms, or None."""
        return self.exclusion()

    def expression(self, expand: Expander | None = None) -> str | None:
        """The positive part as FTS5 syntax, prefixes expanded by `expand` when given."""
        parts = [_or([term.to_fts(expand(term) if expand and term.prefix else None) for term in group])
                 for group in self.groups]
        return " AND ".join(parts) or None

    def exclusion(self, expand: Expander | None = None) -> str | None:
        parts = [term.to_fts(expand(term) if expand and term.prefix else None) for term in self.excluded]
        return " OR ".join(parts) or None

    @property
    def prefixes(self) -> list[Term]:
        return [term for group in (*self.groups, self.excluded) for term in group if term.prefix]

    @property
    def is_empty(self) -> bool:
        return not (self.groups or self.excluded or self.language or self.after or self.before)


def parse_query(text: str) -> ParsedQuery:
    """Turn whatever a user typed into a safe FTS5 expression and SQL filters; never raises."""
    groups: list[list[Term]] = []  # AND of ORs
    excluded: list[Term] = []
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
        term = _term(raw, phrase=quoted is not None, star=bool(match["qstar"]), column=_COLUMN_FOR_KEY.get(key))
        if term is None:
            continue
        joins = pending_or
        pending_or = False
        if term in (excluded if negative else groups[-1] if joins else ()) or (
                not negative and not joins and [term] in groups):
            continue  # the same term again in the same OR, exclusion or AND adds nothing
        if kept == MAX_TERMS:
            dropped += 1
            continue
        kept += 1
        if negative:
            excluded.append(term)
        elif joins:
            groups[-1].append(term)
        else:
            groups.append([term])
    distinct = dict.fromkeys(tuple(group) for group in groups)  # "a AND a" is "a"
    return ParsedQuery(
        groups=tuple(distinct),
        excluded=tuple(excluded),
        language=language,
        after=after,
        before=before,
        dropped=dropped,
    )


def _term(raw: str, *, phrase: bool, star: bool, column: str | None) -> Term | None:
    prefix = star
    if not phrase and raw.endswith("*"):
        raw, prefix = raw.rstrip("*"), True
    if not _WORDLIKE.search(raw):
        return None  # punctuation alone has no tokens to match
    return Term(raw, prefix=prefix, phrase=phrase, column=column)


def _parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


DAY = "coalesce(items.published_date, substr(items.submitted_at, 1, 10))"
"""An item's day for after:/before:: its publication date, else the day it was submitted."""


def item_filters(chat_id: int, parsed: ParsedQuery) -> tuple[list[str], list[Any]]:
    """The SQL conditions a query's filters put on items (the chat, done, lang:, after:, before:),
    the same on both backends, and their parameters."""
    filters = ["items.chat_id = ?", "items.status = 'done'"]
    params: list[Any] = [chat_id]
    if parsed.language:
        filters.append("items.language = ?")
        params.append(parsed.language)
    if parsed.after:
        filters.append(f"{DAY} >= ?")
        params.append(parsed.after.isoformat())
    if parsed.before:
        filters.append(f"{DAY} <= ?")
        params.append(parsed.before.isoformat())
    return filters, params

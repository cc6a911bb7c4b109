"""Full-text search over one chat's stored items that costs milliseconds at a million items.

The plan, whatever the query:
1. Prefix terms (`actu*`) become the most common words of the dictionary (`search_terms`) that
   begin so, at most PREFIX_WORDS in all; FTS5's own prefix query would merge every such word.
2. The chat, the status and the filters (language, days) are tags in the index
   (storage/migrations/0009_search.sql), so they are part of the one MATCH.
3. The matches are walked newest first through windows of rowids, each twice the last, until
   CANDIDATES + 1 are found (the total is exact up to CANDIDATES, "1000+" beyond) or WALK_BUDGET is
   spent with a page in hand; the rest of the archive is not read.
4. Only those candidates are ranked, by bm25 with the title weighted far above the body, so the
   best of the recent matches come first.
5. Rows and snippets are read for the one page shown.
Every statement runs on a read connection (storage/readers.py) under SEARCH_BUDGET; past it the
search returns what it has found, or says it is too broad.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import date, timedelta
from typing import Any

from storage.base import Store, item_of
from storage.fts import CONTENT_COLUMNS, ParsedQuery, Term, parse_query
from storage.models import HIGHLIGHT_END, HIGHLIGHT_START, SearchHit, SearchPage
from storage.readers import Interrupted, Reader
from storage.tokens import TOKEN as _TOKEN
from storage.tokens import fold

CANDIDATES = 1000
"""Matches counted and ranked at most; a desk reads the first pages, never the thousandth hit."""
FIRST_WINDOW = 65_536
"""Rowids in the first window of the newest-first walk; each next window is twice as wide."""
WALK_BUDGET = 0.008
"""Seconds of walking after which a search that has a page stops looking for more candidates."""
SEARCH_BUDGET = 1.0
"""Seconds one search may take in all; then it answers with what it has, or "too broad"."""
PREFIX_WORDS = 64
"""Dictionary words a search's prefix terms stand for, shared among its prefixes."""
EARLIEST_YEAR = 1970
SEARCH_WEIGHTS = "10.0, 8.0, 3.0, 1.0, 2.0, 2.0, 0.0"  # titles far above the summary and the body
SNIPPETS = ", ".join(
    f"snippet(items_fts, {column}, '{HIGHLIGHT_START}', '{HIGHLIGHT_END}', '…', 16) AS {name}"
    for column, name in ((2, "summary_snippet"), (3, "text_snippet"))
)


class SearchStore(Store):
    async def search(self, chat_id: int, query: str, *, limit: int = 5, offset: int = 0) -> SearchPage:
        """Full-text search in one chat's items, best of the newest matches first; user text never raises."""
        parsed = parse_query(query)
        if parsed.is_empty:
            return SearchPage(query, (), 0, offset, limit, parsed.dropped)
        async with self._reading(SEARCH_BUDGET) as reader:
            try:
                plan = await _Plan.make(reader, chat_id, parsed)
            except Interrupted:
                return SearchPage(query, (), 0, offset, limit, parsed.dropped, more=True, too_broad=True)
            found, more = await plan.candidates(reader, want=offset + limit)
            if not found:
                return SearchPage(query, (), 0, offset, limit, parsed.dropped, more=more, too_broad=more)
            ranked = plan.rank(found)
            page_ids = ranked[offset:offset + limit]
            hits = await plan.hits(reader, page_ids) if page_ids else ()
        return SearchPage(query, hits, len(found), offset, limit, parsed.dropped, more=more)


class _Plan:
    def __init__(self, chat_id: int, parsed: ParsedQuery, words: dict[Term, list[str]]) -> None:
        def expand(term: Term) -> list[str] | None:
            return words.get(term)  # None: FTS5's own prefix query

        positive = parsed.expression(expand)
        excluded = parsed.exclusion(expand)
        self.positive = f"{CONTENT_COLUMNS} : ({positive})" if positive else None
        tags = [_tag(f"c{chat_id}".replace("-", "m")), _tag("sdone")]
        if parsed.language:
            tags.append(_tag("l" + (parsed.language.replace("-", "") or "none")))
        if parsed.after:
            tags.append(_days_from(parsed.after))
        if parsed.before:
            tags.append(_days_until(parsed.before))
        match = " AND ".join(([self.positive] if self.positive else []) + tags)
        if excluded:
            match = f"({match}) NOT {CONTENT_COLUMNS} : ({excluded})"
        self.match = match

    @classmethod
    async def make(cls, reader: Reader, chat_id: int, parsed: ParsedQuery) -> _Plan:
        prefixes = list(dict.fromkeys(parsed.prefixes))
        words: dict[Term, list[str]] = {}
        for term in prefixes:
            share = max(4, PREFIX_WORDS // len(prefixes))
            stems = _TOKEN.findall(term.text)
            if len(stems) != 1:
                continue  # "foo-ba*" is the phrase "foo" "ba*": left to FTS5
            stem = fold(stems[0])
            rows = await reader.fetchall(
                """SELECT term FROM (SELECT term, docs FROM search_terms WHERE term >= ? AND term < ? LIMIT 5000)
                   ORDER BY docs DESC LIMIT ?""",
                (stem, stem + "\U0010ffff", share),
            )
            words[term] = [row[0] for row in rows]
        return cls(chat_id, parsed, words)

    async def candidates(self, reader: Reader, *, want: int) -> tuple[list[tuple[int, float]], bool]:
        """The newest matches, newest first, with their bm25 scores (computed in the same walk: a
        score looked up by rowid afterwards costs a seek in every term's postings), up to
        CANDIDATES + 1; and whether more exist than are returned (over the cap, or where the
        budgets stopped the walk)."""
        score = f"bm25(items_fts, {SEARCH_WEIGHTS})" if self.positive else "0.0"
        found: list[tuple[int, float]] = []
        window = FIRST_WINDOW
        started = time.monotonic()
        try:
            rows = await reader.fetchall("SELECT max(id) FROM items")
            high = rows[0][0] or 0
            while high > 0 and len(found) <= CANDIDATES:
                low = max(0, high - window)
                rows = await reader.fetchall(
                    f"""SELECT rowid, {score} FROM items_fts WHERE items_fts MATCH ? AND rowid > ? AND rowid <= ?
                        ORDER BY rowid DESC LIMIT ?""",
                    (self.match, low, high, CANDIDATES + 1 - len(found)),
                )
                found.extend((row[0], row[1]) for row in rows)
                high, window = low, window * 2
                if len(found) >= want and time.monotonic() - started > WALK_BUDGET:
                    break
        except Interrupted:
            return found, True
        if len(found) > CANDIDATES:
            return found[:CANDIDATES], True
        return found, high > 0

    @staticmethod
    def rank(found: list[tuple[int, float]]) -> list[int]:
        """The candidates best first (bm25 is lower for better), the newest first among equals."""
        return [item_id for item_id, _ in sorted(found, key=lambda pair: (pair[1], -pair[0]))]

    async def hits(self, reader: Reader, ids: list[int]) -> tuple[SearchHit, ...]:
        marks = ", ".join("?" * len(ids))
        if self.positive:
            sql = f"""SELECT items.*, {SNIPPETS} FROM items_fts CROSS JOIN items ON items.id = items_fts.rowid
                      WHERE items_fts MATCH ? AND items_fts.rowid IN ({marks})"""
            params: list[Any] = [self.positive, *ids]
        else:
            sql = f"""SELECT items.*, '' AS summary_snippet, '' AS text_snippet FROM items
                      WHERE items.id IN ({marks})"""
            params = list(ids)
        try:
            rows = await reader.fetchall(sql, params)
        except Interrupted:  # snippets are what costs: the rows alone, without them
            rows = await _rows_without_snippets(reader, ids)
        by_id = {row["id"]: row for row in rows}
        return tuple(SearchHit(item_of(by_id[i]), _best_snippet(by_id[i])) for i in ids if i in by_id)


async def _rows_without_snippets(reader: Reader, ids: list[int]) -> list[sqlite3.Row]:
    reader.deadline += 0.2  # reading five rows by id takes well under a millisecond
    marks = ", ".join("?" * len(ids))
    return await reader.fetchall(
        f"SELECT items.*, '' AS summary_snippet, '' AS text_snippet FROM items WHERE id IN ({marks})", ids)


def _tag(tag: str) -> str:
    return f'search_tags : "{tag}"'


def _any_tag(tags: list[str]) -> str:
    return "(" + " OR ".join(_tag(tag) for tag in tags) + ")" if tags else 'search_tags : ""'


def _days_from(day: date) -> str:
    """Items of `day` or later, as year, month and day tags."""
    this_year = date.today().year
    tags = [f"y{year}" for year in range(day.year + 1, max(day.year, this_year) + 2)]
    tags += [f"m{day.year}{month:02d}" for month in range(day.month + 1, 13)]
    tags += [f"d{day.year}{day.month:02d}{d:02d}" for d in range(day.day, 32)]
    return _any_tag(tags)


def _days_until(day: date) -> str:
    """Items of `day` or earlier."""
    tags = [f"y{year}" for year in range(min(EARLIEST_YEAR, day.year), day.year)]
    tags += [f"m{day.year}{month:02d}" for month in range(1, day.month)]
    first = day.replace(day=1)
    tags += [f"d{(first + timedelta(days=n)):%Y%m%d}" for n in range(day.day)]
    return _any_tag(tags)


def _best_snippet(row: sqlite3.Row) -> str:
    """The translated summary's excerpt if the match is there, else the body's, else the summary's start."""
    summary, text = row["summary_snippet"] or "", row["text_snippet"] or ""
    if HIGHLIGHT_START in summary:
        return summary
    if HIGHLIGHT_START in text:
        return text
    return summary or (row["summary"] or "")[:200]

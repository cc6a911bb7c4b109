"""Full-text search over one chat's stored items that costs milliseconds at a million items.

The plan, whatever the query:
1. Prefix terms (`actu*`) become the most common words of the dictionary (`search_terms`) that
   begin so, at most PREFIX_WORDS in all (`prefix_words`, on both backends); FTS5's own prefix
   query would merge every such word.
2. The matches are walked newest first, through windows of rowids each twice as wide as the last,
   joined to their items for the chat, the status and the filters (language, days), until
   CANDIDATES + 1 are found (so the total is exact up to CANDIDATES, "1,000+" beyond), or
   WALK_BUDGET is spent with a page in hand: the rest of the archive is not read. In a chat that
   holds a small share of the archive, the chat's tag (storage/migrations/0009_search.sql) is
   part of the MATCH instead, so that the walk reads that chat's postings only.
3. The newest RANKED candidates are ranked by bm25, title weighted far above the body, in one walk
   of their rowid range (a score asked for by rowid costs a seek in every term's postings); so
   the best of the recent matches come first. Deeper pages follow newest first.
4. Rows and snippets are read for the one page shown.
Every statement runs on a read connection (storage/readers.py) under SEARCH_BUDGET; past it the
search returns what it has found, or says it is too broad.
On PostgreSQL the same query and page semantics come from storage/pg_search.py.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from storage.base import Store, item_of
from storage.fts import FIRST_WINDOW, SMALL_CHAT, WALK_BUDGET, ParsedQuery, Term, item_filters, parse_query
from storage.models import HIGHLIGHT_END, HIGHLIGHT_START, SearchHit, SearchPage
from storage.pg_search import PgPlan
from storage.readers import Interrupted, Reader
from storage.tokens import TOKEN, fold
from storage.tokens import words as words_of

CANDIDATES = 1000
"""Matches counted at most; a desk reads the first pages, never the thousandth hit."""
RANKED = 300
"""The newest candidates ranked by relevance; pages beyond them follow newest first."""
SEARCH_BUDGET = 1.0
"""Seconds one search may take in all; then it answers with what it has, or "too broad"."""
PREFIX_WORDS = 64
"""Dictionary words a search's prefix terms stand for, shared among its prefixes."""
PREFIX_SCAN = 2000
"""Dictionary words (in alphabetical order) a search looks through for its prefixes' most common
words, shared among its prefixes: twelve prefixes cost what one does."""
BM25_SHARE = 0.05
"""A query with a word in more than this share of the archive is ranked by its titles, not bm25:
FTS5's bm25 weighs each phrase by counting its matches in the whole archive (30-50 ms for `the`
or a phrase of common words at 1,000,000 items), and such a word tells the documents apart
little anyway."""
SEARCH_WEIGHTS = "10.0, 8.0, 3.0, 1.0, 2.0, 2.0, 0.0"  # titles far above the summary and the body
SNIPPETS = ", ".join(
    f"snippet(items_fts, {column}, '{HIGHLIGHT_START}', '{HIGHLIGHT_END}', '…', 16) AS {name}"
    for column, name in ((2, "summary_snippet"), (3, "text_snippet"))
)


async def prefix_words(reader: Reader, parsed: ParsedQuery, *, postgresql: bool = False) -> dict[Term, list[str]]:
    """The dictionary words each one-word prefix term stands for: of the first words that begin so
    (in byte order), the most common, PREFIX_WORDS shared among the query's prefixes. A prefix
    that ends a phrase ("foo-ba*") is left to the engine's own prefix query."""
    prefixes = list(dict.fromkeys(parsed.prefixes))
    term_column = 'term COLLATE "C"' if postgresql else "term"  # byte order whatever the collation
    words: dict[Term, list[str]] = {}
    for term in prefixes:
        tokens = TOKEN.findall(term.text)
        if len(tokens) != 1:
            continue
        stem = fold(tokens[0])
        rows = await reader.fetchall(
            f"""SELECT term FROM (SELECT term, docs FROM search_terms WHERE {term_column} >= ? AND {term_column} < ?
                                  ORDER BY {term_column} LIMIT ?) AS scanned
                ORDER BY docs DESC, term LIMIT ?""",
            (stem, stem + "\U0010ffff", max(200, PREFIX_SCAN // len(prefixes)),
             max(4, PREFIX_WORDS // len(prefixes))),
        )
        words[term] = [row[0] for row in rows]
    return words


class SearchStore(Store):
    async def search(self, chat_id: int, query: str, *, limit: int = 5, offset: int = 0) -> SearchPage:
        """Full-text search in one chat's items, best of the newest matches first; user text never raises."""
        parsed = parse_query(query)
        if parsed.is_empty:
            return SearchPage(query, (), 0, offset, limit, parsed.dropped)
        if self._dialect == "postgresql":
            return await self._search_postgres(chat_id, query, parsed, limit=limit, offset=offset)
        async with self._reading(SEARCH_BUDGET) as reader:
            try:
                plan = await _Plan.make(reader, chat_id, parsed)
            except Interrupted:
                return SearchPage(query, (), 0, offset, limit, parsed.dropped, more=True, too_broad=True)
            found, more = await plan.candidates(reader, want=offset + limit)
            if not found:
                return SearchPage(query, (), 0, offset, limit, parsed.dropped, more=more, too_broad=more)
            ranked = await plan.rank(reader, found)
            page_ids = ranked[offset:offset + limit]
            hits = await plan.hits(reader, page_ids) if page_ids else ()
        return SearchPage(query, hits, len(found), offset, limit, parsed.dropped, more=more)

    async def _search_postgres(self, chat_id: int, query: str, parsed: ParsedQuery, *, limit: int,
                               offset: int) -> SearchPage:
        """The same plan on PostgreSQL (storage/pg_search.py)."""
        async with self._reading(SEARCH_BUDGET) as reader:
            try:
                plan = PgPlan(chat_id, parsed, await prefix_words(reader, parsed, postgresql=True))
            except Interrupted:
                return SearchPage(query, (), 0, offset, limit, parsed.dropped, more=True, too_broad=True)
            if not plan.possible:
                return SearchPage(query, (), 0, offset, limit, parsed.dropped)
            found, more = await plan.candidates(reader, cap=CANDIDATES, want=offset + limit)
            if not found:
                return SearchPage(query, (), 0, offset, limit, parsed.dropped, more=more, too_broad=more)
            ranked = await plan.rank(reader, found, ranked=RANKED)
            page_ids = ranked[offset:offset + limit]
            rows = await plan.rows(reader, page_ids) if page_ids else []
        by_id = {row["id"]: row for row in rows}
        hits = tuple(SearchHit(item_of(by_id[i]), _best_snippet(by_id[i])) for i in page_ids if i in by_id)
        return SearchPage(query, hits, len(found), offset, limit, parsed.dropped, more=more)


class _Plan:
    def __init__(self, chat_id: int, parsed: ParsedQuery, words: dict[Term, list[str]], *, small_chat: bool) -> None:
        def expand(term: Term) -> list[str] | None:
            return words.get(term)  # None: FTS5's own prefix query

        self.positive = parsed.expression(expand)
        positive_terms = [term for group in parsed.groups for term in group]
        self.words = words_of([term.text for term in positive_terms if not term.prefix])
        self.stems = words_of([term.text for term in positive_terms if term.prefix])
        self.by_title = False
        self.one_window = False
        excluded = parsed.exclusion(expand)
        chat_tag = f'search_tags : "0c{chat_id}"'.replace("-", "m")
        match = self.positive
        if match and small_chat:
            match = f"{chat_tag} AND ({match})"
        self.ranking = match  # the walk's expression without the exclusions
        if match and excluded:
            match = f"({match}) NOT ({excluded})"
        self.match = match
        self.excluded = excluded
        self.filters, self.params = item_filters(chat_id, parsed)

    @classmethod
    async def make(cls, reader: Reader, chat_id: int, parsed: ParsedQuery) -> _Plan:
        words = await prefix_words(reader, parsed)
        counts = await reader.fetchall(
            "SELECT sum(n) FILTER (WHERE chat_id = ?), sum(n) FROM chat_counts WHERE status = 'done'", (chat_id,))
        mine, everyone = (counts[0][0] or 0, counts[0][1] or 0) if counts else (0, 0)
        plan = cls(chat_id, parsed, words, small_chat=mine < SMALL_CHAT * everyone)
        looked_up = list(plan.words | {word for expansion in words.values() for word in expansion})
        if looked_up:
            marks = ", ".join("?" * len(looked_up))
            rows = await reader.fetchall(f"SELECT max(docs) FROM search_terms WHERE term IN ({marks})", looked_up)
            most = rows[0][0] or 0
            plan.by_title = most > BM25_SHARE * everyone
            # every word is in fewer items than a walk collects: one walk over everything
            plan.one_window = not words and 0 < most <= CANDIDATES
        return plan

    async def candidates(self, reader: Reader, *, want: int) -> tuple[list[int], bool]:
        """The newest matching ids, newest first, up to CANDIDATES + 1; and whether more exist
        than are returned (over the cap, or where the budgets stopped the walk)."""
        if self.match is None:
            return await self._by_filters(reader)
        found: list[int] = []
        window = FIRST_WINDOW
        started = time.monotonic()
        conditions = " AND ".join(self.filters)
        try:
            rows = await reader.fetchall("SELECT max(id) FROM items")
            high = rows[0][0] or 0
            if self.one_window:
                window = high
            while high > 0 and len(found) <= CANDIDATES:
                low = max(0, high - window)
                rows = await reader.fetchall(
                    f"""SELECT items_fts.rowid FROM items_fts CROSS JOIN items INDEXED BY items_search_filter
                            ON items.id = items_fts.rowid
                        WHERE items_fts MATCH ? AND items_fts.rowid > ? AND items_fts.rowid <= ? AND {conditions}
                        ORDER BY items_fts.rowid DESC LIMIT ?""",
                    (self.match, low, high, *self.params, CANDIDATES + 1 - len(found)),
                )
                found.extend(row[0] for row in rows)
                high, window = low, window * 2
                if len(found) >= want and time.monotonic() - started > WALK_BUDGET:
                    break
        except Interrupted:
            return found, True
        if len(found) > CANDIDATES:
            return found[:CANDIDATES], True
        return found, high > 0

    async def _by_filters(self, reader: Reader) -> tuple[list[int], bool]:
        """A query of filters and exclusions alone: the chat's newest items that pass them."""
        conditions = " AND ".join(self.filters)
        params = list(self.params)
        if self.excluded:
            conditions += " AND items.id NOT IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)"
            params.append(self.excluded)
        try:
            rows = await reader.fetchall(
                f"""SELECT items.id FROM items INDEXED BY items_latest WHERE {conditions}
                    ORDER BY items.submitted_at DESC, items.id DESC LIMIT ?""",
                (*params, CANDIDATES + 1),
            )
        except Interrupted:
            return [], True
        found = [row[0] for row in rows]
        return found[:CANDIDATES], len(found) > CANDIDATES

    async def rank(self, reader: Reader, found: list[int]) -> list[int]:
        """The newest RANKED candidates best first, the newest first among equals; then the rest
        newest first."""
        if self.positive is None:
            return found
        head, tail = found[:RANKED], found[RANKED:]
        try:
            scores = await (self._title_scores(reader, head) if self.by_title else self._bm25(reader, head))
        except Interrupted:
            return found  # out of time: newest first
        return sorted(head, key=lambda item_id: (scores.get(item_id, 0.0), -item_id)) + tail

    async def _bm25(self, reader: Reader, head: list[int]) -> dict[int, float]:
        """bm25 (lower is better), in one walk of the candidates' rowid range."""
        rows = await reader.fetchall(
            f"""SELECT rowid, bm25(items_fts, {SEARCH_WEIGHTS}) FROM items_fts
                WHERE items_fts MATCH ? AND rowid >= ? AND rowid <= ? ORDER BY rowid DESC""",
            (self.ranking, min(head), max(head)),
        )
        return {row[0]: row[1] for row in rows}

    async def _title_scores(self, reader: Reader, head: list[int]) -> dict[int, float]:
        """For queries of very common words: the query's words found in the title (×10) and the
        translated title (×8), negated so that lower is better like bm25."""
        marks = ", ".join("?" * len(head))
        rows = await reader.fetchall(f"SELECT id, title, title_translated FROM items WHERE id IN ({marks})", head)
        return {row[0]: -(10 * self._found_in(row[1]) + 8 * self._found_in(row[2])) for row in rows}

    def _found_in(self, title: str | None) -> int:
        present = words_of([title])
        return sum(1 for word in self.words if word in present) + sum(
            1 for stem in self.stems if any(token.startswith(stem) for token in present))

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


def _best_snippet(row: sqlite3.Row) -> str:
    """The translated summary's excerpt if the match is there, else the body's, else the summary's start."""
    summary, text = row["summary_snippet"] or "", row["text_snippet"] or ""
    if HIGHLIGHT_START in summary:
        return summary
    if HIGHLIGHT_START in text:
        return text
    return summary or (row["summary"] or "")[:200]

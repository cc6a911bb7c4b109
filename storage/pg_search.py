"""Full-text search on PostgreSQL: the same ParsedQuery, as a tsquery over items.search_vector.

The plan follows storage/search.py's on SQLite, without its FTS5-specific walks:
1. The query becomes a tsquery built from sanitised lexemes (`tsquery_text`): each term's words
   are split as the SQLite tokenizer splits them (storage/tokens.py: apostrophes and every other
   non-letter separate words), quoted, and joined with `<->` (phrases), `:*` (prefixes), `|`, `&`
   and `!`; `source:` and `author:` terms look at weight D (authors and sources). User text never
   reaches to_tsquery's syntax. A one-word prefix stands for the dictionary's most common words
   that begin so, as on SQLite (storage/search.py's prefix_words): `:*` would merge the postings
   of every such word, and a dozen prefixes of one letter read most of the index. The indexed text is
   split the same way before PostgreSQL's parser sees it (newsdesk_words in
   migrations_pg/0002_search.sql), so `example.com`, `3.5` and `-19` are words as on SQLite.
2. Candidates are the chat's newest matches, newest first, up to `candidates` + 1, filters as
   SQL conditions. In a chat that holds a large share of the archive they are walked as on
   SQLite, through windows of ids each twice as wide as the last, each read through the GIN
   index's bitmap alone: the planner's own choice for a common word, a backward walk of the
   primary key testing every row, reads each row's search_vector, a few kB stored apart from the
   row. The first window is sized from the search dictionary's counts, so a word in every item
   reads a narrow one. A small chat's items are tested one by one (its index) when they are fewer
   than the items that hold the words, else the GIN index's matches are read.
3. The newest `ranked` candidates are ranked by ts_rank with the weights of SQLite's bm25
   columns (titles far above the summary and the body).
4. Rows and snippets (ts_headline) are read for the page shown only.
Every statement runs on a reader connection of its own (`PgReaders`) under statement_timeout, so a
search past its budget is cancelled by the server and answers as on SQLite.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg

from storage.errors import unavailable_on_fault
from storage.fts import FIRST_WINDOW, SMALL_CHAT, WALK_BUDGET, ParsedQuery, Term, item_filters
from storage.postgres import PgConnection
from storage.readers import Interrupted, Reader, Readers
from storage.tokens import TOKEN, fold

RANK_WEIGHTS = "{0.2, 0.1, 0.3, 1.0}"
"""ts_rank's weights of D (authors, source), C (text), B (translated summary), A (titles): SQLite's
bm25 column weights (2, 1, 3, 10) scaled to PostgreSQL's range (at most 1)."""
HEADLINE = "StartSel=\x02, StopSel=\x03, MaxWords=16, MinWords=8, ShortWord=0, MaxFragments=1"
"""ts_headline's options: the highlight markers of storage/models.py, about FTS5's 16-token snippets."""
MIN_WINDOW = 4096
"""Ids in the narrowest first window (of a query whose words are in nearly every item)."""
HEADLINE_CHARS = 100_000
"""Text an excerpt is looked for in: ts_headline parses what it is given."""


def _any(texts: Sequence[str]) -> str:
    """tsquery text matching any of `texts` (at least one)."""
    return texts[0] if len(texts) == 1 else "(" + " | ".join(texts) + ")"


def _term_text(term: Term, words: Sequence[str] | None = None) -> str | None:
    """One term as tsquery syntax, a prefix given `words` as those words' OR; None when it has no
    words (it then matches nothing)."""
    weight = "D" if term.column else ""
    if term.prefix and words is not None:
        return _any([f"'{word}'" + (f":{weight}" if weight else "") for word in words]) if words else None
    tokens = [fold(token) for token in TOKEN.findall(term.text)]
    if not tokens:
        return None
    lexemes = []
    for n, token in enumerate(tokens):
        star = "*" if term.prefix and n == len(tokens) - 1 else ""
        lexemes.append(f"'{token}'" + (f":{star}{weight}" if star or weight else ""))
    return lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")"


def tsquery_text(parsed: ParsedQuery, words: Mapping[Term, Sequence[str]] | None = None,
                 ) -> tuple[str | None, str | None, bool]:
    """The positive part and the excluded part as to_tsquery text, prefixes as the `words` given
    for them, and whether the query can match at all (a group whose terms have no words matches
    nothing, as FTS5's empty phrase)."""
    words = words or {}
    groups = []
    for group in parsed.groups:
        terms = [text for text in (_term_text(term, words.get(term)) for term in group) if text]
        if not terms:
            return None, None, False
        groups.append(_any(terms))
    excluded = [text for text in (_term_text(term, words.get(term)) for term in parsed.excluded) if text]
    return (" & ".join(groups) or None), (" | ".join(excluded) or None), True


def _words(term: Term) -> list[str]:
    """The whole words a term's matches all hold (a prefix's stem is not one)."""
    tokens = [fold(token) for token in TOKEN.findall(term.text)]
    return tokens[:-1] if term.prefix else tokens


class PgReader(Reader):
    """A reader on a PostgreSQL connection of its own; each statement runs under statement_timeout
    set to what is left of the deadline."""

    def __init__(self, connection: PgConnection) -> None:
        super().__init__(connection)  # type: ignore[arg-type]
        self.pg = connection

    async def fetchall(self, sql: str, params: Iterable[Any] = (), *, avoid: Sequence[str] = ()) -> list[Any]:
        """The statement's rows, planned without the planner's methods named in `avoid` (e.g.
        "indexscan", "bitmapscan": the enable_* settings), which are restored afterwards."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Interrupted
        with unavailable_on_fault():
            try:
                timeout = "0" if left == float("inf") else str(max(1, int(left * 1000)))
                await self.pg.raw.execute(f"SET statement_timeout = {timeout}")
                for method in avoid:
                    await self.pg.raw.execute(f"SET enable_{method} = off")
                try:
                    async with self.pg.execute(sql, tuple(params)) as cursor:
                        return list(await cursor.fetchall())
                finally:
                    for method in avoid:
                        await self.pg.raw.execute(f"RESET enable_{method}")
            except psycopg.errors.QueryCanceled as error:
                raise Interrupted from error


class PgReaders(Readers):
    """Readers' pool, of connections to one PostgreSQL database apart from the writer's."""

    async def _open_one(self) -> Reader:
        with unavailable_on_fault():
            connection = await PgConnection.connect(self._path)
            # a generic plan cannot know how common a tsquery's words are: planned each time,
            # a common word walks the newest ids, a rare one the GIN index
            await connection.raw.execute("SET plan_cache_mode = force_custom_plan")
        return PgReader(connection)


class PgPlan:
    def __init__(self, chat_id: int, parsed: ParsedQuery, words: Mapping[Term, Sequence[str]] | None = None) -> None:
        self.chat_id = chat_id
        self.groups = parsed.groups
        self.expansions = dict(words or {})
        self.positive, self.excluded, self.possible = tsquery_text(parsed, self.expansions)
        self.filters, self.params = item_filters(chat_id, parsed)
        if self.positive and self.excluded:
            self.match: str | None = f"({self.positive}) & !({self.excluded})"
        else:
            self.match = self.positive

    async def candidates(self, reader: Reader, *, cap: int, want: int) -> tuple[list[int], bool]:
        """The chat's newest matching ids, newest first, up to `cap`; and whether more exist (over
        the cap, or where the budgets stopped the walk)."""
        if not self.match:
            return await self._by_filters(reader, cap=cap)
        assert isinstance(reader, PgReader)
        try:
            counts = await reader.fetchall(
                "SELECT sum(n) FILTER (WHERE chat_id = ?), sum(n) FROM chat_counts WHERE status = 'done'",
                (self.chat_id,))
            mine, everyone = (counts[0][0] or 0, counts[0][1] or 0) if counts else (0, 0)
            holding = await self._holding(reader)
            if mine >= SMALL_CHAT * everyone:
                share = min(1.0, holding / everyone) * mine / everyone if holding and everyone else 0.0
                first = max(MIN_WINDOW, int(2 * cap / share)) if share else FIRST_WINDOW
                return await self._walk(reader, cap=cap, want=want, first=first)
            # a small chat: its own items tested one by one when they are fewer than the items
            # holding the words, else the GIN index's matches (then the planner's choice)
            avoid = ("bitmapscan",) if holding and mine < holding else ()
            rows = await reader.fetchall(
                f"""SELECT items.id FROM items WHERE items.search_vector @@ to_tsquery('newsdesk', ?)
                        AND {" AND ".join(self.filters)}
                    ORDER BY items.id DESC LIMIT ?""", (self.match, *self.params, cap + 1), avoid=avoid)
        except Interrupted:
            return [], True
        found = [row[0] for row in rows]
        return found[:cap], len(found) > cap

    async def _holding(self, reader: Reader) -> int | None:
        """At most how many items hold the query's words, by the search dictionary; None when it
        cannot tell (a prefix that ends a phrase of no whole words: its words are not looked up)."""
        terms = [term for group in self.groups for term in group]
        if not terms or any(not _words(term) and term not in self.expansions for term in terms):
            return None
        looked_up = sorted({word for term in terms for word in (*_words(term), *self.expansions.get(term, ()))})
        docs: dict[str, int] = {}
        if looked_up:
            marks = ", ".join("?" * len(looked_up))
            rows = await reader.fetchall(f"SELECT term, docs FROM search_terms WHERE term IN ({marks})", looked_up)
            docs = {row[0]: row[1] for row in rows}

        def holding(term: Term) -> int:
            if term in self.expansions:  # in at most the items of its words together
                return sum(docs.get(word, 0) for word in self.expansions[term])
            return min(docs.get(word, 0) for word in _words(term))  # as many as its rarest word

        # a group, in its terms' together; the query, in as many as its rarest group
        return min(sum(holding(term) for term in group) for group in self.groups)

    async def _walk(self, reader: PgReader, *, cap: int, want: int, first: int) -> tuple[list[int], bool]:
        """The newest matches through windows of ids, each twice as wide as the last, read by the
        GIN index alone: walking the newest ids and testing each row's search_vector would read
        every row's vector (a few kB, stored apart from the row) until enough match."""
        found: list[int] = []
        window = first
        started = time.monotonic()
        conditions = " AND ".join(self.filters)
        high = 0
        try:
            rows = await reader.fetchall("SELECT max(id) FROM items")
            high = rows[0][0] or 0
            while high > 0 and len(found) <= cap:
                low = max(0, high - window)
                rows = await reader.fetchall(
                    f"""SELECT items.id FROM items
                        WHERE items.search_vector @@ to_tsquery('newsdesk', ?) AND items.id > ? AND items.id <= ?
                            AND {conditions}
                        ORDER BY items.id DESC LIMIT ?""",
                    (self.match, low, high, *self.params, cap + 1 - len(found)), avoid=("indexscan", "seqscan"))
                found.extend(row[0] for row in rows)
                high, window = low, window * 2
                if len(found) >= want and time.monotonic() - started > WALK_BUDGET:
                    break
        except Interrupted:
            return found[:cap], True
        if len(found) > cap:
            return found[:cap], True
        return found, high > 0

    async def _by_filters(self, reader: Reader, *, cap: int) -> tuple[list[int], bool]:
        """Filters and exclusions alone: the chat's newest items that pass them."""
        conditions = " AND ".join(self.filters)
        params = list(self.params)
        if self.excluded:
            conditions += " AND NOT (items.search_vector @@ to_tsquery('newsdesk', ?))"
            params.append(self.excluded)
        try:
            rows = await reader.fetchall(
                f"""SELECT items.id FROM items WHERE {conditions}
                    ORDER BY items.submitted_at DESC, items.id DESC LIMIT ?""", (*params, cap + 1))
        except Interrupted:
            return [], True
        found = [row[0] for row in rows]
        return found[:cap], len(found) > cap

    async def rank(self, reader: Reader, found: list[int], *, ranked: int) -> list[int]:
        """The newest `ranked` candidates best first, the newest first among equals; then the rest."""
        if not self.positive:
            return found
        head, tail = found[:ranked], found[ranked:]
        marks = ", ".join("?" * len(head))
        try:
            rows = await reader.fetchall(
                f"""SELECT id, ts_rank('{RANK_WEIGHTS}', search_vector, to_tsquery('newsdesk', ?))
                    FROM items WHERE id IN ({marks})""", (self.positive, *head))
        except Interrupted:
            return found  # out of time: newest first
        scores = {row[0]: row[1] for row in rows}
        return sorted(head, key=lambda item_id: (-scores.get(item_id, 0.0), -item_id)) + tail

    async def rows(self, reader: Reader, ids: list[int]) -> list[Any]:
        """The page's rows, with excerpts of the translated summary and of the text."""
        marks = ", ".join("?" * len(ids))
        if self.positive:
            # newsdesk_marked (migrations_pg/0002_search.sql) splits the words as the index did
            excerpt = "replace(ts_headline('newsdesk', newsdesk_marked({}), to_tsquery('newsdesk', ?), ?), chr(1), '')"
            sql = f"""SELECT items.*,
                          {excerpt.format("coalesce(summary_translated, '')")} AS summary_snippet,
                          {excerpt.format(f"left(coalesce(text, ''), {HEADLINE_CHARS})")} AS text_snippet
                      FROM items WHERE id IN ({marks})"""
            params: list[Any] = [self.positive, HEADLINE, self.positive, HEADLINE, *ids]
        else:
            sql = f"SELECT items.*, '' AS summary_snippet, '' AS text_snippet FROM items WHERE id IN ({marks})"
            params = list(ids)
        try:
            return await reader.fetchall(sql, params)
        except Interrupted:  # excerpts are what costs: the rows alone, without them
            reader.deadline = max(reader.deadline, time.monotonic()) + 0.2
            return await reader.fetchall(
                f"SELECT items.*, '' AS summary_snippet, '' AS text_snippet FROM items WHERE id IN ({marks})", ids)

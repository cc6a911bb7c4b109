"""Full-text search on PostgreSQL: the same ParsedQuery, as a tsquery over items.search_vector.

The plan follows storage/search.py's on SQLite, without its FTS5-specific walks:
1. The query becomes a tsquery built from sanitised lexemes (`tsquery_text`): each term's words
   are split as the SQLite tokenizer splits them (storage/tokens.py: apostrophes and every other
   non-letter separate words), quoted, and joined with `<->` (phrases), `:*` (prefixes), `|`, `&`
   and `!`; `source:` and `author:` terms look at weight D (authors and sources). User text never
   reaches to_tsquery's syntax. Prefixes use PostgreSQL's own `:*`, which the GIN index answers
   by a range of its sorted keys (no dictionary expansion needed, unlike FTS5). The indexed text is
   split the same way before PostgreSQL's parser sees it (newsdesk_words in
   migrations_pg/0002_search.sql), so `example.com`, `3.5` and `-19` are words as on SQLite.
2. Candidates are the chat's newest matches, newest first, up to `candidates` + 1, filters as
   SQL conditions.
3. The newest `ranked` candidates are ranked by ts_rank with the weights of SQLite's bm25
   columns (titles far above the summary and the body).
4. Rows and snippets (ts_headline) are read for the page shown only.
Every statement runs on a reader connection of its own (`PgReaders`) under statement_timeout, so a
search past its budget is cancelled by the server and answers as on SQLite.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import psycopg

from storage.errors import unavailable_on_fault
from storage.fts import ParsedQuery, Term, item_filters
from storage.postgres import PgConnection
from storage.readers import Interrupted, Reader, Readers
from storage.tokens import TOKEN, fold

RANK_WEIGHTS = "{0.2, 0.1, 0.3, 1.0}"
"""ts_rank's weights of D (authors, source), C (text), B (translated summary), A (titles): SQLite's
bm25 column weights (2, 1, 3, 10) scaled to PostgreSQL's range (at most 1)."""
HEADLINE = "StartSel=\x02, StopSel=\x03, MaxWords=16, MinWords=8, ShortWord=0, MaxFragments=1"
"""ts_headline's options: the highlight markers of storage/models.py, about FTS5's 16-token snippets."""
HEADLINE_CHARS = 100_000
"""Text an excerpt is looked for in: ts_headline parses what it is given."""


def _term_text(term: Term) -> str | None:
    """One term as tsquery syntax; None when it has no words (it then matches nothing)."""
    tokens = [fold(token) for token in TOKEN.findall(term.text)]
    if not tokens:
        return None
    weight = "D" if term.column else ""
    lexemes = []
    for n, token in enumerate(tokens):
        star = "*" if term.prefix and n == len(tokens) - 1 else ""
        lexemes.append(f"'{token}'" + (f":{star}{weight}" if star or weight else ""))
    return lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")"


def tsquery_text(parsed: ParsedQuery) -> tuple[str | None, str | None, bool]:
    """The positive part and the excluded part as to_tsquery text, and whether the query can match
    at all (a group whose terms have no words matches nothing, as FTS5's empty phrase)."""
    groups = []
    for group in parsed.groups:
        terms = [text for text in (_term_text(term) for term in group) if text]
        if not terms:
            return None, None, False
        groups.append(terms[0] if len(terms) == 1 else "(" + " | ".join(terms) + ")")
    excluded = [text for text in (_term_text(term) for term in parsed.excluded) if text]
    return (" & ".join(groups) or None), (" | ".join(excluded) or None), True


class PgReader(Reader):
    """A reader on a PostgreSQL connection of its own; each statement runs under statement_timeout
    set to what is left of the deadline."""

    def __init__(self, connection: PgConnection) -> None:
        super().__init__(connection)  # type: ignore[arg-type]
        self.pg = connection

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Interrupted
        with unavailable_on_fault():
            try:
                timeout = "0" if left == float("inf") else str(max(1, int(left * 1000)))
                await self.pg.raw.execute(f"SET statement_timeout = {timeout}")
                async with self.pg.execute(sql, tuple(params)) as cursor:
                    return list(await cursor.fetchall())
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
    def __init__(self, chat_id: int, parsed: ParsedQuery) -> None:
        self.positive, self.excluded, self.possible = tsquery_text(parsed)
        self.filters, self.params = item_filters(chat_id, parsed)
        if self.positive and self.excluded:
            self.match: str | None = f"({self.positive}) & !({self.excluded})"
        else:
            self.match = self.positive

    async def candidates(self, reader: Reader, *, cap: int) -> tuple[list[int], bool]:
        """The chat's newest matching ids, newest first, up to `cap`; and whether more exist."""
        conditions = " AND ".join(self.filters)
        params = list(self.params)
        if self.match:
            sql = f"""SELECT items.id FROM items WHERE items.search_vector @@ to_tsquery('newsdesk', ?) AND {conditions}
                      ORDER BY items.id DESC LIMIT ?"""
            params.insert(0, self.match)
        else:  # filters and exclusions alone: the chat's newest items that pass them
            if self.excluded:
                conditions += " AND NOT (items.search_vector @@ to_tsquery('newsdesk', ?))"
                params.append(self.excluded)
            sql = f"""SELECT items.id FROM items WHERE {conditions}
                      ORDER BY items.submitted_at DESC, items.id DESC LIMIT ?"""
        try:
            rows = await reader.fetchall(sql, (*params, cap + 1))
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

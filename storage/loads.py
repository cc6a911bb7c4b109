"""Items written in bulk, without fetching: what `newsdesk load` brings from an export file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from storage.base import Store, unavailable_on_fault
from storage.tokens import words

LOAD_COLUMNS = (
    "chat_id", "url", "canonical_url", "domain", "status", "final_url", "title", "authors", "authors_text",
    "site_name", "source_text", "published_date", "language", "description", "text", "text_hash", "summary",
    "summary_language", "title_translated", "summary_translated", "translation_language", "translation_note",
    "submitted_by", "submitted_by_name", "message_id", "thread_id", "submitted_at", "fetched_at", "updated_at",
    "from_feed", "watch_ids", "attempts", "content_kind", "access", "page_count", "published_at", "post_links",
)


@dataclass(frozen=True)
class LoadRow:
    """One item to store as it is: the values of LOAD_COLUMNS, in order."""

    values: tuple[object, ...]
    search_texts: tuple[str | None, ...]
    """The texts whose words go into the search dictionary."""


class LoadStore(Store):
    async def load_rows(self, rows: Sequence[LoadRow]) -> int:
        """Store a batch of items in one transaction, skipping those whose (chat, canonical URL) is
        already stored; how many were added. A fault leaves none of the batch written."""
        names = ", ".join(LOAD_COLUMNS)
        marks = ", ".join("?" * len(LOAD_COLUMNS))
        dictionary: Counter[str] = Counter()
        for row in rows:
            dictionary.update(words(row.search_texts))
        with unavailable_on_fault():
            try:
                await self._run("BEGIN IMMEDIATE")
                cursor = await self._run_many(
                    f"INSERT INTO items ({names}) VALUES ({marks}) ON CONFLICT (chat_id, canonical_url) DO NOTHING",
                    [row.values for row in rows],
                )
                added = cursor.rowcount  # rows inserted by the statement itself, not by its triggers
                await self._run_many(
                    """INSERT INTO search_terms (term, docs) VALUES (?, ?)
                       ON CONFLICT (term) DO UPDATE SET docs = search_terms.docs + excluded.docs""",
                    dictionary.items(),
                )
                await self._db.commit()
            except BaseException:
                await self._db.rollback()
                raise
        return added

    async def bulk_merging(self, on: bool) -> None:
        """During a bulk load the index merges its segments less often (16 at a level instead of 4;
        about a fifth faster); `optimize_search_index` merges them all at the end."""
        if self._dialect == "postgresql":
            return  # the GIN index has no segments to merge
        automerge, crisismerge = (16, 64) if on else (4, 16)  # FTS5's defaults when off
        await self._write("INSERT INTO items_fts (items_fts, rank) VALUES ('automerge', ?)", (automerge,))
        await self._write("INSERT INTO items_fts (items_fts, rank) VALUES ('crisismerge', ?)", (crisismerge,))

    async def optimize_search_index(self) -> None:
        """Merge the full-text index's segments into one (after a bulk load: smaller and faster);
        on PostgreSQL, fresh statistics for the planner instead."""
        if self._dialect == "postgresql":
            await self._write("ANALYZE items")
            return
        await self._write("INSERT INTO items_fts (items_fts) VALUES ('optimize')")

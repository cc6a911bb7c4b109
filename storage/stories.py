"""Stories: the addresses an item is known by, and the items of one chat about one event.

An item's aliases are keys of its address forms (bot/pipeline/urlforms.article_key), each held
by one item. A story is a set of items with the same `story_id`; its signatures and LSH buckets
(story_signatures, story_bands) let a new item find the stored items like it with a few index
lookups. Editors' choices (/link, /unlink) pin the items they place: grouping never moves them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.base import iso, item_of, unavailable_on_fault
from storage.errors import LeaseLost
from storage.leases import LeaseStore
from storage.models import Item


@dataclass(frozen=True)
class Signature:
    kind: str
    """'text' (title and opening words) or 'title' (one title, for matching across languages)."""
    language: str
    packed: bytes
    buckets: tuple[int, ...]


@dataclass(frozen=True)
class Candidate:
    """A stored item that shares an LSH bucket with a new one."""

    item_id: int
    story_id: int | None
    language: str | None
    source: str
    """Its site name, or its domain."""
    kind: str
    signature_language: str
    packed: bytes


@dataclass(frozen=True)
class Story:
    id: int
    items: tuple[Item, ...]
    """Oldest first."""

    @property
    def first(self) -> Item:
        return self.items[0]

    @property
    def sources(self) -> tuple[str, ...]:
        """The distinct sources, in the order they reported it."""
        seen: list[str] = []
        for item in self.items:
            if item.source not in seen:
                seen.append(item.source)
        return tuple(seen)


class StoryStore(LeaseStore):
    @contextlib.asynccontextmanager
    async def grouping(self, chat_id: int) -> AsyncIterator[None]:
        """Held while one item of the chat is grouped: the links of one message are processed at
        once (by several processes, with workers), and two groupings that each see the other's
        item without its story would put them in two stories (storage/leases.py, chat_lock)."""
        async with self.chat_lock("grouping", chat_id):
            yield

    async def add_aliases(self, chat_id: int, item_id: int, keys: Iterable[str]) -> None:
        """Record address keys of an item; a key another item holds already stays with it."""
        rows = [(chat_id, key, item_id) for key in dict.fromkeys(keys) if key]
        if not rows:
            return
        with unavailable_on_fault():
            await self._run_many(
                "INSERT INTO url_aliases (chat_id, key, item_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", rows)
            await self._db.commit()

    async def find_alias(self, chat_id: int, keys: Iterable[str], *, other_than: int | None = None) -> Item | None:
        """The chat's item holding any of these address keys (the oldest, if several), not `other_than`."""
        wanted = [key for key in dict.fromkeys(keys) if key]
        if not wanted:
            return None
        marks = ",".join("?" * len(wanted))
        row = await self._fetchone(
            f"""SELECT items.* FROM url_aliases JOIN items ON items.id = url_aliases.item_id
                WHERE url_aliases.chat_id = ? AND url_aliases.key IN ({marks}) AND items.id != ?
                  AND items.same_as IS NULL
                ORDER BY items.id LIMIT 1""",
            (chat_id, *wanted, other_than if other_than is not None else -1),
        )
        return item_of(row) if row else None

    async def merge_same_article(self, item_id: int, into: Item, keys: Iterable[str], *,
                                 held_by: str | None = None) -> Item:
        """Item `item_id` turned out to be `into` under another address: it is set aside (failed,
        'same_article', same_as) and its address keys point to `into`; the item set aside. With
        `held_by`, only while that process holds the item's lease (else LeaseLost)."""
        now = self._now()
        async with self._committing():
            ran = await self._run(
                """UPDATE items SET status = 'failed', failure_reason = 'same_article',
                       failure_detail = ?, same_as = ?, updated_at = ?,
                       lease_owner = NULL, lease_until = NULL
                   WHERE id = ? AND (CAST(? AS TEXT) IS NULL OR lease_owner = ?)""",
                (f"the same article as item {into.id}", into.id, now, item_id, held_by, held_by))
            if not ran.rowcount and held_by is not None:
                raise LeaseLost(f"link {item_id} was taken over by another process")
            await self._run("UPDATE url_aliases SET item_id = ? WHERE item_id = ?", (into.id, item_id))
            await self._run_many(
                "INSERT INTO url_aliases (chat_id, key, item_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(into.chat_id, key, into.id) for key in dict.fromkeys(keys) if key])
        return await self._require(item_id)

    async def save_signatures(self, item: Item, signatures: Sequence[Signature]) -> None:
        """Store an item's signatures and their buckets (replacing any it had)."""
        rows = [(item.id, s.kind, s.language, s.packed) for s in signatures]
        bands = {(item.chat_id, bucket, iso(item.submitted_at), item.id) for s in signatures for bucket in s.buckets}
        with unavailable_on_fault():
            await self._run("DELETE FROM story_signatures WHERE item_id = ?", (item.id,))
            await self._run("DELETE FROM story_bands WHERE item_id = ?", (item.id,))
            await self._run_many(
                "INSERT INTO story_signatures (item_id, kind, language, signature) VALUES (?, ?, ?, ?)", rows)
            await self._run_many(
                "INSERT OR IGNORE INTO story_bands (chat_id, bucket, submitted_at, item_id) VALUES (?, ?, ?, ?)",
                sorted(bands))
            await self._db.commit()

    async def story_candidates(self, chat_id: int, buckets: Iterable[int], *, since: datetime, until: datetime,
                               other_than: int, language: str) -> list[Candidate]:
        """The chat's stored items sharing a bucket with these, submitted in [since, until], with
        the signatures that can match an item in `language` (text signatures in that language,
        title signatures of items in others): index lookups on (chat, bucket, time)."""
        wanted = sorted(set(buckets))
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = await self._fetchall(
            f"""SELECT items.id, items.story_id, items.language, coalesce(items.site_name, items.domain) AS source,
                       s.kind, s.language AS signature_language, s.signature
                FROM (SELECT DISTINCT item_id FROM story_bands
                      WHERE chat_id = ? AND bucket IN ({marks}) AND submitted_at >= ? AND submitted_at <= ?
                        AND item_id != ?) AS hits
                JOIN items ON items.id = hits.item_id AND items.status = 'done'
                JOIN story_signatures AS s ON s.item_id = items.id
                WHERE (s.kind = 'text' AND coalesce(items.language, '?') = ?)
                   OR (s.kind = 'title' AND coalesce(items.language, '?') != ?)""",
            (chat_id, *wanted, iso(since), iso(until), other_than, language, language),
        )
        return [Candidate(r["id"], r["story_id"], r["language"], r["source"], r["kind"], r["signature_language"],
                          r["signature"]) for r in rows]

    async def join_story(self, item_id: int, story_id: int | None, *, pinned: bool = False) -> int:
        """Put an item in a story (a new one of its own when `story_id` is None); the story's id."""
        now = self._now()
        with unavailable_on_fault():
            if story_id is None:
                row = await self._fetchone("SELECT chat_id FROM items WHERE id = ?", (item_id,))
                if row is None:
                    raise LookupError(f"item {item_id} does not exist")
                cursor = await self._run(
                    "INSERT INTO stories (chat_id, created_at, updated_at) VALUES (?, ?, ?)", (row[0], now, now))
                story_id = cursor.lastrowid
                assert story_id is not None
            else:
                await self._run("UPDATE stories SET updated_at = ? WHERE id = ?", (now, story_id))
            await self._run("UPDATE items SET story_id = ?, story_pinned = max(story_pinned, ?) WHERE id = ?",
                                   (story_id, int(pinned), item_id))
            await self._db.commit()
        return story_id

    async def is_pinned(self, item_id: int) -> bool:
        row = await self._fetchone("SELECT story_pinned FROM items WHERE id = ?", (item_id,))
        return bool(row and row[0])

    async def story(self, story_id: int) -> Story | None:
        """A story's stored items, oldest first."""
        items = await self._items(
            """SELECT * FROM items WHERE story_id = ? AND status = 'done' ORDER BY submitted_at, id""", (story_id,))
        return Story(story_id, tuple(items)) if items else None

    async def story_sizes(self, item_ids: Sequence[int]) -> dict[int, int]:
        """For each of these items, how many stored items its story has (1 when it has none)."""
        if not item_ids:
            return {}
        marks = ",".join("?" * len(item_ids))
        rows = await self._fetchall(
            f"""SELECT items.id, (SELECT count(*) FROM items AS other
                                  WHERE other.story_id = items.story_id AND other.status = 'done') AS n
                FROM items WHERE items.id IN ({marks})""",
            tuple(item_ids),
        )
        return {r["id"]: max(1, r["n"] or 0) for r in rows}

    async def stories_between(self, chat_id: int, start: datetime, end: datetime) -> list[Story]:
        """The chat's stories with an item submitted in [start, end): all their items, most
        sources first, then the most recent."""
        rows = await self._fetchall(
            """SELECT DISTINCT story_id FROM items
               WHERE chat_id = ? AND status = 'done' AND story_id IS NOT NULL
                 AND submitted_at >= ? AND submitted_at < ?""",
            (chat_id, iso(start), iso(end)),
        )
        stories = [story for r in rows if (story := await self.story(r[0])) is not None]
        stories.sort(key=lambda s: (-len(s.sources), -len(s.items), -s.items[-1].submitted_at.timestamp()))
        return stories

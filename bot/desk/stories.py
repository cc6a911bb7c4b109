"""Stories for the desk: one event from many outlets shown once.

- `collapse(items)`: a list of items (a digest's) with each story's versions folded into its
  best-covered one (the longest text), in the order the stories first appear;
- `collapse_search(repository, page)`: a search page with one hit per story and each story's size,
  applied after the search (storage/search.py knows nothing of stories);
- `story_note(repository, item)`: where a new card stands in its story ("3rd source, first: …");
- `recent_stories`, `link_items`, `unlink_item`: /stories, /link and /unlink, and the CLI's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from storage.models import DONE, Item, SearchPage
from storage.repository import Repository
from storage.stories import Story


@dataclass(frozen=True)
class Versions:
    """One story as a digest shows it: its best-covered item and the other versions."""

    item: Item
    others: tuple[Item, ...] = ()

    @property
    def also(self) -> tuple[str, ...]:
        """The other versions' sources, each once, not repeating the shown item's."""
        seen: list[str] = []
        for other in self.others:
            if other.source != self.item.source and other.source not in seen:
                seen.append(other.source)
        return tuple(seen)


def collapse(items: list[Item] | tuple[Item, ...]) -> list[Versions]:
    """Each story once, at the place of its first item, shown by its best-covered version."""
    groups: dict[object, list[Item]] = {}
    for item in items:
        groups.setdefault(item.story_id if item.story_id is not None else ("item", item.id), []).append(item)
    found = []
    for group in groups.values():
        best = max(group, key=lambda i: (len(i.text or ""), -i.id))
        found.append(Versions(best, tuple(i for i in group if i.id != best.id)))
    return found


@dataclass(frozen=True)
class StoryNote:
    """Where an item stands in its story: its place among the sources, and the first report."""

    position: int
    sources: int
    first: Item
    first_at: datetime
    """When the first report was submitted, in the chat's time zone."""
    same_day: bool
    """The first report came the same local day as this one."""


async def story_note(repository: Repository, item: Item, zone: ZoneInfo) -> StoryNote | None:
    """For an item that is not its story's first source: its place and the first report."""
    if item.story_id is None:
        return None
    story = await repository.story(item.story_id)
    if story is None or len(story.items) < 2 or story.first.id == item.id:
        return None
    sources = story.sources
    position = sources.index(item.source) + 1 if item.source in sources else len(sources)
    if position < 2:
        return None
    first_at = story.first.submitted_at.astimezone(zone)
    return StoryNote(position, len(sources), story.first, first_at,
                     first_at.date() == item.submitted_at.astimezone(zone).date())


async def other_versions(repository: Repository, item: Item) -> list[Item]:
    """The other items of an item's story, oldest first."""
    if item.story_id is None:
        return []
    story = await repository.story(item.story_id)
    return [other for other in story.items if other.id != item.id] if story else []


async def collapse_search(repository: Repository, page: SearchPage) -> tuple[SearchPage, dict[int, int]]:
    """The page with one hit per story (its first on the page), and each kept hit's number of
    other versions in the archive."""
    kept = []
    seen: set[int] = set()
    for hit in page.hits:
        if hit.item.story_id is not None:
            if hit.item.story_id in seen:
                continue
            seen.add(hit.item.story_id)
        kept.append(hit)
    sizes = await repository.story_sizes([hit.item.id for hit in kept])
    return replace(page, hits=tuple(kept)), {item_id: size - 1 for item_id, size in sizes.items() if size > 1}


async def recent_stories(repository: Repository, chat_id: int, *, now: datetime,
                         since: datetime | None = None) -> list[Story]:
    """The chat's stories with an item since `since` (the last 24 hours), most sources first."""
    return await repository.stories_between(chat_id, since or now - timedelta(hours=24), now + timedelta(seconds=1))


class LinkResult(StrEnum):
    LINKED = "linked"
    UNLINKED = "unlinked"
    NOT_FOUND = "not_found"
    NOT_STORED = "not_stored"
    SAME = "same"
    ALREADY = "already"
    ALONE = "alone"


@dataclass(frozen=True)
class LinkAnswer:
    result: LinkResult
    story_id: int | None = None
    missing: int | None = None
    """The id that is not the chat's, or not a stored article."""


async def link_items(repository: Repository, chat_id: int, first_id: int, second_id: int) -> LinkAnswer:
    """Put the second item in the first one's story, for good (an editor's choice sticks)."""
    if first_id == second_id:
        return LinkAnswer(LinkResult.SAME)
    items = []
    for item_id in (first_id, second_id):
        item = await repository.get(item_id, chat_id=chat_id)
        if item is None:
            return LinkAnswer(LinkResult.NOT_FOUND, missing=item_id)
        if item.status != DONE:
            return LinkAnswer(LinkResult.NOT_STORED, missing=item_id)
        items.append(item)
    first, second = items
    if first.story_id is not None and first.story_id == second.story_id:
        await repository.join_story(second.id, first.story_id, pinned=True)
        await repository.join_story(first.id, first.story_id, pinned=True)
        return LinkAnswer(LinkResult.ALREADY, first.story_id)
    story_id = await repository.join_story(first.id, first.story_id, pinned=True)
    await repository.join_story(second.id, story_id, pinned=True)
    return LinkAnswer(LinkResult.LINKED, story_id)


async def unlink_item(repository: Repository, chat_id: int, item_id: int) -> LinkAnswer:
    """Take an item out of its story into one of its own, for good (grouping never moves it back)."""
    item = await repository.get(item_id, chat_id=chat_id)
    if item is None:
        return LinkAnswer(LinkResult.NOT_FOUND, missing=item_id)
    if item.status != DONE:
        return LinkAnswer(LinkResult.NOT_STORED, missing=item_id)
    others = await other_versions(repository, item)
    if not others:
        story_id = await repository.join_story(item.id, item.story_id, pinned=True)
        return LinkAnswer(LinkResult.ALONE, story_id)
    return LinkAnswer(LinkResult.UNLINKED, await repository.join_story(item.id, None, pinned=True))

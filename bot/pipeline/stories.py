"""Grouping a stored item into a story: the items of its chat about the same event.

Each stored item gets MinHash signatures (bot/pipeline/minhash.py): one of its title and opening
words in its language, and one of each title it has (its own and the language model's
translation) in that title's language. The stored items sharing an LSH bucket with it, in the
window around its submission, are the candidates; their signatures are compared with its own:

- same language: the text signatures, similar at `threshold` or more;
- different languages: a title of one and a title of the other in the same language (one of them
  the model's translation), similar at `title_threshold` or more.

The most similar candidate's story is the item's story; with none, the item starts one. An item
is not grouped into a story that has an item from its source (site name, or domain) already:
an outlet's follow-up is a new article, not a second source; and items an editor placed with
/link or /unlink are never moved.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from bot.pipeline import minhash
from storage.models import Item
from storage.stories import Candidate, Signature, StoryStore

DEFAULT_WINDOW = timedelta(days=3)
DEFAULT_THRESHOLD = 0.35
DEFAULT_TITLE_THRESHOLD = 0.35


@dataclass(frozen=True)
class Grouping:
    window: timedelta = DEFAULT_WINDOW
    threshold: float = DEFAULT_THRESHOLD
    title_threshold: float = DEFAULT_TITLE_THRESHOLD


def signatures_of(item: Item) -> list[Signature]:
    """An item's text signature and title signatures, with their LSH buckets."""
    language = item.language or "?"
    found: list[Signature] = []
    text_sig = minhash.signature(minhash.features(item.title or "", item.text or ""))
    found.append(Signature("text", language, minhash.pack(text_sig),
                           tuple(minhash.buckets(text_sig, kind="text", language=language))))
    titles = {language: item.title or ""}
    if item.title_translated and item.translation_language:
        titles.setdefault(item.translation_language, item.title_translated)
    for title_language, title in titles.items():
        sig = minhash.signature(minhash.features(title))
        found.append(Signature("title", title_language, minhash.pack(sig),
                               tuple(minhash.buckets(sig, kind="title", language=title_language))))
    return found


def score(own: list[Signature], language: str, candidate: Candidate, grouping: Grouping) -> float:
    """How similar a candidate is, 0 when it is below its threshold."""
    candidate_language = candidate.language or "?"
    theirs = minhash.unpack(candidate.packed)
    for mine in own:
        if mine.language != candidate.signature_language or mine.kind != candidate.kind:
            continue
        similarity = minhash.similarity(minhash.unpack(mine.packed), theirs)
        if mine.kind == "text" and candidate_language == language and similarity >= grouping.threshold:
            return similarity
        if mine.kind == "title" and candidate_language != language and similarity >= grouping.title_threshold:
            return similarity
    return 0.0


DEFAULT_GROUPING = Grouping()


async def group(store: StoryStore, item: Item, grouping: Grouping = DEFAULT_GROUPING) -> int:
    """Store the item's signatures and put it in its story (found or new); the story's id."""
    own = await asyncio.to_thread(signatures_of, item)  # a few ms of hashing: off the event loop
    async with store.grouping(item.chat_id):
        return await _place(store, item, own, grouping)


async def _place(store: StoryStore, item: Item, own: list[Signature], grouping: Grouping) -> int:
    """Group an item whose signatures are `own`, with the chat's grouping held."""
    await store.save_signatures(item, own)
    if item.story_id is not None and await store.is_pinned(item.id):
        return item.story_id
    buckets = [bucket for signature in own for bucket in signature.buckets]
    candidates = await store.story_candidates(
        item.chat_id, buckets, since=item.submitted_at - grouping.window, until=item.submitted_at + grouping.window,
        other_than=item.id, language=item.language or "?")
    language = item.language or "?"
    scored: dict[int, tuple[float, Candidate]] = {}
    for candidate in candidates:
        if candidate.source == item.source:
            continue  # the same outlet again: a follow-up, not a second source
        similarity = score(own, language, candidate, grouping)
        if similarity > 0 and similarity > scored.get(candidate.item_id, (0.0,))[0]:
            scored[candidate.item_id] = (similarity, candidate)
    for _, found in sorted(scored.values(), key=lambda pair: (-pair[0], pair[1].item_id)):
        if found.story_id is not None:
            story = await store.story(found.story_id)
            if story is not None and item.source in story.sources and item.story_id != found.story_id:
                continue  # the story has this outlet already: this is its follow-up
        story_id = found.story_id if found.story_id is not None else await store.join_story(found.item_id, None)
        return await store.join_story(item.id, story_id)
    return item.story_id if item.story_id is not None else await store.join_story(item.id, None)


async def regroup_translated(store: StoryStore, item: Item, grouping: Grouping = DEFAULT_GROUPING) -> int | None:
    """After the language model gave an item a translated title: store its signatures again (so
    items in that language can find it), and, while it is a story of its own, group it again
    (the translated title may match a story in another language). Its story's id."""
    if item.story_id is None:
        return None
    story = await store.story(item.story_id)
    if story is not None and len(story.items) > 1:
        await store.save_signatures(item, await asyncio.to_thread(signatures_of, item))
        return item.story_id
    return await group(store, item, grouping)

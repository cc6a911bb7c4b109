"""Stories: versions, sources and the ranked list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from bot.desk.stories import LinkAnswer, LinkResult
from bot.telegram.render.base import _clip, split_lines, text
from bot.telegram.render.items import item_line
from storage.stories import Story


def stories(found: Sequence[Story], language: str, zone: tzinfo) -> list[str]:
    """/stories: the last day's stories, most sources first, each with its first report."""
    if not found:
        return [text("stories_empty", language)]
    lines = [f"<b>{text('stories_header', language, count=len(found))}</b>"]
    for story in found[:30]:
        first = story.first
        lines.append("")
        lines.append(item_line(first, language))
        lines.append(text("stories_line", language, sources=len(story.sources), items=len(story.items),
                          first=_clip(first.source, 60), time=first.submitted_at.astimezone(zone).strftime("%H:%M")))
        others = [s for s in story.sources if s != first.source]
        if others:
            lines.append(text("story_also", language, sources=_clip(", ".join(others), 300)))
    return split_lines(lines)


def link_answer(answer: LinkAnswer, language: str, *, first: int, second: int | None = None) -> str:
    """The answer to /link and /unlink."""
    result = answer.result
    if result in (LinkResult.NOT_FOUND, LinkResult.NOT_STORED):
        return text(f"link_{result}", language, id=answer.missing)
    if result == LinkResult.UNLINKED:
        return text("unlink_done", language, id=first)
    if result == LinkResult.ALONE:
        return text("unlink_alone", language, id=first)
    return text(f"link_{result}", language, first=first, second=second)

"""Translation of a stored item: a summariser's brief in the chat's language, kept with the item.

On a language-model brief the item gets its translated title and summary. On a fallback it gets
none, and the reason is kept as `translation_note`: the card goes on showing the extractive
summary stored at ingest, and the desk can see why there is no translation.
"""

from __future__ import annotations

from bot.pipeline.models import Article
from bot.pipeline.summarise import Summariser
from storage.models import DONE, Item
from storage.repository import Repository


async def translate_item(
    repository: Repository, summariser: Summariser, item: Item, *, language: str
) -> Item:
    """Ask `summariser` for a brief of a stored item in `language`; store it and return the item."""
    summary = await summariser.summarise(article_of(item), language=language)
    if summary.source == "llm":
        return await repository.set_translation(
            item.id, language=language, title=summary.title_translated, summary=summary.text, note=None
        )
    return await repository.set_translation(
        item.id, language=language, title=None, summary=None, note=summary.fallback_reason
    )


def article_of(item: Item) -> Article:
    """The article a stored item holds; ValueError for a link not (yet) stored."""
    if item.status != DONE or not item.text:
        raise ValueError(f"item {item.id} has no stored article (status {item.status})")
    return Article(
        title=item.title or "",
        text=item.text,
        authors=item.authors,
        site_name=item.site_name,
        published_date=item.published_date,
        language=item.language,
        description=item.description,
    )

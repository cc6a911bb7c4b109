"""Article extraction: a fetched page's bytes in, an Article out; pure, no I/O.

trafilatura finds the main text, checked against readability-lxml's reading of the same page (and
against trafilatura's balanced mode when its recall mode finds little): another reading replaces
trafilatura's only when it holds nearly all of it and clearly more, or when trafilatura found next
to nothing (text.py). Title and authors come first from what the page says about itself (JSON-LD,
Open Graph and other <meta> tags, the visible <h1> and byline: metadata.py), with trafilatura's own
guesses as the fallback (titles.py, authors.py). For the date, a page that declares none is dated
by what is printed under its headline; otherwise trafilatura's guess is checked against the
declared date (dates.py). Language is the page's declared one, checked against a small
letter-and-stopword detector that tells English, Ukrainian and Russian apart (language.py).

Runs inside a worker process (see the process pool in workers.py); raises NoArticle when the page
has no main text rather than returning an empty Article.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import trafilatura
from trafilatura.settings import Document as TrafilaturaDocument

from bot.pipeline import paywall
from bot.pipeline.charset import decode_html
from bot.pipeline.errors import NoArticle, PaywallNoText
from bot.pipeline.extract.authors import choose_authors
from bot.pipeline.extract.cleaning import clean_text
from bot.pipeline.extract.dates import choose_date, visible_text
from bot.pipeline.extract.language import choose_language
from bot.pipeline.extract.metadata import PageMetadata, read_page_metadata
from bot.pipeline.extract.text import (
    LONGEST_COMPARED,
    choose_text,
    could_be_outdone,
    has_prose,
    readability_text,
)
from bot.pipeline.extract.titles import choose_title, first_line, without_headline
from bot.pipeline.models import Article

SHORT_RECALL = 1000
"""trafilatura's recall mode finding fewer characters than this gets a second reading in its balanced mode."""

__all__ = [
    "PageMetadata",
    "choose_authors",
    "choose_date",
    "choose_language",
    "choose_text",
    "choose_title",
    "extract_article",
    "read_page_metadata",
]


def extract_article(body: bytes, url: str, encoding: str | None = None, *, fetched_on: date | None = None) -> Article:
    """Extract the main article of a page, or raise NoArticle."""
    markup = decode_html(body, encoding)
    tree = trafilatura.load_html(markup) if markup.strip() else None
    if tree is None:
        raise NoArticle("no article text found")
    page = read_page_metadata(tree)
    shown_text = visible_text(tree)  # before trafilatura prunes the tree
    walls = paywall.page_signals(tree)

    # readability reads its own copy: trafilatura prunes the tree it is given
    untouched = copy.deepcopy(tree)
    document = _document(trafilatura.bare_extraction(
        tree, url=url, include_comments=False, with_metadata=True, include_tables=True, favor_recall=True
    ))
    own_text = (document.text or "").strip() if document else ""
    # a second opinion on a book-length text would cost seconds and change little, and none is
    # asked for when the page shows too little besides trafilatura's text for it to win
    if len(own_text) < LONGEST_COMPARED and could_be_outdone(own_text, shown_text):
        text = choose_text(own_text, readability_text(untouched))
    else:
        text = own_text
    if len(own_text) < SHORT_RECALL:
        # recall mode now and then keeps one block of a long page, where the balanced mode reads it whole
        balanced = _document(trafilatura.bare_extraction(
            trafilatura.load_html(markup), url=url, include_comments=False, with_metadata=False, include_tables=True
        ))
        text = choose_text(text, (balanced.text or "").strip() if balanced else "")
    access, text = paywall.assess(walls, text)
    if not has_prose(text):
        if walls.walled:
            raise PaywallNoText("paywall: no article text visible")
        raise NoArticle("no article text found")

    # the page's own declarations first; trafilatura's guesses fill the gaps
    site_name = clean_text(page.site_name or (document.sitename if document else None)) or None
    title = choose_title(page, fallback=document.title if document else None, site_name=site_name, url=url)
    authors = choose_authors(page, fallback=document.author if document else None, site_name=site_name)
    guess = document.date if document else None
    published = choose_date(page, guess=guess, shown_text=shown_text, url=url, fetched_on=fetched_on)
    text = without_headline(text, title)
    language = choose_language(page.languages, text)
    description = clean_text(page.description or (document.description if document else None))
    return Article(
        title=title or first_line(text),
        text=text,
        authors=authors,
        site_name=site_name,
        published_date=published,
        language=language,
        description=description[:1000] or None,
        access=access,
    )


def _document(reading: TrafilaturaDocument | dict[str, Any] | None) -> TrafilaturaDocument | None:
    """trafilatura's reading of a page; it answers with a dict only when asked to (as_dict=True)."""
    return reading if isinstance(reading, TrafilaturaDocument) else None

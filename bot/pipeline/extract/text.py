"""The main text: trafilatura's reading checked against a second opinion, and whether it is prose.

readability-lxml reads the page too (`readability_text`, one block per line, `block_text`), and
`choose_text` takes that other reading over trafilatura's only when trafilatura found next to
nothing, or the other holds nearly all of it (compared in shingles, runs of four words) and
clearly more. `has_prose` tells running sentences from menus, forms and link lists.
"""

from __future__ import annotations

import copy
import re
from collections import Counter

import lxml.html
import readability.cleaners
from lxml.etree import LxmlError
from lxml.html import HtmlElement
from readability import Document as ReadabilityDocument
from readability.readability import REGEXES as READABILITY_REGEXES
from readability.readability import Unparseable

from bot.pipeline.extract.cleaning import WORD

MIN_PROSE_CHARS = 150
PROSE_LINE_CHARS = 60
MIN_PROSE_WORDS = 15
SCANTY_TEXT = 200
"""Fewer characters than this is next to nothing: any longer reading of the page is better."""
SUPERSET_SHARE = 0.7
SUPERSET_GROWTH = 1.3
"""Another reading wins when it holds this share of trafilatura's text and is this many times longer."""
SHINGLE = 4
LONGEST_COMPARED = 200_000
"""Characters of a reading compared with another (the longest dev-set article has 75,000); a
trafilatura text longer than this gets no second opinion."""
WORD_OR_NUMBER = re.compile(r"\w+")
BLOCK_TAGS = {
    "p", "div", "section", "article", "li", "ul", "ol", "dl", "dt", "dd", "tr", "td", "th", "table",
    "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "figcaption", "br", "hr",
}
TEXT_CLEANER = copy.copy(readability.cleaners.html_cleaner)
TEXT_CLEANER.javascript = False
"""readability's cleaner without its JavaScript pass. readability makes its copy of a page safe to
display (no JavaScript links, event handlers or styles) before it reads it; only the text is kept
here, so that pass, a third of readability's time, is skipped (the same text on all of wcxb-dev's
pages)."""


class TextDocument(ReadabilityDocument):
    """readability-lxml's Document for a parsed page, cleaned by TEXT_CLEANER instead of readability's own
    cleaner; readability has no option for it, and its module is left as it is."""

    def _parse(self, tree: HtmlElement) -> HtmlElement:
        # readability-lxml 0.9's Document._parse, for a parsed page and no url, with the other cleaner
        self.encoding = "utf-8"
        for element in tree.xpath("//*[@hidden]"):
            element.drop_tree()
        for element in tree.xpath("//*[@style]"):
            if READABILITY_REGEXES["displayNoneRe"].search(element.get("style")):
                element.drop_tree()
        cleaned: HtmlElement = TEXT_CLEANER.clean_html(tree)  # a cleaned copy
        cleaned.resolve_base_href(handle_failures=self.handle_failures)
        return cleaned


def readability_text(tree: HtmlElement) -> str:
    """The main text as readability-lxml finds it, one block per line; "" when it finds none."""
    try:
        summary = TextDocument(tree).summary(html_partial=True)
        return block_text(lxml.html.fromstring(summary))
    except (Unparseable, LxmlError, ValueError):  # an empty or unreadable page has no second reading
        return ""


def block_text(element: HtmlElement) -> str:
    """The text of an element, a line per block element, whitespace collapsed."""
    lines: list[str] = []
    current: list[str] = []

    def end_line() -> None:
        line = " ".join(" ".join(current).split())
        if line:
            lines.append(line)
        current.clear()

    def walk(node: HtmlElement) -> None:
        block = isinstance(node.tag, str) and node.tag in BLOCK_TAGS
        if block:
            end_line()
        if isinstance(node.tag, str) and node.text:
            current.append(node.text)
        for child in node:
            walk(child)
        if block:
            end_line()
        if node.tail:
            current.append(node.tail)

    walk(element)
    end_line()
    return "\n".join(lines)


def choose_text(own: str, other: str) -> str:
    """trafilatura's text, unless it is next to nothing, or the other holds nearly all of it and clearly more."""
    if len(own) < SCANTY_TEXT:
        return other if len(other) > len(own) else own
    if len(other) < SCANTY_TEXT:
        return own
    # the comparison reads the other text's opening only: on a book-length page it would cost seconds
    if len(other) > SUPERSET_GROWTH * len(own) and share_within(own, other[:LONGEST_COMPARED]) >= SUPERSET_SHARE:
        return other
    return own


def could_be_outdone(own: str, shown_text: str) -> bool:
    """Whether another reading of the page could win over trafilatura's text in choose_text. It
    cannot when the page shows too little besides: another reading is made of the page's visible
    text (never longer than it on any wcxb-dev page), and it wins only by being SUPERSET_GROWTH
    times longer. On 40% of the dev set's pages this spares readability, a third of a page's time."""
    return len(own) < SCANTY_TEXT or len(shown_text) > SUPERSET_GROWTH * len(own)


def shingles(text: str) -> Counter[tuple[str, ...]]:
    """Runs of four words, counted: the unit texts are compared in."""
    words = WORD_OR_NUMBER.findall(text)
    return Counter(tuple(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1)) if words)


def share_within(text: str, other: str) -> float:
    """The share of text's shingles that other also holds (1.0: other contains all of text)."""
    mine = shingles(text)
    total = sum(mine.values())
    return sum((mine & shingles(other)).values()) / total if total else 0.0


def has_prose(text: str) -> bool:
    """Whether the text holds running sentences rather than menu items, form labels and link lists."""
    prose = [line for line in (line.strip() for line in text.splitlines()) if len(line) >= PROSE_LINE_CHARS]
    distinct_words = set(WORD.findall(" ".join(prose).casefold()))
    return sum(map(len, prose)) >= MIN_PROSE_CHARS and len(distinct_words) >= MIN_PROSE_WORDS

"""The words SQLite's FTS5 `unicode61 remove_diacritics 2` tokenizer makes of a text, in Python.

The search dictionary (storage/migrations/0009_search.sql, `search_terms`) gets each new item's
words from here as the item is stored, so that a prefix (`actu*`) can be expanded into the words
the index holds without reading the index's vocabulary, which costs a walk of every posting.
tests/test_search.py checks these words against FTS5's own on English and Ukrainian text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

TOKEN = re.compile(r"[^\W_ʼ]+")
"""Letters and digits; everything else, the underscore and the Ukrainian apostrophe letter (ʼ, a
separator in our index) included, separates words."""


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lower case, Latin letters without their diacritics, as the tokenizer indexes a word
    (café → cafe; Cyrillic й, ї and ё keep theirs)."""
    lowered = word.lower().replace("i\u0307", "i")  # İ lowers to i and a combining dot
    if lowered.isascii():
        return lowered
    return "".join(_latin_base(ch) for ch in lowered)


def _latin_base(ch: str) -> str:
    code = ord(ch)
    if code < 0x80 or not (code < 0x250 or 0x1E00 <= code < 0x1F00):
        return ch
    decomposed = unicodedata.normalize("NFD", ch)
    return "".join(mark for mark in decomposed if not unicodedata.combining(mark)) or ch


def words(texts: Iterable[str | None]) -> set[str]:
    """The distinct indexed words of some texts."""
    tokens: set[str] = set()
    for text in texts:
        if text:
            tokens.update(TOKEN.findall(text.lower().replace("i\u0307", "i")))  # İ lowers to i and a dot
    return {token if token.isascii() else fold(token) for token in tokens}

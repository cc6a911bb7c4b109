"""Text cleaning shared by the extraction modules: metadata strings made plain, names compacted for
comparison, and what counts as a word."""

from __future__ import annotations

import html
import re
import unicodedata

WORD = re.compile(r"[^\W\d_]+")
"""A run of letters: a word, for counting words and telling languages apart."""


def clean_text(text: str | None) -> str:
    """Whitespace collapsed, control characters and stray markup removed."""
    if not text:
        return ""
    text = html.unescape(html.unescape(text)) if "&" in text else text
    text = re.sub(r"<(script|style)\b.*?(?:</\1\s*>|$)", " ", text, flags=re.IGNORECASE | re.DOTALL)
    text = STRAY_TAG.sub(" ", text)
    text = "".join(ch for ch in text if _visible_or_joining(ch))
    return " ".join(text.split())


STRAY_TAG = re.compile(r"</?[A-Za-z!?][^<>]{0,200}>")
"""A tag left in metadata text: "<" right before a letter, "/", "!" or "?" ("5 < 6 > 4" is no tag)."""
_INVISIBLE_FORMAT = frozenset("\u00ad\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                              "\u2060\u2066\u2067\u2068\u2069\ufeff")


def _visible_or_joining(ch: str) -> bool:
    """Drop control characters, direction overrides and invisible marks; keep the joiners (ZWJ,
    ZWNJ) and tag characters that emoji and Persian or Indic words are written with."""
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _INVISIBLE_FORMAT
    return category[0] != "C" or ch in "\t\n"


def compact(text: str | None) -> str:
    """Letters and digits only, case folded: "The Coastal Ledger" -> "thecoastalledger", for comparing names."""
    return "".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text or "").casefold()))

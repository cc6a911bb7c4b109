"""Charsets: which codec a page's bytes are written in, and the page as text.

One set of rules for the fetcher, which records a page's charset, and the extractor, which decodes
the page with it: a byte-order mark first, then the charset the server names, then a <meta> charset
in the first 4 KB; an undeclared page is UTF-8 when it decodes as such, else charset_normalizer's
guess. Labels are read as browsers read them (WHATWG): Latin-1 and ASCII mean windows-1252.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

META_SCAN_BYTES = 4096
"""A <meta> charset is looked for in this many bytes at the start of the page."""
DETECT_BYTES = 64 * 1024
"""charset_normalizer guesses from this many bytes at the start of the page."""

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:+-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_WHATWG_ALIASES = {"ascii": "cp1252", "iso8859-1": "cp1252"}
"""As browsers do: pages labelled Latin-1 or ASCII are really written in windows-1252."""


def codec_name(label: str | None) -> str | None:
    """The Python codec for a charset label ("Windows-1251" -> "cp1251"), or None if unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip()).name
        b"x".decode(name, "replace")  # refuses codecs that are not text encodings, such as base64
    except (LookupError, ValueError):
        return None
    return _WHATWG_ALIASES.get(name, name)


def declared_encoding(body: bytes, header_charset: str | None = None) -> str | None:
    """The charset a page declares: its byte-order mark, the header's charset, or a <meta> tag."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    return codec_name(header_charset) or codec_name(_meta_charset(body))


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:META_SCAN_BYTES])
    return match.group(1).decode("ascii") if match else None


def detect_encoding(body: bytes) -> str | None:
    """Guess the charset of an undeclared page: UTF-8 if it decodes, else charset_normalizer's best."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    best = charset_normalizer.from_bytes(body[:DETECT_BYTES]).best()
    return codec_name(best.encoding) if best is not None else None


def decode_html(body: bytes, encoding: str | None = None) -> str:
    """A page as text: in the given charset, else the one it declares, else UTF-8 or a detected one."""
    codec = codec_name(encoding) or declared_encoding(body) or detect_encoding(body) or "utf-8"
    # a byte-order mark is no part of the text ("utf-16" drops its own)
    return body.decode("utf-8-sig" if codec == "utf-8" else codec, errors="replace")

"""Charsets: codec names, what a page declares, what is detected, and the page decoded, on tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.pipeline.charset import codec_name, declared_encoding, decode_html, detect_encoding

PAGES = Path(__file__).parent / "fixtures" / "pages"
RUSSIAN = "Городской совет сообщил во вторник, что новый мост откроют для движения весной."


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("UTF8", "utf-8"),
        ("windows-1251", "cp1251"),
        ("cp1251", "cp1251"),
        ("KOI8-U", "koi8-u"),
        (" Windows-1251 ", "cp1251"),
        ("ISO-8859-1", "cp1252"),  # as browsers read Latin-1 labels
        ("latin1", "cp1252"),
        ("US-ASCII", "cp1252"),
        ("base64", None),  # a codec, but not a text encoding
        ("no-such-charset", None),
        ("", None),
        (None, None),
    ],
)
def test_codec_name(label: str | None, expected: str | None) -> None:
    assert codec_name(label) == expected


@pytest.mark.parametrize(
    ("body", "header_charset", "expected"),
    [
        (b'<html><head><meta charset="koi8-r"></head>', None, "koi8-r"),
        (b"<html><head><meta charset=windows-1251>", None, "cp1251"),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=Windows-1251">', None, "cp1251"),
        (b'<meta charset="utf-8">', "windows-1251", "cp1251"),  # the header wins over <meta>
        (b"\xef\xbb\xbf<html>", "windows-1251", "utf-8"),  # a byte-order mark wins over both
        (b"\xff\xfe<\x00h\x00", None, "utf-16"),
        (b"<html>", "iso-8859-1", "cp1252"),  # as browsers read Latin-1 labels
        (b"<html>", "no-such-charset", None),
        (b'<meta charset="base64">', None, None),  # a codec, but not a text encoding
        (b" " * 5000 + b'<meta charset="koi8-r">', None, None),  # beyond the first 4 KB
    ],
)
def test_declared_encoding(body: bytes, header_charset: str | None, expected: str | None) -> None:
    assert declared_encoding(body, header_charset) == expected


def test_detect_encoding() -> None:
    assert detect_encoding("Привіт, світе".encode()) == "utf-8"
    assert detect_encoding((PAGES / "ru_cp1251_no_charset.html").read_bytes()) == "cp1251"


@pytest.mark.parametrize(
    ("body", "encoding", "expected"),
    [
        ("Привіт, світе".encode(), "utf-8", "Привіт, світе"),
        ("Привет, мир".encode("cp1251"), "windows-1251", "Привет, мир"),
        (
            '<meta charset="windows-1251"><p>Привет</p>'.encode("cp1251"),
            None,
            '<meta charset="windows-1251"><p>Привет</p>',
        ),
        (RUSSIAN.encode("cp1251"), "no-such-codec", RUSSIAN),
        (b"\xef\xbb\xbfhello", None, "hello"),
        (b"\xef\xbb\xbfhello", "utf-8", "hello"),  # the mark is no part of the text
        ("hello".encode("utf-16"), None, "hello"),
        # Latin-1 and ASCII labels read as windows-1252, as the fetcher records them
        (b"\x93quoted\x94 \x96 caf\xe9", "iso-8859-1", "“quoted” – café"),
        (b'<meta charset="iso-8859-1">\x93q\x94', None, '<meta charset="iso-8859-1">“q”'),
        (b"\x93q\x94", "ascii", "“q”"),
        (b'<meta charset="base64"><p>hi</p>', None, '<meta charset="base64"><p>hi</p>'),
        (b"\xff\xff broken", "utf-8", "\ufffd\ufffd broken"),
    ],
)
def test_decode_html(body: bytes, encoding: str | None, expected: str) -> None:
    assert decode_html(body, encoding) == expected


def test_decode_html_detects_an_undeclared_charset() -> None:
    text = decode_html((PAGES / "ru_cp1251_no_charset.html").read_bytes())
    assert "\ufffd" not in text
    assert "урожай гречихи" in text

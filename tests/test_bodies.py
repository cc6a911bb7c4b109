"""Body helpers on tables; unpacking and sniffing run against the local server in test_fetch.py."""

from __future__ import annotations

import pytest

from bot.pipeline.bodies import ACCEPT_ENCODING, BROTLI_SUPPORTED, megabytes, parse_content_type


def test_br_is_advertised_only_when_it_can_be_bounded() -> None:
    advertised = ACCEPT_ENCODING.split(", ")
    assert advertised[:2] == ["gzip", "deflate"]
    assert ("br" in advertised) is BROTLI_SUPPORTED


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/html", ("text/html", None)),
        ('text/html; charset="Windows-1251"', ("text/html", "Windows-1251")),
        ("TEXT/HTML ; Charset=utf-8", ("text/html", "utf-8")),
        ("application/xhtml+xml; q=0.9; charset='koi8-r'", ("application/xhtml+xml", "koi8-r")),
        ("text/html; charset=", ("text/html", None)),
        ("", ("", None)),
    ],
)
def test_parse_content_type(content_type: str, expected: tuple[str, str | None]) -> None:
    assert parse_content_type(content_type) == expected


def test_megabytes() -> None:
    assert megabytes(1_000_000) == "1 MB"
    assert megabytes(2_500_000) == "2.5 MB"

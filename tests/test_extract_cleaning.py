"""Text cleaning: markup, entities and invisible characters out of metadata, honest characters kept."""

from __future__ import annotations

import pytest

from bot.pipeline.extract.cleaning import clean_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Why 5 < 6 > 4 matters", "Why 5 < 6 > 4 matters"),
        ("Coders 👩\u200d💻 at work", "Coders 👩\u200d💻 at work"),
        ("نمی\u200cخواهم", "نمی\u200cخواهم"),
        ("Title <b>bold</b> <script>alert(1)</script>end", "Title bold end"),
        ("Evil \u202eoverride\u202c and soft\u00adhyphen\u200b", "Evil override and softhyphen"),
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),
    ],
)
def test_clean_text_keeps_honest_characters(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean

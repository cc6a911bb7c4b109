"""Authors: byline strings split into names and cleaned, and the bylines a page shows."""

from __future__ import annotations

import pytest
import trafilatura

from bot.pipeline.extract.authors import normalise_authors, visible_bylines


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("By Margaret Okafor", ("Margaret Okafor",)),
        ("By Jane Doe and John Roe, Staff Writers", ("Jane Doe", "John Roe")),
        ("Jane Doe; John Roe", ("Jane Doe", "John Roe")),
        ("Written by: Elise Nass", ("Elise Nass",)),
        ("Posted by Idle Cartulary", ("Idle Cartulary",)),
        ("Liz Kenny Former McKinsey Consultant", ("Liz Kenny",)),
        ("Jordana Cepelewicz December 3, 2024", ("Jordana Cepelewicz",)),
        ("Tom May", ("Tom May",)),
        ("Rui Ma, Heba Ledwon & Suparn Patra", ("Rui Ma", "Heba Ledwon", "Suparn Patra")),
        ("Podium Staff", ("Podium Staff",)),
        ("JANE DOE", ("Jane Doe",)),
        ("Автор: Олена Петренко", ("Олена Петренко",)),
        ("Guide by Priya Raman", ("Priya Raman",)),
        ("Authored by: Dr. Olu Bakare", ("Dr. Olu Bakare",)),
        ("Sponsored by Gadget Mart", ("Sponsored by Gadget Mart",)),
        ("Nadia Foss EdTech Content", ("Nadia Foss",)),
        ("Ivo Marsh Content Marketing Coordinator", ("Ivo Marsh",)),
        ("Ann Lee Associate Editor, Tech Weekly", ("Ann Lee",)),
        ("Rhea Cole ⋅ Editor-in-Chief ⋅", ("Rhea Cole",)),
        ("Mel North Facebook Tweet Pin", ("Mel North",)),
        ("Jo Kent, MS, RD", ("Jo Kent", "MS", "RD")),
        ("Lena Park, Ph.D.", ("Lena Park", "Ph.D.")),
        ("Staff Writer", ()),
        ("https://example.com/author/jane", ()),
        ("Sat, 20 Dec", ()),
        ("", ()),
        ("<script>alert(1)</script>", ()),
        ("A " * 3000, ()),
    ],
)
def test_normalise_authors(raw: str, expected: tuple[str, ...]) -> None:
    assert normalise_authors(raw) == expected


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ('<div class="meta"><span>Written by</span><span>Edzel Tabing</span></div>', "Edzel Tabing"),
        ('<span itemprop="author" itemscope><span itemprop="name">Sam O\'Brien</span></span>', "Sam O'Brien"),
        ('<p>By <a href="/producers/sofia-gonzalez">Sofia Gonzalez</a></p>', "Sofia Gonzalez"),
    ],
)
def test_visible_bylines(markup: str, expected: str) -> None:
    tree = trafilatura.load_html(f"<html><body><article><h1>Story</h1>{markup}<p>Text.</p></article></body></html>")
    names = {name for byline in visible_bylines(tree) for name in normalise_authors(byline)}
    assert expected in names


def test_visible_bylines_skip_comment_authors() -> None:
    tree = trafilatura.load_html(
        '<html><body><article><p>Text.</p></article>'
        '<ol class="comment-list"><li><div class="comment-author">By Gwen T.</div></li></ol></body></html>'
    )
    assert visible_bylines(tree) == []

"""Export formats as named (bot/export.py): `json` one array, `jsonl` JSON Lines, `csv`, and real
Markdown whose titles are links, checked by parsing each output with a real parser."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from markdown_it import MarkdownIt

from bot.export import ExportFormat, export_format, export_items, export_json, export_jsonl, export_markdown
from storage.models import DONE, FAILED, Item

SUBMITTED = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def item(number: int, title: str, *, url: str | None = None, status: str = DONE, **fields: object) -> Item:
    link = url or f"https://example.com/news/{number}"
    values: dict = {"id": number, "chat_id": -100, "url": link, "canonical_url": link, "status": status,
                    "submitted_at": SUBMITTED, "title": title, "site_name": "Example Times",
                    "published_date": date(2026, 11, 20), "authors": ("Maria Kovalenko",),
                    "summary_extractive": "Grain exports hit a record.", "text": "Body text."} | fields
    return Item(**values)


ITEMS = [item(1, "Black Sea grain exports hit a record"), item(2, "Київ готується до зими", site_name="Київські новини")]
HOSTILE_TITLES = [
    "[click](javascript:alert(1))",
    "<script>alert(1)</script>",
    "# not a heading",
    "1. not a list",
    "- not a list either",
    "**bold** _em_ `code` ~~strike~~ | pipe | & &amp; \\ backslash",
    "a title ending in a backslash \\",
    "=====",
    "x" * 5000,
]


@pytest.mark.parametrize(("name", "expected"), [
    ("json", ExportFormat.JSON), ("JSON", ExportFormat.JSON), ("jsonl", ExportFormat.JSONL),
    ("ndjson", ExportFormat.JSONL), ("csv", ExportFormat.CSV), (".csv", ExportFormat.CSV), ("md", ExportFormat.MARKDOWN),
    ("markdown", ExportFormat.MARKDOWN), ("xlsx", None), ("", None), ("json;rm -rf", None),
])
def test_format_names(name: str, expected: ExportFormat | None) -> None:
    assert export_format(name) == expected


def test_json_is_one_array_with_the_text() -> None:
    data = json.loads(export_json(ITEMS))
    assert isinstance(data, list) and [row["title"] for row in data] == [i.title for i in ITEMS]
    assert data[0]["text"] == "Body text." and data[1]["site_name"] == "Київські новини"
    assert json.loads(export_json([])) == []


def test_jsonl_is_one_object_a_line() -> None:
    lines = export_jsonl(ITEMS).splitlines()
    assert len(lines) == 2 and [json.loads(line)["id"] for line in lines] == [1, 2]
    assert export_jsonl([]) == ""


def test_csv_has_a_header_and_a_row_per_item() -> None:
    rows = list(csv.DictReader(io.StringIO(export_items(ITEMS, ExportFormat.CSV))))
    assert [row["title"] for row in rows] == [i.title for i in ITEMS]


def links_and_headings(markdown: str) -> tuple[list[tuple[str, str]], list[str], str]:
    """(link text, href) pairs, heading texts, and the HTML a Markdown renderer makes of it."""
    parser = MarkdownIt("commonmark")
    tokens = parser.parse(markdown)
    links, headings = [], []
    for position, token in enumerate(tokens):
        if token.type == "heading_open":
            headings.append(tokens[position + 1].content)
        for child in token.children or []:
            if child.type == "link_open":
                links.append(child.attrGet("href"))
    texts = []
    for token in tokens:
        children = token.children or []
        for position, child in enumerate(children):
            if child.type == "link_open":
                texts.append(children[position + 1].content)
    return list(zip(texts, links, strict=True)), headings, parser.render(markdown)


def test_markdown_titles_are_links_to_the_articles() -> None:
    markdown = export_markdown(ITEMS, heading="Newsdesk: Desk, 28.11.2026")
    links, headings, html = links_and_headings(markdown)
    assert links == [("Black Sea grain exports hit a record", "https://example.com/news/1"),
                     ("Київ готується до зими", "https://example.com/news/2")]
    assert headings[0] == "Newsdesk: Desk, 28.11.2026"
    assert "Example Times · 20.11.2026 · Maria Kovalenko" in html and "Grain exports hit a record." in html


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_stay_text(title: str) -> None:
    markdown = export_markdown([item(7, title, summary_extractive=title)])
    links, headings, html = links_and_headings(markdown)
    assert len(links) == 1 and links[0][1] == "https://example.com/news/7"
    assert links[0][0] == " ".join(title.split())  # shown exactly as written
    assert "<script>" not in html and "<ol" not in html and "<ul" not in html and "<hr" not in html
    assert "<strong>" not in html.split("</h2>", 1)[1].split("<p>", 2)[-1]  # the summary is not made bold
    assert len(headings) == 2


@pytest.mark.parametrize("url", [
    "https://example.com/a b", "https://example.com/(x)", "https://example.com/<x>", "https://example.com/a)b](c",
    "https://example.com/путь?q=київ",
])
def test_awkward_urls_stay_one_link(url: str) -> None:
    links, _, _ = links_and_headings(export_markdown([item(3, "Title", url=url)]))
    assert len(links) == 1 and links[0][0] == "Title"
    assert links[0][1].startswith("https://example.com/")


def test_links_not_saved_are_listed_with_the_reason() -> None:
    failed = item(9, "", url="https://example.com/broken", status=FAILED, failure_reason="http_404")
    markdown = export_markdown([*ITEMS, failed])
    _, headings, html = links_and_headings(markdown)
    assert headings[-1] == "Not saved" and "https://example.com/broken" in html and "http_404" in html

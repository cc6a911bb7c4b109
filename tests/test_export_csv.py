"""The CSV export opened in a spreadsheet: no cell of someone else's text is ever read as a formula
(OWASP's CSV-injection rule), in every text column, and the file still reads back as written."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from bot.export import EXPORT_FIELDS, export_csv, spreadsheet_safe
from storage.models import DONE, FAILED, Item

HOSTILE = [
    '=HYPERLINK("http://evil.example/x","Click me")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "   =1+1",
    "＝1+1",
]


def item(**fields: object) -> Item:
    values: dict[str, object] = {
        "id": 7, "chat_id": -100500, "url": "https://news.example/a", "canonical_url": "https://news.example/a",
        "status": DONE, "submitted_at": datetime(2026, 11, 20, 8, 30, tzinfo=UTC), "title": "Plain title",
        "published_date": date(2026, 11, 20), "summary_extractive": "A summary.", "language": "en",
    } | fields
    return Item(**values)  # type: ignore[arg-type]


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("column", ["title", "title_translated", "site_name", "summary_extractive",
                                    "submitted_by_name", "failure_reason", "url", "language"])
def test_no_text_column_starts_a_formula(column: str, hostile: str) -> None:
    status = FAILED if column == "failure_reason" else DONE
    [row] = rows(export_csv([item(**{column: hostile}, status=status)]))
    name = {"summary_extractive": "summary"}.get(column, column)
    assert row[name] == "'" + hostile  # shown as the text it is, nothing lost
    assert all(not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r", "＝")) for cell in row.values())


def test_authors_are_neutralised_as_the_joined_cell() -> None:
    [row] = rows(export_csv([item(authors=("@handle", "Maria Kovalenko"))]))
    assert row["authors"] == "'@handle; Maria Kovalenko"


def test_ordinary_cells_are_unchanged() -> None:
    text = export_csv([item(title="Grain deal: exports up 5%", authors=("Olena", "Ivan"), submitted_by=501,
                            submitted_by_name="Olena K.")])
    assert text.startswith(",".join(EXPORT_FIELDS))
    [row] = rows(text)
    assert row["title"] == "Grain deal: exports up 5%"
    assert row["authors"] == "Olena; Ivan"
    assert row["submitted_by"] == "501" and row["id"] == "7"
    assert row["published_date"] == "2026-11-20"


@pytest.mark.parametrize(("value", "safe"), [
    ("=1", "'=1"), ("a=1", "a=1"), ("", ""), (None, None), (12, 12), ("-", "'-"), ("5-3", "5-3"),
    ("\n=1", "\n=1"),  # a line break first: a new line of the cell, not a formula
])
def test_spreadsheet_safe(value: object, safe: object) -> None:
    assert spreadsheet_safe(value) == safe

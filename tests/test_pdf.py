"""PDF documents (bot/pipeline/pdf.py): generated files read directly, hostile ones stopped with a
named reason, and PDFs fetched from a loopback server through the whole pipeline."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from bot.cli.output import card_text
from bot.pipeline.errors import IngestError, PdfTooLarge
from bot.pipeline.pdf import MAX_PAGES, extract_pdf, is_pdf, paragraphs
from bot.services import Services
from tests.support import pdfs
from tests.support.webserver import WebServer
from tests.test_ingest import ingest


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """What is tested here is the reading of pages, not the storage: SQLite only."""
    return str(tmp_path / "newsdesk.db")

URL = "https://audit.example.gov.ua/reports/grants-2026.pdf"
CHAT = -1001515


def test_a_report_gives_text_title_author_date_and_pages() -> None:
    article = extract_pdf(pdfs.text_pdf(pages=3), URL, fetched_on=date(2026, 12, 1))
    assert article.content_kind == "pdf"
    assert article.page_count == 3
    assert article.title == "Reconstruction grants audit 2026"
    assert article.authors == ("Iryna Bondar",)
    assert article.published_date == date(2026, 11, 18)
    assert article.language == "en"
    assert "paid on average eleven percent less" in article.text
    assert "Page 3. Auditors visited forty towns" in article.text


def test_without_metadata_the_first_page_gives_title_and_date() -> None:
    body = pdfs.text_pdf(title=None, author=None, created=None, heading="Court ruling of 14.10.2026 on the port lease",
                         paragraphs=("The court found the lease of the grain terminal void and ordered the berths returned to the state.",
                                     "The ruling may be appealed within thirty days."))
    article = extract_pdf(body, URL, fetched_on=date(2026, 12, 1))
    assert article.title.startswith("Court ruling of 14.10.2026 on the port lease")
    assert article.authors == ()
    assert article.published_date == date(2026, 10, 14)


def test_a_word_processor_file_name_is_not_a_title() -> None:
    article = extract_pdf(pdfs.text_pdf(title="Microsoft Word - draft_v7.docx"), URL)
    assert article.title.startswith("Audit of reconstruction grants")


@pytest.mark.parametrize(
    ("make", "reason", "words"),
    [
        (pdfs.scanned_pdf, "pdf_no_text", "a scanned PDF with no text layer"),
        (pdfs.encrypted_pdf, "pdf_encrypted", "encrypted"),
        (pdfs.broken_pdf, "pdf_broken", "damaged"),
        (lambda: b"%PDF-1.7\n" + bytes(2000), "pdf_broken", "damaged"),
        (lambda: pdfs.many_pages_pdf(10_000), "pdf_too_large", "pages"),
        (lambda: pdfs.many_pages_pdf(MAX_PAGES + 1), "pdf_too_large", "pages"),
        (pdfs.bomb_pdf, "pdf_too_large", "unpacks"),
        (pdfs.nested_pdf, "pdf_broken", "nested"),
    ],
    ids=["scan", "encrypted", "truncated", "zeros", "10000-pages", "one-over-limit", "bomb", "nested"],
)
def test_unreadable_and_hostile_pdfs_end_quickly_with_a_named_reason(make, reason: str, words: str) -> None:
    body = make()
    started = time.monotonic()
    with pytest.raises(IngestError) as caught:
        extract_pdf(body, URL)
    assert caught.value.reason == reason
    assert words in str(caught.value)
    assert time.monotonic() - started < 10  # generous: the point is that it ends, not how fast


def test_the_page_limit_itself_is_allowed() -> None:
    with pytest.raises(PdfTooLarge):
        extract_pdf(pdfs.many_pages_pdf(MAX_PAGES + 1), URL)
    # a short PDF of many pages under the limit is read (only the opening pages' text is kept)
    article = extract_pdf(pdfs.many_pages_pdf(300), URL)
    assert article.page_count == 300


def test_is_pdf_looks_at_the_signature() -> None:
    assert is_pdf(pdfs.text_pdf())
    assert is_pdf(b"\xef\xbb\xbf  %PDF-1.5 ...")
    assert not is_pdf(b"<html><body>%PDF- in text far below" + b" " * 2000)


def test_printed_lines_become_paragraphs_and_hyphenated_words_are_mended() -> None:
    raw = ("The council approved the budget for the coming year after a long and heated debate\n"
           "that lasted until late in the evening, with several amendments on recon-\n"
           "struction of the schools.\n"
           "A second paragraph starts here and ends short.\n")
    assert paragraphs(raw) == ("The council approved the budget for the coming year after a long and heated debate "
                               "that lasted until late in the evening, with several amendments on reconstruction of "
                               "the schools.\n\nA second paragraph starts here and ends short.")


async def test_a_pdf_link_becomes_an_item_through_fetch_and_the_workers(services: Services, web: WebServer) -> None:
    url = web.add("/pdf/report.pdf", pdfs.text_pdf(pages=4), content_type="application/pdf")
    item = (await ingest(services, CHAT, url)).item
    assert item.status == "done", item.failure_detail
    assert (item.content_kind, item.page_count, item.access) == ("pdf", 4, "full")
    assert item.title == "Reconstruction grants audit 2026"
    assert item.authors == ("Iryna Bondar",)
    assert item.summary and "grant" in item.summary


async def test_a_pdf_labelled_as_bytes_or_unlabelled_is_read(services: Services, web: WebServer) -> None:
    labelled = web.add("/pdf/octets", pdfs.text_pdf(), content_type="application/octet-stream")
    unlabelled = web.add("/pdf/unlabelled", pdfs.text_pdf(), content_type=None)
    for url in (labelled, unlabelled):
        item = (await ingest(services, CHAT, url)).item
        assert item.status == "done", item.failure_detail
        assert item.content_kind == "pdf"


@pytest.mark.parametrize(
    ("path", "make", "reason"),
    [
        ("/pdf/scan.pdf", pdfs.scanned_pdf, "pdf_no_text"),
        ("/pdf/locked.pdf", pdfs.encrypted_pdf, "pdf_encrypted"),
        ("/pdf/bomb.pdf", pdfs.bomb_pdf, "pdf_too_large"),
        ("/pdf/endless.pdf", lambda: pdfs.many_pages_pdf(10_000), "pdf_too_large"),
    ],
)
async def test_a_bad_pdf_link_fails_with_its_reason(services: Services, web: WebServer, path: str, make, reason: str) -> None:
    url = web.add(path, make(), content_type="application/pdf")
    item = (await ingest(services, CHAT, url)).item
    assert item.status == "failed"
    assert item.failure_reason == reason
    stats = await services.repository.stats(CHAT)
    assert (reason, 1) in stats.failure_reasons


async def test_octet_stream_that_is_not_a_pdf_is_refused(services: Services, web: WebServer) -> None:
    url = web.add("/pdf/notreally", b"MZ\x90\x00" + bytes(3000), content_type="application/octet-stream")
    item = (await ingest(services, CHAT, url)).item
    assert item.failure_reason == "unsupported_content"


async def test_newsdesk_show_says_pdf_and_its_pages(services: Services, web: WebServer) -> None:
    url = web.add("/pdf/shown.pdf", pdfs.text_pdf(pages=2), content_type="application/pdf")
    item = (await ingest(services, CHAT, url)).item
    assert "PDF, 2 pages" in card_text(item)

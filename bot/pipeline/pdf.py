"""PDF documents: a fetched PDF's bytes in, an Article out (text, title, authors, date, page count).

pypdf reads the file: pure Python (nothing to compile, one wheel), maintained, and its parser carries
limits for hostile files (stream output, decoding work, page-tree depth and size) that are tightened
here. Runs inside a worker process (workers.py), under the pool's deadline and memory limit, so a
file that slips past these limits is still stopped.

Limits and their named reasons (bot.pipeline.errors):

    pdf_encrypted   it needs a password (an empty user password is tried first)
    pdf_broken      not a readable PDF: truncated, damaged, nested deeper than the parser goes
    pdf_no_text     a scanned PDF with no text layer (pages of images)
    pdf_too_large   more than MAX_PAGES pages, or streams that unpack to more than MAX_UNPACKED_BYTES

Title, authors and date come from the document's own metadata first, then its first page.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from datetime import date

from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

from bot.pipeline.bodies import looks_like_pdf
from bot.pipeline.errors import PdfBroken, PdfEncrypted, PdfNoText, PdfTooLarge
from bot.pipeline.extract.authors import normalise_authors
from bot.pipeline.extract.cleaning import clean_text
from bot.pipeline.extract.dates import SHOWN_DATE, match_dates, plausible_date
from bot.pipeline.extract.language import choose_language
from bot.pipeline.models import Article

MAX_PAGES = 1000
"""A document with more pages is refused (pdf_too_large): a book, not a report, or a hostile file."""
READ_PAGES = 200
"""Only the first pages' text is read: the summary is made from the opening anyway."""
MAX_TEXT_CHARS = 400_000
"""Text beyond this is not kept (the first pages of a long report are its summary and findings)."""
MAX_STREAM_BYTES = 16_000_000
"""What one compressed stream may unpack to."""
MAX_UNPACKED_BYTES = 64_000_000
"""What all the streams decoded for one document may unpack to together."""
MIN_TEXT_CHARS = 40
"""Fewer letters than this in all the pages read: the pages are pictures (a scan)."""

logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about damaged files are our reasons

_TITLE_NOISE = re.compile(r"^(?:microsoft (?:word|powerpoint) - |untitled\b|document\d*\b|\s*$)", re.IGNORECASE)


def is_pdf(body: bytes) -> bool:
    """Whether the body is a PDF (its signature within the first kilobyte, as readers accept it)."""
    return looks_like_pdf(body)


def extract_pdf(body: bytes, url: str, *, fetched_on: date | None = None) -> Article:
    """The article a PDF holds, or a PdfError naming why it cannot be read."""
    try:
        with apply_configuration(
            zlib_maximum_output_length=MAX_STREAM_BYTES,
            lzw_maximum_output_length=MAX_STREAM_BYTES,
            run_length_maximum_output_length=MAX_STREAM_BYTES,
            brotli_maximum_output_length=MAX_STREAM_BYTES,
            array_based_stream_maximum_output_length=MAX_STREAM_BYTES,
            stream_decoding_work_maximum_length=MAX_UNPACKED_BYTES,
            page_tree_maximum_page_entries=MAX_PAGES * 4,
            page_tree_maximum_depth=64,
            outline_maximum_depth=32,
            xform_maximum_invocations_per_extraction=500,
            jbig2dec_binary=None,  # never run an external program on a stranger's file
        ):
            return _read(body, url, fetched_on=fetched_on)
    except LimitReachedError as error:
        if "page" in str(error).lower():
            raise PdfTooLarge(f"the PDF has more pages than the limit of {MAX_PAGES}") from None
        raise PdfTooLarge(f"the PDF unpacks to more than the limit ({error})") from None
    except RecursionError:
        raise PdfBroken("the PDF's objects are nested too deeply to read") from None
    except (DependencyError, FileNotDecryptedError):
        raise PdfEncrypted("the PDF is encrypted and needs a password") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, AssertionError) as error:
        # pypdf lets plain Python errors through on damaged files; each means the same to us
        raise PdfBroken(f"the PDF is damaged and cannot be read ({type(error).__name__})") from None


def _read(body: bytes, url: str, *, fetched_on: date | None) -> Article:
    if not is_pdf(body):
        raise PdfBroken("this is not a PDF")
    reader = PdfReader(io.BytesIO(body), strict=False)
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise PdfEncrypted("the PDF is encrypted and needs a password")
    page_count = len(reader.pages)
    if page_count == 0:
        raise PdfBroken("the PDF has no pages")
    if page_count > MAX_PAGES:
        raise PdfTooLarge(f"the PDF has {page_count} pages; the limit is {MAX_PAGES}")

    pages: list[str] = []
    kept = 0
    for number in range(min(page_count, READ_PAGES)):
        page_text = paragraphs(reader.pages[number].extract_text() or "")
        pages.append(page_text)
        kept += len(page_text)
        if kept >= MAX_TEXT_CHARS:
            break
    text = "\n\n".join(part for part in pages if part)[:MAX_TEXT_CHARS]
    if sum(ch.isalpha() for ch in text) < MIN_TEXT_CHARS:
        raise PdfNoText("a scanned PDF with no text layer")

    info = _metadata(reader)
    first_page = pages[0] if pages else ""
    title = _title(info.title, first_page, text)
    published = _date(info.created, first_page, url=url, fetched_on=fetched_on)
    authors = normalise_authors(info.author)
    if text.startswith(title):
        text = text[len(title):].lstrip()
    return Article(
        title=title,
        text=text or title,
        authors=authors,
        site_name=None,
        published_date=published,
        language=choose_language([], text),
        description=info.subject,
        content_kind="pdf",
        page_count=page_count,
    )


def paragraphs(raw: str) -> str:
    """A page's text with its printed lines joined into paragraphs and words split by hyphens mended.

    A line ends its paragraph when it ends a sentence and is clearly shorter than the page's
    usual line, or when an empty line follows it."""
    lines = [" ".join(line.split()) for line in clean_text_lines(raw)]
    widths = sorted(len(line) for line in lines if line)
    usual = widths[len(widths) * 3 // 4] if widths else 0
    out: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                out.append(current)
                current = ""
            continue
        if current.endswith("-") and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}" if current else line
        if line[-1] in ".!?:;»\"”)" and len(line) < usual * 0.8:
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return "\n\n".join(out)


def clean_text_lines(raw: str) -> list[str]:
    """The page's lines, with control characters other than line breaks removed."""
    return [clean_text(line) for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


@dataclass(frozen=True)
class _Info:
    """What the document information dictionary says, where it is readable."""

    title: str | None = None
    author: str | None = None
    subject: str | None = None
    created: date | None = None


def _metadata(reader: PdfReader) -> _Info:
    """The document's declared title, author, subject and creation date."""
    try:
        info = reader.metadata
    except (PyPdfError, ValueError, KeyError, TypeError):
        return _Info()
    if info is None:
        return _Info()

    def field(name: str) -> str | None:
        raw = info.get(name)
        return clean_text(str(raw))[:500] or None if isinstance(raw, str) else None

    try:
        created = info.creation_date
    except (ValueError, TypeError, PyPdfError):
        created = None
    return _Info(title=field("/Title"), author=field("/Author"), subject=field("/Subject"),
                 created=created.date() if created else None)


def _title(declared: str | None, first_page: str, text: str) -> str:
    """The metadata title when it is a real one, else the first line of the first page."""
    if declared and not _TITLE_NOISE.match(declared) and len(declared) >= 4:
        return declared
    source = first_page or text
    first = source.split("\n\n", 1)[0]
    return _clip_words(first, 200) or "PDF"


def _clip_words(value: str, limit: int) -> str:
    value = " ".join(value.split())
    if len(value) <= limit:
        return value
    return value[:limit].rsplit(" ", 1)[0] + "…"


def _date(declared: date | None, first_page: str, *, url: str, fetched_on: date | None) -> date | None:
    """The creation date in the metadata, else the first date printed on the first page."""
    if declared is not None and plausible_date(declared, url=url, fetched_on=fetched_on):
        return declared
    for match in SHOWN_DATE.finditer(first_page[:5000]):
        for value in match_dates(match)[:1]:
            if plausible_date(value, url=url, fetched_on=fetched_on):
                return value
    return None

"""A response body within limits: bounded unpacking of its Content-Encoding, and content sniffing.

`read_body` reads the raw bytes and undoes one layer of gzip or deflate, or br when a bounded
brotli is installed, so both the bytes on the wire and the unpacked bytes stay under the limit;
its first kilobyte is sniffed, and a body that is plainly not HTML (a PDF, an image, a program)
is refused whatever its Content-Type says. Failures are FetchErrors with readable words.
"""

from __future__ import annotations

import codecs
import zlib
from typing import Protocol

import httpx

from bot.pipeline.errors import NetworkError, TooLarge, UnsupportedContent

try:
    import brotli
except ImportError:  # pragma: no cover - depends on what is installed
    brotli = None

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf", "application/octet-stream", "binary/octet-stream"})
"""Labels a PDF arrives with (servers often call it just bytes); the body's signature decides."""
PAGE_TYPES = HTML_TYPES | PDF_TYPES
"""What a link may answer with: a web page or a PDF document."""
PDF_SIGNATURE = b"%PDF-"
SNIFF_BYTES = 1024

# brotli < 1.2 cannot bound its output, so a tiny br body could unpack to gigabytes.
BROTLI_SUPPORTED = brotli is not None and hasattr(brotli.Decompressor, "can_accept_more_data")
ACCEPT_ENCODING = "gzip, deflate, br" if BROTLI_SUPPORTED else "gzip, deflate"


async def read_body(response: httpx.Response, media_type: str, *, limit: int, pdf: bool = False) -> bytes:
    """The body with its Content-Encoding undone; TooLarge as soon as it passes the limit. With `pdf`,
    a body that is a PDF is taken whatever its label (bot/pipeline/pdf.py reads it)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the page is {int(declared) / 1_000_000:.1f} MB; the limit is {megabytes(limit)}")
    decoder = _decoder_for(response.headers.get("content-encoding", ""), limit)
    body = bytearray()
    received = 0
    checked = False
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received > limit:
            raise TooLarge(f"the page is larger than {megabytes(limit)}")
        body += decoder.feed(chunk)
        if not checked and len(body) >= SNIFF_BYTES:
            _check_content(bytes(body[:SNIFF_BYTES]), media_type, pdf=pdf)
            checked = True
    body += decoder.flush()
    if not checked:
        _check_content(bytes(body[:SNIFF_BYTES]), media_type, pdf=pdf)
    return bytes(body)


def parse_content_type(content_type: str) -> tuple[str, str | None]:
    """("text/html", "windows-1251") from 'text/html; charset="windows-1251"'."""
    media_type, *params = content_type.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media_type.strip().lower(), charset


def megabytes(size: int) -> str:
    """A size in words for a message: "1 MB"."""
    return f"{size / 1_000_000:g} MB"


class _Decoder(Protocol):
    def feed(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Identity:
    def feed(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _Inflater:
    """Undoes one layer of gzip or deflate, never holding more than `limit` unpacked bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self._encoding = encoding
        self._room = limit
        self._limit = limit
        self._started = False
        wbits = zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS
        self._inflater = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> bytes:
        if self._inflater.eof:
            return b""  # anything after the end of the stream is ignored, as browsers do
        try:
            out = self._inflater.decompress(data, self._room + 1)
        except zlib.error as error:
            if self._encoding == "deflate" and not self._started:
                # Some servers send raw deflate without the zlib header that HTTP asks for.
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                self._encoding = "raw deflate"
                return self.feed(data)
            raise NetworkError(f"the page's {self._encoding} data is corrupt ({error})") from None
        self._started = True
        return self._take(out)

    def flush(self) -> bytes:
        return self._take(self._inflater.flush())

    def _take(self, out: bytes) -> bytes:
        # max_length was room + 1, so more than `room` bytes means the page is over the limit.
        if len(out) > self._room:
            raise TooLarge(f"the page unpacks to more than {megabytes(self._limit)}")
        self._room -= len(out)
        return out


class _BrotliDecoder:
    """Undoes one layer of br, never holding much more than `limit` unpacked bytes (brotli >= 1.2)."""

    STEP = 64 * 1024

    def __init__(self, limit: int) -> None:
        self._decompressor = brotli.Decompressor()
        self._room = limit
        self._limit = limit

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        try:
            # With an output limit brotli may stop early; it is then drained with empty input.
            while not self._decompressor.is_finished():
                out += self._decompressor.process(data, output_buffer_limit=self.STEP)
                data = b""
                if len(out) > self._room:
                    raise TooLarge(f"the page unpacks to more than {megabytes(self._limit)}")
                if self._decompressor.can_accept_more_data():
                    break
        except brotli.error as error:
            raise NetworkError(f"the page's br data is corrupt ({error})") from None
        self._room -= len(out)
        return bytes(out)

    def flush(self) -> bytes:
        return b""


def _decoder_for(content_encoding: str, limit: int) -> _Decoder:
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return _Identity()
    if encoding in ("gzip", "x-gzip"):
        return _Inflater("gzip", limit)
    if encoding == "deflate":
        return _Inflater("deflate", limit)
    if encoding == "br" and BROTLI_SUPPORTED:
        return _BrotliDecoder(limit)
    # Several layers ("gzip, gzip") are refused too: a few kilobytes could unpack twice over.
    raise UnsupportedContent(f"unsupported content encoding: {content_encoding}")


_BINARY_SIGNATURES = (
    (b"%PDF-", "a PDF"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"RIFF", "a RIFF file (WebP, WAV or AVI)"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"\x1a\x45\xdf\xa3", "Matroska or WebM video"),
    (b"\x7fELF", "a program"),
    (b"\x00\x00\x01\x00", "an icon"),
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

# WHATWG MIME sniffing: these openings, followed by a space or ">", mean HTML.
_HTML_OPENINGS = tuple(
    tag.encode()
    for tag in (
        "<!doctype html", "<html", "<head", "<script", "<iframe", "<h1", "<div", "<font",
        "<table", "<a", "<style", "<title", "<b", "<body", "<br", "<p", "<!--", "<meta",
    )
)


def _binary_kind(start: bytes) -> str | None:
    """What binary thing the first bytes of a body are, or None if they may be text."""
    for signature, kind in _BINARY_SIGNATURES:
        if start.startswith(signature):
            return kind
    if start[4:8] == b"ftyp":
        return "MP4 or QuickTime media"
    if b"\x00" in start[:SNIFF_BYTES] and not start.startswith(_UTF16_BOMS):
        return "binary data"
    return None


def _looks_like_html(start: bytes) -> bool:
    text = start.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n\x0c").lower()
    for opening in _HTML_OPENINGS:
        if text.startswith(opening) and text[len(opening) : len(opening) + 1] in (b" ", b">", b"\t", b"\n", b"\r"):
            return True
    return False


def looks_like_pdf(body: bytes) -> bool:
    """A PDF's signature in the first kilobyte with no markup before it (readers accept some junk first)."""
    start = body[:SNIFF_BYTES]
    at = start.find(PDF_SIGNATURE)
    return at >= 0 and b"<" not in start[:at]


def _check_content(start: bytes, media_type: str, *, pdf: bool = False) -> None:
    """Refuse a body that is plainly not HTML (nor a PDF, when PDFs are taken), whatever its label says."""
    if pdf and looks_like_pdf(start):
        return
    if pdf and media_type in PDF_TYPES:
        raise UnsupportedContent(f"unsupported content: labelled {media_type} but not a PDF")
    if (kind := _binary_kind(start)) is not None:
        label = f"labelled {media_type}" if media_type else "with no Content-Type"
        raise UnsupportedContent(f"unsupported content: {kind} {label}")
    if not media_type and not _looks_like_html(start):
        raise UnsupportedContent("unsupported content: no Content-Type and the page does not look like HTML")

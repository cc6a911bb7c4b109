"""Expected failures of ingesting one link, each with a stable reason code and readable words.

    IngestError                 anything that stops one link; .reason is stored with the link
    ├── FetchError              the page could not be fetched safely
    │   ├── InvalidUrl          invalid_url: not an http(s) URL we can fetch
    │   ├── BlockedAddress      blocked_address: resolves to a loopback/private/reserved address
    │   ├── TimedOut            timeout: connect, read or total deadline passed
    │   ├── TooLarge            too_large: body over the size limit (compressed or unpacked)
    │   ├── TooManyRedirects    too_many_redirects
    │   ├── UnsupportedContent  unsupported_content: not HTML/XHTML (a PDF, an image, ...)
    │   ├── HttpStatus          http_404, http_500, ...: the server answered with an error
    │   └── NetworkError        network_error: DNS failure, refused connection, broken TLS
    └── ExtractError            the page was fetched but holds no usable article
        ├── NoArticle           no_article: no article text found
        ├── ExtractTimeout      extract_timeout: extraction took too long or too much memory
        ├── PdfError            a PDF that cannot be read (bot/pipeline/pdf.py):
        │   ├── PdfEncrypted    pdf_encrypted: it needs a password
        │   ├── PdfBroken       pdf_broken: damaged, or built to exhaust a reader
        │   ├── PdfNoText       pdf_no_text: a scanned PDF with no text layer
        │   └── PdfTooLarge     pdf_too_large: over the page or unpacked-size limit
        ├── PaywallNoText       paywall: a login or subscription wall and no article text
        └── TelegramPostError   a Telegram channel post that cannot be read (bot/pipeline/tgpost.py):
            ├── PostNotFound    telegram_post_not_found: deleted, or never there
            └── PrivateChannel  telegram_private: the channel has no public preview

Handlers and the CLI catch IngestError and show `str(error)`; nothing here knows about Telegram.
"""

from __future__ import annotations


class IngestError(Exception):
    """One link could not be ingested; `reason` is a stable code, `str()` the readable words."""

    reason = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class FetchError(IngestError):
    reason = "fetch_failed"


class InvalidUrl(FetchError):
    reason = "invalid_url"


class BlockedAddress(FetchError):
    reason = "blocked_address"


class TimedOut(FetchError):
    reason = "timeout"


class TooLarge(FetchError):
    reason = "too_large"


class TooManyRedirects(FetchError):
    reason = "too_many_redirects"


class UnsupportedContent(FetchError):
    reason = "unsupported_content"


class HttpStatus(FetchError):
    def __init__(self, status_code: int) -> None:
        super().__init__(f"the server answered HTTP {status_code}", reason=f"http_{status_code}")
        self.status_code = status_code


class NetworkError(FetchError):
    reason = "network_error"


class ExtractError(IngestError):
    reason = "extract_failed"


class NoArticle(ExtractError):
    reason = "no_article"


class ExtractTimeout(ExtractError):
    reason = "extract_timeout"


class PdfError(ExtractError):
    reason = "pdf_broken"


class PdfEncrypted(PdfError):
    reason = "pdf_encrypted"


class PdfBroken(PdfError):
    reason = "pdf_broken"


class PdfNoText(PdfError):
    reason = "pdf_no_text"


class PdfTooLarge(PdfError):
    reason = "pdf_too_large"


class PaywallNoText(ExtractError):
    reason = "paywall"


class TelegramPostError(ExtractError):
    reason = "telegram_post_not_found"


class PostNotFound(TelegramPostError):
    reason = "telegram_post_not_found"


class PrivateChannel(TelegramPostError):
    reason = "telegram_private"

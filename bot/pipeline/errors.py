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
        └── ExtractTimeout      extract_timeout: extraction took too long or too much memory

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

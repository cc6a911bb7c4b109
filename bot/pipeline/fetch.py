"""The safe fetcher: one page from a URL a stranger typed, within size, time and address limits.

Fetcher owns the process's one httpx.AsyncClient. Every connection it opens goes through
`_GuardedBackend`, which resolves the host itself, refuses the whole request if any address is
not public (`check_address`, in addresses.py), and then connects to the very address it checked,
so DNS rebinding has no window. Host header, TLS SNI and certificate checks keep the real name.

Redirects are followed here, not by httpx, each hop checked the same way. The body is read raw
and unpacked by bodies.read_body, so both the bytes on the wire and the unpacked bytes stay under
`fetch_max_bytes`; its charset is settled by charset.py. A total deadline covers the whole fetch,
because httpx's timeouts are per read and a slow drip never trips them.

Every expected failure is a FetchError subclass from bot.pipeline.errors, with readable words.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpcore
import httpx

from bot.config import Settings
from bot.pipeline.addresses import IPNetwork, check_address
from bot.pipeline.bodies import ACCEPT_ENCODING, HTML_TYPES, PAGE_TYPES, looks_like_pdf, parse_content_type, read_body
from bot.pipeline.charset import declared_encoding, detect_encoding
from bot.pipeline.errors import (
    BlockedAddress,
    FetchError,
    HttpStatus,
    InvalidUrl,
    NetworkError,
    TimedOut,
    TooManyRedirects,
    UnsupportedContent,
)
from bot.pipeline.models import FetchedPage

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""(host, port) -> the host's addresses as strings; the default asks the system resolver."""

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
FEED_TYPES = HTML_TYPES | frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml",
    "application/feed+json", "application/json", "text/plain",
})
"""What a feed address may answer with: the feed formats as servers label them, and a site page to search."""
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
               "text/xml;q=0.9, application/json;q=0.8, text/html;q=0.5, */*;q=0.1")


# --- Connections only to checked addresses -------------------------------------------------

async def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`, in its order, without repeats."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# httpcore's network interface hands each call its own `timeout`; hence the noqa: ASYNC109 below.
class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host once, refuses non-public addresses, connects to the checked address."""

    def __init__(self, *, allow: Sequence[IPNetwork], resolver: Resolver) -> None:
        self._allow = tuple(allow)
        self._resolve = resolver
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._addresses(host, port)
        except TimeoutError:
            raise TimedOut(f"could not resolve host {host} within {timeout:g} s") from None
        for address in addresses:
            check_address(host, address, allow=self._allow)
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                # An address, not the name: nothing is resolved again after the check.
                stream = await self._backend.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
            else:
                return _ExplainedStream(stream, host)
        # Explained here: httpcore's pool re-raises with the underlying cause cut off.
        raise _connect_failure(host, failure, timeout)

    async def _addresses(self, host: str, port: int) -> list[str]:
        """Every address the resolver gives for `host`; NetworkError when it gives none."""
        try:
            addresses = list(await self._resolve(host, port))
        except TimeoutError:
            raise  # a deadline, not an unknown host (TimeoutError is an OSError too)
        except (OSError, UnicodeError):  # socket.gaierror is an OSError
            addresses = []
        if not addresses:
            raise NetworkError(f"could not resolve host {host}")
        return addresses

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("refused: Unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _ExplainedStream(httpcore.AsyncNetworkStream):
    """A connection whose TLS handshake failures say what went wrong, as connect failures do."""

    def __init__(self, stream: httpcore.AsyncNetworkStream, host: str) -> None:
        self._stream = stream
        self._host = host

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        try:
            return await self._stream.start_tls(ssl_context, server_hostname, timeout)
        except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
            raise _connect_failure(self._host, error, timeout) from None

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _GuardedTransport(httpx.AsyncBaseTransport):
    """httpx's transport, rebuilt on an httpcore pool that uses `_GuardedBackend` for every connection.

    httpx.AsyncHTTPTransport takes no network backend, so this repeats its short request/response
    conversion and turns httpcore's errors straight into FetchErrors with readable words.
    """

    def __init__(
        self, *, allow: Sequence[IPNetwork], resolver: Resolver, ssl_context: ssl.SSLContext, limits: httpx.Limits
    ) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(allow=allow, resolver=resolver),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _network_errors(request):
            core_response = await self._pool.handle_async_request(core_request)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            # httpcore types a response's stream as sync or async; the async pool's is always async
            stream=_ResponseStream(core_response.stream, request),  # type: ignore[arg-type]
            extensions=core_response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterator[bytes], request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _network_errors(self._request):
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        aclose = getattr(self._stream, "aclose", None)
        if aclose is not None:
            await aclose()


@contextlib.contextmanager
def _network_errors(request: httpx.Request) -> Iterator[None]:
    """Turn httpcore's exceptions into FetchErrors that say what went wrong, in words."""
    host = request.url.host
    timeouts = request.extensions.get("timeout", {})
    try:
        yield
    except httpcore.ConnectTimeout:
        raise TimedOut(f"could not connect to {host} within {timeouts.get('connect', 0):g} s") from None
    except httpcore.ReadTimeout:
        raise TimedOut(f"{host} sent nothing for {timeouts.get('read', 0):g} s") from None
    except httpcore.PoolTimeout:
        raise TimedOut("too many pages are being fetched at once; try again later") from None
    except httpcore.TimeoutException:
        raise TimedOut(f"{host} did not answer in time") from None
    except httpcore.ConnectError as error:
        raise NetworkError(f"could not connect to {host} ({error})") from error
    except httpcore.RemoteProtocolError as error:
        raise NetworkError(f"{host} broke the HTTP protocol ({error})") from error
    except httpcore.UnsupportedProtocol as error:
        raise InvalidUrl(f"not an http(s) URL: {request.url}") from error
    except httpcore.NetworkError as error:
        raise NetworkError(f"the connection to {host} failed ({error})") from error
    except httpcore.ProtocolError as error:
        raise NetworkError(f"could not talk HTTP with {host} ({error})") from error


def _connect_failure(
    host: str, error: httpcore.ConnectError | httpcore.ConnectTimeout | None, timeout: float | None
) -> FetchError:
    if isinstance(error, httpcore.ConnectTimeout):
        return TimedOut(f"could not connect to {host} within {timeout or 0:g} s")
    causes: list[BaseException] = []
    cause = error.__cause__ if error is not None else None
    while cause is not None and len(causes) < 10:  # anyio wraps the socket's error in another OSError
        causes.append(cause)
        cause = cause.__cause__
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return NetworkError(f"the TLS certificate of {host} is not valid ({cause.verify_message})")
        if isinstance(cause, ssl.SSLError):
            return NetworkError(f"the TLS handshake with {host} failed ({cause.reason or cause})")
        if isinstance(cause, ConnectionRefusedError):
            return NetworkError(f"{host} refused the connection")
    for cause in causes:
        if isinstance(cause, OSError) and cause.strerror:
            return NetworkError(f"could not connect to {host} ({cause.strerror.lower()})")
    return NetworkError(f"could not connect to {host} ({error or 'no reason given'})")


# --- The fetcher ----------------------------------------------------------------------------

class Fetcher:
    """Fetches web pages for the whole process through one guarded httpx.AsyncClient."""

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver = resolve_host,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """`resolver` and `ssl_context` (default: certifi's CAs) are for tests and private networks."""
        self._total_timeout = settings.fetch_total_timeout
        self._max_bytes = settings.fetch_max_bytes
        self._max_redirects = settings.fetch_max_redirects
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        self._client = httpx.AsyncClient(
            transport=_GuardedTransport(
                allow=settings.fetch_allow_networks,
                resolver=resolver,
                ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
                limits=limits,
            ),
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(
                connect=settings.fetch_connect_timeout,
                read=settings.fetch_read_timeout,
                write=settings.fetch_read_timeout,
                pool=settings.fetch_connect_timeout,
            ),
            headers={
                "User-Agent": settings.fetch_user_agent,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            # Cookies never outlive one fetch: a shared jar would carry one user's cookies to another's.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )

    async def fetch(self, url: str) -> FetchedPage:
        """Fetch one HTML page or PDF document, following redirects; raise a FetchError saying why not."""
        try:
            async with asyncio.timeout(self._total_timeout):
                return await self._fetch(url, accept=PAGE_TYPES)
        except TimeoutError:
            raise TimedOut(f"the page took longer than {self._total_timeout:g} s") from None

    async def fetch_feed(self, url: str, *, etag: str | None = None, last_modified: str | None = None
                         ) -> FetchedPage:
        """Fetch a feed (or a site page that may name one) within the same limits, asking only for a
        change since the validators given: an answer of 304 is a page with `not_modified` and no body."""
        headers = {"Accept": FEED_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with asyncio.timeout(self._total_timeout):
                return await self._fetch(url, headers=headers, accept=FEED_TYPES)
        except TimeoutError:
            raise TimedOut(f"the feed took longer than {self._total_timeout:g} s") from None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _fetch(self, url: str, *, headers: dict[str, str] | None = None,
                     accept: frozenset[str] = PAGE_TYPES) -> FetchedPage:
        current = _parse_url(url)
        visited = {current}
        cookies = httpx.Cookies()  # only for this fetch's redirects, e.g. a consent cookie
        for _ in range(self._max_redirects + 1):
            request = self._client.build_request("GET", current, cookies=cookies, headers=headers)
            response = await self._send(request)
            try:
                if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
                    target = _redirect_target(current, response.headers["location"])
                    cookies.extract_cookies(response)
                    if target in visited and "set-cookie" not in response.headers:
                        raise TooManyRedirects(f"redirect loop: {current} leads back to {target}")
                    visited.add(target)
                    current = target
                    continue
                return await self._page(url, current, response, accept=accept)
            finally:
                await response.aclose()
        raise TooManyRedirects(f"more than {self._max_redirects} redirects")

    async def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._client.send(request, stream=True)
        except httpx.InvalidURL as error:
            raise InvalidUrl(f"not a valid URL: {request.url} ({error})") from None
        except httpx.HTTPError as error:
            raise NetworkError(f"could not fetch {request.url.host} ({error})") from error

    async def _page(self, url: str, final_url: httpx.URL, response: httpx.Response, *,
                    accept: frozenset[str] = HTML_TYPES) -> FetchedPage:
        if response.status_code >= 400:
            raise HttpStatus(response.status_code)
        content_type = response.headers.get("content-type", "")
        etag, last_modified = response.headers.get("etag"), response.headers.get("last-modified")
        if response.status_code == 304:
            return FetchedPage(url=url, final_url=str(final_url), status_code=304, content_type=content_type,
                               body=b"", encoding=None, etag=etag, last_modified=last_modified)
        media_type, charset = parse_content_type(content_type)
        if media_type and media_type not in accept:
            raise UnsupportedContent(f"unsupported content: {media_type}")
        # a feed with no Content-Type need not look like HTML: "unlabelled" skips that sniff
        labelled = media_type or ("unlabelled" if accept is FEED_TYPES else "")
        pdf = accept is PAGE_TYPES
        body = await read_body(response, labelled, limit=self._max_bytes, pdf=pdf)
        if pdf and looks_like_pdf(body):
            encoding = None  # a PDF's text is decoded by its own fonts' tables, not a charset
        else:
            encoding = declared_encoding(body, charset) or await asyncio.to_thread(detect_encoding, body)
        return FetchedPage(
            url=url,
            final_url=str(final_url),
            status_code=response.status_code,
            content_type=content_type,
            body=body,
            encoding=encoding,
            etag=etag,
            last_modified=last_modified,
        )


def _parse_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError) as error:
        raise InvalidUrl(f"not a valid URL: {url[:200]} ({error})") from None
    _check_url(parsed, url)
    return parsed


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        target = current.join(location.strip())
    except httpx.InvalidURL as error:
        raise InvalidUrl(f"the page redirects to an invalid URL: {location[:200]} ({error})") from None
    _check_url(target, location)
    return target


def _check_url(parsed: httpx.URL, original: str) -> None:
    if parsed.scheme not in ("http", "https"):
        raise InvalidUrl(f"only http and https URLs can be fetched, not {original[:200]}")
    if not parsed.host:
        raise InvalidUrl(f"the URL has no host: {original[:200]}")

"""The safe fetcher: one page from a URL a stranger typed, within size, time and address limits.

Fetcher owns the process's one httpx.AsyncClient. Every connection it opens goes through
`_GuardedBackend`, which resolves the host itself, refuses the whole request if any address is
not public (`address_problem` is the table), and then connects to the very address it checked,
so DNS rebinding has no window. Host header, TLS SNI and certificate checks keep the real name.

Redirects are followed here, not by httpx, each hop checked the same way. The body is read raw
and unpacked here (one layer of gzip or deflate, or br when a bounded brotli is installed), so
both the bytes on the wire and the unpacked bytes stay under `fetch_max_bytes`. A total deadline
covers the whole fetch, because httpx's timeouts are per read and a slow drip never trips them.

Every expected failure is a FetchError subclass from bot.pipeline.errors, with readable words.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import ipaddress
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Protocol

import httpcore
import httpx

from bot.config import Settings
from bot.pipeline.charset import declared_encoding, detect_encoding
from bot.pipeline.errors import (
    BlockedAddress,
    FetchError,
    HttpStatus,
    InvalidUrl,
    NetworkError,
    TimedOut,
    TooLarge,
    TooManyRedirects,
    UnsupportedContent,
)
from bot.pipeline.models import FetchedPage

try:
    import brotli
except ImportError:  # pragma: no cover - depends on what is installed
    brotli = None

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""(host, port) -> the host's addresses as strings; the default asks the system resolver."""

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
SNIFF_BYTES = 1024

# brotli < 1.2 cannot bound its output, so a tiny br body could unpack to gigabytes.
BROTLI_SUPPORTED = brotli is not None and hasattr(brotli.Decompressor, "can_accept_more_data")
ACCEPT_ENCODING = "gzip, deflate, br" if BROTLI_SUPPORTED else "gzip, deflate"


# --- Which addresses may be fetched --------------------------------------------------------

def _table(*rows: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(network), words) for network, words in rows)


_IPV4_REFUSED = _table(
    ("0.0.0.0/8", "an unspecified address"),
    ("10.0.0.0/8", "a private address"),
    ("100.64.0.0/10", "a shared (CGNAT) address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address"),  # cloud metadata lives here
    ("172.16.0.0/12", "a private address"),
    ("192.0.0.0/24", "a reserved address"),
    ("192.0.2.0/24", "a documentation address"),
    ("192.88.99.0/24", "a reserved address"),  # retired 6to4 relays
    ("192.168.0.0/16", "a private address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved address"),  # includes broadcast 255.255.255.255
)

_IPV6_REFUSED = _table(
    ("::/128", "an unspecified address"),
    ("::1/128", "a loopback address"),
    ("64:ff9b:1::/48", "a local NAT64 address"),
    ("100::/64", "a discard address"),
    ("2001::/32", "a Teredo tunnel address"),
    ("2001::/23", "a reserved address"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
    ("5f00::/16", "a reserved address"),
    ("fc00::/7", "a private (unique local) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
)

_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")

# IPv6 forms that carry an IPv4 address: judged by that address. (network, bit offset from the right)
_IPV6_EMBEDDING_IPV4 = (
    (ipaddress.IPv6Network("::ffff:0:0/96"), 0),  # IPv4-mapped
    (ipaddress.IPv6Network("::/96"), 0),  # IPv4-compatible (deprecated)
    (ipaddress.IPv6Network("64:ff9b::/96"), 0),  # NAT64
    (ipaddress.IPv6Network("2002::/16"), 80),  # 6to4: 2002:AABB:CCDD::/48
)


def address_problem(address: IPAddress | str) -> str | None:
    """Why `address` must not be fetched ("a loopback address"), or None when it is public."""
    address = ipaddress.ip_address(address)
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        address = ipaddress.IPv6Address(address.compressed.split("%")[0])
    if isinstance(address, ipaddress.IPv4Address):
        return _first_match(address, _IPV4_REFUSED)
    if (problem := _first_match(address, _IPV6_REFUSED)) is not None:
        return problem
    for network, shift in _IPV6_EMBEDDING_IPV4:
        if address in network:
            return address_problem(ipaddress.IPv4Address((int(address) >> shift) & 0xFFFF_FFFF))
    if address not in _IPV6_GLOBAL_UNICAST:
        return "a reserved address"
    return None


def is_public_address(address: IPAddress | str) -> bool:
    """True when `address` may be fetched from without an allow-list."""
    return address_problem(address) is None


def check_address(host: str, address: IPAddress | str, *, allow: Iterable[IPNetwork] = ()) -> None:
    """Raise BlockedAddress unless `address` (which `host` resolved to) is public or allowed."""
    address = ipaddress.ip_address(address)
    if any(address.version == network.version and address in network for network in allow):
        return
    if (problem := address_problem(address)) is None:
        return
    if host == str(address):
        raise BlockedAddress(f"refused: {address} is {problem}")
    raise BlockedAddress(f"refused: {host} resolves to {problem} {address}")


def _first_match(address: IPAddress, table: tuple[tuple[IPNetwork, str], ...]) -> str | None:
    return next((words for network, words in table if address in network), None)


# --- Connections only to checked addresses -------------------------------------------------

async def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`, in its order, without repeats."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


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
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._addresses(host, port, timeout)
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

    async def _addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            async with asyncio.timeout(timeout):
                addresses = list(await self._resolve(host, port))
        except TimeoutError:
            raise TimedOut(f"could not resolve host {host} within {timeout:g} s") from None
        except (OSError, UnicodeError):  # socket.gaierror is an OSError
            addresses = []
        if not addresses:
            raise NetworkError(f"could not resolve host {host}")
        return addresses

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("refused: Unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _ExplainedStream(httpcore.AsyncNetworkStream):
    """A connection whose TLS handshake failures say what went wrong, as connect failures do."""

    def __init__(self, stream: httpcore.AsyncNetworkStream, host: str) -> None:
        self._stream = stream
        self._host = host

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
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
            content=request.stream,  # type: ignore[arg-type]
            extensions=request.extensions,
        )
        with _network_errors(request):
            core_response = await self._pool.handle_async_request(core_request)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
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


# --- Bodies: bounded unpacking, content sniffing ---------------------------------------------

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
            raise TooLarge(f"the page unpacks to more than {_megabytes(self._limit)}")
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
                    raise TooLarge(f"the page unpacks to more than {_megabytes(self._limit)}")
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


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


def _media_type(content_type: str) -> tuple[str, str | None]:
    """("text/html", "windows-1251") from 'text/html; charset="windows-1251"'."""
    media_type, *params = content_type.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media_type.strip().lower(), charset


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


def _check_content(start: bytes, media_type: str) -> None:
    """Refuse a body that is plainly not HTML, whatever its label says."""
    if (kind := _binary_kind(start)) is not None:
        label = f"labelled {media_type}" if media_type else "with no Content-Type"
        raise UnsupportedContent(f"unsupported content: {kind} {label}")
    if not media_type and not _looks_like_html(start):
        raise UnsupportedContent("unsupported content: no Content-Type and the page does not look like HTML")


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
        """Fetch one HTML page, following redirects; raise a FetchError saying why not."""
        try:
            async with asyncio.timeout(self._total_timeout):
                return await self._fetch(url)
        except TimeoutError:
            raise TimedOut(f"the page took longer than {self._total_timeout:g} s") from None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _fetch(self, url: str) -> FetchedPage:
        current = _parse_url(url)
        visited = {current}
        cookies = httpx.Cookies()  # only for this fetch's redirects, e.g. a consent cookie
        for _ in range(self._max_redirects + 1):
            request = self._client.build_request("GET", current, cookies=cookies)
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
                return await self._page(url, current, response)
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

    async def _page(self, url: str, final_url: httpx.URL, response: httpx.Response) -> FetchedPage:
        if response.status_code >= 400:
            raise HttpStatus(response.status_code)
        content_type = response.headers.get("content-type", "")
        media_type, charset = _media_type(content_type)
        if media_type and media_type not in HTML_TYPES:
            raise UnsupportedContent(f"unsupported content: {media_type}")
        body = await self._read_body(response, media_type)
        encoding = declared_encoding(body, charset) or await asyncio.to_thread(detect_encoding, body)
        return FetchedPage(
            url=url,
            final_url=str(final_url),
            status_code=response.status_code,
            content_type=content_type,
            body=body,
            encoding=encoding,
        )

    async def _read_body(self, response: httpx.Response, media_type: str) -> bytes:
        """The body with its Content-Encoding undone; TooLarge as soon as it passes the limit."""
        limit = self._max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge(f"the page is {int(declared) / 1_000_000:.1f} MB; the limit is {_megabytes(limit)}")
        decoder = _decoder_for(response.headers.get("content-encoding", ""), limit)
        body = bytearray()
        received = 0
        checked = False
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > limit:
                raise TooLarge(f"the page is larger than {_megabytes(limit)}")
            body += decoder.feed(chunk)
            if not checked and len(body) >= SNIFF_BYTES:
                _check_content(bytes(body[:SNIFF_BYTES]), media_type)
                checked = True
        body += decoder.flush()
        if not checked:
            _check_content(bytes(body[:SNIFF_BYTES]), media_type)
        return bytes(body)


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

"""The safe fetcher against a real local server: pages, charsets, redirects, limits and the address guard.

The server listens on 127.0.0.2 and the fetcher allows exactly 127.0.0.2/32, so every other
loopback address is still refused; ConnectionRecorder sockets on 127.0.0.1 and ::1 prove that a
refused address never even sees a connection.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import re
import socket
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from ipaddress import ip_network

import httpcore
import pytest

from bot.config import Settings
from bot.pipeline.bodies import ACCEPT_ENCODING, BROTLI_SUPPORTED
from bot.pipeline.errors import (
    BlockedAddress,
    HttpStatus,
    InvalidUrl,
    NetworkError,
    TimedOut,
    TooLarge,
    TooManyRedirects,
    UnsupportedContent,
)
from bot.pipeline.fetch import Fetcher
from tests.support.webserver import Certificates, ConnectionRecorder, Exchange, WebServer, certificates

PAGE = "<!doctype html><html><head><title>Test</title></head><body><p>{}</p></body></html>"
CYRILLIC = (
    "Київ. Уряд України ухвалив нове рішення щодо підтримки місцевих громад, повідомляє пресслужба. "
    "Москва. Правительство приняло новое решение о поддержке регионов, сообщает пресс-служба."
)
CP1251_PAGE = (
    "<html><head><title>Новини дня</title></head><body><h1>Головне</h1>"
    f"<p>{CYRILLIC}</p><p>{CYRILLIC}</p></body></html>"
).encode("cp1251")


@pytest.fixture(scope="module")
def server() -> Iterator[WebServer]:
    with WebServer() as server:
        yield server


@pytest.fixture
def settings() -> Settings:
    return Settings(
        fetch_allow_networks=(ip_network("127.0.0.2/32"),),
        fetch_connect_timeout=2.0,
        fetch_read_timeout=2.0,
        fetch_total_timeout=5.0,
        fetch_max_bytes=1_000_000,
    )


@asynccontextmanager
async def opened(settings: Settings, **changes: object) -> AsyncIterator[Fetcher]:
    fetcher = Fetcher(dataclasses.replace(settings, **changes))
    try:
        yield fetcher
    finally:
        await fetcher.aclose()


@pytest.fixture
async def fetcher(settings: Settings) -> AsyncIterator[Fetcher]:
    async with opened(settings) as fetcher:
        yield fetcher


@pytest.fixture
def recorder() -> Iterator[ConnectionRecorder]:
    with ConnectionRecorder("127.0.0.1") as recorder:
        yield recorder


@pytest.fixture
def recorder6() -> Iterator[ConnectionRecorder]:
    with ConnectionRecorder("::1") as recorder:
        yield recorder


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address the fetcher opens a TCP connection to."""
    addresses: list[str] = []
    original = httpcore.AnyIOBackend.connect_tcp

    async def spy(self: httpcore.AnyIOBackend, host: str, port: int, **kwargs: object) -> object:
        addresses.append(host)
        return await original(self, host, port, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", spy)
    return addresses


# --- Ordinary pages ---------------------------------------------------------------------------

async def test_ordinary_page(server: WebServer, fetcher: Fetcher, settings: Settings) -> None:
    url = server.add("/ordinary", PAGE.format("Привіт, світ"))
    page = await fetcher.fetch(url)
    assert page.url == page.final_url == url
    assert page.status_code == 200
    assert page.content_type == "text/html; charset=utf-8"
    assert page.encoding == "utf-8"
    assert "Привіт, світ" in page.body.decode(page.encoding)
    request = server.requests_to("/ordinary")[-1]
    assert request.headers["user-agent"] == settings.fetch_user_agent
    assert request.headers["accept-encoding"] == ACCEPT_ENCODING
    assert request.headers["host"] == f"127.0.0.2:{server.port}"


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
        ("identity", lambda data: data),
    ],
)
async def test_compressed_page_is_unpacked(server: WebServer, fetcher: Fetcher, encoding: str, pack) -> None:
    html = PAGE.format("стиснуто " * 500).encode()
    url = server.add(f"/packed/{encoding}/{len(pack(html))}", pack(html), headers={"Content-Encoding": encoding})
    page = await fetcher.fetch(url)
    assert page.body == html


async def test_brotli_page_is_unpacked(server: WebServer, fetcher: Fetcher) -> None:
    brotli = pytest.importorskip("brotli")
    if not BROTLI_SUPPORTED:
        pytest.skip("brotli < 1.2 cannot bound its output, so br is not used")
    html = PAGE.format("brotli " * 500).encode()
    url = server.add("/packed/br", brotli.compress(html), headers={"Content-Encoding": "br"})
    assert (await fetcher.fetch(url)).body == html


async def test_page_without_content_type_is_sniffed(server: WebServer, fetcher: Fetcher) -> None:
    url = server.add("/untyped", PAGE.format("no type"), content_type=None)
    page = await fetcher.fetch(url)
    assert page.content_type == ""
    assert b"no type" in page.body


async def test_xhtml_is_accepted(server: WebServer, fetcher: Fetcher) -> None:
    url = server.add("/xhtml", PAGE.format("xhtml"), content_type="application/xhtml+xml")
    assert b"xhtml" in (await fetcher.fetch(url)).body


# --- Charsets ---------------------------------------------------------------------------------

async def test_windows_1251_page_without_charset_is_detected(server: WebServer, fetcher: Fetcher) -> None:
    url = server.add("/cp1251", CP1251_PAGE, content_type="text/html")
    page = await fetcher.fetch(url)
    assert page.encoding == "cp1251"
    assert CYRILLIC in page.body.decode(page.encoding)


async def test_charset_from_header(server: WebServer, fetcher: Fetcher) -> None:
    url = server.add("/cp1251-labelled", CP1251_PAGE, content_type='text/html; charset="Windows-1251"')
    assert (await fetcher.fetch(url)).encoding == "cp1251"


# --- Redirects --------------------------------------------------------------------------------

async def test_five_redirects_are_followed(server: WebServer, fetcher: Fetcher) -> None:
    target = server.add("/chain5/end", PAGE.format("end of chain"))
    page = await fetcher.fetch(server.redirect_chain("/chain5", 5, to="/chain5/end"))
    assert page.final_url == target
    assert page.url == server.url("/chain5")


async def test_six_redirects_are_too_many(server: WebServer, fetcher: Fetcher) -> None:
    server.add("/chain6/end", PAGE.format("too far"))
    with pytest.raises(TooManyRedirects, match="more than 5 redirects"):
        await fetcher.fetch(server.redirect_chain("/chain6", 6, to="/chain6/end"))
    assert not server.requests_to("/chain6/end")


async def test_redirect_loop_is_refused(server: WebServer, fetcher: Fetcher) -> None:
    with pytest.raises(TooManyRedirects, match="loop"):
        await fetcher.fetch(server.redirect_loop("/loop"))


async def test_relative_redirect(server: WebServer, fetcher: Fetcher) -> None:
    target = server.add("/relative/target", PAGE.format("relative"))
    server.redirect("/relative/start/here", "../target", status=301)
    page = await fetcher.fetch(server.url("/relative/start/here"))
    assert page.final_url == target


async def test_cookie_set_on_redirect_is_sent_back_within_one_fetch(server: WebServer, fetcher: Fetcher) -> None:
    def consent_wall(exchange: Exchange) -> None:
        if "consent=yes" in exchange.request.headers.get("cookie", ""):
            body = PAGE.format("behind the wall").encode()
            exchange.start(200, {"Content-Type": "text/html", "Content-Length": str(len(body))})
            exchange.write(body)
        else:
            exchange.start(302, {"Location": "/wall", "Set-Cookie": "consent=yes; Path=/"})

    url = server.route("/wall", consent_wall)
    assert b"behind the wall" in (await fetcher.fetch(url)).body
    # The cookie belonged to that fetch only: the next one starts without it.
    await fetcher.fetch(url)
    assert [r.headers.get("cookie") for r in server.requests_to("/wall")] == [None, "consent=yes"] * 2


@pytest.mark.parametrize("location", ["ftp://127.0.0.2/file", "javascript:alert(1)", "file:///etc/passwd"])
async def test_redirect_to_another_scheme_is_refused(server: WebServer, fetcher: Fetcher, location: str) -> None:
    with pytest.raises(InvalidUrl):
        await fetcher.fetch(server.redirect(f"/scheme/{location.split(':')[0]}", location))


# --- The address guard ------------------------------------------------------------------------

BLOCKED_TARGETS = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://0.0.0.0:{port}/",
    "http://127.1:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f000001:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::1]:{port6}/",
    "http://10.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00::1]/",
    "http://100.100.100.200/",
]


@pytest.mark.parametrize("target", BLOCKED_TARGETS)
async def test_redirect_to_a_non_public_address_is_refused_without_connecting(
    server: WebServer,
    fetcher: Fetcher,
    recorder: ConnectionRecorder,
    recorder6: ConnectionRecorder,
    connects: list[str],
    target: str,
) -> None:
    location = target.format(port=recorder.port, port6=recorder6.port)
    start = server.redirect(f"/to-blocked/{BLOCKED_TARGETS.index(target)}", location)
    with pytest.raises(BlockedAddress, match=r"^refused: .+ (resolves to|is) an? .*address"):
        await fetcher.fetch(start)
    assert recorder.connections() == 0
    assert recorder6.connections() == 0
    assert set(connects) == {"127.0.0.2"}


@pytest.mark.parametrize("target", BLOCKED_TARGETS)
async def test_non_public_address_is_refused_without_connecting(
    fetcher: Fetcher, recorder: ConnectionRecorder, recorder6: ConnectionRecorder, connects: list[str], target: str
) -> None:
    with pytest.raises(BlockedAddress):
        await fetcher.fetch(target.format(port=recorder.port, port6=recorder6.port))
    assert recorder.connections() == 0
    assert recorder6.connections() == 0
    assert connects == []


async def test_octal_spelling_is_not_a_valid_url(fetcher: Fetcher, recorder: ConnectionRecorder) -> None:
    with pytest.raises(InvalidUrl):
        await fetcher.fetch(f"http://0177.0.0.1:{recorder.port}/")
    assert recorder.connections() == 0


async def test_the_test_server_itself_is_refused_without_an_allow_list(
    server: WebServer, settings: Settings, connects: list[str]
) -> None:
    url = server.add("/needs-allow-list", PAGE.format("allowed only in tests"))
    async with opened(settings, fetch_allow_networks=()) as fetcher:
        with pytest.raises(BlockedAddress, match=r"^refused: 127\.0\.0\.2 is a loopback address$"):
            await fetcher.fetch(url)
    assert connects == []
    assert not server.requests_to("/needs-allow-list")


async def test_connects_to_the_address_it_checked(
    server: WebServer, settings: Settings, recorder: ConnectionRecorder
) -> None:
    """DNS rebinding: the second answer (127.0.0.1) is never asked for, let alone used."""
    url = server.add("/rebind", PAGE.format("pinned"))
    answers = iter([["127.0.0.2"], ["127.0.0.1"], ["127.0.0.1"]])
    lookups: list[tuple[str, int]] = []

    async def rebinding_resolver(host: str, port: int) -> Sequence[str]:
        lookups.append((host, port))
        return next(answers)

    fetcher = Fetcher(settings, resolver=rebinding_resolver)
    try:
        page = await fetcher.fetch(url.replace("127.0.0.2", "news.example"))
    finally:
        await fetcher.aclose()
    assert b"pinned" in page.body
    assert lookups == [("news.example", server.port)]
    assert server.requests_to("/rebind")[-1].headers["host"] == f"news.example:{server.port}"
    assert recorder.connections() == 0


async def test_any_non_public_answer_refuses_the_host(settings: Settings, connects: list[str]) -> None:
    async def mixed_resolver(host: str, port: int) -> Sequence[str]:
        return ["93.184.215.14", "10.1.2.3"]

    fetcher = Fetcher(settings, resolver=mixed_resolver)
    try:
        refused = "refused: mixed.example resolves to a private address 10.1.2.3"
        with pytest.raises(BlockedAddress, match=re.escape(refused)):
            await fetcher.fetch("http://mixed.example/")
    finally:
        await fetcher.aclose()
    assert connects == []


async def test_unresolvable_host(settings: Settings) -> None:
    async def failing_resolver(host: str, port: int) -> Sequence[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    fetcher = Fetcher(settings, resolver=failing_resolver)
    try:
        with pytest.raises(NetworkError, match=re.escape("could not resolve host nowhere.example")):
            await fetcher.fetch("https://nowhere.example/news")
    finally:
        await fetcher.aclose()


@pytest.mark.parametrize("stall", ["sleeps", "times out itself"])
async def test_resolving_slower_than_the_connect_timeout(settings: Settings, stall: str) -> None:
    async def slow_resolver(host: str, port: int) -> Sequence[str]:
        if stall == "sleeps":
            await asyncio.sleep(10)
        raise TimeoutError  # a resolver's own deadline is a timeout, not an unknown host

    fetcher = Fetcher(dataclasses.replace(settings, fetch_connect_timeout=0.3), resolver=slow_resolver)
    try:
        with pytest.raises(TimedOut, match=re.escape("could not resolve host slow.example within 0.3 s")):
            await fetcher.fetch("https://slow.example/news")
    finally:
        await fetcher.aclose()


async def test_environment_proxy_is_ignored(
    server: WebServer, settings: Settings, recorder: ConnectionRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, recorder.url())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    url = server.add("/no-proxy", PAGE.format("direct"))
    async with opened(settings) as fetcher:
        assert b"direct" in (await fetcher.fetch(url)).body
    assert recorder.connections() == 0


# --- TLS: certificate and SNI checked against the name, connection made to the checked address ---

@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return certificates(tmp_path_factory.mktemp("tls"), "news.example")


@pytest.fixture(scope="module")
def tls_server(tls: Certificates) -> Iterator[WebServer]:
    with WebServer(tls=tls.server) as server:
        server.add("/secure", PAGE.format("over TLS"))
        yield server


async def to_test_server(host: str, port: int) -> Sequence[str]:
    return ["127.0.0.2"]


async def test_tls_is_verified_against_the_hostname(
    tls_server: WebServer, tls: Certificates, settings: Settings
) -> None:
    fetcher = Fetcher(settings, resolver=to_test_server, ssl_context=tls.client)
    try:
        page = await fetcher.fetch(f"https://news.example:{tls_server.port}/secure")
    finally:
        await fetcher.aclose()
    assert b"over TLS" in page.body
    assert tls.server_names[-1] == "news.example"
    assert tls_server.requests_to("/secure")[-1].headers["host"] == f"news.example:{tls_server.port}"


@pytest.mark.parametrize("host", ["other.example", "127.0.0.2"])
async def test_tls_certificate_for_another_name_is_refused(
    tls_server: WebServer, tls: Certificates, settings: Settings, host: str
) -> None:
    fetcher = Fetcher(settings, resolver=to_test_server, ssl_context=tls.client)
    try:
        with pytest.raises(NetworkError, match=f"the TLS certificate of {host} is not valid"):
            await fetcher.fetch(f"https://{host}:{tls_server.port}/secure")
    finally:
        await fetcher.aclose()


async def test_tls_certificate_from_an_unknown_ca_is_refused(tls_server: WebServer, settings: Settings) -> None:
    fetcher = Fetcher(settings, resolver=to_test_server)
    try:
        with pytest.raises(NetworkError, match=re.escape("the TLS certificate of news.example is not valid")):
            await fetcher.fetch(f"https://news.example:{tls_server.port}/secure")
    finally:
        await fetcher.aclose()


# --- Size, time and content limits ------------------------------------------------------------

async def test_declared_length_over_the_limit_is_refused_before_reading(server: WebServer, fetcher: Fetcher) -> None:
    url = server.huge("/huge/declared", 50_000_000)
    started = time.monotonic()
    with pytest.raises(TooLarge, match=re.escape("50.0 MB; the limit is 1 MB")):
        await fetcher.fetch(url)
    assert time.monotonic() - started < 1


async def test_streamed_body_over_the_limit_is_refused(server: WebServer, fetcher: Fetcher) -> None:
    with pytest.raises(TooLarge, match="larger than 1 MB"):
        await fetcher.fetch(server.huge("/huge/undeclared", 3_000_000, declare_length=False))


async def test_body_at_the_limit_is_accepted(server: WebServer, fetcher: Fetcher) -> None:
    page = await fetcher.fetch(server.huge("/huge/at-limit", 1_000_000, declare_length=False))
    assert len(page.body) == 1_000_000


async def test_gzip_bomb_is_stopped_at_the_limit(server: WebServer, fetcher: Fetcher) -> None:
    url = server.gzip_bomb("/bomb", 64_000_000)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(TooLarge, match="unpacks to more than 1 MB"):
            await fetcher.fetch(url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 2
    assert peak < 8_000_000


async def test_nested_gzip_bomb_is_unpacked_once_only(server: WebServer, fetcher: Fetcher) -> None:
    url = server.gzip_bomb("/bomb/nested", 64_000_000, layers=2)
    tracemalloc.start()
    try:
        with pytest.raises(UnsupportedContent, match="gzip data labelled text/html"):
            await fetcher.fetch(url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000


@pytest.mark.parametrize("encoding", ["gzip, gzip", "compress", "zstd", "br" if not BROTLI_SUPPORTED else "bzip2"])
async def test_unsupported_content_encoding(server: WebServer, fetcher: Fetcher, encoding: str) -> None:
    url = server.gzip_bomb(f"/bomb/{encoding.replace(', ', '-')}", 10_000, layers=2, content_encoding=encoding)
    with pytest.raises(UnsupportedContent, match="unsupported content encoding"):
        await fetcher.fetch(url)


async def test_corrupt_gzip(server: WebServer, fetcher: Fetcher) -> None:
    url = server.add("/corrupt-gzip", b"\x1f\x8b\x08\x00not gzip at all", headers={"Content-Encoding": "gzip"})
    with pytest.raises(NetworkError, match="gzip data is corrupt"):
        await fetcher.fetch(url)


async def test_slow_drip_hits_the_total_deadline(server: WebServer, settings: Settings) -> None:
    url = server.slow("/drip", interval=0.1)
    async with opened(settings, fetch_total_timeout=1.5, fetch_read_timeout=1.0) as fetcher:
        started = time.monotonic()
        with pytest.raises(TimedOut, match=r"^the page took longer than 1\.5 s$"):
            await fetcher.fetch(url)
    assert time.monotonic() - started < 3


async def test_server_that_never_answers_times_out(server: WebServer, settings: Settings) -> None:
    url = server.silent("/silent")
    async with opened(settings, fetch_read_timeout=0.5) as fetcher:
        started = time.monotonic()
        with pytest.raises(TimedOut, match=re.escape("sent nothing for 0.5 s")):
            await fetcher.fetch(url)
    assert time.monotonic() - started < 2


async def test_pdf_is_fetched_for_the_pdf_reader(server: WebServer, fetcher: Fetcher) -> None:
    body = b"%PDF-1.7\n" + bytes(2000)
    url = server.add("/report.pdf", body, content_type="application/pdf")
    page = await fetcher.fetch(url)
    assert page.body == body
    assert page.encoding is None  # a PDF has no charset; bot/pipeline/pdf.py reads it


async def test_pdf_is_not_a_feed(server: WebServer, fetcher: Fetcher) -> None:
    url = server.add("/report-feed.pdf", b"%PDF-1.7\n" + bytes(2000), content_type="application/pdf")
    with pytest.raises(UnsupportedContent, match=r"^unsupported content: application/pdf$"):
        await fetcher.fetch_feed(url)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "a PNG image"),
        (b"\xff\xd8\xff\xe0" + bytes(100), "a JPEG image"),
        (b"GIF89a" + bytes(100), "a GIF image"),
        (b"<html>" + b"\x00\x01\x02" * 100, "binary data"),
    ],
)
async def test_binary_labelled_as_html_is_unsupported(
    server: WebServer, fetcher: Fetcher, body: bytes, kind: str
) -> None:
    url = server.add(f"/binary/{kind.replace(' ', '-')}", body)
    with pytest.raises(UnsupportedContent, match=f"unsupported content: {kind} labelled text/html"):
        await fetcher.fetch(url)


async def test_untyped_non_html_is_unsupported(server: WebServer, fetcher: Fetcher) -> None:
    url = server.add("/untyped-text", "just some words, no markup", content_type=None)
    with pytest.raises(UnsupportedContent, match="no Content-Type"):
        await fetcher.fetch(url)


async def test_plain_text_is_unsupported(server: WebServer, fetcher: Fetcher) -> None:
    url = server.add("/notes.txt", "notes", content_type="text/plain; charset=utf-8")
    with pytest.raises(UnsupportedContent, match=r"^unsupported content: text/plain$"):
        await fetcher.fetch(url)


@pytest.mark.parametrize("status", [404, 410, 500, 503])
async def test_http_error_status(server: WebServer, fetcher: Fetcher, status: int) -> None:
    url = server.add(f"/status/{status}", PAGE.format("error"), status=status)
    with pytest.raises(HttpStatus) as caught:
        await fetcher.fetch(url)
    assert caught.value.reason == f"http_{status}"
    assert caught.value.status_code == status


async def test_missing_page_is_http_404(server: WebServer, fetcher: Fetcher) -> None:
    with pytest.raises(HttpStatus, match="HTTP 404") as caught:
        await fetcher.fetch(server.url("/no/such/page"))
    assert caught.value.reason == "http_404"


# --- Bad URLs and broken connections ----------------------------------------------------------

@pytest.mark.parametrize(
    "url", ["ftp://example.com/file", "javascript:alert(1)", "not a url", "http:///no-host", "", "mailto:a@b.c"]
)
async def test_invalid_url(fetcher: Fetcher, connects: list[str], url: str) -> None:
    with pytest.raises(InvalidUrl):
        await fetcher.fetch(url)
    assert connects == []


async def test_connection_refused(fetcher: Fetcher) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket closes
    with pytest.raises(NetworkError, match="refused the connection"):
        await fetcher.fetch(f"http://127.0.0.2:{port}/")


async def test_garbage_instead_of_http(server: WebServer, fetcher: Fetcher) -> None:
    def garbage(exchange: Exchange) -> None:
        exchange.write(b"\x00\x01 this is not HTTP\r\n\r\n")

    with pytest.raises(NetworkError, match="broke the HTTP protocol"):
        await fetcher.fetch(server.route("/garbage", garbage))

"""A real HTTP server for tests: canned pages and hostile behaviours, served from a background thread.

    with WebServer() as server:                      # 127.0.0.2, a free port
        url = server.add("/article", "<html>...</html>")
        server.redirect("/old", url)
        server.slow("/drip")                         # headers, then one byte every 0.1 s
        ...
        server.requests_to("/article")[0].headers["user-agent"]

`WebServer(tls=context)` serves HTTPS; `certificates(directory, "news.example")` makes a throwaway
CA and server certificate with the openssl command and returns both SSL contexts.

It binds 127.0.0.2 by default so that tests can allow exactly 127.0.0.2/32 in the fetcher and
still prove that 127.0.0.1 is refused. `ConnectionRecorder` is a listening socket that only counts
who connected: point a redirect at it and assert that nobody did.
"""

from __future__ import annotations

import functools
import select
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest

HTML = "text/html; charset=utf-8"

Behaviour = Callable[["Exchange"], None]
"""Serves one request: writes the status, headers and body through the Exchange."""


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    """Header names in lower case."""


@dataclass
class Exchange:
    """One request being served: what a Behaviour reads and writes."""

    handler: BaseHTTPRequestHandler
    stopping: threading.Event
    request: ReceivedRequest = field(init=False)

    def __post_init__(self) -> None:
        self.request = ReceivedRequest(
            method=self.handler.command,
            path=self.handler.path,
            headers={name.lower(): value for name, value in self.handler.headers.items()},
        )

    def start(self, status: int, headers: Mapping[str, str] | list[tuple[str, str]]) -> None:
        """Send the status line and headers."""
        self.handler.send_response(status)
        for name, value in headers.items() if isinstance(headers, Mapping) else headers:
            self.handler.send_header(name, value)
        self.handler.end_headers()

    def write(self, data: bytes) -> bool:
        """Send part of the body; False once the client has gone."""
        try:
            self.handler.wfile.write(data)
            self.handler.wfile.flush()
        except OSError:
            return False
        return True

    def client_gone(self, wait: float) -> bool:
        """Wait up to `wait` seconds; True if the client closed the connection (or the server stops)."""
        if self.stopping.is_set():
            return True
        connection = self.handler.connection
        readable, _, _ = select.select([connection], [], [], wait)
        if not readable:
            return self.stopping.is_set()
        if isinstance(connection, ssl.SSLSocket):
            return True  # cannot peek through TLS; an HTTP/1.0 client only sends again to close
        try:
            return connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


class WebServer:
    """A threaded HTTP/1.0 server on `host` (default 127.0.0.2) and a free port; routes by exact path.

    With `tls`, a server-side SSLContext, it speaks HTTPS instead.
    """

    def __init__(self, host: str = "127.0.0.2", port: int = 0, *, tls: ssl.SSLContext | None = None) -> None:
        self._routes: dict[str, Behaviour] = {}
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.requests: list[ReceivedRequest] = []
        self._server = _Server((host, port), _handler_class(self), tls)
        self.scheme = "https" if tls else "http"
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()  # also waits for every handler thread to finish

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # --- addresses and what was received ---------------------------------------------------

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def requests_to(self, path: str) -> list[ReceivedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    # --- routes ----------------------------------------------------------------------------

    def route(self, path: str, behaviour: Behaviour) -> str:
        """Serve `path` with any behaviour; returns its URL."""
        self._routes[path] = behaviour
        return self.url(path)

    def add(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        content_type: str | None = HTML,
        headers: Mapping[str, str] | None = None,
        content_length: bool = True,
    ) -> str:
        """A canned response. str bodies are sent as UTF-8; `content_type=None` sends no Content-Type."""
        data = body.encode() if isinstance(body, str) else body
        all_headers = [("Content-Type", content_type)] if content_type is not None else []
        if content_length:
            all_headers.append(("Content-Length", str(len(data))))
        all_headers += list((headers or {}).items())

        def canned(exchange: Exchange) -> None:
            exchange.start(status, all_headers)
            exchange.write(data)

        return self.route(path, canned)

    def delayed(self, path: str, body: bytes | str, delay: float, *, content_type: str = HTML) -> str:
        """A page that answers only after `delay` seconds: work that takes time, not a hostile server."""
        data = body.encode() if isinstance(body, str) else body

        def wait_then_answer(exchange: Exchange) -> None:
            time.sleep(delay)
            exchange.start(200, {"Content-Type": content_type, "Content-Length": str(len(data))})
            exchange.write(data)

        return self.route(path, wait_then_answer)

    def redirect(self, path: str, location: str, *, status: int = 302, headers: Mapping[str, str] | None = None) -> str:
        """`path` answers `status` with Location: `location` (absolute or relative)."""
        return self.add(path, b"", status=status, content_type=None, headers={"Location": location, **(headers or {})})

    def redirect_chain(self, path: str, hops: int, *, to: str) -> str:
        """`hops` redirects: path -> path/1 -> ... -> path/(hops-1) -> `to`. Returns the first URL."""
        steps = [path] + [f"{path}/{n}" for n in range(1, hops)]
        for here, there in zip(steps, [*steps[1:], to], strict=True):
            self.redirect(here, there)
        return self.url(path)

    def redirect_loop(self, path: str) -> str:
        """path -> path/again -> path -> ..."""
        self.redirect(path, f"{path}/again")
        self.redirect(f"{path}/again", path)
        return self.url(path)

    def slow(self, path: str, *, interval: float = 0.1, give_up_after: float = 30.0) -> str:
        """Headers at once, then a body of one byte every `interval` seconds: no read timeout ever fires."""

        def drip(exchange: Exchange) -> None:
            exchange.start(200, {"Content-Type": HTML})
            deadline = time.monotonic() + give_up_after
            if not exchange.write(b"<html><body>"):
                return
            while time.monotonic() < deadline and not exchange.client_gone(interval):
                if not exchange.write(b"."):
                    return

        return self.route(path, drip)

    def silent(self, path: str, *, give_up_after: float = 30.0) -> str:
        """Reads the request and never sends a status line or headers."""

        def never_answer(exchange: Exchange) -> None:
            deadline = time.monotonic() + give_up_after
            while time.monotonic() < deadline and not exchange.client_gone(0.1):
                pass

        return self.route(path, never_answer)

    def huge(self, path: str, size: int, *, declare_length: bool = True) -> str:
        """An HTML page of `size` bytes, sent in 64 KB pieces, with or without Content-Length."""

        def stream(exchange: Exchange) -> None:
            headers = {"Content-Type": HTML}
            if declare_length:
                headers["Content-Length"] = str(size)
            exchange.start(200, headers)
            piece = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
            sent = 0
            while sent < size and not exchange.stopping.is_set():
                part = piece[: size - sent]
                if not exchange.write(part):
                    return
                sent += len(part)

        return self.route(path, stream)

    def gzip_bomb(
        self, path: str, unpacked_size: int = 64_000_000, *, layers: int = 1, content_encoding: str = "gzip"
    ) -> str:
        """`unpacked_size` zero bytes, gzipped `layers` times, labelled text/html and `content_encoding`."""
        body = gzip_zeros(unpacked_size, layers)
        return self.add(path, body, headers={"Content-Encoding": content_encoding})

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        exchange = Exchange(handler, self._stopping)
        with self._lock:
            self.requests.append(exchange.request)
        path = handler.path
        behaviour = self._routes.get(path) or self._routes.get(path.partition("?")[0], _not_found)
        behaviour(exchange)


def _not_found(exchange: Exchange) -> None:
    body = b"<html><body><h1>Not found</h1></body></html>"
    exchange.start(404, {"Content-Type": HTML, "Content-Length": str(len(body))})
    exchange.write(body)


@functools.cache
def gzip_zeros(size: int, layers: int = 1) -> bytes:
    """`size` zero bytes gzipped `layers` times; cached, since a big one takes a moment to build."""
    data: bytes | None = None
    for _ in range(layers):
        packer = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        if data is None:
            megabyte = bytes(1_000_000)
            parts = [packer.compress(megabyte) for _ in range(size // len(megabyte))]
            parts.append(packer.compress(bytes(size % len(megabyte))))
        else:
            parts = [packer.compress(data)]
        parts.append(packer.flush())
        data = b"".join(parts)
    assert data is not None
    return data


class ConnectionRecorder:
    """A listening socket that never answers; `connections()` counts the clients that connected.

    The kernel completes the TCP handshake into the backlog, so every connection attempt is
    counted even though nothing ever calls accept() while the test runs.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.bind((host, 0))
        self._socket.listen(64)
        self._socket.setblocking(False)
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self._count = 0

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def connections(self) -> int:
        while True:
            try:
                connection, _ = self._socket.accept()
            except BlockingIOError:
                return self._count
            connection.close()
            self._count += 1

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


@dataclass(frozen=True)
class Certificates:
    server: ssl.SSLContext
    """For WebServer(tls=...): presents a certificate for the given host names."""
    client: ssl.SSLContext
    """Trusts only the throwaway CA that signed it."""
    server_names: list[str]
    """The SNI names clients sent, in order."""


def certificates(directory: Path, *hostnames: str) -> Certificates:
    """A throwaway CA and a certificate for `hostnames`, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make test certificates")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Newsdesk test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    openssl("req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={hostnames[0]}")
    (directory / "server.ext").write_text("subjectAltName=" + ",".join(f"DNS:{name}" for name in hostnames) + "\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
    server_names: list[str] = []
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(directory / "server.pem", directory / "server.key")

    def remember_name(connection: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        server_names.append(name or "")

    server.sni_callback = remember_name
    client = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    return Certificates(server=server, client=client, server_names=server_names)


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins handler threads, so nothing outlives stop()
    block_on_close = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.tls = tls
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        if self.tls is not None:
            # The handshake happens on the first read, in the handler's thread, not in the accept loop.
            connection = self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's full name, which may wait on DNS; skip that.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-response is the point of several routes; anything else is a bug.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _handler_class(server: WebServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"
        timeout = 10  # a client that connects and never sends a request cannot hold a thread

        def do_GET(self) -> None:
            server._serve(self)

        do_POST = do_HEAD = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


# --- Hostile behaviours added for tests/test_hostile.py -----------------------------------------

@functools.cache
def gzip_html_bomb(unpacked_size: int, *, block_size: int = 1_000_000) -> bytes:
    """One valid gzip stream of an HTML page padded with spaces to `unpacked_size` bytes.

    Built in well under a second even for gigabytes: after a full flush deflate forgets its
    window, so every full-flushed block of spaces compresses to the same bytes; the stream is
    one such segment repeated, with the CRC and length of the whole page in the trailer.
    """
    opening, closing = b"<!doctype html><html><head><title>Bomb</title></head><body><p>", b"</p></body></html>"
    block = b" " * block_size
    blocks, rest = divmod(unpacked_size - len(opening) - len(closing), block_size)
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    head = packer.compress(opening) + packer.flush(zlib.Z_FULL_FLUSH)
    segment = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    assert segment == again, "deflate did not repeat itself after a full flush"
    tail = packer.compress(b" " * rest + closing) + packer.flush()
    crc = zlib.crc32(opening)
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(b" " * rest + closing, crc)
    trailer = crc.to_bytes(4, "little") + (unpacked_size & 0xFFFF_FFFF).to_bytes(4, "little")
    return head + segment * blocks + tail[:-8] + trailer


def serve_html_bomb(server: WebServer, path: str, unpacked_size: int = 2_000_000_000) -> str:
    """`path` serves `gzip_html_bomb(unpacked_size)` as text/html with Content-Encoding: gzip."""
    return server.add(path, gzip_html_bomb(unpacked_size), headers={"Content-Encoding": "gzip"})


def serve_endless_headers(server: WebServer, path: str, *, give_up_after: float = 15.0) -> str:
    """`path` sends a status line, then header lines for ever (until the client hangs up)."""

    def endless(exchange: Exchange) -> None:
        deadline = time.monotonic() + give_up_after
        line = b"X-Padding: " + b"a" * 1000 + b"\r\n"
        if not exchange.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n"):
            return
        while time.monotonic() < deadline and not exchange.stopping.is_set():
            if not exchange.write(line):
                return

    return server.route(path, endless)

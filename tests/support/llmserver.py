"""A fake OpenAI-compatible chat-completions endpoint for tests, served from a background thread.

    with LlmServer() as server:                      # 127.0.0.1, a free port
        LlmSummariser(base_url=server.base_url, model="test-model", ...)
        server.then("rate_limited", times=2)         # the next two requests get 429, then normal
        server.always("english")                     # every request from now on
        server.delay = 0.2                           # seconds before each answer
        server.requests[0].headers["authorization"], server.requests[0].body["model"]
        server.max_in_flight                         # most requests ever served at once

Answers are deterministic: a Ukrainian brief built from the first word of the article's title,
with `usage` (unless `server.usage = False`). Behaviours, by name:

    ukrainian      200, a valid Ukrainian brief (the default)
    english        200, a valid English brief
    russian        200, a brief in Russian
    malformed      200, content that is not JSON
    oversize       200, a Ukrainian brief with a summary far over the limit
    empty          200, empty content
    rate_limited   429 with Retry-After: `server.retry_after`
    error          500
    unauthorized   401
    hang           reads the request and never answers (until the client gives up)
"""

from __future__ import annotations

import json
import select
import socket
import socketserver
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

PATH = "/v1/chat/completions"
BEHAVIOURS = frozenset(
    "ukrainian english russian malformed oversize empty rate_limited error unauthorized hang".split()
)


@dataclass(frozen=True)
class ChatRequest:
    path: str
    headers: dict[str, str]
    """Header names in lower case."""
    body: dict[str, Any]

    @property
    def article(self) -> str:
        """The user message: the article as it was sent."""
        return next((m["content"] for m in self.body.get("messages", []) if m.get("role") == "user"), "")


def ukrainian_brief(word: str) -> dict[str, str]:
    return {
        "title": f"{word}: що відомо",
        "summary": (
            f"За словами автора, тема «{word}» цього тижня опинилася в центрі уваги. "
            "Як пише видання, ситуація швидко змінюється. "
            "Аналітики, яких цитує стаття, вважають, що наслідки стануть відчутні незабаром."
        ),
    }


def english_brief(word: str) -> dict[str, str]:
    return {
        "title": f"{word}: what is known",
        "summary": (
            f"According to the author, {word} drew attention this week. "
            "The outlet reports that the situation is changing quickly. "
            "Analysts quoted in the article expect the consequences to be felt soon."
        ),
    }


def russian_brief(word: str) -> dict[str, str]:
    return {
        "title": f"{word}: что известно",
        "summary": (
            f"По словам автора, тема «{word}» на этой неделе оказалась в центре внимания. "
            "Как пишет издание, ситуация быстро меняется. "
            "Аналитики считают, что последствия будут ощутимы уже скоро."
        ),
    }


class LlmServer:
    """A threaded HTTP server answering POST /v1/chat/completions as a scripted model would."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[ChatRequest] = []
        self.delay = 0.0
        self.retry_after: float = 1
        self.usage = True
        self.tokens_per_reply = 100
        self.max_in_flight = 0
        self._in_flight = 0
        self._default = "ukrainian"
        self._plan: deque[str] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server((host, 0), _handler_class(self))
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def then(self, behaviour: str, *, times: int = 1) -> None:
        """Answer the next `times` requests (after any already planned) with `behaviour`."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        with self._lock:
            self._plan.extend([behaviour] * times)

    def always(self, behaviour: str) -> None:
        """Answer every request not otherwise planned with `behaviour`."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        self._default = behaviour

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()  # waits for every handler thread

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # --- serving ---------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        request = ChatRequest(handler.path, {k.lower(): v for k, v in handler.headers.items()}, body)
        with self._lock:
            self.requests.append(request)
            behaviour = self._plan.popleft() if self._plan else self._default
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if handler.path != PATH or handler.command != "POST":
                _send(handler, 404, {"error": {"message": "not found"}})
                return
            if self.delay:
                self._stopping.wait(self.delay)
            self._answer(handler, request, behaviour)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, handler: BaseHTTPRequestHandler, request: ChatRequest, behaviour: str) -> None:
        if behaviour == "hang":
            _wait_for_client_to_leave(handler.connection, self._stopping)
            return
        if behaviour == "rate_limited":
            _send(handler, 429, {"error": {"message": "slow down"}}, {"Retry-After": f"{self.retry_after:g}"})
            return
        if behaviour in ("error", "unauthorized"):
            status = 500 if behaviour == "error" else 401
            _send(handler, status, {"error": {"message": behaviour}})
            return
        word = _first_word_of_title(request.article)
        content = {
            "ukrainian": lambda: json.dumps(ukrainian_brief(word), ensure_ascii=False),
            "english": lambda: json.dumps(english_brief(word)),
            "russian": lambda: json.dumps(russian_brief(word), ensure_ascii=False),
            "malformed": lambda: '{"title": "Незакрите, "summary": ',
            "oversize": lambda: json.dumps(
                {"title": ukrainian_brief(word)["title"], "summary": ukrainian_brief(word)["summary"] * 20},
                ensure_ascii=False,
            ),
            "empty": lambda: "",
        }[behaviour]()
        reply: dict[str, Any] = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 1_767_225_600,
            "model": request.body.get("model", ""),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
        }
        if self.usage:
            prompt = self.tokens_per_reply // 2
            reply["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": self.tokens_per_reply - prompt,
                "total_tokens": self.tokens_per_reply,
            }
        _send(handler, 200, reply)


def _first_word_of_title(article: str) -> str:
    for line in article.splitlines():
        if line.startswith("Title:"):
            words = line.removeprefix("Title:").split()
            return words[0] if words else "стаття"
    return "стаття"


def _send(
    handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
    except OSError:
        pass  # the client gave up first


def _wait_for_client_to_leave(connection: socket.socket, stopping: threading.Event, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not stopping.is_set():
        readable, _, _ = select.select([connection], [], [], 0.05)
        if readable:
            try:
                if connection.recv(1, socket.MSG_PEEK) == b"":
                    return
            except OSError:
                return


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins handler threads, so nothing outlives stop()
    block_on_close = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's full name, which may wait on DNS; skip that.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up mid-request is the point of some behaviours


def _handler_class(server: LlmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"
        timeout = 10  # a client that connects and never sends a request cannot hold a thread

        def do_POST(self) -> None:
            server._serve(self)

        do_GET = do_POST

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler

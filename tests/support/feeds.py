"""Feeds for tests, written here (RSS 2.0, Atom with relative links, JSON Feed, OPML, hostile
ones), and `LiveFeed`: a feed on the test WebServer that changes between polls and answers
conditional requests as a careful server does.

    feed = LiveFeed(web, "/feeds/desk.xml")              # RSS; "atom" and "json" too
    feed.publish(Entry("e1", web.url("/a/1"), "Title"))  # the next poll sees it
    feed.statuses                                        # [200, 304, 200, ...] as served
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from tests.support.webserver import Exchange, WebServer

BASE_TIME = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    id: str
    link: str | None
    title: str
    summary: str = ""
    author: str | None = None
    published: datetime = BASE_TIME


def rss(entries: list[Entry], *, title: str = "Example feed", site: str = "https://news.example/") -> bytes:
    items = []
    for entry in entries:
        parts = [f"<title>{html.escape(entry.title)}</title>", f"<guid isPermaLink=\"false\">{html.escape(entry.id)}</guid>",
                 f"<pubDate>{format_datetime(entry.published, usegmt=True)}</pubDate>"]
        if entry.link:
            parts.append(f"<link>{html.escape(entry.link)}</link>")
        if entry.summary:
            parts.append(f"<description>{html.escape(entry.summary)}</description>")
        if entry.author:
            parts.append(f"<dc:creator>{html.escape(entry.author)}</dc:creator>")
        items.append("<item>" + "".join(parts) + "</item>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>{html.escape(title)}</title><link>{html.escape(site)}</link><description>Test</description>"
            + "".join(items) + "</channel></rss>").encode()


def atom(entries: list[Entry], *, title: str = "Example Atom feed", base: str | None = None) -> bytes:
    """Atom 1.0; links are written as given (relative ones too), with xml:base when `base` is set."""
    base_attribute = f' xml:base="{html.escape(base)}"' if base else ""
    items = []
    for entry in entries:
        link = f'<link rel="alternate" href="{html.escape(entry.link)}"/>' if entry.link else ""
        author = f"<author><name>{html.escape(entry.author)}</name></author>" if entry.author else ""
        summary = f'<summary type="html">{html.escape(entry.summary)}</summary>' if entry.summary else ""
        items.append(f"<entry><id>{html.escape(entry.id)}</id><title>{html.escape(entry.title)}</title>{link}"
                     f"<updated>{entry.published.isoformat()}</updated>{author}{summary}</entry>")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom"{base_attribute}><title>{html.escape(title)}</title>'
            f"<id>urn:test:{hashlib.sha256(title.encode()).hexdigest()[:8]}</id>"
            f"<updated>{BASE_TIME.isoformat()}</updated>" + "".join(items) + "</feed>").encode()


def json_feed(entries: list[Entry], *, title: str = "Example JSON feed") -> bytes:
    items = []
    for entry in entries:
        item: dict[str, object] = {"id": entry.id, "title": entry.title, "date_published": entry.published.isoformat()}
        if entry.link:
            item["url"] = entry.link
        if entry.summary:
            item["content_text"] = entry.summary
        if entry.author:
            item["authors"] = [{"name": entry.author}]
        items.append(item)
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": title,
                       "home_page_url": "https://news.example/", "items": items}, ensure_ascii=False).encode()


RENDERERS = {"rss": (rss, "application/rss+xml; charset=utf-8"), "atom": (atom, "application/atom+xml"),
             "json": (json_feed, "application/feed+json")}


def billion_laughs() -> bytes:
    """The entity bomb: ten nested levels of ten references, 10^9 "lol"s if expanded."""
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{"".join(f"&lol{n - 1};" for _ in range(10))}">' for n in range(1, 10)]
    return ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(levels) + "\n]>\n"
            '<rss version="2.0"><channel><title>&lol9;</title><link>https://bomb.example/</link>'
            "<item><title>&lol9;</title><guid>bomb-1</guid><link>https://bomb.example/1</link></item>"
            "</channel></rss>").encode()


def external_entity(path: str) -> bytes:
    """A feed that asks the parser to read a local file into its title (XXE)."""
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY secret SYSTEM "file://{path}">]>\n'
            '<rss version="2.0"><channel><title>&secret;</title><link>https://x.example/</link>'
            "<item><title>&secret;</title><guid>xxe-1</guid><link>https://x.example/1</link></item>"
            "</channel></rss>").encode()


def many_entries(count: int, link: str, *, prefix: str = "flood") -> list[Entry]:
    """`count` short entries, newest first, their links `link` + number."""
    return [Entry(f"{prefix}-{n}", f"{link}{n}", f"Flood entry {n}", published=BASE_TIME - timedelta(minutes=n))
            for n in range(count)]


def site_page(alternates: list[tuple[str, str, str]]) -> str:
    """An HTML page naming feeds with <link rel="alternate" type=... href=... title=...>."""
    links = "".join(f'<link rel="alternate" type="{kind}" href="{html.escape(href)}" title="{html.escape(title)}">'
                    for kind, href, title in alternates)
    return (f"<!doctype html><html><head><title>Example News</title>{links}"
            '<link rel="stylesheet" href="/style.css"></head><body><h1>Example News</h1></body></html>')


def opml(feeds: list[tuple[str, str]], *, nested: bool = True) -> bytes:
    outlines = "".join(f'<outline type="rss" text="{html.escape(title)}" xmlUrl="{html.escape(url)}"/>'
                       for url, title in feeds)
    body = f'<outline text="News">{outlines}</outline>' if nested else outlines
    return (f'<?xml version="1.0"?><opml version="2.0"><head><title>Feeds</title></head><body>{body}</body></opml>'
            ).encode()


@dataclass
class LiveFeed:
    """A feed served at `path` that changes when told to; answers If-None-Match and
    If-Modified-Since with 304 while nothing changed (only those validators listed in `validators`)."""

    server: WebServer
    path: str
    kind: str = "rss"
    title: str = "Example feed"
    validators: tuple[str, ...] = ("etag", "last-modified")
    entries: list[Entry] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    status: int = 200
    """What it answers when it does not answer 304: 500 makes it a failing feed."""
    changed_at: datetime = BASE_TIME
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server.route(self.path, self._serve)

    @property
    def url(self) -> str:
        return self.server.url(self.path)

    def publish(self, *entries: Entry) -> None:
        """New entries on top (newest first), as a site publishes them."""
        with self._lock:
            self.entries[:0] = list(entries)
            self.changed_at += timedelta(minutes=1)

    def replace(self, entries: list[Entry]) -> None:
        with self._lock:
            self.entries = list(entries)
            self.changed_at += timedelta(minutes=1)

    def body(self) -> bytes:
        render, _ = RENDERERS[self.kind]
        return render(self.entries, title=self.title)

    def _serve(self, exchange: Exchange) -> None:
        with self._lock:
            body = self.body()
            changed_at = self.changed_at
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        last_modified = format_datetime(changed_at, usegmt=True)
        asked = exchange.request.headers
        unchanged = ("etag" in self.validators and asked.get("if-none-match") == etag) or (
            "last-modified" in self.validators and "if-none-match" not in asked
            and asked.get("if-modified-since") == last_modified)
        headers = {}
        if "etag" in self.validators:
            headers["ETag"] = etag
        if "last-modified" in self.validators:
            headers["Last-Modified"] = last_modified
        if self.status == 200 and unchanged:
            self.statuses.append(304)
            exchange.start(304, headers)
            return
        self.statuses.append(self.status)
        if self.status != 200:
            exchange.start(self.status, {"Content-Type": "text/plain", "Content-Length": "5"})
            exchange.write(b"error")
            return
        _, content_type = RENDERERS[self.kind]
        exchange.start(200, {"Content-Type": content_type, "Content-Length": str(len(body)), **headers})
        exchange.write(body)

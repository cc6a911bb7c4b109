"""Reading feeds: a fetched document as a feed (RSS 0.9x/1.0/2.0, Atom, JSON Feed) or as a site
page naming its feeds, and OPML lists of feeds in and out. Pure functions over bytes and strings.

RSS and Atom are read by feedparser, with its defaults: HTML in entries sanitised, relative links
resolved against the feed's address, and no DTD loaded: entity declarations that refer to other
entities are dropped before parsing, so an entity bomb expands to nothing (see tests/test_feeds.py).
It is always handed a byte stream: given bytes or a string, feedparser would try them as a file
name or a URL first. JSON Feed, which this feedparser does not read, is plain JSON mapped here.
OPML is parsed by lxml with entity resolution and network access off.

`read_document` is what the worker pool runs (parsing a large feed is CPU-heavy).
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin
from xml.sax.saxutils import quoteattr

import feedparser
import lxml.etree
import lxml.html
from dateutil import parser as date_parser

TITLE_LIMIT, SUMMARY_LIMIT, AUTHOR_LIMIT, KEY_LIMIT = 1000, 2000, 200, 400
FEED_LINK_TYPES = {
    "application/rss+xml": "RSS",
    "application/atom+xml": "Atom",
    "application/rdf+xml": "RSS",
    "application/feed+json": "JSON Feed",
    "application/json": "JSON Feed",
    "application/x.atom+xml": "Atom",
    "text/xml": "RSS",
}
JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/")


class NotAFeed(ValueError):
    """The document is neither a feed nor a page that names one; str() says what it is."""


class FeedTooCostly(Exception):
    """Reading the feed passed the worker's deadline or memory limit."""


@dataclass(frozen=True)
class FeedEntry:
    key: str
    """The entry's id, or its link when it has none: what makes it the same entry next time."""
    link: str | None
    title: str | None = None
    summary: str | None = None
    """Plain text."""
    author: str | None = None
    published: datetime | None = None


@dataclass(frozen=True)
class ParsedFeed:
    format: str
    """"rss20", "atom10", "json1", ... (feedparser's names, and "json" for JSON Feed)."""
    title: str | None
    site_url: str | None
    entries: tuple[FeedEntry, ...]
    """Newest first when every entry is dated; otherwise in the feed's own order (newest first by custom)."""


@dataclass(frozen=True)
class Alternate:
    """A feed a site page names with <link rel="alternate">."""

    url: str
    title: str | None
    kind: str


@dataclass(frozen=True)
class Document:
    """What a fetched address turned out to be: a feed, or a page naming feeds (`alternates`)."""

    feed: ParsedFeed | None = None
    alternates: tuple[Alternate, ...] = ()


def read_document(body: bytes, url: str, content_type: str = "") -> Document:
    """A fetched document as a feed, or the feeds the page names; NotAFeed if it is neither."""
    start = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith((b"{", b"[")) or "json" in content_type.lower():
        return Document(feed=parse_json_feed(body, url))
    parsed = parse_feed(body, url, content_type)
    if parsed is not None:
        return Document(feed=parsed)
    alternates = find_alternates(body, url)
    if alternates:
        return Document(alternates=tuple(alternates))
    raise NotAFeed("neither a feed nor a page that names one")


def parse_feed(body: bytes, url: str, content_type: str = "") -> ParsedFeed | None:
    """An RSS, RDF or Atom feed read by feedparser; None when the document is not one."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    result = feedparser.parse(io.BytesIO(body), response_headers=headers)
    version = result.get("version") or ""
    if not version and not result.entries:
        return None
    if result.get("bozo") and not result.entries:
        raise NotAFeed(f"the feed is malformed ({result.get('bozo_exception') or 'unreadable'})")
    channel = result.feed
    entries = []
    for entry in result.entries:
        made = _entry(entry, url)
        if made is not None:
            entries.append(made)
    return ParsedFeed(format=version or "unknown", title=_text(channel.get("title"), TITLE_LIMIT),
                      site_url=_absolute(channel.get("link"), url), entries=_newest_first(entries))


def _entry(entry: Mapping[str, Any], base: str) -> FeedEntry | None:
    link = _absolute(entry.get("link"), base)
    identifier = (entry.get("id") or "").strip()
    if link is None and identifier.startswith(("http://", "https://")):
        link = identifier  # an RSS guid that is its permalink
    title = _text(entry.get("title"), TITLE_LIMIT)
    key = identifier or link or title
    if not key:
        return None
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    published = datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None
    return FeedEntry(key=_key(key), link=link, title=title, summary=_text(entry.get("summary"), SUMMARY_LIMIT),
                     author=_text(entry.get("author"), AUTHOR_LIMIT), published=published)


def parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    """A JSON Feed (version 1 or 1.1); NotAFeed if it is not one."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise NotAFeed(f"not valid JSON ({type(error).__name__})") from None
    if not isinstance(data, dict) or not JSON_FEED_VERSION.match(str(data.get("version", ""))) \
            or not isinstance(data.get("items"), list):
        raise NotAFeed("JSON, but not a JSON Feed")
    entries = []
    for item in data["items"]:
        if not isinstance(item, dict):
            continue
        link = _absolute(_string(item.get("url")) or _string(item.get("external_url")), url)
        identifier = _string(item.get("id"))
        title = _text(_string(item.get("title")), TITLE_LIMIT)
        key = identifier or link or title
        if not key:
            continue
        summary = _string(item.get("summary")) or _string(item.get("content_text")) or \
            _string(item.get("content_html"))
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        names = [_string(a.get("name")) for a in authors if isinstance(a, dict)]
        entries.append(FeedEntry(
            key=_key(key), link=link, title=title, summary=_text(summary, SUMMARY_LIMIT),
            author=_text(", ".join(name for name in names if name), AUTHOR_LIMIT),
            published=_json_date(_string(item.get("date_published")) or _string(item.get("date_modified"))),
        ))
    return ParsedFeed(format="json", title=_text(_string(data.get("title")), TITLE_LIMIT),
                      site_url=_absolute(_string(data.get("home_page_url")), url), entries=_newest_first(entries))


def find_alternates(body: bytes, url: str) -> list[Alternate]:
    """The feeds an HTML page names in <link rel="alternate" type="...">, in the page's order."""
    try:
        page = lxml.html.fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return []
    base = url
    for element in page.iter("base"):
        if element.get("href"):
            base = _absolute(element.get("href"), url) or url
            break
    found: list[Alternate] = []
    for link in page.iter("link"):
        if not link.get("href"):
            continue
        relations = (link.get("rel") or "").lower().split()
        kind = FEED_LINK_TYPES.get((link.get("type") or "").split(";")[0].strip().lower())
        if "alternate" not in relations or kind is None:
            continue
        target = _absolute(link.get("href"), base)
        if target and all(a.url != target for a in found):
            found.append(Alternate(target, _text(link.get("title"), TITLE_LIMIT), kind))
    return found


# -- OPML ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str | None = None
    site_url: str | None = None


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Every outline with an xmlUrl, nested folders included; NotAFeed if the file is not OPML."""
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = lxml.etree.fromstring(data, parser)
    except lxml.etree.XMLSyntaxError as error:
        raise NotAFeed(f"not an OPML file: {error}") from None
    if root.tag != "opml":
        raise NotAFeed(f"not an OPML file (its root is <{root.tag}>)")
    feeds: list[OpmlFeed] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url and all(feed.url != url for feed in feeds):
            feeds.append(OpmlFeed(url, _text(outline.get("title") or outline.get("text"), TITLE_LIMIT),
                                  (outline.get("htmlUrl") or "").strip() or None))
    return feeds


def write_opml(feeds: Iterable[OpmlFeed], *, title: str) -> str:
    """An OPML 2.0 subscription list, as every feed reader imports."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<opml version="2.0">',
             f"  <head><title>{_xml_text(title)}</title></head>", "  <body>"]
    for feed in feeds:
        name = quoteattr(_xml_safe(feed.title or feed.url))
        site = f" htmlUrl={quoteattr(_xml_safe(feed.site_url))}" if feed.site_url else ""
        address = quoteattr(_xml_safe(feed.url))
        lines.append(f'    <outline type="rss" text={name} title={name} xmlUrl={address}{site}/>')
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


# -- helpers ---------------------------------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(value: str) -> str:
    return _XML_INVALID.sub("", value)


def _xml_text(value: str) -> str:
    return _xml_safe(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _newest_first(entries: Sequence[FeedEntry]) -> tuple[FeedEntry, ...]:
    if entries and all(entry.published for entry in entries):
        return tuple(sorted(entries, key=lambda entry: entry.published or datetime.min, reverse=True))
    return tuple(entries)


def _key(value: str) -> str:
    """An entry key of bounded size: long ones are replaced by their hash."""
    value = value.strip()
    return value if len(value) <= KEY_LIMIT else "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _absolute(href: object, base: str) -> str | None:
    if not isinstance(href, str) or not href.strip():
        return None
    try:
        return urljoin(base, href.strip())
    except ValueError:
        return None


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


_TAGS = re.compile(r"<[^>]*>")


def _text(value: object, limit: int) -> str | None:
    """Plain text of a (possibly HTML) value, whitespace collapsed, at most `limit` characters."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value
    if "<" in value:
        try:
            text = lxml.html.fragment_fromstring(value, create_parent="div").text_content()
        except (lxml.etree.ParserError, ValueError):
            text = _TAGS.sub(" ", value)
    text = " ".join(text.split())
    return (text[: limit - 1] + "…" if len(text) > limit else text) or None


def _json_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = date_parser.isoparse(value)
    except (ValueError, OverflowError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

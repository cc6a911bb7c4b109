"""bot/pipeline/feeds.py: feeds, site pages and OPML read from bytes, hostile ones included."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.pipeline.feeds import (
    KEY_LIMIT,
    NotAFeed,
    OpmlFeed,
    find_alternates,
    parse_json_feed,
    parse_opml,
    read_document,
    write_opml,
)
from tests.support import feeds
from tests.support.feeds import BASE_TIME, Entry

ENTRIES = [
    Entry("urn:1", "https://news.example/a/1", "Grain deal & the Black Sea", "<p>Ships <b>sailed</b> on Monday.</p>",
          "Maria Kovalenko", BASE_TIME),
    Entry("urn:2", "https://news.example/a/2", "Енергетика: м’ясо і хліб", "Текст", "Олена", datetime(2026, 11, 21, tzinfo=UTC)),
]


def test_rss_is_read_newest_first_with_plain_text_fields() -> None:
    document = read_document(feeds.rss(ENTRIES, title="Desk feed"), "https://news.example/rss.xml",
                             "application/rss+xml")
    assert document.feed is not None and document.alternates == ()
    parsed = document.feed
    assert parsed.format == "rss20" and parsed.title == "Desk feed" and parsed.site_url == "https://news.example/"
    first, second = parsed.entries
    assert first.key == "urn:2" and first.title == "Енергетика: м’ясо і хліб"  # the newer one first
    assert second.title == "Grain deal & the Black Sea" and second.summary == "Ships sailed on Monday."
    assert second.author == "Maria Kovalenko" and second.published == BASE_TIME
    assert second.link == "https://news.example/a/1"


def test_atom_relative_links_are_resolved_against_the_feed_and_its_base() -> None:
    entries = [Entry("tag:1", "2026/one.html", "One"), Entry("tag:2", "/top/two.html", "Two"),
               Entry("tag:3", "https://elsewhere.example/three", "Three")]
    parsed = read_document(feeds.atom(entries), "https://site.example/feeds/atom.xml").feed
    assert parsed is not None and parsed.format == "atom10"
    assert [e.link for e in parsed.entries] == ["https://site.example/feeds/2026/one.html",
                                                "https://site.example/top/two.html", "https://elsewhere.example/three"]
    based = read_document(feeds.atom(entries, base="/news/"), "https://site.example/feeds/atom.xml").feed
    assert based is not None and based.entries[0].link == "https://site.example/news/2026/one.html"


def test_json_feed() -> None:
    parsed = read_document(feeds.json_feed(ENTRIES), "https://news.example/feed.json", "application/feed+json").feed
    assert parsed is not None and parsed.format == "json" and parsed.title == "Example JSON feed"
    assert [e.key for e in parsed.entries] == ["urn:2", "urn:1"]
    assert parsed.entries[1].author == "Maria Kovalenko" and parsed.entries[1].published == BASE_TIME
    relative = parse_json_feed(b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": "x", "url": "/a"}]}',
                               "https://news.example/feed.json")
    assert relative.entries[0].link == "https://news.example/a"


@pytest.mark.parametrize("body", [
    b"", b"{", b'{"version": "x", "items": []}', b'{"version": "https://jsonfeed.org/version/1.1"}', b"[" * 100_000,
    b'{"version": "https://jsonfeed.org/version/1.1", "items": [1, "x", null, {"title": null}]}',
])
def test_bad_json_is_not_a_feed_or_has_no_entries(body: bytes) -> None:
    try:
        parsed = parse_json_feed(body, "https://x.example/f.json")
    except NotAFeed:
        return
    assert parsed.entries == ()


def test_billion_laughs_expands_nothing() -> None:
    started = time.perf_counter()
    document = read_document(feeds.billion_laughs(), "https://bomb.example/rss.xml", "application/rss+xml")
    assert time.perf_counter() - started < 5  # expanded, it would be 3 GB and never finish
    parsed = document.feed
    assert parsed is not None
    assert len(parsed.title or "") < 100 and all(len(e.title or "") < 100 for e in parsed.entries)
    assert "lollol" not in (parsed.title or "")


def test_external_entities_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    document = read_document(feeds.external_entity(str(secret)), "https://x.example/rss.xml")
    text = repr(document)
    assert "TOP-SECRET-CONTENT" not in text


def test_bytes_that_look_like_a_path_are_never_opened(tmp_path: Path) -> None:
    secret = tmp_path / "feed.xml"
    secret.write_bytes(feeds.rss(ENTRIES, title="A file on the bot's disk"))
    with pytest.raises(NotAFeed):
        read_document(str(secret).encode(), "https://x.example/feed", "text/plain")


def test_a_site_page_names_its_feeds_in_order() -> None:
    page = feeds.site_page([("application/rss+xml", "/rss.xml", "All news"),
                            ("application/atom+xml", "https://news.example/politics.atom", "Politics"),
                            ("application/rss+xml", "/rss.xml", "Duplicate"), ("text/css", "/x.css", "not a feed")])
    document = read_document(page.encode(), "https://news.example/world/", "text/html")
    assert document.feed is None
    assert [(a.url, a.title, a.kind) for a in document.alternates] == [
        ("https://news.example/rss.xml", "All news", "RSS"),
        ("https://news.example/politics.atom", "Politics", "Atom")]
    assert find_alternates(b"<html><head><base href='https://cdn.example/'><link rel='alternate' "
                           b"type='application/rss+xml' href='f.xml'></head></html>",
                           "https://news.example/")[0].url == "https://cdn.example/f.xml"


@pytest.mark.parametrize("body", [b"<html><body>No feeds here</body></html>", b"\x00\x01\x02", b"plain words",
                                  b"<rss><channel><title>broken", b"<?xml version='1.0'?><nothing/>"])
def test_documents_that_are_no_feed_say_so(body: bytes) -> None:
    try:
        document = read_document(body, "https://x.example/", "")
    except NotAFeed:
        return
    assert document.feed is not None and document.feed.entries == ()  # a feed with nothing in it


def test_entries_without_id_use_their_link_and_long_keys_are_hashed() -> None:
    long_id = "urn:" + "x" * 5000
    body = (b'<rss version="2.0"><channel><title>t</title>'
            b"<item><title>No id</title><link>https://x.example/only-link</link></item>"
            b"<item><title>Long</title><guid>" + long_id.encode() + b"</guid></item>"
            b"<item><description>no title, no link, no id</description></item></channel></rss>")
    parsed = read_document(body, "https://x.example/rss").feed
    assert parsed is not None
    keys = [e.key for e in parsed.entries]
    assert keys[0] == "https://x.example/only-link" and keys[1].startswith("sha256:") and len(keys) == 2
    assert all(len(key) <= KEY_LIMIT for key in keys)


def test_script_in_a_summary_is_dropped() -> None:
    entry = Entry("s", "https://x.example/s", "<script>alert(1)</script>Title", "<script>alert(2)</script><p>Body</p>")
    parsed = read_document(feeds.rss([entry]), "https://x.example/rss").feed
    assert parsed is not None
    assert "alert(2)" not in (parsed.entries[0].summary or "") and parsed.entries[0].summary == "Body"


def test_opml_round_trip_and_nested_folders() -> None:
    data = feeds.opml([("https://a.example/rss", "A & B"), ("https://b.example/atom", "Б — новини")])
    listed = parse_opml(data)
    assert listed == [OpmlFeed("https://a.example/rss", "A & B"), OpmlFeed("https://b.example/atom", "Б — новини")]
    written = write_opml([*listed, OpmlFeed('https://c.example/"x"<y>', "Quote \" and \x01 control")], title="Desk <1>")
    again = parse_opml(written.encode())
    assert [feed.url for feed in again] == ["https://a.example/rss", "https://b.example/atom", 'https://c.example/"x"<y>']


@pytest.mark.parametrize("data", [b"", b"not xml", b"<html/>", b"<opml><body><outline",
                                  feeds.billion_laughs().replace(b"rss", b"opml")])
def test_bad_opml_is_refused_or_harmless(data: bytes) -> None:
    started = time.perf_counter()
    try:
        listed = parse_opml(data)
    except NotAFeed:
        return
    finally:
        assert time.perf_counter() - started < 5
    assert listed == []

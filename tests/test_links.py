import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.pipeline.links import canonicalise, domain_of, find_links


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("read https://example.com/a/b now", ["https://example.com/a/b"]),
        ("two https://a.com/1 and http://b.org/2.", ["https://a.com/1", "http://b.org/2"]),
        ("<https://bbc.co.uk/news/1>", ["https://bbc.co.uk/news/1"]),
        ('"https://x.org/y"', ["https://x.org/y"]),
        ("(see https://x.org/y), [https://z.org/q]", ["https://x.org/y", "https://z.org/q"]),
        ("«https://pravda.com.ua/news/1»", ["https://pravda.com.ua/news/1"]),
        ("end of sentence https://x.org/y!?", ["https://x.org/y"]),
        ("bare example.com/path/to and www.pravda.com.ua", ["https://example.com/path/to", "https://www.pravda.com.ua/"]),
        ("reuters.com alone is a mention, file.txt/x is not a link", []),
        ("mail bob@example.com/x", []),
        ("no links at all", []),
        ("", []),
        ("ftp://example.com/file javascript:alert(1)", []),
        ("same twice https://a.com/1 https://A.com/1?utm_medium=z#top", ["https://a.com/1"]),
    ],
)
def test_find_links(text: str, expected: list[str]) -> None:
    assert find_links(text) == expected


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://Example.COM/Path?utm_source=x&id=5&fbclid=abc#frag", "https://example.com/Path?id=5"),
        ("https://example.com/a?b=2&a=1&gclid=z&utm_campaign=q", "https://example.com/a?a=1&b=2"),
        ("https://www.nytimes.com/2026/x.html?smid=tw-share", "https://www.nytimes.com/2026/x.html"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com/article?page=2", "https://example.com/article?page=2"),
        ("https://user:pw@example.com/", None),
        ("mailto:bob@example.com", None),
        ("https:///nohost", None),
        ("https://example.com/" + "a" * 3000, None),
    ],
)
def test_canonicalise(url: str, canonical: str | None) -> None:
    assert canonicalise(url) == canonical


def test_domain_of_drops_www() -> None:
    assert domain_of("https://www.Example.com/a") == "example.com"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_find_links_never_raises_and_is_idempotent(text: str) -> None:
    for url in find_links(text):
        assert url.startswith(("http://", "https://"))
        assert canonicalise(url) == url
        assert find_links(url) == [url]


SIMPLE_URL = (
    r"https?://[a-z]{1,10}\.(com|org|ua)(/[\w%.~-]{0,12}){0,3}"
    r"(\?[a-z_]{1,8}=[\w]{0,5}(&[a-z_]{1,8}=\w{0,5}){0,3})?(#\w*)?"
)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(SIMPLE_URL, fullmatch=True))
def test_canonicalise_is_idempotent(url: str) -> None:
    once = canonicalise(url)
    assert once is not None
    assert canonicalise(once) == once
    assert canonicalise("https://e.com/?a=1&amp;b=2") == "https://e.com/?a=1&b=2"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "mailto:a@b.c", "ftp://x.org/f", "data:text/html,hi",
                                 "https://example.com:99999/", "https://example.com:port/"])
def test_other_schemes_and_bad_ports_are_not_links(url: str) -> None:
    assert canonicalise(url) is None


def test_bare_domain_with_port() -> None:
    assert canonicalise("example.com:8080/a") == "https://example.com:8080/a"


@pytest.mark.parametrize("url", ["not a link at all", "https://exa mple.com/", "https://-bad-.com/"])
def test_hosts_must_be_hostnames(url: str) -> None:
    assert canonicalise(url) is None

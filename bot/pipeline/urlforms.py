"""The forms one article's address takes: AMP versions, AMP cache addresses, the `www.` host, and
the addresses a page declares for itself (rel=canonical, og:url).

`article_key(url)` is the address with its AMP form undone, scheme and `www.` dropped: two links
with the same key are the same article before anything is fetched. Only forms that are the same
page by convention are undone: an `amp.` host, a path segment that is exactly `amp` (or a last
segment `amp.html`, or `.amp` before the extension), `?amp=1`, `?outputType=amp`, and the AMP
cache (`*.cdn.ampproject.org/c/s/host/path`). Everything else of the path is kept, so two articles
whose addresses differ in one segment never share a key. `m.` hosts are not undone here: a mobile
host is the same article only when the page says so (`declared_addresses`), which is read after
the fetch.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from bot.pipeline.links import canonicalise

_AMP_CACHE = re.compile(r"^[a-z0-9-]+\.cdn\.ampproject\.org$")
_AMP_FLAGS = {("amp", "1"), ("amp", "true"), ("amp", ""), ("outputtype", "amp"), ("output", "amp")}
_HEAD_LIMIT = 256 * 1024
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_META_TAG = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")


def from_amp_cache(url: str) -> str:
    """The publisher's address of an AMP cache address (`https://x.cdn.ampproject.org/c/s/host/path`
    or `/v/s/...`); any other address unchanged."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not _AMP_CACHE.match(host):
        return url
    match = re.match(r"^/[cvi]/(s/)?(.+)$", parts.path)
    if not match:
        return url
    scheme = "https" if match.group(1) else "http"
    rest = match.group(2)
    return f"{scheme}://{rest}" + (f"?{parts.query}" if parts.query else "")


def article_key(url: str) -> str | None:
    """The address of the article with its AMP form undone, without scheme and `www.`; None when
    `url` is not a web address."""
    canonical = canonicalise(from_amp_cache(url.strip()))
    if canonical is None:
        return None
    parts = urlsplit(canonical)
    host = (parts.hostname or "").lower()
    host = host.removeprefix("www.")
    if host.startswith("amp.") and host.count(".") >= 2:
        host = host.removeprefix("amp.")
    if parts.port:
        host = f"{host}:{parts.port}"
    segments = [segment for segment in parts.path.split("/") if segment]
    kept = [segment for segment in segments if segment.lower() != "amp"]
    if kept and kept[-1].lower() == "amp.html":
        kept.pop()
    if kept:
        kept[-1] = re.sub(r"\.amp(\.html?)$", r"\1", kept[-1], flags=re.IGNORECASE)
    path = "/" + "/".join(kept)  # a trailing slash is the same page
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
             if (key.lower(), value.lower()) not in _AMP_FLAGS]
    return host + path + (f"?{urlencode(query)}" if query else "")


def declared_addresses(body: bytes, base_url: str) -> list[str]:
    """The addresses a page gives for itself in its head: rel=canonical and og:url, made absolute
    and canonical; a declared site root is left out (sites that name their home page as every
    page's canonical would merge all their articles)."""
    head = body[:_HEAD_LIMIT].decode("utf-8", errors="replace")
    end = re.search(r"<body\b", head, re.IGNORECASE)
    if end:
        head = head[: end.start()]
    found: list[str] = []
    for tag in _LINK_TAG.findall(head):
        attributes = _attributes(tag)
        if "canonical" in attributes.get("rel", "").lower().split() and attributes.get("href"):
            found.append(attributes["href"])
    for tag in _META_TAG.findall(head):
        attributes = _attributes(tag)
        if attributes.get("property", attributes.get("name", "")).lower() == "og:url" and attributes.get("content"):
            found.append(attributes["content"])
    addresses: list[str] = []
    for address in found:
        absolute = _absolute(address.strip(), base_url)
        canonical = canonicalise(absolute) if absolute else None
        if canonical and urlsplit(canonical).path not in ("", "/") and canonical not in addresses:
            addresses.append(canonical)
    return addresses


def _attributes(tag: str) -> dict[str, str]:
    return {match.group(1).lower(): html.unescape(match.group(2) or match.group(3) or match.group(4) or "")
            for match in _ATTRIBUTE.finditer(tag)}


def _absolute(address: str, base_url: str) -> str | None:
    if not address or address.startswith(("javascript:", "data:", "mailto:")):
        return None
    return urljoin(base_url, address)

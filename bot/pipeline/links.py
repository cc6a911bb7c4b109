"""Finding article links in message text and canonicalising them, so one article is one item.

Canonical form (courlan's normalisation, plus a few share-tracking parameters it does not know):
lower-case scheme and host, default port dropped, punycode decoded, tracking parameters
(utm_*, fbclid, gclid, ...) removed, remaining parameters sorted, fragment dropped.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import normalize_url
from tld import is_tld

_SCHEME_LINK = re.compile(r"https?://[^\s<>\"'`«»“”„]+", re.IGNORECASE)
# A bare domain is a link only with "www." or a path after it, and a real top-level domain.
_BARE_LINK = re.compile(
    r"(?<![\w@./:-])"
    r"((?:www\.)?(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+([^\W\d_]{2,24}))"
    r"(/[^\s<>\"'`«»“”„]*)?",
    re.UNICODE,
)
_TRAILING = ".,;:!?…'\"»”’)]}>"
_PAIRS = {")": "(", "]": "[", "}": "{"}
_EXTRA_TRACKERS = frozenset({
    "smid", "smtyp", "cmpid", "ocid", "igshid", "igsh", "si", "mkt_tok", "_hsenc", "_hsmi",
    "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "at_medium",
    "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4", "fbclid", "gclid",
    "yclid", "dclid", "wt.mc_id", "cmp", "share", "rss",
})
_OTHER_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:(?!\d)", re.IGNORECASE)
_HOSTNAME = re.compile(r"(?:[^\W_](?:[\w-]*[^\W_])?\.)*[^\W_](?:[\w-]*[^\W_])?\.?")
MAX_URL_LENGTH = 2048


def find_links(text: str) -> list[str]:
    """Every http(s) link in `text`, canonical and de-duplicated, in order of appearance."""
    found: list[str] = []
    for raw in _candidates(text or ""):
        canonical = canonicalise(raw)
        if canonical and canonical not in found:
            found.append(canonical)
    return found


def canonicalise(url: str) -> str | None:
    """The canonical form of an http(s) URL, or None when it is not one."""
    url = url.strip()
    if not re.match(r"https?://", url, re.IGNORECASE):
        if _OTHER_SCHEME.match(url):
            return None  # mailto:, javascript:, ftp://, ...
        url = "https://" + url  # a bare domain: assume https
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        if not (_HOSTNAME.fullmatch(parts.hostname) or parts.netloc.startswith("[")):
            return None
        if len(url) > MAX_URL_LENGTH or parts.username or parts.password:
            return None
        # given a string, courlan would HTML-unescape all of it, and "&not=0" would become "¬=0":
        # only "&amp;", a URL copied from a page's source, is read as "&"
        if "&amp;" in parts.query:
            parts = parts._replace(query=parts.query.replace("&amp;", "&"))
        normalised = normalize_url(parts, trailing_slash=True)
    except (ValueError, UnicodeError):
        return None
    scheme, netloc, path, query, _fragment = urlsplit(normalised)
    kept = [(key, value) for key, value in parse_qsl(query, keep_blank_values=True)
            if key.lower() not in _EXTRA_TRACKERS and not key.lower().startswith("utm_")]
    return urlunsplit((scheme, netloc, path or "/", urlencode(kept, doseq=True), ""))


def domain_of(url: str) -> str:
    """The host of a URL without "www.", for showing where an article comes from."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _candidates(text: str) -> list[str]:
    candidates: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for match in _SCHEME_LINK.finditer(text):
        url = _trim(match.group(0))
        candidates.append((match.start(), url))
        taken.append((match.start(), match.start() + len(url)))
    for match in _BARE_LINK.finditer(text):
        start = match.start()
        if any(a <= start < b for a, b in taken):
            continue
        host, tld_part, path = match.group(1), match.group(2), match.group(3)
        if not (host.lower().startswith("www.") or path):
            continue
        if not is_tld(tld_part.lower()):
            continue
        candidates.append((start, _trim(match.group(0))))
    return [url for _, url in sorted(candidates)]


def _trim(url: str) -> str:
    """Strip punctuation that ends the sentence rather than the link, keeping balanced brackets."""
    while url and url[-1] in _TRAILING:
        last = url[-1]
        if last in _PAIRS and url.count(_PAIRS[last]) >= url.count(last):
            break
        url = url[:-1]
    return url

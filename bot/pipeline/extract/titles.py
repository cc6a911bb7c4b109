"""The title: the visible headline when it agrees with a declared one, else the best declared title
without its site's name; and the text kept apart from its headline."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from bot.pipeline.extract.cleaning import clean_text, compact
from bot.pipeline.extract.metadata import PageMetadata

MAX_TITLE = 300
TITLE_SEPARATOR = re.compile(r"(\s+(?:[|\-–—·•»«~]|::)\s+)")


def choose_title(page: PageMetadata, *, fallback: str | None, site_name: str | None, url: str) -> str:
    """The visible headline when it agrees with a declared title, else the best declared title without its
    site suffix."""
    names = site_names(site_name, url)
    declared = [strip_site_suffix(t, names) for t in [*page.titles, clean_text(fallback)]]
    declared = [t for t in declared if t and not site_like(t, names)]
    keys = {title_key(t) for t in declared}
    headings = [h for h in page.h1s if title_key(h) and not site_like(h, names)]
    for heading in headings:
        if agrees(title_key(heading), keys):
            return limit_title(heading)
    for heading in page.h2s:
        if title_key(heading) in keys:
            return limit_title(heading)
    for heading in headings:
        if len(heading.split()) >= 2:
            return limit_title(heading)
    return limit_title(declared[0]) if declared else ""


def agrees(key: str, keys: set[str]) -> bool:
    """Same words, or one a long prefix of the other ("Headline" and "Headline: a subtitle")."""
    return key in keys or any(
        min(len(key), len(other)) >= 12 and (other.startswith(key) or key.startswith(other)) for other in keys
    )


def title_key(text: str) -> str:
    """A title's words, case folded and space-separated, for comparing titles."""
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))


def strip_site_suffix(title: str, names: set[str]) -> str:
    """Drop a trailing or leading site name ("Story | Site"), only when the site is known."""
    parts = TITLE_SEPARATOR.split(title)  # [text, separator, text, separator, text]
    while len(parts) > 2 and site_like(parts[-1], names):
        del parts[-2:]
    while len(parts) > 2 and site_like(parts[0], names):
        del parts[:2]
    return "".join(parts).strip()


def site_names(site_name: str | None, url: str) -> set[str]:
    """The site's name as the page declares it and as its address spells it, compacted."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    names = {compact(site_name), compact(host), compact(host.rsplit(".", 1)[0])}
    names.update(compact(label) for label in host.split(".")[:-1] if len(label) >= 4)
    names.discard("")
    return names


def site_like(part: str, names: set[str]) -> bool:
    """Whether a title part is the site's name: the same, or (for names of four or more) one begins the other."""
    key = compact(part)
    return bool(key) and any(
        key == name or (len(name) >= 4 and (key.startswith(name) or (name.startswith(key) and len(key) >= 4)))
        for name in names
    )


def limit_title(title: str) -> str:
    """A cleaned title cut at a word to MAX_TITLE characters, with "…" when cut."""
    title = clean_text(title)
    if len(title) <= MAX_TITLE:
        return title
    return title[: MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"


def without_headline(text: str, title: str) -> str:
    """The text without a first line repeating the headline: Article keeps them apart."""
    first, _, rest = text.partition("\n")
    if rest.strip() and title and title_key(first) == title_key(title):
        return rest.strip()
    return text


def first_line(text: str) -> str:
    """The text's first line as a title, for a page that declares none."""
    return limit_title(text.strip().splitlines()[0]) if text.strip() else ""

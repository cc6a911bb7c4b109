"""Article extraction: a fetched page's bytes in, an Article out; pure, no I/O.

trafilatura finds the main text, checked against readability-lxml's reading of the same page (and
against trafilatura's balanced mode when its recall mode finds little): another reading replaces
trafilatura's only when it holds nearly all of it and clearly more, or when trafilatura found next
to nothing (see choose_text). Title and authors come first from what the page says about itself
(JSON-LD, Open Graph and other <meta> tags, the visible <h1> and byline), with trafilatura's own
guesses as the fallback. For the date, a page that declares none is dated by what is printed under
its headline; otherwise trafilatura's guess is checked against the declared date (see choose_date).
Language is the page's declared one, checked against a small letter-and-stopword detector that
tells English, Ukrainian and Russian apart.

Runs inside a worker process (see the process pool in ingest); raises NoArticle when the
page has no main text rather than returning an empty Article.
"""

from __future__ import annotations

import copy
import html
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import lxml.html
import readability.readability
import trafilatura
from dateutil import parser as dateutil_parser
from lxml.etree import LxmlError
from lxml.html import HtmlElement
from readability import Document as ReadabilityDocument
from readability.readability import Unparseable

from bot.pipeline.charset import decode_html
from bot.pipeline.errors import NoArticle
from bot.pipeline.models import Article

MAX_TITLE = 300
MAX_AUTHORS = 10
MIN_PROSE_CHARS = 150
PROSE_LINE_CHARS = 60
MIN_PROSE_WORDS = 15
SCANTY_TEXT = 200
"""Fewer characters than this is next to nothing: any longer reading of the page is better."""
SUPERSET_SHARE = 0.7
SUPERSET_GROWTH = 1.3
"""Another reading wins when it holds this share of trafilatura's text and is this many times longer."""
SHINGLE = 4
SHORT_RECALL = 1000
"""trafilatura's recall mode finding fewer characters than this gets a second reading in its balanced mode."""
LONGEST_COMPARED = 200_000
"""Characters of a reading compared with another (the longest dev-set article has 75,000); a
trafilatura text longer than this gets no second opinion."""

ARTICLE_TYPES = {
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "technicalarticle",
    "techarticle", "scholarlyarticle", "report", "socialmediaposting", "liveblogposting",
    "medicalwebpage", "howto", "recipe", "review", "posting", "discussionforumposting",
}

WEB_PAGE_TYPES = {"webpage", "itempage", "collectionpage", "aboutpage", "faqpage", "qapage", "medicalwebpage"}


# ---------------------------------------------------------------------------- public surface


def extract_article(body: bytes, url: str, encoding: str | None = None, *, fetched_on: date | None = None) -> Article:
    """Extract the main article of a page, or raise NoArticle."""
    markup = decode_html(body, encoding)
    tree = trafilatura.load_html(markup) if markup.strip() else None
    if tree is None:
        raise NoArticle("no article text found")
    page = read_page_metadata(tree)
    shown_text = visible_text(tree)  # before trafilatura prunes the tree

    # readability reads its own copy: trafilatura prunes the tree it is given
    untouched = copy.deepcopy(tree)
    document = trafilatura.bare_extraction(
        tree, url=url, include_comments=False, with_metadata=True, include_tables=True, favor_recall=True
    )
    own_text = (document.text or "").strip() if document else ""
    # a second opinion on a book-length text would cost seconds and change little
    text = choose_text(own_text, readability_text(untouched)) if len(own_text) < LONGEST_COMPARED else own_text
    if len(own_text) < SHORT_RECALL:
        # recall mode now and then keeps one block of a long page, where the balanced mode reads it whole
        balanced = trafilatura.bare_extraction(
            trafilatura.load_html(markup), url=url, include_comments=False, with_metadata=False, include_tables=True
        )
        text = choose_text(text, (balanced.text or "").strip() if balanced else "")
    if not has_prose(text):
        raise NoArticle("no article text found")

    # the page's own declarations first; trafilatura's guesses fill the gaps
    site_name = clean_text(page.site_name or (document.sitename if document else None)) or None
    title = choose_title(page, fallback=document.title if document else None, site_name=site_name, url=url)
    authors = choose_authors(page, fallback=document.author if document else None, site_name=site_name)
    guess = document.date if document else None
    published = choose_date(page, guess=guess, shown_text=shown_text, url=url, fetched_on=fetched_on)
    text = without_headline(text, title)
    language = choose_language(page.languages, text)
    description = clean_text(page.description or (document.description if document else None))
    return Article(
        title=title or first_line(text),
        text=text,
        authors=authors,
        site_name=site_name,
        published_date=published,
        language=language,
        description=description[:1000] or None,
    )


# ---------------------------------------------------------------------------- main text


BLOCK_TAGS = {
    "p", "div", "section", "article", "li", "ul", "ol", "dl", "dt", "dd", "tr", "td", "th", "table",
    "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "figcaption", "br", "hr",
}


# readability makes its copy safe to display (no JavaScript links, handlers or styles) before it reads
# it; only its text is kept here, so that pass, a third of its time, is skipped (the same text on
# all of wcxb-dev's pages). It has no option for it: its module-level cleaner is replaced by a copy.
_text_cleaner = copy.copy(readability.readability.html_cleaner)
_text_cleaner.javascript = False
readability.readability.html_cleaner = _text_cleaner


def readability_text(tree: HtmlElement) -> str:
    """The main text as readability-lxml finds it, one block per line; "" when it finds none."""
    try:
        summary = ReadabilityDocument(tree).summary(html_partial=True)
        return block_text(lxml.html.fromstring(summary))
    except (Unparseable, LxmlError, ValueError):  # an empty or unreadable page has no second reading
        return ""


def block_text(element: HtmlElement) -> str:
    """The text of an element, a line per block element, whitespace collapsed."""
    lines: list[str] = []
    current: list[str] = []

    def end_line() -> None:
        line = " ".join(" ".join(current).split())
        if line:
            lines.append(line)
        current.clear()

    def walk(node: HtmlElement) -> None:
        block = isinstance(node.tag, str) and node.tag in BLOCK_TAGS
        if block:
            end_line()
        if isinstance(node.tag, str) and node.text:
            current.append(node.text)
        for child in node:
            walk(child)
        if block:
            end_line()
        if node.tail:
            current.append(node.tail)

    walk(element)
    end_line()
    return "\n".join(lines)


def choose_text(own: str, other: str) -> str:
    """trafilatura's text, unless it is next to nothing, or the other holds nearly all of it and clearly more."""
    if len(own) < SCANTY_TEXT:
        return other if len(other) > len(own) else own
    if len(other) < SCANTY_TEXT:
        return own
    # the comparison reads the other text's opening only: on a book-length page it would cost seconds
    if len(other) > SUPERSET_GROWTH * len(own) and share_within(own, other[:LONGEST_COMPARED]) >= SUPERSET_SHARE:
        return other
    return own


def shingles(text: str) -> Counter[tuple[str, ...]]:
    """Runs of four words, counted: the unit texts are compared in."""
    words = WORD_OR_NUMBER.findall(text)
    return Counter(tuple(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1)) if words)


def share_within(text: str, other: str) -> float:
    """The share of text's shingles that other also holds (1.0: other contains all of text)."""
    mine = shingles(text)
    total = sum(mine.values())
    return sum((mine & shingles(other)).values()) / total if total else 0.0


# ---------------------------------------------------------------------------- page metadata


@dataclass
class PageMetadata:
    """What the page declares about itself, before any choice is made."""

    titles: list[str]
    """Declared titles, best first: JSON-LD headline, og:title, twitter:title, <title>."""
    h1s: list[str]
    h2s: list[str]
    authors: list[str]
    """Raw author strings from structured data, best source first."""
    bylines: list[str]
    """Author strings shown on the page."""
    organisations: list[str]
    """Names the structured data marks as organisations."""
    published: list[str]
    modified: list[str]
    visible_dates: list[str]
    site_name: str | None
    description: str | None
    languages: list[str]


def read_page_metadata(tree: HtmlElement) -> PageMetadata:
    """Collect title, author, date, site and language candidates from a parsed page."""
    meta = meta_tags(tree)
    nodes = json_ld_nodes(tree)
    ld = json_ld_article(nodes)
    # a site that marks up no article often dates the page itself (the WebPage of a Yoast @graph)
    page_dates = [node.get("datePublished") for node in nodes if types_of(node) & WEB_PAGE_TYPES]
    ld_titles = [ld.get("headline"), ld.get("name")] if ld else []
    titles = [
        *ld_titles,
        meta.get("og:title"),
        meta.get("twitter:title"),
        meta.get("dc.title"),
        meta.get("citation_title"),
        tree.findtext(".//title"),
    ]
    authors = [
        *(ld_people(ld.get("author")) if ld else []),
        *meta.getall("citation_author"),
        meta.get("author"),
        meta.get("article:author"),
        meta.get("parsely-author"),
        meta.get("sailthru.author"),
        meta.get("dc.creator"),
        meta.get("byl"),
    ]
    published = [
        ld.get("datePublished") if ld else None,
        meta.get("article:published_time"),
        meta.get("og:article:published_time"),
        meta.get("datepublished"),
        meta.get("publish-date"),
        meta.get("publish_date"),
        meta.get("pubdate"),
        meta.get("sailthru.date"),
        meta.get("parsely-pub-date"),
        meta.get("dc.date"),
        meta.get("dc.date.issued"),
        meta.get("citation_publication_date"),
        meta.get("citation_date"),
        meta.get("date"),
        ld.get("dateCreated") if ld else None,
        *page_dates,
    ]
    modified = [
        ld.get("dateModified") if ld else None,
        meta.get("article:modified_time"),
        meta.get("og:updated_time"),
        meta.get("datemodified"),
        meta.get("last-modified"),
    ]
    visible_dates = [
        element.get("datetime") or element.text_content()
        for element in tree.iterfind(".//time")
    ][:10]
    languages = [
        tree.get("lang"),
        tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
        meta.get("og:locale"),
        meta.get("content-language"),
        meta.get("language"),
        ld.get("inLanguage") if ld else None,
    ]
    site_name = meta.get("og:site_name") or (ld_name(ld.get("publisher")) if ld else None)
    site_name = clean_text(site_name) if isinstance(site_name, str) else None
    description = meta.get("description") or meta.get("og:description")
    authors = [a for a in authors if isinstance(a, str) and a.strip()]
    organisations = [*ld_organisations(ld.get("author")), *ld_organisations(ld.get("publisher"))] if ld else []
    # the page's own byline is read only when its structured data names no person (it is slow to find)
    known_organisations = {compact(site_name), *map(compact, organisations)} - {""}
    names_a_person = any(names_people(normalise_authors(raw), known_organisations) for raw in authors)
    return PageMetadata(
        titles=[clean_text(t) for t in titles if isinstance(t, str) and clean_text(t)],
        h1s=[clean_text(h.text_content()) for h in tree.iterfind(".//h1")][:5],
        h2s=[clean_text(h.text_content()) for h in tree.iterfind(".//h2")][:3],
        authors=authors,
        bylines=[] if names_a_person else visible_bylines(tree),
        organisations=organisations,
        published=[d for d in published if isinstance(d, str) and d.strip()],
        modified=[d for d in modified if isinstance(d, str) and d.strip()],
        visible_dates=[d for d in visible_dates if d and d.strip()],
        site_name=site_name,
        description=description,
        languages=[lang for lang in languages if isinstance(lang, str) and lang.strip()],
    )


class MetaTags(dict[str, list[str]]):
    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        values = super().get(key)
        return values[0] if values else default

    def getall(self, key: str) -> list[str]:
        return super().get(key, [])


def meta_tags(tree: HtmlElement) -> MetaTags:
    tags = MetaTags()
    for element in tree.iterfind(".//meta"):
        content = element.get("content")
        if content is None or not content.strip():
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = element.get(attribute)
            if key:
                tags.setdefault(key.strip().lower(), []).append(content.strip())
    return tags


def json_ld_nodes(tree: HtmlElement) -> list[dict]:
    """Every JSON-LD object on the page, @graph members and main entities included."""
    nodes: list[dict] = []
    for script in tree.xpath('.//script[contains(@type, "ld+json")]'):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            try:  # control characters inside strings are a common fault
                data = json.loads(re.sub(r"[\x00-\x1f]+", " ", raw))
            except ValueError:
                continue
        nodes.extend(walk_json_ld(data))
    return nodes


def json_ld_article(nodes: list[dict]) -> dict | None:
    """The page's JSON-LD article object, with @id references to people resolved."""
    by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    articles = [node for node in nodes if types_of(node) & ARTICLE_TYPES]
    if not articles:
        return None
    # a page holding several (related stories) puts its own first, or marks it with a headline
    article = next((a for a in articles if a.get("headline")), articles[0])
    article = dict(article)
    for key in ("author", "publisher"):
        article[key] = resolve(article.get(key), by_id)
    return article


def walk_json_ld(data: object, depth: int = 0) -> Iterator[dict]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from walk_json_ld(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "itemListElement"):
            if key in data:
                yield from walk_json_ld(data[key], depth + 1)


def types_of(node: dict) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.rsplit("/", 1)[-1].lower() for v in values if isinstance(v, str)}


def resolve(value: object, by_id: dict[str, dict]) -> object:
    if isinstance(value, list):
        return [resolve(v, by_id) for v in value]
    if isinstance(value, dict) and set(value) <= {"@id", "@type"} and value.get("@id") in by_id:
        return by_id[value["@id"]]
    return value


def ld_name(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) else None


def ld_organisations(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [
        item["name"] for item in items
        if isinstance(item, dict) and isinstance(item.get("name"), str)
        and types_of(item) & {"organization", "newsmediaorganization", "corporation"}
    ]


def ld_people(value: object) -> list[str]:
    """Author names from a JSON-LD author value: a string, a Person, or a list of them."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, list):
                name = " ".join(n for n in name if isinstance(n, str))
            if not isinstance(name, str) and isinstance(item.get("givenName"), str):
                name = f"{item['givenName']} {item.get('familyName') or ''}"
            if isinstance(name, str):
                names.append(name)
    # one combined string keeps sources comparable: each source is one candidate
    return ["; ".join(names)] if names else []


# ---------------------------------------------------------------------------- title


TITLE_SEPARATOR = re.compile(r"(\s+(?:[|\-–—·•»«~]|::)\s+)")


def choose_title(page: PageMetadata, *, fallback: str | None, site_name: str | None, url: str) -> str:
    """The visible headline when it agrees with a declared title, else the best declared title without its site suffix."""
    names = site_names(site_name, url)
    declared = [strip_site_suffix(t, names) for t in page.titles + [clean_text(fallback)]]
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
    key = compact(part)
    return bool(key) and any(key == name or (len(name) >= 4 and (key.startswith(name) or name.startswith(key) and len(key) >= 4)) for name in names)


def compact(text: str | None) -> str:
    return "".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text or "").casefold()))


def limit_title(title: str) -> str:
    title = clean_text(title)
    if len(title) <= MAX_TITLE:
        return title
    return title[: MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"


# ---------------------------------------------------------------------------- authors


BYLINE_PREFIX = re.compile(
    r"^\s*(?:(?!sponsored\b)[^\W\d_]+\s+)?by(?:\s*:\s*|\s+|$)|"
    r"^\s*(?:(?:written|posted|published|reported|reviewed|edited|words|text|photos?|story|article)\s+)?"
    r"(?:by|from|von|par|por|автор(?:и|ка)?|від)(?:\s*:\s*|\s+|$)|^\s*(?:authors?|автор(?:и|ка)?)(?:\s*:\s*|\s+|$)",
    re.IGNORECASE,
)
NAME_SPLIT = re.compile(r"\s*(?:;|\||\n|&|\band\b|\bund\b|\bet\b|\bі\b|\bи\b|\bта\b)\s*", re.IGNORECASE)
MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|june?|july?|aug(?:ust)?|sep(?:t|tember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
DATE_WORDS = re.compile(
    rf"^(?:{MONTHS}|may|mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:rs|rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
    rf"|today|yesterday)\b",
    re.IGNORECASE,
)
TRAILING_JUNK = re.compile(
    rf"\s+(?:last\s+updated|updated|published|posted|on|in|at)\b.*$"
    rf"|\s+(?:{MONTHS})\.?(?:\s+\d.*)?$|\s+may\s+\d.*$|\s*[•·⋅|→].*$|\s+[-–—]\s+.*$|\s+\d.*$",
    re.IGNORECASE,
)
ROLE_WORDS = {
    "staff", "writer", "editor", "editors", "reporter", "correspondent", "contributor", "columnist", "author",
    "senior", "associate", "contributing", "managing", "editorial", "team", "desk", "news", "former",
    "photographer", "producer", "director", "manager", "ceo", "cto", "founder", "cofounder", "co",
    "expert", "specialist", "consultant", "chief", "head", "lead", "content", "marketing", "sponsored",
    "md", "phd", "rd", "dr", "ms", "ma", "mba", "jr", "sr", "cpa", "rn", "lcsw", "admin", "the", "of", "editorinchief",
}
"""A fragment made only of these words is a role, not a name ("Staff Writer", "MD")."""
ROLE_STARTS = {
    "former", "senior", "co", "cofounder", "founder", "ceo", "cto", "chief", "head", "consultant", "editor",
    "writer", "reporter", "correspondent", "columnist", "photographer", "producer", "director", "manager",
    "specialist", "marketer", "contributor", "contributing", "coordinator", "content", "associate", "reviewer",
    "architect", "facebook", "twitter", "tweet", "pin", "linkedin", "email", "share",
}
"""A role after a name ends the name ("Liz Kenny Former McKinsey Consultant")."""
JUNK_WORDS = {"see", "all", "more", "about", "articles", "posts", "learn", "view", "read", "follow", "share", "comments"}
CREDENTIAL = re.compile(r"[A-Z]{2,5}®?|Ph\.?\s?D\.?|M\.\s?D\.")
NOT_A_NAME = re.compile(r"https?://|www\.|^\W*$|\d{3,}|[{}<>=]")
BYLINE_XPATH = (
    './/*[@itemprop="author"]'
    '|.//a[@rel="author"]'
    '|.//a[contains(@href, "/author/") or contains(@href, "/authors/")]'
    '|.//*[contains(@class, "byline") or contains(@class, "author-name") or contains(@class, "author__name")'
    ' or contains(@class, "post-author") or contains(@class, "article-author")]'
    '|.//*[self::p or self::span or self::div or self::li or self::address]'
    '[string-length(normalize-space(.)) < 90][starts-with(translate(normalize-space(.), "BYWRITEN", "bywriten"), "by ")'
    ' or starts-with(translate(normalize-space(.), "BYWRITEN", "bywriten"), "written by")]'
)


def visible_bylines(tree: HtmlElement) -> list[str]:
    """Author strings shown on the page itself, in document order, comments excluded."""
    found = []
    for element in tree.xpath(BYLINE_XPATH):
        if element.xpath('ancestor-or-self::*[contains(@class, "comment") or self::footer or self::nav]'):
            continue
        names = element.xpath('.//*[@itemprop="name"]') if element.get("itemprop") == "author" else []
        text = clean_text(" ".join((names[0] if names else element).itertext()))
        following = element.getnext()
        if not BYLINE_PREFIX.sub("", text).strip(" :") and following is not None:
            # a label alone ("Written by") with the name in the next element
            text = clean_text(" ".join(following.itertext()))
        if 2 < len(text) <= 90:
            found.append(text)
        if len(found) >= 5:
            break
    return found


def choose_authors(page: PageMetadata, *, fallback: str | None, site_name: str | None) -> tuple[str, ...]:
    """The first source naming people; an organisation only when no source names a person."""
    organisations = {compact(site_name), *map(compact, page.organisations)} - {""}
    first: tuple[str, ...] = ()
    for raw in [*page.authors, *page.bylines, *([fallback] if fallback else [])]:
        names = normalise_authors(raw)
        first = first or names
        if names_people(names, organisations):
            return names
    return first


def names_people(names: tuple[str, ...], organisations: set[str]) -> bool:
    """Whether the names include someone other than the given organisations."""
    return bool(names) and not all(compact(name) in organisations for name in names)


def normalise_authors(raw: str | None) -> tuple[str, ...]:
    """Split and clean an author string: "By A. Smith and B. Jones, Staff Writer" -> ("A. Smith", "B. Jones")."""
    if not raw:
        return ()
    text = clean_text(raw)[:1000]
    names: list[str] = []
    for chunk in NAME_SPLIT.split(text):
        # "Name, Role" or "Name, Name": keep the parts that are names
        for part in chunk.split(","):
            if names and CREDENTIAL.fullmatch(part.strip()):
                names.append(part.strip())  # "Ann Lee, MD, RD": bylines keep credentials with the name
                continue
            name = clean_name(part)
            if name and name.casefold() not in {n.casefold() for n in names}:
                names.append(name)
            if name and ends_in_role(part):
                break  # "Ann Lee Associate Editor, PCWorld": what follows the role is about the role
    return tuple(names[:MAX_AUTHORS])


def ends_in_role(part: str) -> bool:
    """Whether a byline fragment goes on from a name to a role ("Ann Lee Associate Editor")."""
    words = [re.sub(r"\W", "", word) for word in BYLINE_PREFIX.sub("", part.strip()).casefold().split()]
    return any(word in ROLE_STARTS for word in words[2:])


def clean_name(part: str) -> str:
    """One person's name from a byline fragment, or "" when it is a role, a date or page furniture."""
    part = BYLINE_PREFIX.sub("", part.strip())
    part = TRAILING_JUNK.sub("", part).strip(" ,.-–—:|()")
    if not re.search(r"[^\W\d_]{2}", part) or NOT_A_NAME.search(part) or DATE_WORDS.match(part):
        return ""
    words = part.split()
    lowered = [w.strip(".").casefold() for w in words]
    if set(lowered) & JUNK_WORDS:
        return ""
    if all(re.sub(r"\W", "", word).removesuffix("s") in ROLE_WORDS or word in ROLE_WORDS for word in lowered):
        return ""
    for i, word in enumerate(lowered[2:], start=2):
        if re.sub(r"\W", "", word) in ROLE_STARTS:
            # a capitalised word or two before the role belong to it ("EdTech Content"), unless the name has an initial
            role_begins = 2 if i <= 4 and not words[1].endswith(".") and all(w[:1].isupper() for w in words[2:i]) else i
            words = words[:role_begins]
            break
    # avatar initials before the name: "CM Craig McCarthy"
    if len(words) >= 3 and words[0].isupper() and words[0] == "".join(w[0] for w in words[1:len(words[0]) + 1]):
        words = words[1:]
    # an organisation in capitals after the name: "Brian Truitt USA TODAY"
    while len(words) > 2 and words[-1].isupper() and len(words[-1]) > 1 and not words[-2].isupper():
        words = words[:-1]
    while len(words) > 2 and words[-1].isupper() and len(words[-1]) > 1:
        words = words[:-1]
    if not words or len(words) > 6 or len(" ".join(words)) > 80:
        return ""
    name = " ".join(words)
    if name.isupper() or name.islower():
        name = name.title() if not re.search(r"[@._]", name) else name
    return name


# ---------------------------------------------------------------------------- date


ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
DOTTED_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.((?:19|20)\d{2})\b")
URL_DATE = re.compile(r"/((?:19|20)\d{2})[/_-](0?[1-9]|1[0-2])(?:[/_-](0?[1-9]|[12]\d|3[01]))?(?:/|[_-]|$)")


def choose_date(
    page: PageMetadata, *, guess: str | None, shown_text: str, url: str, fetched_on: date | None
) -> date | None:
    """The publication date. A page declaring none is dated by the date printed under its headline
    (its <time> or trafilatura's guess settling an ambiguous "03/04"). Otherwise trafilatura's
    guess, as htmldate weighs the page's dates well, unless it is the declared date with day and
    month swapped, or it is not on show while the declared date is, or it is an unseen update."""

    def sane(raw: str | None) -> date | None:
        parsed = parse_date(raw)
        return parsed if parsed and plausible_date(parsed, url=url, fetched_on=fetched_on) else None

    in_metadata = next(filter(None, map(sane, page.published)), None)
    declared = in_metadata or next(filter(None, map(sane, page.visible_dates[:1])), None)
    guessed = sane(guess)
    modified = set(filter(None, map(parse_date, page.modified)))
    if not in_metadata:
        # undeclared: the date printed under the headline, rather than one from a list of other stories
        readings = [
            d for d in headline_dates(page.h1s, shown_text) if plausible_date(d, url=url, fetched_on=fetched_on)
        ]
        if readings:
            tagged = set(filter(None, map(parse_date, page.visible_dates)))
            settled = [d for d in readings if d in tagged] or [d for d in readings if d == guessed]
            return (settled or readings)[0]
    if declared and guessed and declared != guessed:
        if guessed == swapped(declared):
            return declared  # the page's "09/10/2024" read the other way round; metadata is unambiguous
        shown = dates_in_text(shown_text)
        if guessed in shown:
            return guessed
        return declared if declared in shown or guessed in modified else guessed  # not an unseen update
    return guessed or declared


def swapped(value: date) -> date | None:
    """The date with day and month exchanged, when that is a date at all."""
    try:
        return date(value.year, value.day, value.month)
    except ValueError:
        return None


HEADLINE_DATE_REACH = 400
HEADLINE_DATE_REACH_ABOVE = 150
"""How far after the headline, and before it when nothing follows, in characters of visible text,
a byline's date is looked for."""


def headline_dates(headlines: list[str], shown_text: str) -> list[date]:
    """The readings of the first date written within reach after the page's headline (<h1>), or
    else of the first just above it; both readings of an ambiguous "03/04/2024", the usual one
    first; [] when there is no such date."""
    for headline in headlines:
        start = shown_text.find(headline) if len(headline) >= 10 else -1
        if start < 0:
            continue
        end = start + len(headline)
        below = shown_text[end:end + HEADLINE_DATE_REACH]
        above = shown_text[max(0, start - HEADLINE_DATE_REACH_ABOVE):start]
        for window in (below, above):
            readings = next(filter(None, map(match_dates, SHOWN_DATE.finditer(window))), None)
            if readings:
                return readings
        return []
    return []


MONTH_NUMBERS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
)}
_MONTH = rf"({MONTHS}|may)\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"((?:19|20)\d{2})"
SHOWN_DATE = re.compile(
    rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b"  # March 14, 2024
    rf"|\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b"  # 14 March 2024
    rf"|\b{_YEAR}-(\d{{2}})-(\d{{2}})\b"  # 2024-03-14
    rf"|\b(\d{{1,2}})([./])(\d{{1,2}})\11{_YEAR}\b",  # 03/14/2024, 14.03.2024
    re.IGNORECASE,
)
SHOWN_TEXT = "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"


def visible_text(tree: HtmlElement) -> str:
    """The page's visible text on one line, whitespace collapsed (scripts, styles and templates left out)."""
    return " ".join(" ".join(text.split()) for text in tree.xpath(SHOWN_TEXT))


def dates_in_text(text: str) -> set[date]:
    """Dates written out in text; "03/04/2024" is read month first unless the first number is over 12."""
    return {readings[0] for readings in map(match_dates, SHOWN_DATE.finditer(text)) if readings}


def match_dates(match: re.Match[str]) -> list[date]:
    """The calendar date a SHOWN_DATE match stands for: [] when it is no real date; for an ambiguous
    "03/04/2024", both readings, the usual one first (month first, day first after "." or above 12)."""
    g = match.groups()
    try:
        if g[0]:
            return [date(int(g[2]), MONTH_NUMBERS[g[0][:3].lower()], int(g[1]))]
        if g[3]:
            return [date(int(g[5]), MONTH_NUMBERS[g[4][:3].lower()], int(g[3]))]
        if g[6]:
            return [date(int(g[6]), int(g[7]), int(g[8]))]
    except ValueError:
        return []
    first, separator, second, year = int(g[9]), g[10], int(g[11]), int(g[12])
    month, day = (second, first) if separator == "." or first > 12 else (first, second)
    try:
        usual = date(year, month, day)
    except ValueError:
        return []
    ambiguous = first <= 12 and second <= 12 and first != second
    return [usual, date(year, day, month)] if ambiguous else [usual]


def parse_date(raw: str | None) -> date | None:
    """A calendar date from ISO text ("2024-03-14T09:30:00Z"), "14.03.2024", or words ("March 14, 2024")."""
    if not raw or len(raw) > 100:
        return None
    try:
        match = ISO_DATE.search(raw)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = DOTTED_DATE.search(raw)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        if re.search(r"\b(?:19|20)\d{2}\b", raw) and re.search(r"[^\W\d_]{3}", raw):
            return dateutil_parser.parse(raw, fuzzy=True, ignoretz=True, default=datetime(1900, 1, 1)).date()
    except (ValueError, OverflowError, TypeError):
        return None
    return None


def url_date(url: str) -> date | None:
    match = URL_DATE.search(urlsplit(url).path)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3] or 1))
    except ValueError:
        return None


def plausible_date(value: date, *, url: str, fetched_on: date | None) -> bool:
    """Reject dates after the fetch or well before the date in the page's own address."""
    today = fetched_on or date.today()
    if value > today + timedelta(days=1) or value.year < 1990:
        return False
    from_url = url_date(url)
    return from_url is None or value >= from_url - timedelta(days=31)


# ---------------------------------------------------------------------------- language


UK_LETTERS = set("іїєґ")
RU_LETTERS = set("ыэъё")
STOPWORDS = {
    "en": {"the", "and", "of", "to", "in", "is", "that", "for", "it", "with", "as", "was", "on", "are", "this", "be", "by", "have", "from"},
    "uk": {"і", "й", "що", "не", "на", "та", "до", "як", "це", "від", "для", "за", "але", "його", "було", "який", "також", "або", "ще", "вже"},
    "ru": {"и", "что", "не", "на", "как", "это", "от", "для", "за", "но", "его", "было", "который", "также", "или", "еще", "уже", "он", "по", "из"},
    "de": {"der", "die", "und", "das", "ist", "nicht", "mit", "den", "ein", "eine", "zu", "auf", "sich", "auch", "dem", "für"},
    "fr": {"le", "la", "les", "et", "des", "est", "une", "dans", "que", "pour", "pas", "du", "qui", "sur", "au", "avec"},
    "es": {"el", "la", "los", "las", "y", "que", "del", "en", "una", "por", "con", "para", "es", "se", "no", "al"},
    "it": {"il", "di", "che", "la", "e", "per", "una", "sono", "della", "non", "con", "gli", "del", "nel", "anche", "è"},
    "pt": {"o", "a", "os", "que", "de", "não", "uma", "para", "com", "do", "da", "em", "se", "por", "mais", "é"},
    "nl": {"de", "het", "een", "en", "van", "is", "dat", "niet", "op", "te", "zijn", "voor", "met", "ook", "er", "maar"},
    "pl": {"i", "w", "nie", "się", "na", "że", "jest", "do", "to", "z", "jak", "ale", "co", "po", "przez", "oraz"},
}
WORD = re.compile(r"[^\W\d_]+")
WORD_OR_NUMBER = re.compile(r"\w+")


def detect_language(text: str) -> str | None:
    """A two-letter language code from letters and common words, or None when unsure."""
    sample = text[:5_000].casefold()  # a few paragraphs settle it
    letters = [ch for ch in sample if ch.isalpha()]
    if len(letters) < 20:
        return None
    cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in letters)
    latin = sum(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in letters)
    words = WORD.findall(sample)
    if cyrillic > 0.5 * len(letters):
        uk = sum(ch in UK_LETTERS for ch in letters) + 3 * sum(w in STOPWORDS["uk"] - STOPWORDS["ru"] for w in words)
        ru = sum(ch in RU_LETTERS for ch in letters) + 3 * sum(w in STOPWORDS["ru"] - STOPWORDS["uk"] for w in words)
        return decide({"uk": uk, "ru": ru}, minimum=3)
    if latin > 0.5 * len(letters):
        scores = {lang: sum(w in stop for w in words) for lang, stop in STOPWORDS.items() if lang not in {"uk", "ru"}}
        return decide(scores, minimum=max(3, len(words) // 25))
    return None


def decide(scores: dict[str, int], *, minimum: int) -> str | None:
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    return best if top >= minimum and top >= 2 * second else None


def language_code(value: str) -> str | None:
    code = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def choose_language(declared: list[str], text: str) -> str | None:
    """The declared language unless the text plainly says otherwise (templates often keep "en")."""
    detected = detect_language(text)
    codes = [code for code in (language_code(value) for value in declared) if code]
    if detected and (not codes or codes[0] != detected):
        return detected
    return codes[0] if codes else None


# ---------------------------------------------------------------------------- text helpers


def clean_text(text: str | None) -> str:
    """Whitespace collapsed, control characters and stray markup removed."""
    if not text:
        return ""
    text = html.unescape(html.unescape(text)) if "&" in text else text
    text = re.sub(r"<(script|style)\b.*?(?:</\1\s*>|$)", " ", text, flags=re.IGNORECASE | re.DOTALL)
    text = STRAY_TAG.sub(" ", text)
    text = "".join(ch for ch in text if _visible_or_joining(ch))
    return " ".join(text.split())


STRAY_TAG = re.compile(r"</?[A-Za-z!?][^<>]{0,200}>")
"""A tag left in metadata text: "<" right before a letter, "/", "!" or "?" ("5 < 6 > 4" is no tag)."""
_INVISIBLE_FORMAT = frozenset("\u00ad\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                              "\u2060\u2066\u2067\u2068\u2069\ufeff")


def _visible_or_joining(ch: str) -> bool:
    """Drop control characters, direction overrides and invisible marks; keep the joiners (ZWJ,
    ZWNJ) and tag characters that emoji and Persian or Indic words are written with."""
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _INVISIBLE_FORMAT
    return category[0] != "C" or ch in "\t\n"


def has_prose(text: str) -> bool:
    """Whether the text holds running sentences rather than menu items, form labels and link lists."""
    prose = [line for line in (line.strip() for line in text.splitlines()) if len(line) >= PROSE_LINE_CHARS]
    distinct_words = set(WORD.findall(" ".join(prose).casefold()))
    return sum(map(len, prose)) >= MIN_PROSE_CHARS and len(distinct_words) >= MIN_PROSE_WORDS


def without_headline(text: str, title: str) -> str:
    """The text without a first line repeating the headline: Article keeps them apart."""
    first, _, rest = text.partition("\n")
    if rest.strip() and title and title_key(first) == title_key(title):
        return rest.strip()
    return text


def first_line(text: str) -> str:
    return limit_title(text.strip().splitlines()[0]) if text.strip() else ""

"""What a page declares about itself, gathered before any choice is made: `read_page_metadata`.

Candidates for the title, authors, dates, site name, description and language come from JSON-LD
(the page's article object, @graph members and @id references resolved), Open Graph and other
<meta> tags, the visible <h1>, <h2> and <time> elements, and, only when the structured data names
no person, the byline shown on the page. The per-field modules choose among them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml.html import HtmlElement

from bot.pipeline.extract.authors import names_people, normalise_authors, visible_bylines
from bot.pipeline.extract.cleaning import clean_text, compact

ARTICLE_TYPES = {
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "technicalarticle",
    "techarticle", "scholarlyarticle", "report", "socialmediaposting", "liveblogposting",
    "medicalwebpage", "howto", "recipe", "review", "posting", "discussionforumposting",
}

WEB_PAGE_TYPES = {"webpage", "itempage", "collectionpage", "aboutpage", "faqpage", "qapage", "medicalwebpage"}


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
    raw_authors = [
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
    authors = [a for a in raw_authors if isinstance(a, str) and a.strip()]
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


class MetaTags:
    """A page's <meta> contents by lower-cased name or property; `get` gives the first, `getall` every one."""

    def __init__(self) -> None:
        self._contents: dict[str, list[str]] = {}

    def add(self, key: str, content: str) -> None:
        self._contents.setdefault(key, []).append(content)

    def get(self, key: str) -> str | None:
        contents = self._contents.get(key)
        return contents[0] if contents else None

    def getall(self, key: str) -> list[str]:
        return self._contents.get(key, [])


def meta_tags(tree: HtmlElement) -> MetaTags:
    """Every non-empty <meta> content, under its property, name, itemprop and http-equiv."""
    tags = MetaTags()
    for element in tree.iterfind(".//meta"):
        content = element.get("content")
        if content is None or not content.strip():
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = element.get(attribute)
            if key:
                tags.add(key.strip().lower(), content.strip())
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
    """The JSON-LD objects in `data`, into lists, @graph, mainEntity and itemListElement, six levels deep."""
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
    """A JSON-LD object's @type values, lower-cased, without a schema.org prefix."""
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.rsplit("/", 1)[-1].lower() for v in values if isinstance(v, str)}


def resolve(value: object, by_id: dict[str, dict]) -> object:
    """`value` with bare {"@id": ...} references replaced by the objects they name."""
    if isinstance(value, list):
        return [resolve(v, by_id) for v in value]
    if isinstance(value, dict) and set(value) <= {"@id", "@type"} and value.get("@id") in by_id:
        return by_id[value["@id"]]
    return value


def ld_name(value: object) -> str | None:
    """The name of a JSON-LD value: a string, an object's "name", or the first of a list's."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) else None


def ld_organisations(value: object) -> list[str]:
    """The names of the organisations in a JSON-LD value (an object or a list of them)."""
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

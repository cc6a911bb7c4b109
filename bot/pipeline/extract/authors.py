"""The authors: the first source naming people, split into names and cleaned of roles, dates and
page furniture ("By A. Smith and B. Jones, Staff Writer" -> A. Smith, B. Jones); an organisation
only when no source names a person. Also the byline shown on the page (`visible_bylines`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lxml.html import HtmlElement

from bot.pipeline.extract.cleaning import clean_text, compact
from bot.pipeline.extract.dates import MONTHS

if TYPE_CHECKING:  # metadata reads bylines with this module's help
    from bot.pipeline.extract.metadata import PageMetadata

MAX_AUTHORS = 10
BYLINE_PREFIX = re.compile(
    r"^\s*(?:(?!sponsored\b)[^\W\d_]+\s+)?by(?:\s*:\s*|\s+|$)|"
    r"^\s*(?:(?:written|posted|published|reported|reviewed|edited|words|text|photos?|story|article)\s+)?"
    r"(?:by|from|von|par|por|автор(?:и|ка)?|від)(?:\s*:\s*|\s+|$)|^\s*(?:authors?|автор(?:и|ка)?)(?:\s*:\s*|\s+|$)",
    re.IGNORECASE,
)
NAME_SPLIT = re.compile(r"\s*(?:;|\||\n|&|\band\b|\bund\b|\bet\b|\bі\b|\bи\b|\bта\b)\s*", re.IGNORECASE)
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
JUNK_WORDS = {
    "see", "all", "more", "about", "articles", "posts", "learn", "view", "read", "follow", "share", "comments",
}
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

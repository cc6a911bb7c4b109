"""Paywalls and teasers: whether the text a page shows is the whole article, part of it, or nothing.

Read from what the page declares and from what it shows, on the parsed page before trafilatura
prunes it (extract/__init__.py calls `page_signals` first and `assess` on the text it found):

- declared: JSON-LD `isAccessibleForFree: false` (on the article or a part of it, as Google asks
  paywalled publishers to mark them) and `<meta name="article:content_tier" content="locked|metered">`;
- named: elements whose class or id names a paywall (paywall, regwall, piano's tp-container,
  premium/subscriber-only boxes and the like);
- shown: a short block of text asking the reader to subscribe or sign in to read on (English,
  Ukrainian, Russian).

A page with article text and any of these is `partial` when the text is short or the page declares
the lock: the card then says the summary is from the visible part. A page with no article text
and any of these is a wall: PaywallNoText, "paywall: no article text visible".

What it misses: a paywall that serves the whole text to us and hides it in the browser (we store the
whole text and call it full, which it is); a teaser longer than TEASER_CHARS with an unnamed box and
no declaration; a prompt in a language other than the three, or only in an image or a script-built
overlay; a "subscribe to our newsletter" box under a short free article is read as a prompt only
when it asks to subscribe *to read* (the patterns require reading words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import HtmlElement

from bot.pipeline.extract.metadata import json_ld_nodes, walk_json_ld

TEASER_CHARS = 2500
"""Article text shorter than this next to a paywall marker or prompt is a teaser."""
PROMPT_BLOCK_CHARS = 400
"""A subscription prompt is a short block; a long paragraph that mentions subscribing is not one."""

_MARKER = re.compile(
    r"(?:^|[\s_-])(?:paywall|pay-wall|regwall|reg-wall|registration-wall|metered-?content|premium-content|"
    r"premium-article|subscriber-only|subscribers-only|subscription-wall|paid-content|locked-content|"
    r"article-locked|content-locked|tp-container|piano-?(?:offer|paywall|template)|leaky_paywall|"
    r"memberful|laterpay|fade-out-teaser)(?:$|[\s_-])",
    re.IGNORECASE,
)
_LOCKED_TIERS = frozenset({"locked", "metered", "premium", "subscriber"})

_PROMPT = re.compile(
    "|".join((
        # English
        r"\b(?:subscribe|sign up|register)\b[^.!?]{0,40}"
        r"\b(?:to (?:continue|keep) reading|to read (?:on|more|the (?:full|rest|whole)))",
        r"\bto (?:continue|keep) reading\b[^.!?]{0,60}\b(?:subscribe|subscription|sign in|log in|register)",
        r"\b(?:sign|log) in to (?:continue|read)",
        r"\b(?:this (?:article|story|content) is )?(?:only )?(?:available |exclusive )?(?:only )?(?:to|for) "
        r"(?:paying |premium )?subscribers(?: only)?\b",
        r"\balready (?:a subscriber|have an account)\?",
        r"\bsubscribe now\b[^.!?]{0,40}\b(?:access|read)",
        # Ukrainian
        r"(?:передплат|підпиш|оформ)\w*[^.!?]{0,60}(?:щоб|аби) (?:читати|прочитати|продовжити)",
        r"(?:щоб|аби) (?:читати|прочитати|продовжити читання)[^.!?]{0,60}(?:передплат|підпиш|увійд|зареєстр)",
        r"доступн\w* (?:лише|тільки) (?:для )?(?:передплатник|підписник)",
        r"(?:увійдіть|авторизуйтеся)[^.!?]{0,30}(?:щоб|аби) (?:читати|прочитати|продовжити)",
        r"(?:читайте|читати) (?:далі|повністю) (?:з|за) (?:передплатою|підпискою)",
        # Russian
        r"(?:подпиш|оформ)\w*[^.!?]{0,60}чтобы (?:читать|прочитать|продолжить)",
        r"чтобы (?:читать|прочитать|продолжить чтение)[^.!?]{0,60}(?:подпис|войд|зарегистр)",
        r"доступн\w* (?:только )?(?:для )?подписчик",
    )),
    re.IGNORECASE,
)

_BLOCKS = ".//*[self::p or self::div or self::section or self::aside or self::span or self::h2 or self::h3 or self::a]"


@dataclass(frozen=True)
class Signals:
    """What a page says and shows about a paywall."""

    declared: bool = False
    """JSON-LD isAccessibleForFree false, or a locked or metered content tier."""
    markers: tuple[str, ...] = ()
    """Class or id names that name a paywall."""
    prompt: str | None = None
    """The first short block asking the reader to subscribe or sign in to read on."""

    @property
    def walled(self) -> bool:
        return self.declared or bool(self.markers) or self.prompt is not None


def page_signals(tree: HtmlElement) -> Signals:
    """The paywall signals of a parsed page (call before anything prunes the tree)."""
    return Signals(declared=_declared(tree), markers=_markers(tree), prompt=_prompt(tree))


def assess(signals: Signals, text: str) -> tuple[str, str]:
    """("full" or "partial", the text without a trailing subscription prompt)."""
    text = _without_prompt(text)
    if signals.declared:
        return "partial", text
    if (signals.markers or signals.prompt) and len(text) < TEASER_CHARS:
        return "partial", text
    return "full", text


def is_prompt(block: str) -> bool:
    """Whether a short block of text asks the reader to subscribe or sign in to read on."""
    block = " ".join(block.split())
    return 0 < len(block) <= PROMPT_BLOCK_CHARS and _PROMPT.search(block) is not None


def _declared(tree: HtmlElement) -> bool:
    for node in json_ld_nodes(tree):
        for part in (node, *walk_json_ld(node.get("hasPart"))):
            if _is_false(part.get("isAccessibleForFree")):
                return True
    for meta in tree.xpath('//meta[@content][contains(@name, "content_tier") or contains(@property, "content_tier")]'):
        if (meta.get("content") or "").strip().lower() in _LOCKED_TIERS:
            return True
    return False


def _is_false(value: object) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() in ("false", "no", "0"))


def _markers(tree: HtmlElement) -> tuple[str, ...]:
    found: list[str] = []
    for element in tree.xpath("//body//*[@class or @id]")[:20_000]:
        for name in (element.get("class") or "", element.get("id") or ""):
            match = _MARKER.search(name)
            if match and match.group(0).strip(" _-").lower() not in found:
                found.append(match.group(0).strip(" _-").lower())
    return tuple(found[:5])


def _prompt(tree: HtmlElement) -> str | None:
    body = tree.find("body")
    candidates = _stem_blocks(body) if body is not None else set()
    if body is None or not candidates:
        return None
    for element in body.xpath(_BLOCKS)[:20_000]:
        if element not in candidates:
            continue
        if element.getparent() is not None and element.getparent().tag in ("script", "style", "noscript", "template"):
            continue
        block = " ".join(element.text_content().split())
        if is_prompt(block):
            return block
    return None


_STEMS = ("subscri", "sign up", "sign in", "log in", "register", "have an account",
          "передплат", "підпиш", "підписк", "підписник", "оформ", "увійд", "зареєстр", "авториз",
          "подпиш", "подпис", "войд", "зарегистр")
"""Words without which no prompt matches (each of _PROMPT's patterns needs one of them)."""


def _stem_blocks(body: HtmlElement) -> set[HtmlElement]:
    """The elements whose own text holds one of the prompt's necessary words, with their
    ancestors: the only blocks a prompt can be in. Most pages have none (one look at the whole
    text), and the rest are spared reading the text of every block of the page."""
    if not _has_stem(body.text_content()):
        return set()
    found: set[HtmlElement] = set()
    for element in body.iter():
        holders = [element] if element.text and _has_stem(element.text) else []
        if element.tail and _has_stem(element.tail):
            holders.append(element.getparent())
        for holder in holders:
            while holder is not None and holder not in found:
                found.add(holder)
                holder = holder.getparent()
    return found


def _has_stem(text: str) -> bool:
    lowered = text.lower()
    return any(stem in lowered for stem in _STEMS)


def _without_prompt(text: str) -> str:
    """The text with any subscription prompt at its end taken off (a teaser's last lines often are one)."""
    paragraphs = text.split("\n")
    while paragraphs and (not paragraphs[-1].strip() or is_prompt(paragraphs[-1])):
        paragraphs.pop()
    return "\n".join(paragraphs)

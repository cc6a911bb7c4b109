"""Paywalled, teaser and login-wall pages in the shapes several CMSs give them (our own text and markup,
written for the tests): a WordPress paywall plugin, a news site declaring its lock in JSON-LD, a
metered Piano-style site, a Ukrainian site that only asks in words, a login wall; and free pages that
merely mention subscribing."""

from __future__ import annotations

import html
import json

from tests.support.articles import ENGLISH_PARAGRAPHS, UKRAINIAN_PARAGRAPHS


def _page(*, title: str, body: str, head: str = "", language: str = "en", ld: dict | None = None,
          site: str = "Example Times") -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
            "datePublished": "2026-11-20T08:30:00+00:00", "author": [{"@type": "Person", "name": "Maria Kovalenko"}],
            "publisher": {"@type": "Organization", "name": site}} | (ld or {})
    return f"""<!DOCTYPE html>
<html lang="{language}"><head><meta charset="utf-8">
<title>{html.escape(title)} | {html.escape(site)}</title>
<meta property="og:title" content="{html.escape(title)}">
<meta property="og:site_name" content="{html.escape(site)}">
<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>
{head}
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/subscribe">Subscribe</a></nav></header>
<main><article>
<h1>{html.escape(title)}</h1>
<p class="byline">By Maria Kovalenko</p>
{body}
</article></main>
<footer><p>© {html.escape(site)}. All rights reserved.</p></footer>
</body></html>"""


def _paragraphs(paragraphs: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def wordpress_teaser() -> str:
    """A WordPress paywall plugin: two paragraphs, then its message box."""
    return _page(title="Port fees to rise in January", body=_paragraphs(ENGLISH_PARAGRAPHS[:2]) + """
<div class="leaky_paywall_message_wrap"><div id="leaky_paywall_message">
<h3>This story is for subscribers</h3>
<p>Subscribe to continue reading. Already a subscriber? <a href="/login">Log in</a></p></div></div>""")


def json_ld_declared() -> str:
    """A site that declares the lock as Google asks (isAccessibleForFree and hasPart), and shows three paragraphs."""
    ld = {"isAccessibleForFree": "False",
          "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": "False", "cssSelector": ".paywalled"}}
    return _page(title="Insurers return to the grain corridor", ld=ld,
                 body=_paragraphs(ENGLISH_PARAGRAPHS[:3]) + '\n<div class="paywalled"></div>')


def metered_piano() -> str:
    """A metered site: a content-tier meta tag and a Piano-style container the script fills."""
    return _page(title="Winter wheat plantings grow", head='<meta property="article:content_tier" content="metered">',
                 body=_paragraphs(ENGLISH_PARAGRAPHS[:2]) + '\n<div class="tp-container-inner"></div>')


def ukrainian_prompt() -> str:
    """A Ukrainian site with no markers at all: a teaser ending in a request to subscribe, in words."""
    return _page(title="Котельні в кожному районі", language="uk", site="Київські новини",
                 body=_paragraphs(UKRAINIAN_PARAGRAPHS[:2])
                 + "\n<p>Оформіть передплату, щоб читати далі. Перший місяць — за 1 гривню.</p>")


def login_wall() -> str:
    """Only the headline and a sign-in box: no article text at all."""
    return _page(title="Exclusive: the audit the ministry kept quiet", body="""
<div class="regwall"><p>Sign in to continue reading this article.</p>
<form><label>Email <input name="email"></label><button>Sign in</button></form></div>""")


def free_with_newsletter_box() -> str:
    """A whole free article with a newsletter box under it: not a paywall."""
    return _page(title="Black Sea grain exports hit a record", body=_paragraphs(ENGLISH_PARAGRAPHS) + """
<aside class="newsletter"><p>Subscribe to our morning newsletter for the day's main stories.</p></aside>""")


def long_article_with_idle_paywall_box() -> str:
    """A long free article whose template carries an empty, unused paywall container."""
    return _page(title="The long read: a year on the corridor",
                 body=_paragraphs(ENGLISH_PARAGRAPHS * 3) + '\n<div class="paywall" hidden></div>')

"""Pages for the stories tests: one event told by several outlets in their own words, near misses
(same topic and day, another event) and an outlet's follow-up. Our own text, written for the tests."""

from __future__ import annotations

import html
import json

QUAKE = {
    "Reuters Wire": ("Magnitude 6.1 earthquake strikes southern Turkey, dozens injured",
                     ["A magnitude 6.1 earthquake struck Adana province in southern Turkey early on Friday, injuring "
                      "at least 40 people and damaging dozens of buildings, the disaster agency AFAD said.",
                      "The quake hit at 04:12 local time at a depth of ten kilometres near the town of Kozan, and "
                      "was felt as far away as Mersin and Gaziantep.",
                      "Rescue teams were searching two collapsed apartment blocks in Kozan, the governor of Adana "
                      "told reporters, adding that schools in the province would stay closed on Friday."]),
    "Daily Courier": ("Earthquake injures dozens in Turkey's Adana province",
                      ["Dozens of people were hurt when a strong earthquake shook Adana province in southern Turkey "
                       "before dawn on Friday, officials said, with two apartment blocks collapsing in Kozan.",
                       "Turkey's disaster agency AFAD measured the quake at magnitude 6.1 and said it struck at a "
                       "depth of about ten kilometres; residents of Mersin and Gaziantep also felt it.",
                       "The Adana governor said rescue teams were working at the collapsed buildings in Kozan and "
                       "that the province's schools were closed for the day."]),
    "Evening Herald": ("Turkey earthquake: 6.1 quake hits Adana, buildings collapse in Kozan",
                       ["An earthquake of magnitude 6.1 hit southern Turkey on Friday, injuring about 40 people in "
                        "Adana province, according to the disaster agency AFAD.",
                        "Two apartment blocks collapsed in the town of Kozan, near the epicentre, and rescue teams "
                        "searched the rubble through the morning, the Adana governor said.",
                        "The quake, at a depth of ten kilometres, was also felt in Mersin and Gaziantep; schools "
                        "across the province stayed closed."]),
}

NEAR_MISS = ("Magnitude 5.2 earthquake shakes northern Greece, no injuries",
             ["A magnitude 5.2 earthquake shook the region of Thessaloniki in northern Greece on Friday afternoon, "
              "the Geodynamic Institute in Athens said; no injuries were reported.",
              "The tremor struck at 15:40 local time at a depth of 8 kilometres near Polygyros, and was felt across "
              "Chalkidiki, where some residents left their homes for a few hours.",
              "Firefighters inspected several old stone houses and churches for cracks, the civil protection "
              "service said, and ferry traffic to Mount Athos was not affected."])

FOLLOW_UP = ("Turkey earthquake: rescuers pull survivor from Kozan rubble after 20 hours",
             ["Rescuers pulled a 63-year-old woman alive from a collapsed apartment block in Kozan on Saturday, "
              "some 20 hours after a magnitude 6.1 earthquake hit Adana province in southern Turkey.",
              "The woman was taken to hospital in Adana with a broken leg, doctors said, while the search for two "
              "missing residents of the building went on through the night.",
              "AFAD said more than 300 aftershocks had been recorded since Friday and urged people in the region "
              "not to return to damaged homes."])


def story_page(*, title: str, paragraphs: list[str], site: str, language: str = "en",
               published: str = "2026-12-04T08:30:00+00:00", canonical: str | None = None,
               og_url: str | None = None) -> str:
    """A news page as outlets publish them, with rel=canonical and og:url when given."""
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "datePublished": published,
          "author": [{"@type": "Person", "name": f"{site} staff"}], "publisher": {"@type": "Organization", "name": site},
          "inLanguage": language}
    head = ""
    if canonical:
        head += f'<link rel="canonical" href="{html.escape(canonical)}">\n'
    if og_url:
        head += f'<meta property="og:url" content="{html.escape(og_url)}">\n'
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{language}"><head><meta charset="utf-8">
<title>{html.escape(title)} | {html.escape(site)}</title>
{head}<meta property="og:title" content="{html.escape(title)}">
<meta property="og:site_name" content="{html.escape(site)}">
<meta property="article:published_time" content="{published}">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>
<main><article><h1>{html.escape(title)}</h1>
<p class="byline">By {html.escape(site)} staff</p>
{body}
</article></main>
<footer><p>© {html.escape(site)}</p></footer>
</body></html>"""

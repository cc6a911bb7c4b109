"""Page metadata: what JSON-LD and <meta> tags declare, gathered as candidates."""

from __future__ import annotations

import json

import trafilatura

from bot.pipeline.extract.metadata import read_page_metadata


def test_the_web_page_dates_itself_when_no_article_is_marked_up() -> None:
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "@id": "https://news.example/story#page", "datePublished": "2024-03-17T19:47:39+00:00"},
        {"@type": "WebSite", "@id": "https://news.example/#website", "datePublished": "2019-01-01"},
    ]}
    page = (
        f'<html><head><script type="application/ld+json">{json.dumps(graph)}</script></head>'
        "<body><p>Text.</p></body></html>"
    )
    tree = trafilatura.load_html(page)
    assert read_page_metadata(tree).published == ["2024-03-17T19:47:39+00:00"]


def ld_page(data: object, *, head: str = "", body: str = "<p>Text.</p>") -> str:
    return (
        f'<html><head><script type="application/ld+json">{json.dumps(data)}</script>{head}</head>'
        f"<body>{body}</body></html>"
    )


def test_the_article_in_a_graph_with_its_author_resolved() -> None:
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "Person", "@id": "#ann", "name": "Ann Lee"},
        {"@type": "NewsMediaOrganization", "@id": "#org", "name": "The Coastal Ledger"},
        {"@type": "NewsArticle", "headline": "Flood barrier approved", "author": {"@id": "#ann"},
         "publisher": {"@id": "#org"}, "datePublished": "2024-03-14", "inLanguage": "en-GB"},
    ]}
    head = '<meta property="og:title" content="Flood barrier approved | Ledger"><title>Ledger: flood barrier</title>'
    page = read_page_metadata(trafilatura.load_html(ld_page(graph, head=head)))

    assert page.titles == ["Flood barrier approved", "Flood barrier approved | Ledger", "Ledger: flood barrier"]
    assert page.authors == ["Ann Lee"]
    assert page.organisations == ["The Coastal Ledger"]
    assert page.site_name == "The Coastal Ledger"
    assert page.published == ["2024-03-14"]
    assert page.languages == ["en-GB"]
    assert page.bylines == []  # the structured data names a person: the page's byline is not looked for


def test_control_characters_inside_json_ld_strings() -> None:
    page = '<html><head><script type="application/ld+json">{"@type": "Article", "headline": "Line\none"}</script>'
    assert read_page_metadata(trafilatura.load_html(page + "</head><body></body></html>")).titles == ["Line one"]


def test_the_byline_is_read_when_only_an_organisation_is_named() -> None:
    article = {"@type": "Article", "headline": "Story", "author": {"@type": "Organization", "name": "Ledger"}}
    page = read_page_metadata(trafilatura.load_html(ld_page(article, body="<p class='byline'>By Ann Lee</p>")))
    assert page.authors == ["Ledger"]
    assert page.organisations == ["Ledger"]
    assert page.bylines == ["By Ann Lee"]


def test_meta_tags_without_structured_data() -> None:
    head = (
        '<meta name="author" content="Ann Lee"><meta property="article:published_time" content="2024-03-14">'
        '<meta property="og:site_name" content="Ledger"><meta name="description" content="What happened.">'
        '<meta name="empty" content="  ">'
    )
    page = read_page_metadata(trafilatura.load_html(f"<html lang='uk'><head>{head}</head><body></body></html>"))
    assert page.authors == ["Ann Lee"]
    assert page.published == ["2024-03-14"]
    assert page.site_name == "Ledger"
    assert page.description == "What happened."
    assert page.languages == ["uk"]

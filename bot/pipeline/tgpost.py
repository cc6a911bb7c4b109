"""Posts of public Telegram channels: a t.me link in, the post as an Article out.

`post_address` recognises https://t.me/<channel>/<id> (also t.me/s/..., telegram.me, with ?single
and the like). The post is read from the public web preview Telegram serves for public channels,
`<TELEGRAM_PREVIEW_URL>/s/<channel>/<id>` (the channel's page around that post), fetched by the
same safe fetcher as any page. `read_post` runs in a worker process and picks the post out of it:

    div.tgme_widget_message[data-post="<channel>/<id>"]    one post
      .tgme_widget_message_owner_name                       the channel's name
      .tgme_widget_message_from_author                      the signature, on signed posts
      .tgme_widget_message_text                             its text or its media's caption
      a.tgme_widget_message_link_preview                    the preview of a link it carries
      .tgme_widget_message_footer time[datetime]            when it was posted
    .tgme_widget_message_error                              "Post not found" (the embed widget)
    .tgme_channel_info_header_title                         the channel's name, on the channel page

A channel with no public preview answers by redirecting to t.me/<channel> (no /s/): PrivateChannel;
links of the form t.me/c/<id>/<post> are private channels' by construction. A public channel whose
page does not hold the post: PostNotFound (deleted, or never there).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html
from lxml.html import HtmlElement

from bot.pipeline.charset import decode_html
from bot.pipeline.errors import NoArticle, PostNotFound, PrivateChannel
from bot.pipeline.extract.language import choose_language
from bot.pipeline.models import Article

HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me"})
_CHANNEL = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_NOT_CHANNELS = frozenset({"s", "c", "joinchat", "addstickers", "share", "proxy", "socks", "iv", "login",
                           "setlanguage"})
MAX_LINKS = 10
TITLE_CHARS = 120


@dataclass(frozen=True)
class PostAddress:
    channel: str
    post_id: int
    private: bool = False
    """A t.me/c/<id>/<post> link: a private channel's, which has no public preview."""

    @property
    def url(self) -> str:
        return f"https://t.me/{self.channel}/{self.post_id}"


def post_address(url: str) -> PostAddress | None:
    """The channel and post a t.me link names, or None when it is not a channel post's link."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in HOSTS:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if segments[:1] == ["s"]:
        segments = segments[1:]
    if len(segments) == 3 and segments[0] == "c" and segments[1].isdigit() and segments[2].isdigit():
        return PostAddress(channel=f"c/{segments[1]}", post_id=int(segments[2]), private=True)
    if len(segments) != 2 or not segments[1].isdigit() or len(segments[1]) > 12:
        return None
    channel = segments[0]
    if channel.lower() in _NOT_CHANNELS or not _CHANNEL.fullmatch(channel):
        return None
    return PostAddress(channel=channel, post_id=int(segments[1]))


def preview_url(post: PostAddress, base: str) -> str:
    """Where the public preview of the post is read."""
    if post.private:
        raise PrivateChannel("the link is to a private channel's post, which has no public preview")
    return f"{base.rstrip('/')}/s/{post.channel}/{post.post_id}"


def read_post(body: bytes, final_url: str, encoding: str | None, post: PostAddress) -> Article:
    """The post in a fetched preview page (runs in a worker process); PrivateChannel or PostNotFound."""
    if "/s/" not in urlsplit(final_url).path + "/":
        raise PrivateChannel(f"the channel @{post.channel} has no public preview: it is private or does not exist")
    markup = decode_html(body, encoding)
    if not markup.strip():
        raise PostNotFound(f"the post {post.url} was not found")
    tree = lxml_html.fromstring(markup)
    wanted = f"{post.channel}/{post.post_id}".lower()
    posts = [element for element in tree.iter("div")
             if element.get("data-post") and _has_class(element, "tgme_widget_message")]
    message = next((element for element in posts if (element.get("data-post") or "").lower() == wanted), None)
    if message is None:
        if posts or tree.xpath('//*[contains(@class, "tgme_widget_message_error")]'):
            raise PostNotFound(f"the post {post.url} was not found: it was deleted, or never there")
        raise PrivateChannel(f"the channel @{post.channel} has no public preview: it is private or does not exist")

    channel_name = (_first_text(message, "tgme_widget_message_owner_name")
                    or _first_text(tree, "tgme_channel_info_header_title") or f"@{post.channel}")
    author = _first_text(message, "tgme_widget_message_from_author")
    text_element = _first(message, "tgme_widget_message_text")
    text, links = _text_and_links(text_element, final_url) if text_element is not None else ("", [])
    preview = _first(message, "tgme_widget_message_link_preview")
    preview_title = _first_text(preview, "link_preview_title") if preview is not None else ""
    if preview is not None and (href := _absolute(preview.get("href"), final_url)):
        links.append(href)
    links = [link for link in dict.fromkeys(links) if not _is_self(link, post)][:MAX_LINKS]
    if not text and preview_title:
        text = preview_title
    if not text:
        raise NoArticle("the post has no text to store (a photo or video without a caption)")

    posted = _posted_at(message)
    return Article(
        title=_title(text),
        text=text,
        authors=(author,) if author else (),
        site_name=channel_name,
        published_date=posted.date() if posted else None,
        language=choose_language([], text),
        description=None,
        content_kind="telegram_post",
        published_at=posted.isoformat() if posted else None,
        links=tuple(links),
    )


def _has_class(element: HtmlElement, name: str) -> bool:
    return name in (element.get("class") or "").split()


def _first(element: HtmlElement, name: str) -> HtmlElement | None:
    found = element.xpath(f'.//*[contains(concat(" ", normalize-space(@class), " "), " {name} ")]')
    return found[0] if found else None


def _first_text(element: HtmlElement, name: str) -> str:
    found = _first(element, name)
    return _plain(found.text_content()) if found is not None else ""


def _text_and_links(element: HtmlElement, base: str) -> tuple[str, list[str]]:
    """The post's text with line breaks and its links kept ("label (https://…)"), and those links."""
    links: list[str] = []
    for br in element.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for anchor in element.iter("a"):
        href = _absolute(anchor.get("href"), base)
        label = " ".join(anchor.text_content().split())
        if href is None or label.startswith("#"):  # hashtags link to a search of the channel
            continue
        links.append(href)
        if label and label.rstrip("/") != href.rstrip("/") and label not in href:
            anchor.tail = f" ({href})" + (anchor.tail or "")
    lines = [" ".join(line.split()) for line in element.text_content().split("\n")]
    text = "\n".join(line for line in lines if line)
    return clean_text_keep_lines(text), links


def clean_text_keep_lines(text: str) -> str:
    return "\n".join(_plain(line) for line in text.split("\n"))


def _plain(text: str) -> str:
    """Parsed text without control characters and direction overrides, whitespace collapsed. (Not
    clean_text: that unescapes and strips tags, and a post's "<b>" written as text is text.)"""
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs", "Co")
                   and ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
    return " ".join(kept.split())


def _absolute(href: str | None, base: str) -> str | None:
    if not href:
        return None
    url = urljoin(base, href.strip())
    return url if urlsplit(url).scheme in ("http", "https") else None


def _is_self(link: str, post: PostAddress) -> bool:
    """A link to the post itself (its date, a photo of it) is not something to follow up."""
    found = post_address(link)
    return found is not None and found.channel.lower() == post.channel.lower() and found.post_id == post.post_id


def _posted_at(message: HtmlElement) -> datetime | None:
    for value in message.xpath('.//*[contains(@class, "tgme_widget_message_footer")]//time/@datetime') + \
            message.xpath(".//time/@datetime"):
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            continue
        if moment.tzinfo is not None:
            return moment
    return None


def _title(text: str) -> str:
    first = text.split("\n", 1)[0].strip()
    if len(first) <= TITLE_CHARS:
        return first
    return first[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"

"""Telegram's public channel previews (t.me/s/<channel>/<id>) as our own loopback fixtures: the page
structure public-channel readers rely on (message blocks with data-post, owner name, text, link
preview, footer time), with text written for the tests. Served by tests/support/webserver.py with
TELEGRAM_PREVIEW_URL pointing at it, so no test reaches Telegram."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from tests.support.webserver import WebServer


@dataclass(frozen=True)
class Post:
    post_id: int
    text_html: str = ""
    """The message text as Telegram writes it: <br/> line breaks, <a href> links, <b> and <i>."""
    posted: str = "2026-11-20T07:45:12+00:00"
    photo: bool = False
    author: str | None = None
    link_preview: tuple[str, str] | None = None
    """(href, title) of the preview card Telegram shows under a link."""
    extra_classes: tuple[str, ...] = field(default=())


def _message(channel: str, title: str, post: Post) -> str:
    parts = [f'<div class="tgme_widget_message_wrap js-widget_message_wrap">'
             f'<div class="tgme_widget_message text_not_supported_wrap js-widget_message" '
             f'data-post="{channel}/{post.post_id}" data-view="x">',
             '<div class="tgme_widget_message_user"><a href="https://t.me/' + channel + '">'
             '<i class="tgme_widget_message_user_photo"></i></a></div>',
             '<div class="tgme_widget_message_bubble">',
             f'<div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" '
             f'href="https://t.me/{channel}"><span dir="auto">{html.escape(title)}</span></a></div>']
    if post.photo:
        parts.append(f'<a class="tgme_widget_message_photo_wrap" href="https://t.me/{channel}/{post.post_id}?single" '
                     "style=\"width:800px;background-image:url('https://cdn.example/photo.jpg')\"></a>")
    if post.text_html:
        parts.append(f'<div class="tgme_widget_message_text js-message_text" dir="auto">{post.text_html}</div>')
    if post.link_preview:
        href, preview_title = post.link_preview
        parts.append(f'<a class="tgme_widget_message_link_preview" href="{html.escape(href)}">'
                     f'<div class="link_preview_site_name accent_color" dir="auto">Example</div>'
                     f'<div class="link_preview_title" dir="auto">{html.escape(preview_title)}</div></a>')
    footer = ['<div class="tgme_widget_message_footer compact js-message_footer"><div class="tgme_widget_message_info">']
    if post.author:
        footer.append(f'<span class="tgme_widget_message_from_author" dir="auto">{html.escape(post.author)}</span>')
    footer.append(f'<span class="tgme_widget_message_views">12.3K</span><span class="tgme_widget_message_meta">'
                  f'<a class="tgme_widget_message_date" href="https://t.me/{channel}/{post.post_id}">'
                  f'<time datetime="{post.posted}" class="time">09:45</time></a></span></div></div>')
    parts += footer
    parts.append("</div></div></div>")
    return "".join(parts)


def channel_page(channel: str, title: str, posts: list[Post]) -> str:
    """A channel's preview page holding these posts, newest last, as t.me/s/ lists them."""
    messages = "\n".join(_message(channel, title, post) for post in posts)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)} – Telegram</title>
<meta property="og:title" content="{html.escape(title)}"></head>
<body class="widget_frame_base tgme_webpage">
<header class="tgme_header"><div class="tgme_channel_info_header_title"><span dir="auto">{html.escape(title)}</span></div></header>
<main class="tgme_main"><section class="tgme_channel_history js-message_history">
{messages}
</section></main></body></html>"""


def private_channel_page(channel: str) -> str:
    """What t.me/<channel> shows for a channel with no public preview: a join card, no posts."""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Telegram: Contact @{channel}</title></head>
<body class="tgme_page_body"><div class="tgme_page"><div class="tgme_page_title"><span dir="auto">Closed desk</span></div>
<div class="tgme_page_extra">1 024 subscribers</div>
<div class="tgme_page_description">If you have Telegram, you can view and join Closed desk right away.</div>
<a class="tgme_action_button_new" href="tg://resolve?domain={channel}">View in Telegram</a></div></body></html>"""


TEXT_POST = Post(
    4521,
    "<b>Уряд ухвалив програму відновлення енергетики.</b><br/><br/>Програма передбачає будівництво 40 нових "
    "котелень до кінця зими та ремонт підстанцій у прифронтових громадах.<br/>Деталі на сайті міністерства: "
    '<a href="https://minenergy.example.gov.ua/news/4521" target="_blank" rel="noopener">повний текст рішення</a>'
    '<br/><a href="?q=%23енергетика">#енергетика</a>',
)
PHOTO_POST = Post(
    4522,
    "Рятувальники ліквідували пожежу на складі в Києві, постраждалих немає. Відео: "
    '<a href="https://news.example.com/fire-video" target="_blank">news.example.com/fire-video</a>',
    posted="2026-11-20T08:10:00+00:00", photo=True, author="Олена Коваленко",
)
PHOTO_ONLY = Post(4523, photo=True, posted="2026-11-20T08:30:00+00:00")


def serve_channel(web: WebServer, channel: str = "kyiv_desk_news", title: str = "Київ Оперативний") -> str:
    """The channel's preview at /s/<channel>/<id> for each post, plus a deleted post's and a private
    channel's answers; returns the preview base URL."""
    posts = [Post(4519, "Попередній допис каналу про погоду на вихідні."), TEXT_POST, PHOTO_POST, PHOTO_ONLY]
    page = channel_page(channel, title, posts)
    for post in posts:
        web.add(f"/s/{channel}/{post.post_id}", page)
    # a deleted post: the channel's page around the id holds its neighbours but not it
    web.add(f"/s/{channel}/4520", page)
    # a private channel: Telegram redirects the preview to the join card
    web.redirect("/s/closed_desk/7", "/closed_desk")
    web.add("/closed_desk", private_channel_page("closed_desk"))
    return web.base_url

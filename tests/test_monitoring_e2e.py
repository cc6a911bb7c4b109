"""Monitoring end to end: `python -m bot` against the Bot API emulator, following a feed served by
the loopback web server that changes while the bot runs. After /follow a new entry appears as a
card, in /latest and in the digest; a watch fires exactly once; a flood is capped with one notice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support import articles
from tests.support.botapi import BotApiServer, ChatMessage
from tests.support.botprocess import BotProcess
from tests.support.feeds import BASE_TIME, Entry, LiveFeed
from tests.support.webserver import WebServer
from tests.test_bot import ADMIN, EDITOR, GROUP, bot_environment

pytestmark = pytest.mark.slow

POLL_SECONDS = 3


@pytest.fixture
def telegram() -> Iterator[BotApiServer]:
    with BotApiServer(token="123:MONITOR") as server:
        server.add_chat(GROUP, chat_type="supergroup", title="Desk")
        server.add_user(EDITOR, first_name="Olena", language_code="uk")
        server.add_user(ADMIN, first_name="Admin")
        server.set_chat_admins(GROUP, [ADMIN])
        yield server


def containing(telegram: BotApiServer, text: str) -> list[ChatMessage]:
    return [m for m in telegram.bot_messages(GROUP) if text in m.content]


def test_follow_announce_watch_and_flood(telegram: BotApiServer, web: WebServer, tmp_path: Path) -> None:
    def story(n: int, title: str) -> Entry:
        url = web.add(f"/e2e-feed/story/{n}", articles.english_article(title=title))
        return Entry(f"story-{n}", url, title, published=BASE_TIME + timedelta(minutes=n))

    live = LiveFeed(web, "/e2e-feed/rss.xml", title="Wire of the desk")
    live.replace([story(n, f"Morning wire item {n}") for n in range(4)][::-1])
    environ = bot_environment(telegram, tmp_path, FEED_POLL_MINUTES=str(POLL_SECONDS / 60),
                              FEED_FIRST_POLL_ITEMS="2", FEED_MAX_NEW_PER_POLL="3")
    with BotProcess(environ, log_path=tmp_path / "bot.log") as bot:
        telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
        refused = telegram.send_command(GROUP, f"/follow {live.url}", user=EDITOR)
        assert "адміністратори" in telegram.wait_for_reply(refused, timeout=20).content
        watch = telegram.send_command(GROUP, "/watch zaporizhzhia", user=EDITOR)
        assert "Стеження №1" in telegram.wait_for_reply(watch, timeout=20).content

        followed = telegram.send_command(GROUP, f"/follow {live.url}", user=ADMIN)
        answer = telegram.wait_for(lambda s: next((m for m in s.bot_messages(GROUP, after=followed["message_id"])
                                                   if "Стежу за стрічкою №1" in m.content), None), timeout=30)
        assert "Wire of the desk" in answer.content and "нових записів 2" in answer.content
        # the first poll took the newest two only, each as a card
        telegram.wait_for(lambda s: containing(s, "Morning wire item 3") and containing(s, "Morning wire item 2"),
                          timeout=60)
        assert not containing(telegram, "Morning wire item 1")

        live.publish(story(10, "Inspectors visit Zaporizhzhia plant"))
        card = telegram.wait_for(lambda s: next((m for m in containing(s, "Inspectors visit Zaporizhzhia plant")
                                                 if not m.content.startswith("🔔")), None), timeout=60)
        assert "<b>Example Times</b>" in (card.source or "")
        alert = telegram.wait_for(lambda s: next((m for m in containing(s, "Inspectors visit Zaporizhzhia plant")
                                                  if m.content.startswith("🔔")), None), timeout=30)
        assert "zaporizhzhia" in alert.content

        # a link posted by an editor is watched the same way
        posted_url = web.add("/e2e-feed/posted", articles.english_article(title="Zaporizhzhia dam report"))
        telegram.send_message(GROUP, posted_url, user=EDITOR)
        telegram.wait_for(lambda s: next((m for m in containing(s, "Zaporizhzhia dam report")
                                          if m.content.startswith("🔔")), None), timeout=30)

        latest = telegram.send_command(GROUP, "/latest 3", user=EDITOR)
        assert "Inspectors visit Zaporizhzhia plant" in telegram.wait_for_reply(latest, timeout=20).content
        digest = telegram.send_command(GROUP, "/digest", user=EDITOR)
        shown = telegram.wait_for_reply(digest, timeout=20)
        assert "🔔 Inspectors visit Zaporizhzhia plant" in shown.content and "Morning wire item 3" in shown.content

        live.publish(*[story(20 + n, f"Flood wire item {n}") for n in range(10)][::-1])
        notice = telegram.wait_for(lambda s: containing(s, "принесла одразу 10 нових записів"), timeout=60)
        assert "Взято найновіші 3" in notice[0].content and "пропущено 7" in notice[0].content
        telegram.wait_for(lambda s: all(containing(s, f"Flood wire item {n}") for n in (7, 8, 9)), timeout=60)
        assert not containing(telegram, "Flood wire item 6")
        # more polls go by (304 each) and nothing is said twice
        polls = len(live.statuses)
        telegram.wait_for(lambda s: len(live.statuses) >= polls + 2 and live.statuses[-1] == 304,
                          timeout=60)
        probe = telegram.send_command(GROUP, "/feeds", user=EDITOR)
        listed = telegram.wait_for_reply(probe, timeout=20)
        assert "Wire of the desk" in listed.content and live.url in listed.content
        assert len(containing(telegram, "принесла одразу")) == 1
        assert len([m for m in containing(telegram, "Zaporizhzhia") if m.content.startswith("🔔")]) == 2  # one for each item
        cards = [m for m in containing(telegram, "Inspectors visit Zaporizhzhia plant")
                 if m.content.startswith("Example Times")]
        assert len(cards) == 1
        for command, answer in (("/follow", "Використання: /follow URL [announce|digest]"),
                                ("/follow https://x.example/ loudly", "Використання"),
                                ("/unfollow 999", "Стрічки №999 у цьому чаті немає"),
                                ("/unfollow abc", "Використання"), ("/watch", "Використання"),
                                ("/watch -turkey", "хоча б одне слово"), ("/unwatch 99", "Стеження №99"),
                                ("/feeds everything", "Використання")):
            asked = telegram.send_command(GROUP, command, user=ADMIN)
            assert answer in telegram.wait_for_reply(asked, timeout=20).content, command
        opml = telegram.send_command(GROUP, "/feeds opml", user=EDITOR)
        document = telegram.wait_for_reply(opml, timeout=20)
        assert document.document is not None and live.url.encode() in document.document.data
        assert "Traceback" not in bot.log()

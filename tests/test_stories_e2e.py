"""Stories end to end: `python -m bot` against the Bot API emulator and a local web server.
Three outlets' reports of one event are one story: the third card says it is the third source,
the digest lists the story once with "також:" (also:), /stories ranks it; an AMP link to a stored
article is answered as already saved; /unlink and /link change the grouping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import stories
from tests.support.botapi import BotApiServer
from tests.support.botprocess import BotProcess
from tests.support.webserver import WebServer
from tests.test_bot import ADMIN, EDITOR, GROUP, bot_environment, card_for

pytestmark = pytest.mark.slow


@pytest.fixture
def telegram() -> Iterator[BotApiServer]:
    with BotApiServer(token="123:TESTTOKEN") as server:
        server.add_chat(GROUP, chat_type="supergroup", title="Desk")
        server.add_user(EDITOR, first_name="Olena", language_code="uk")
        server.add_user(ADMIN, first_name="Admin")
        server.set_chat_admins(GROUP, [ADMIN])
        yield server


def item_id(content: str) -> int:
    found = re.findall(r"№(\d+)", content)
    assert found, content
    return int(found[-1])


def test_three_outlets_are_one_story_and_an_amp_link_is_already_saved(
        telegram: BotApiServer, web: WebServer, tmp_path: Path) -> None:
    with BotProcess(bot_environment(telegram, tmp_path), log_path=tmp_path / "bot.log"):
        telegram.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
        ids = []
        cards = []
        for n, (site, (title, paragraphs)) in enumerate(stories.QUAKE.items()):
            url = web.add(f"/e2e-stories/{n}/quake", stories.story_page(title=title, paragraphs=paragraphs, site=site))
            card = card_for(telegram, GROUP, telegram.send_message(GROUP, url, user=EDITOR), title)
            cards.append(card.content)
            ids.append(item_id(card.content))
        assert "джерело" not in cards[0]
        assert "2-є джерело про цю подію, першим було Reuters Wire" in cards[1]
        assert "3-є джерело про цю подію, першим було Reuters Wire" in cards[2]
        assert "40 people" in cards[0]  # the first source's summary
        assert "were hurt" not in cards[1] and "40 people" not in cards[2]  # the note stands instead

        amp = web.url("/e2e-stories/0/quake/amp")
        saved = telegram.wait_for_reply(telegram.send_message(GROUP, amp, user=EDITOR), timeout=30).content
        assert "Уже збережено" in saved and stories.QUAKE["Reuters Wire"][0] in saved
        assert web.requests_to("/e2e-stories/0/quake/amp") == []

        digest = telegram.wait_for_reply(telegram.send_command(GROUP, "/digest", user=EDITOR), timeout=30).content
        titles = [title for title, _ in stories.QUAKE.values()]
        assert sum(digest.count(title) for title in titles) == 1, digest
        also = re.search(r"також: (.+)", digest)
        assert also is not None, digest
        assert len(also.group(1).split(", ")) == 2

        ranked = telegram.wait_for_reply(telegram.send_command(GROUP, "/stories", user=EDITOR), timeout=30).content
        assert "джерел: 3" in ranked

        shown = telegram.wait_for_reply(telegram.send_command(GROUP, f"/item {ids[0]}", user=EDITOR), timeout=30)
        assert f"№{ids[1]} · Daily Courier" in shown.content and f"№{ids[2]} · Evening Herald" in shown.content

        split = telegram.wait_for_reply(telegram.send_command(GROUP, f"/unlink {ids[2]}", user=EDITOR), timeout=30)
        assert f"№{ids[2]} виокремлено" in split.content
        ranked = telegram.wait_for_reply(telegram.send_command(GROUP, "/stories", user=EDITOR), timeout=30).content
        assert "джерел: 2" in ranked and "джерел: 1" in ranked
        joined = telegram.wait_for_reply(telegram.send_command(GROUP, f"/link {ids[0]} {ids[2]}", user=EDITOR),
                                         timeout=30)
        assert "Об’єднано" in joined.content
        wrong = telegram.wait_for_reply(telegram.send_command(GROUP, "/link 1", user=EDITOR), timeout=30)
        assert "/link" in wrong.content
        missing = telegram.wait_for_reply(telegram.send_command(GROUP, "/unlink 99999", user=EDITOR), timeout=30)
        assert "№99999" in missing.content

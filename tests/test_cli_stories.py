"""`newsdesk stories`, `link`, `unlink` and the story fields of `show --json`, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import stories
from tests.support.webserver import WebServer
from tests.test_cli import newsdesk

CHAT = "--chat=-100777"


def test_stories_link_and_unlink(tmp_path: Path, web: WebServer) -> None:
    urls = [web.add(f"/cli-stories/{n}", stories.story_page(title=title, paragraphs=paragraphs, site=site))
            for n, (site, (title, paragraphs)) in enumerate(stories.QUAKE.items())]
    title, paragraphs = stories.NEAR_MISS
    urls.append(web.add("/cli-stories/greece", stories.story_page(title=title, paragraphs=paragraphs, site="Daily Courier")))
    added = newsdesk(tmp_path, "add", *urls, "--json", CHAT)
    assert added.returncode == 0, added.stderr
    ids = [json.loads(line)["id"] for line in added.stdout.splitlines()]

    listed = newsdesk(tmp_path, "stories", "--json", CHAT)
    assert listed.returncode == 0, listed.stderr
    found = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [story["items"] for story in found] == [ids[:3], [ids[3]]]
    assert found[0]["sources"] == list(stories.QUAKE) and found[0]["first_item"] == ids[0]
    text = newsdesk(tmp_path, "stories", CHAT).stdout
    assert "3 sources" in text and "Reuters Wire" in text

    shown = json.loads(newsdesk(tmp_path, "show", str(ids[1]), "--json", CHAT).stdout)
    assert shown["story_id"] == found[0]["id"] and shown["story_items"] == [ids[0], ids[2]]
    exported = [json.loads(line) for line in newsdesk(tmp_path, "export", "--format", "jsonl", CHAT).stdout.splitlines()]
    assert [item["story_id"] for item in exported] == [found[0]["id"]] * 3 + [found[1]["id"]]

    assert newsdesk(tmp_path, "unlink", str(ids[2]), CHAT).returncode == 0
    assert json.loads(newsdesk(tmp_path, "show", str(ids[2]), "--json", CHAT).stdout)["story_items"] == []
    linked = newsdesk(tmp_path, "link", str(ids[0]), str(ids[3]), "--json", CHAT)
    assert json.loads(linked.stdout)["result"] == "linked"
    assert json.loads(newsdesk(tmp_path, "show", str(ids[3]), "--json", CHAT).stdout)["story_items"] == ids[:2]

    missing = newsdesk(tmp_path, "link", str(ids[0]), "99999", CHAT)
    assert missing.returncode != 0 and "no item 99999" in missing.stderr
    same = newsdesk(tmp_path, "link", str(ids[0]), str(ids[0]), CHAT)
    assert same.returncode != 0 and "two different" in same.stderr
    bad = newsdesk(tmp_path, "unlink", "x", CHAT)
    assert bad.returncode != 0 and "not a whole number" in bad.stderr

"""`newsdesk follow/unfollow/feeds/poll/watch/unwatch/watches` run as a user (or cron) runs them:
a subprocess, feeds on the loopback web server, a real database."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support import articles
from tests.support.feeds import BASE_TIME, Entry, LiveFeed, opml
from tests.support.webserver import WebServer
from tests.test_cli import ROOT, environment, newsdesk

CHAT = "--chat=-1001234"


def make_due(database: Path) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE feeds SET next_check_at = ?", ((datetime.now(UTC) - timedelta(seconds=1)).isoformat(),))


def lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_follow_poll_and_watch_from_the_terminal(tmp_path: Path, web: WebServer) -> None:
    live = LiveFeed(web, "/cli-feeds/wire.xml", title="CLI wire")
    live.replace([Entry("w1", web.add("/cli-feeds/a1", articles.english_article(title="Budget vote passes")),
                        "Budget vote passes")])
    followed = newsdesk(tmp_path, "follow", live.url, CHAT, "--json")
    assert followed.returncode == 0, followed.stderr
    [feed] = lines(followed.stdout)
    assert feed["title"] == "CLI wire" and feed["new"] is True and feed["mode"] == "announce"
    assert [item["title"] for item in feed["items"]] == ["Budget vote passes"]
    assert feed["items"][0]["feed_id"] == feed["id"] and feed["items"][0]["watches"] == []

    watched = newsdesk(tmp_path, "watch", "-kremlin", "grain", CHAT, "--json")  # a query may start with "-"
    assert watched.returncode == 0, watched.stderr
    watch = lines(watched.stdout)[0]
    assert watch["query"] == "-kremlin grain"
    live.publish(Entry("w2", web.add("/cli-feeds/a2", articles.english_article(title="Grain corridor reopens")),
                       "Grain corridor reopens", published=BASE_TIME + timedelta(hours=1)))
    make_due(tmp_path / "cli.db")
    polled = newsdesk(tmp_path, "poll", "--json")
    assert polled.returncode == 0, polled.stderr
    [result] = lines(polled.stdout)
    assert result["feed"] == feed["id"] and result["status"] == "ok" and result["new"] == 1
    assert result["items"][0]["title"] == "Grain corridor reopens" and result["items"][0]["watches"] == [watch["id"]]

    make_due(tmp_path / "cli.db")
    again = lines(newsdesk(tmp_path, "poll", "--json", CHAT).stdout)
    assert again == [{"feed": feed["id"], "chat_id": -1001234, "status": "not_modified", "new": 0, "skipped": 0,
                      "error": None, "items": []}]
    assert "No feed is due." in newsdesk(tmp_path, "poll").stdout

    listed = lines(newsdesk(tmp_path, "feeds", CHAT, "--json").stdout)
    assert listed[0]["id"] == feed["id"] and listed[0]["last_new_at"] and listed[0]["errors"] == 0
    exported = newsdesk(tmp_path, "export", "--format", "csv", CHAT).stdout
    assert "feed_id" in exported.splitlines()[0] and f",{feed['id']}," in exported
    assert [w["query"] for w in lines(newsdesk(tmp_path, "watches", CHAT, "--json").stdout)] == ["-kremlin grain"]
    assert newsdesk(tmp_path, "unwatch", str(watch["id"])).returncode == 0
    assert newsdesk(tmp_path, "unwatch", str(watch["id"])).returncode == 1
    assert newsdesk(tmp_path, "unfollow", str(feed["id"]), "--chat=-5").returncode == 1  # not that chat's
    assert newsdesk(tmp_path, "unfollow", str(feed["id"]), CHAT).returncode == 0
    assert newsdesk(tmp_path, "feeds", CHAT, "--json").stdout == ""


def test_bad_addresses_and_usage(tmp_path: Path, web: WebServer) -> None:
    page = web.add("/cli-feeds/plain", "<html><body><p>No feed named here.</p></body></html>")
    refused = newsdesk(tmp_path, "follow", page, "--json")
    assert refused.returncode == 1 and lines(refused.stdout)[0]["problem"] == "not_a_feed"
    assert newsdesk(tmp_path, "follow", "javascript:alert(1)").returncode == 1
    assert newsdesk(tmp_path, "follow").returncode == 2
    assert newsdesk(tmp_path, "follow", page, "--mode", "loud").returncode == 2
    assert newsdesk(tmp_path, "watch", "-x").returncode == 2  # no word to look for


def test_opml_import_and_export(tmp_path: Path) -> None:
    listing = tmp_path / "feeds.opml"
    listing.write_bytes(opml([("https://a.example/rss", "A"), ("https://b.example/atom.xml", "B"),
                              ("ftp://c.example/x", "not the web")]))
    imported = newsdesk(tmp_path, "follow", "--opml", str(listing), CHAT)
    assert imported.returncode == 1 and "2 feeds followed, 1 refused" in imported.stdout
    exported = newsdesk(tmp_path, "feeds", "--opml", CHAT)
    assert exported.returncode == 0 and 'xmlUrl="https://a.example/rss"' in exported.stdout
    again = tmp_path / "again.opml"
    again.write_text(exported.stdout)
    other = newsdesk(tmp_path, "follow", "--opml", str(again), "--chat=-77", "--mode", "digest", "--json")
    assert [f["mode"] for f in lines(other.stdout)] == ["digest", "digest"]
    bad = tmp_path / "bad.opml"
    bad.write_text("<html>nope</html>")
    assert newsdesk(tmp_path, "follow", "--opml", str(bad)).returncode == 2
    assert newsdesk(tmp_path, "follow", "--opml", str(tmp_path / "missing.opml")).returncode == 2


def statuses(database: Path) -> list[tuple[str, str]]:
    try:
        with sqlite3.connect(database) as connection:
            return connection.execute("SELECT canonical_url, status FROM items ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []


@pytest.mark.slow
def test_a_poll_killed_midway_then_run_again_loses_and_doubles_nothing(tmp_path: Path, web: WebServer) -> None:
    live = LiveFeed(web, "/cli-feeds/killed.xml")
    live.replace([Entry("k0", web.add("/cli-feeds/k0", articles.english_article(title="Killed 0")), "Killed 0")])
    assert newsdesk(tmp_path, "follow", live.url, CHAT, FEED_MAX_NEW_PER_POLL="100").returncode == 0
    page = articles.english_article(title="Killed poll article")
    live.publish(*[Entry(f"k{n}", web.delayed(f"/cli-feeds/k{n}", page, 0.3), f"Killed {n}",
                         published=BASE_TIME + timedelta(minutes=n)) for n in range(1, 41)][::-1])
    database = tmp_path / "cli.db"
    make_due(database)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "poll", CHAT], cwd=ROOT,
                               env=environment(tmp_path, INGEST_CONCURRENCY="2", FEED_MAX_NEW_PER_POLL="100"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = [s for _, s in statuses(database)]
            if len(done) == 41 and 3 <= done.count("done") < 35:
                break
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    before = statuses(database)
    assert len(before) == 41 and any(s == "pending" for _, s in before)
    make_due(database)
    rerun = newsdesk(tmp_path, "poll", CHAT, "--json", FEED_MAX_NEW_PER_POLL="100")
    assert rerun.returncode == 0, rerun.stderr
    after = statuses(database)
    assert len(after) == 41 and len({url for url, _ in after}) == 41
    assert all(status == "done" for _, status in after)
    with sqlite3.connect(database) as connection:
        entries = connection.execute("SELECT count(*), count(item_id) FROM feed_entries").fetchone()
    assert entries == (41, 41)

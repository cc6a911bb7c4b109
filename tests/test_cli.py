"""The `newsdesk` command run as a user runs it: a subprocess, a local web server, a real database."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import default_database
from tests.support import articles
from tests.support.webserver import ConnectionRecorder, WebServer

ROOT = Path(__file__).resolve().parents[1]


def environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FETCH_", "NEWSDESK_", "LLM_", "TELEGRAM_"))}
    return base | {"NEWSDESK_DB": default_database(tmp_path / "cli.db"), "FETCH_ALLOW_NETWORKS": "127.0.0.2/32",
                   "EXTRACT_WORKERS": "1", "FETCH_TOTAL_TIMEOUT": "5"} | overrides


def newsdesk(tmp_path: Path, *args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=environment(tmp_path, **overrides),
                          capture_output=True, text=True, timeout=120)


def test_add_prints_a_card_and_a_repost_adds_nothing(tmp_path: Path, web: WebServer) -> None:
    url = web.add("/cli/grain", articles.english_article(authors=("Maria Kovalenko", "Thomas Harris")))
    result = newsdesk(tmp_path, "add", url)
    assert result.returncode == 0, result.stderr
    card = result.stdout
    assert "Example Times — 20.11.2026" in card
    assert "Maria Kovalenko, Thomas Harris" in card
    assert "Black Sea grain exports hit a record" in card
    assert "language: en" in card
    assert "Grain exports through the Black Sea corridor" in card
    again = newsdesk(tmp_path, "--json" if False else "add", f"{url}?utm_source=x#frag", "--json")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["status"] == "done"
    latest = newsdesk(tmp_path, "latest", "--json")
    assert len(latest.stdout.splitlines()) == 1
    assert len(web.requests_to("/cli/grain")) == 1


def test_json_fields(tmp_path: Path, web: WebServer) -> None:
    url = web.add("/cli/kyiv", articles.ukrainian_article())
    added = json.loads(newsdesk(tmp_path, "add", url, "--json", "--chat=-1001234").stdout)
    for field in ("id", "url", "canonical_url", "status", "failure_reason", "title", "authors", "site_name",
                  "published_date", "language", "summary", "submitted_by", "fetched_at"):
        assert field in added
    assert added["language"] == "uk" and added["published_date"] == "2026-11-20" and added["authors"] == ["Олена Коваленко"]
    shown = json.loads(newsdesk(tmp_path, "show", str(added["id"]), "--json", "--chat=-1001234").stdout)
    assert "котелень" in shown["text"]
    found = newsdesk(tmp_path, "search", "котельні", "--json", "--chat=-1001234")
    assert json.loads(found.stdout.splitlines()[0])["id"] == added["id"]
    assert newsdesk(tmp_path, "search", "котельні", "--json").stdout == ""  # other chat: nothing
    exported = newsdesk(tmp_path, "export", "--format", "csv", "--chat=-1001234")
    assert exported.stdout.startswith("id,url,canonical_url") and "Київ готується" in exported.stdout
    markdown = newsdesk(tmp_path, "export", "--format", "md", "--chat=-1001234")
    assert "Київські новини" in markdown.stdout


def test_loopback_is_refused_without_allow_list_and_nothing_connects(tmp_path: Path) -> None:
    recorder = ConnectionRecorder("127.0.0.1")
    try:
        result = newsdesk(tmp_path, "add", recorder.url("/article"), FETCH_ALLOW_NETWORKS="")
        assert result.returncode == 1
        assert "blocked_address" in result.stdout or "refused" in result.stdout
        assert recorder.connections() == 0
    finally:
        recorder.close()


def test_failures_exit_1_with_reasons_and_usage_errors_exit_2(tmp_path: Path, web: WebServer) -> None:
    web.add("/cli/missing", "nope", status=404)
    failed = newsdesk(tmp_path, "add", web.url("/cli/missing"), "not a link at all")
    assert failed.returncode == 1
    assert "HTTP 404" in failed.stdout and "not a web address" in failed.stdout
    assert newsdesk(tmp_path, "frobnicate").returncode == 2
    assert newsdesk(tmp_path, "latest", "-n", "lots").returncode == 2
    for words in (["show", "99999999999999999999"], ["latest", "-n", "0"], ["retry", "-5"], ["show", "²"]):
        refused = newsdesk(tmp_path, *words)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert newsdesk(tmp_path, "latest", FETCH_MAX_BYTES="-1").returncode == 2


def statuses(database: Path) -> list[tuple[str, str]]:
    try:
        with sqlite3.connect(database) as connection:
            return connection.execute("SELECT canonical_url, status FROM items ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # the command has not created its tables yet
        return []


@pytest.mark.slow
def test_import_killed_midway_then_rerun_loses_and_doubles_nothing(tmp_path: Path, web: WebServer) -> None:
    page = articles.english_article(title="Imported article")
    urls = [web.delayed(f"/cli/import/{n}", page, 0.3) for n in range(95)]
    urls += [web.add(f"/cli/import/missing{n}", "gone", status=404) for n in range(5)]
    links = tmp_path / "links.txt"
    links.write_text("\n".join(urls) + "\n")
    database = tmp_path / "cli.db"
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "import", str(links)], cwd=ROOT,
                               env=environment(tmp_path, INGEST_CONCURRENCY="4"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = [s for _, s in statuses(database)] if database.exists() else []
            if len(done) == 100 and 10 <= done.count("done") < 90:
                break
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    before = statuses(database)
    assert len(before) == 100 and any(s == "pending" for _, s in before)
    rerun = newsdesk(tmp_path, "import", str(links), INGEST_CONCURRENCY="8")
    after = statuses(database)
    assert len(after) == 100 and len({url for url, _ in after}) == 100
    assert sorted(s for _, s in after) == ["done"] * 95 + ["failed"] * 5
    assert rerun.returncode == 1 and "http_404: 5" in rerun.stdout


def test_language_model_summary_in_json_and_resummarize(tmp_path: Path, web: WebServer) -> None:
    from tests.support.llmserver import LlmServer

    url = web.add("/cli/llm", articles.english_article(title="Grain corridor holds"))
    with LlmServer() as llm:
        model = {"LLM_BASE_URL": llm.base_url, "LLM_MODEL": "test-model"}
        added = json.loads(newsdesk(tmp_path, "add", url, "--json", "--chat=-1001", **model).stdout)
        assert (added["summary_source"], added["summary_language"]) == ("llm", "uk")
        assert added["title_translated"] == "Grain: що відомо" and "За словами автора" in added["summary"]
        llm.always("english")
        again = newsdesk(tmp_path, "resummarize", str(added["id"]), "--json", "--chat=-1001", **model)
        redone = json.loads(again.stdout)
        assert again.returncode == 1  # the model failed; the extractive summary is shown, with the reason
        assert redone["summary_source"] == "extractive" and "wrong language" in redone["translation_note"]
    assert newsdesk(tmp_path, "resummarize", str(added["id"])).returncode == 2  # no model configured


def test_a_link_from_the_terminal_and_one_posted_in_a_chat_take_the_same_use_case(
        tmp_path: Path, web: WebServer) -> None:
    """`newsdesk add` and a link posted in Telegram both go through bot.desk.links.submit_links,
    which logs each submission under its own logger."""
    from tests.support.botapi import BotApiServer
    from tests.support.botprocess import BotProcess
    from tests.test_bot import EDITOR, GROUP, bot_environment, card_for

    url = web.add("/cli/same-path", articles.english_article(title="One use case for both"))
    added = newsdesk(tmp_path, "add", url, LOG_LEVEL="INFO")
    assert added.returncode == 0, added.stderr
    assert "bot.desk.links: chat 0: 1 links submitted (new 1)" in added.stderr
    with BotApiServer(token="123:SAMEPATH") as telegram:
        telegram.add_chat(GROUP, chat_type="supergroup", title="Desk")
        telegram.add_user(EDITOR, first_name="Olena")
        with BotProcess(bot_environment(telegram, tmp_path), log_path=tmp_path / "bot.log") as bot:
            posted = telegram.send_message(GROUP, url, user=EDITOR)
            card_for(telegram, GROUP, posted, "One use case for both", timeout=60)
            assert f"bot.desk.links: chat {GROUP}: 1 links submitted (new 1)" in bot.log()


def in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """`newsdesk ARGS` run in this process, on the test's database."""
    from bot.cli import main

    for key in [key for key in os.environ if key.startswith(("FETCH_", "NEWSDESK_", "LLM_", "TELEGRAM_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSDESK_DB", str(tmp_path / "cli.db"))
    return main(list(args))


def stored_articles(tmp_path: Path, titles: list[str], *, text: str = "Body of the article.") -> None:
    import asyncio

    from bot.pipeline.models import Article
    from storage.repository import Repository

    async def store() -> None:
        repository = await Repository.open(tmp_path / "cli.db")
        try:
            for n, title in enumerate(titles):
                url = f"https://news.example/{n}"
                item, _ = await repository.add_link(0, url, url, domain="news.example")
                await repository.mark_done(item.id, Article(title=title, text=text, language="en"), text,
                                           final_url=url)
        finally:
            await repository.close()

    asyncio.run(store())


def test_a_search_may_start_with_an_exclusion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    stored_articles(tmp_path, ["Grain deal with Turkey", "Grain prices in Egypt"])
    assert in_process(tmp_path, monkeypatch, "search", "-turkey", "grain", "-n", "5") == 0
    out = capsys.readouterr().out
    assert "1 found for '-turkey grain'" in out and "Egypt" in out and "Turkey" not in out
    assert in_process(tmp_path, monkeypatch, "search", "--json", "-turkey") == 0  # exclusions alone: every other
    assert [json.loads(line)["title"] for line in capsys.readouterr().out.splitlines()] == ["Grain prices in Egypt"]


def test_export_into_a_pipe_closed_early_is_quiet(tmp_path: Path) -> None:
    stored_articles(tmp_path, [f"Article {n}" for n in range(300)], text="A long body of text. " * 60)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "export", "--format", "jsonl"], cwd=ROOT,
                               env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()  # as `newsdesk export | head -1` does, then goes away
    process.stdout.close()
    errors = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 0
    assert json.loads(first)["title"] == "Article 0"
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors


def test_every_command_but_run_takes_chat_and_json() -> None:
    """As the README says: every command but `run` takes --chat=ID and --json; those about the
    installation rather than a chat (check, backup, restore, migrate, worker) take --json alone."""
    from bot.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands is not None
    for name, command in commands.items():
        options = {option for action in command._actions for option in action.option_strings}
        if name == "run":
            assert "--chat" not in options
        elif name in ("check", "backup", "restore", "migrate", "worker"):
            assert "--json" in options and "--chat" not in options, name
        else:
            assert {"--chat", "--json"} <= options, name
    with pytest.raises(SystemExit) as refused:
        parser.parse_args(["run", "--chat=1"])
    assert refused.value.code == 2

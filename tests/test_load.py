"""`newsdesk load`: an export file back into a database, without fetching."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from bot.desk.load import load_items
from bot.export import export_json, export_jsonl, item_json
from bot.pipeline.models import Article
from storage.repository import Repository
from tests.test_cli import environment, newsdesk

CHAT = -1001234


async def filled(path: Path) -> Repository:
    repository = await Repository.open(path)
    for n, language in enumerate(("en", "uk", "de")):
        item, _ = await repository.add_link(CHAT, f"https://e.com/{n}?utm_source=x", f"https://e.com/{n}",
                                            domain="e.com", submitted_by=7, submitted_by_name="=Olena",
                                            message_id=40 + n, thread_id=5)
        article = Article(title=f"Title {n} «лапки» \"quotes\"", text=f"Text {n}.\n\nSecond paragraph ʼ {n}.",
                          authors=("Anna Koval", "John Smith") if n else (), site_name="Site" if n else None,
                          published_date=date(2026, 1, n + 1) if n != 2 else None, language=language,
                          description=f"Description {n}",
                          **({"content_kind": "pdf", "page_count": 12, "access": "partial"} if n == 2 else {}))
        item = await repository.mark_done(item.id, article, f"Summary {n}.", final_url=f"https://e.com/{n}")
        if n == 1:
            await repository.set_translation(item.id, language="uk", title="Заголовок", summary="Підсумок.", note=None)
    return repository


def comparable(item_object: dict[str, object]) -> dict[str, object]:
    """An exported item without what another database gives anew (its id, chat, feed, story, watches)."""
    return {key: value for key, value in item_object.items()
            if key not in ("id", "chat_id", "feed_id", "story_id", "watches")}


async def test_an_export_loads_into_another_database_exactly(tmp_path: Path) -> None:
    source = await filled(tmp_path / "a.db")
    items = [item async for item in source.all_items(CHAT)]
    await source.close()
    target = await Repository.open(tmp_path / "b.db")
    report = await load_items(target, 99, export_jsonl(items).splitlines())
    assert (report.read, report.added, report.duplicates, report.bad) == (3, 3, 0, 0)
    loaded = [item async for item in target.all_items(99)]
    assert [comparable(item_json(i, with_text=True)) for i in loaded] == \
        [comparable(item_json(i, with_text=True)) for i in items]
    assert (await target.search(99, "paragraph")).total == 3
    assert (await target.search(99, "підсум*")).total == 1  # the dictionary has the loaded words
    assert (await target.stats(99)).items == 3
    again = await load_items(target, 99, export_json(items).splitlines())  # the `json` format, once more
    assert (again.read, again.added, again.duplicates) == (3, 0, 3)
    await target.close()


async def test_bad_lines_are_reported_by_number_and_the_rest_is_loaded(repository: Repository) -> None:
    good = json.dumps({"url": "https://e.com/ok", "title": "Fine", "text": "Body."})
    lines = [good, "{not json", json.dumps([1, 2]), json.dumps({"url": "https://e.com/x", "title": "No text"}),
             json.dumps({"url": "javascript:alert(1)", "title": "T", "text": "B"}), "",
             json.dumps({"url": "https://e.com/ok?utm_source=tw", "title": "Same", "text": "Again."}),
             json.dumps({"url": "https://e.com/2", "title": "T2", "text": "B2", "authors": "A; B",
                         "published_date": "not a date", "submitted_at": "2026-01-02T03:04:05"})]
    report = await load_items(repository, CHAT, lines)
    assert (report.added, report.duplicates, report.bad) == (2, 1, 4)
    assert [number for number, _ in report.problems] == [2, 3, 4, 5]
    assert "no text" in dict(report.problems)[4]
    second = [item async for item in repository.all_items(CHAT) if item.url == "https://e.com/2"]
    assert second[0].authors == ("A", "B") and second[0].published_date is None
    assert second[0].submitted_at.isoformat() == "2026-01-02T03:04:05+00:00"


def test_the_command_loads_a_file_and_standard_input(tmp_path: Path) -> None:
    lines = [json.dumps({"url": f"https://e.com/{n}", "title": f"Grain {n}", "text": "Ships left.", "chat_id": 5})
             for n in range(3)]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(lines) + "\n{broken\n", encoding="utf-8")
    loaded = newsdesk(tmp_path, "load", str(path), "--json")
    assert loaded.returncode == 1 and "line 4: not JSON" in loaded.stderr
    assert json.loads(loaded.stdout) | {"seconds": 0, "items_per_second": 0} == {
        "read": 4, "added": 3, "duplicates": 0, "bad": 1, "seconds": 0, "items_per_second": 0}
    found = newsdesk(tmp_path, "search", "grain", "--chat=5", "--json")  # without --chat: the items' own chat
    assert len(found.stdout.splitlines()) == 3
    missing = newsdesk(tmp_path, "load", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    exported = newsdesk(tmp_path, "export", "--format", "jsonl", "--chat=5").stdout
    piped = subprocess.run([sys.executable, "-m", "bot.cli", "load", "-", "--chat=6"], input=exported, text=True,
                           capture_output=True, env=environment(tmp_path), timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert "Loaded 3 items into chat 6" in piped.stdout

"""The database as a file (storage/files.py): health, online backups while writes go on, restores
and their refusals, retention, and the lock a running bot holds. Real SQLite files in tmp_path."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.errors import DamagedDatabase, DatabaseInUse, SchemaTooNew, StorageUnavailable
from storage.files import (
    DatabaseLock,
    backup_database,
    backup_name,
    inspect_database,
    lock_holder,
    prune_backups,
    restore_database,
    verify_database,
)
from storage.repository import Repository, latest_version

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def make_database(path: Path, titles: list[str]) -> None:
    """A database made by the Repository, as the bot makes it, with `titles` stored."""
    asyncio.run(_store(path, titles))


async def _store(path: Path, titles: list[str]) -> None:
    repository = await Repository.open(path)
    for n, title in enumerate(titles):
        url = f"https://example.com/{n}/{title[:40].replace(' ', '-')}"
        item, _ = await repository.add_link(1, url, url)
        await repository._write("UPDATE items SET status = 'done', title = ? WHERE id = ?", (title, item.id))
    await repository.close()


def titles_in(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [title for (title,) in connection.execute("SELECT title FROM items ORDER BY id")]


def test_inspect_a_sound_database(tmp_path: Path) -> None:
    database = tmp_path / "desk.db"
    make_database(database, ["one", "two"])
    report = inspect_database(database, latest_version=latest_version())
    assert report.exists and report.problem is None
    assert report.schema_version == latest_version() and report.items == 2
    assert report.writable is True and report.integrity == "ok"
    assert report.free_bytes and report.free_bytes > 0


def test_inspect_a_missing_database_does_not_create_it(tmp_path: Path) -> None:
    database = tmp_path / "new" / "folder" / "desk.db"
    report = inspect_database(database, latest_version=latest_version())
    assert not report.exists and report.writable and report.problem is None
    assert not database.exists() and not database.parent.exists()


def test_inspect_a_path_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    report = inspect_database(tmp_path / "a-file" / "desk.db", latest_version=latest_version())
    assert report.problem and "cannot create" in report.problem and report.writable is False


def test_inspect_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    database = tmp_path / "desk.db"
    database.write_bytes(b"this is a text file, not SQLite " * 100)
    report = inspect_database(database, latest_version=latest_version())
    assert report.problem and "not a usable SQLite database" in report.problem


def test_inspect_finds_damage(tmp_path: Path) -> None:
    database = tmp_path / "desk.db"
    make_database(database, [f"title {n} " + "x" * 3000 for n in range(200)])
    damage(database)
    report = inspect_database(database, latest_version=latest_version())
    assert report.problem or (report.integrity and report.integrity != "ok")


def damage(database: Path) -> None:
    """Overwrite pages in the middle of the file (after a checkpoint), as a failing disk would."""
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # the items table's own b-tree pages, not overflow pages, whose content no check reads
        pages = [number for (number,) in connection.execute(
            "SELECT pageno FROM dbstat WHERE name = 'items' AND pagetype IN ('leaf', 'internal')")]
    with database.open("r+b") as file:
        for number in pages[1::3]:
            file.seek((number - 1) * 4096)  # the page's header and its first cell pointers
            file.write(os.urandom(64))


def test_backup_while_writes_go_on_holds_every_committed_item(tmp_path: Path) -> None:
    """A writer commits items as fast as it can, from another connection, while the backup is made:
    the copy passes integrity_check and holds every item committed before it began, with no gaps."""
    database = tmp_path / "desk.db"
    make_database(database, [f"before {n} " + "y" * 2000 for n in range(3000)])
    stop = threading.Event()
    committed: list[int] = []

    def write() -> None:
        with sqlite3.connect(database, timeout=30) as connection:
            n = 0
            while not stop.is_set():
                cursor = connection.execute(
                    "INSERT INTO items (chat_id, url, canonical_url, status, title, submitted_at, updated_at) "
                    "VALUES (2, ?, ?, 'done', ?, '2026-11-28T00:00:00+00:00', '2026-11-28T00:00:00+00:00')",
                    (f"https://w/{n}", f"https://w/{n}", f"during {n}"))
                connection.commit()
                committed.append(cursor.lastrowid or 0)
                n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(committed) < 50:
            time.sleep(0.01)
        committed_before = list(committed)
        report = backup_database(database, tmp_path / "copy.db", now=NOW)
        while len(committed) < len(committed_before) + 50:  # the writer was never blocked for long
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join()
    copy = tmp_path / "copy.db"
    assert report.path == copy and report.schema_version == latest_version()
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = [row_id for (row_id,) in connection.execute("SELECT id FROM items ORDER BY id")]
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    assert set(committed_before) <= set(ids)
    assert ids == list(range(1, len(ids) + 1))  # a consistent moment: no gaps
    assert report.items == len(ids)
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    assert not list(tmp_path.glob(".*.partial"))


def test_backup_into_a_folder_gets_a_dated_name_and_never_overwrites(tmp_path: Path) -> None:
    database = tmp_path / "desk.db"
    make_database(database, ["one"])
    folder = tmp_path / "backups"
    folder.mkdir()
    report = backup_database(database, folder, now=NOW)
    assert report.path == folder / "newsdesk-20261128-030000.db" == folder / backup_name(NOW)
    with pytest.raises(FileExistsError):
        backup_database(database, folder, now=NOW)
    again = backup_database(database, folder, now=NOW, overwrite=True)
    assert titles_in(again.path) == ["one"]


def test_backup_of_a_missing_database_or_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailable, match="there is no database"):
        backup_database(tmp_path / "none.db", tmp_path / "copy.db", now=NOW)


def test_backup_into_a_folder_that_does_not_exist_says_so(tmp_path: Path) -> None:
    database = tmp_path / "desk.db"
    make_database(database, ["one"])
    with pytest.raises(StorageUnavailable, match="could not be written"):
        backup_database(database, tmp_path / "no" / "such" / "copy.db", now=NOW)


def test_restore_replaces_the_content_and_keeps_the_old_database(tmp_path: Path) -> None:
    database, backup = tmp_path / "desk.db", tmp_path / "backup.db"
    make_database(database, ["old one", "old two"])
    backup_database(database, backup, now=NOW)
    make_database(database, ["added after the backup"])
    kept, version, items = restore_database(backup, database, latest_version=latest_version(), now=NOW)
    assert (version, items) == (latest_version(), 2)
    assert titles_in(database) == ["old one", "old two"]
    assert kept is not None and titles_in(kept) == ["old one", "old two", "added after the backup"]
    make_database(database, [])  # the bot opens it as usual afterwards
    assert titles_in(database) == ["old one", "old two"]


def test_restore_over_a_damaged_database_keeps_its_raw_files(tmp_path: Path) -> None:
    database, backup = tmp_path / "desk.db", tmp_path / "backup.db"
    make_database(database, ["good"])
    backup_database(database, backup, now=NOW)
    database.write_bytes(b"garbage" * 2000)
    kept, _, _ = restore_database(backup, database, latest_version=latest_version(), now=NOW)
    assert titles_in(database) == ["good"]
    assert kept is not None and kept.read_bytes().startswith(b"garbage")


def test_restore_refuses_a_damaged_file_and_leaves_the_database_alone(tmp_path: Path) -> None:
    database, backup = tmp_path / "desk.db", tmp_path / "backup.db"
    make_database(database, ["live"])
    make_database(backup, [f"title {n} " + "z" * 3000 for n in range(200)])
    damage(backup)
    with pytest.raises(DamagedDatabase):
        restore_database(backup, database, latest_version=latest_version(), now=NOW)
    (tmp_path / "notes.txt").write_text("not a database at all")
    with pytest.raises(DamagedDatabase):
        restore_database(tmp_path / "notes.txt", database, latest_version=latest_version(), now=NOW)
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(DamagedDatabase, match="not a Newsdesk database"):
        restore_database(tmp_path / "other.db", database, latest_version=latest_version(), now=NOW)
    with pytest.raises(DamagedDatabase):
        restore_database(tmp_path / "missing.db", database, latest_version=latest_version(), now=NOW)
    assert titles_in(database) == ["live"]
    assert not list(tmp_path.glob("desk.db.before-restore-*"))


def test_restore_refuses_a_newer_schema(tmp_path: Path) -> None:
    database, backup = tmp_path / "desk.db", tmp_path / "backup.db"
    make_database(database, ["live"])
    make_database(backup, ["from the future"])
    with sqlite3.connect(backup) as connection:
        connection.execute(f"PRAGMA user_version = {latest_version() + 1}")
    with pytest.raises(SchemaTooNew, match="newer Newsdesk"):
        restore_database(backup, database, latest_version=latest_version(), now=NOW)
    assert titles_in(database) == ["live"]
    with pytest.raises(SchemaTooNew):
        verify_database(backup, latest_version=latest_version())


def test_retention_keeps_the_newest_and_touches_nothing_else(tmp_path: Path) -> None:
    names = [backup_name(NOW - timedelta(days=n)) for n in range(10)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    for other in ("newsdesk.db", "newsdesk-manual.db", "notes.txt", "newsdesk-20261128-030000.db.partial"):
        (tmp_path / other).write_bytes(b"x")
    removed = prune_backups(tmp_path, keep=3)
    assert sorted(p.name for p in removed) == sorted(names[3:])
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([*names[:3], "newsdesk.db", "newsdesk-manual.db", "notes.txt",
                           "newsdesk-20261128-030000.db.partial"])


def _hold_lock(database: str, ready: Any, release: Any) -> None:
    lock = DatabaseLock(Path(database))
    assert lock.acquire()
    ready.set()
    release.wait(30)


def test_the_lock_is_held_by_one_process_and_freed_when_it_dies(tmp_path: Path) -> None:
    database = tmp_path / "desk.db"
    assert lock_holder(database) is None
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(database), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        found = lock_holder(database)
        assert found is not None and found.pid == holder.pid
        assert abs((datetime.now(UTC) - found.last_beat).total_seconds()) < 30
        assert not DatabaseLock(database).acquire(wait=0.2)
        with pytest.raises(DatabaseInUse, match=f"process {holder.pid}"), DatabaseLock(database).held(wait=0.1):
            pass
    finally:
        holder.kill()  # SIGKILL: nothing gets to clean up, the kernel frees the lock
        holder.join(10)
    assert lock_holder(database) is None
    lock = DatabaseLock(database)
    assert lock.acquire()
    before = lock.path.stat().st_mtime
    os.utime(lock.path, (before - 100, before - 100))
    lock.beat()
    assert lock.path.stat().st_mtime > before - 50
    lock.release()


def test_the_lock_holder_is_seen_from_another_process(tmp_path: Path) -> None:
    """What `newsdesk check` and `newsdesk restore`, run beside the bot, see."""
    database = tmp_path / "desk.db"
    lock = DatabaseLock(database)
    assert lock.acquire()
    seen = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                           "from storage.files import lock_holder; "
                           "print(lock_holder(Path(sys.argv[1])).pid)", str(database)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=60)
    lock.release()
    assert seen.stdout.strip() == str(os.getpid()), seen.stderr

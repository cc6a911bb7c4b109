"""Operations figures: an online backup of a desk-sized database while a writer keeps committing,
the writer's commit latency during the backup against the same writer with no backup (same run),
restore, and what `newsdesk check` costs on that database (--quick, as a HEALTHCHECK runs it every
minute, and the full PRAGMA quick_check).

    python bench/operations.py [--items 20000] [--text-kb 6]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.files import backup_database, inspect_database, restore_database
from storage.repository import Repository, latest_version

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
SENTENCE = "Grain exports through the Black Sea corridor rose to a record in October, officials said. "


async def build(path: Path, items: int, text_kb: int) -> None:
    repository = await Repository.open(path)  # the real schema, FTS triggers included
    await repository.close()
    text = SENTENCE * (text_kb * 1024 // len(SENTENCE))
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO items (chat_id, url, canonical_url, status, title, text, summary, submitted_at, updated_at) "
            "VALUES (-100, ?, ?, 'done', ?, ?, ?, '2026-11-28T00:00:00+00:00', '2026-11-28T00:00:00+00:00')",
            ((f"https://e.com/{n}", f"https://e.com/{n}", f"Article {n}", f"{n} {text}", SENTENCE)
             for n in range(items)))


def commit_latencies(path: Path, stop: threading.Event, found: list[float]) -> None:
    """One small item committed after another, as the bot does for each link, timing each commit."""
    with sqlite3.connect(path, timeout=30) as connection:
        n = 0
        while not stop.is_set():
            started = time.perf_counter()
            connection.execute(
                "INSERT INTO items (chat_id, url, canonical_url, status, submitted_at, updated_at) VALUES "
                "(-200, ?, ?, 'pending', '2026-11-28T00:00:00+00:00', '2026-11-28T00:00:00+00:00')",
                (f"https://w.com/{n}-{time.time_ns()}", f"https://w.com/{n}-{time.time_ns()}"))
            connection.commit()
            found.append((time.perf_counter() - started) * 1000)
            n += 1
            time.sleep(0.002)


def with_writer(path: Path, seconds: float | None, work: object = None) -> tuple[list[float], float]:
    """Commit latencies (ms) while `work` runs (or for `seconds` with nothing else); work's duration."""
    stop, found = threading.Event(), []
    writer = threading.Thread(target=commit_latencies, args=(path, stop, found))
    writer.start()
    started = time.perf_counter()
    if callable(work):
        work()
    else:
        time.sleep(seconds or 0)
    took = time.perf_counter() - started
    stop.set()
    writer.join()
    return found, took


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--text-kb", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "desk.db"
        asyncio.run(build(database, args.items, args.text_kb))
        size = database.stat().st_size / 1e6
        print(f"database: {args.items} items, {size:.0f} MB")
        backups, idle, during = [], [], []
        for round_ in range(args.rounds):
            target = Path(folder) / f"copy-{round_}.db"
            latencies, took = with_writer(database, None, lambda target=target: backup_database(database, target,
                                                                                                 now=NOW))
            during += latencies
            backups.append(took)
            baseline, _ = with_writer(database, took)
            idle += baseline
            target.unlink()
        print(f"backup (verified with integrity_check): median {statistics.median(backups):.2f} s "
              f"({size / statistics.median(backups):.0f} MB/s), rounds {', '.join(f'{b:.2f}' for b in backups)}")
        print(f"writer commit latency, no backup:     median {statistics.median(idle):.2f} ms, "
              f"p99 {percentile(idle, 0.99):.2f} ms ({len(idle)} commits)")
        print(f"writer commit latency, during backup: median {statistics.median(during):.2f} ms, "
              f"p99 {percentile(during, 0.99):.2f} ms ({len(during)} commits); "
              f"median ratio {statistics.median(during) / statistics.median(idle):.2f}x")
        copy = backup_database(database, Path(folder) / "restore-from.db", now=NOW).path
        started = time.perf_counter()
        restore_database(copy, database, latest_version=latest_version(), now=NOW)
        print(f"restore (source verified, the replaced database kept): {time.perf_counter() - started:.2f} s")
        for label, full in (("check --quick's database look", False), ("check's database look with quick_check", True)):
            times = []
            for _ in range(5):
                started = time.perf_counter()
                inspect_database(database, latest_version=latest_version(), full=full)
                times.append(time.perf_counter() - started)
            print(f"{label}: median {statistics.median(times) * 1000:.1f} ms")


if __name__ == "__main__":
    main()

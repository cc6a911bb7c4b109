"""What grouping a new item into a story costs, as the archive grows.

    .venv/bin/python bench/stories.py [--items 100000] [--days 365] [--new 200] [--workers 2]

Builds a chat with `--items` stored items spread over `--days` days (generated text: titles and
openings drawn from a 6,000-word vocabulary with a Zipf-like skew, names and numbers; no two
alike), with their signatures and LSH buckets written as the bot writes them. Then `--new` new
items (half of them other outlets' versions of a stored item, half unrelated) are grouped with
bot.pipeline.stories.group against that archive, each timed (signature, buckets stored, candidate
lookup, comparison, story written). The baseline, in the same run: the same items grouped against
an archive of 1,000 items, and comparing a new item's signature with every stored signature in the
window by a scan (what LSH avoids). Medians and 95th percentiles, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.pipeline import minhash  # noqa: E402
from bot.pipeline.models import Article  # noqa: E402
from bot.pipeline.stories import group, signatures_of  # noqa: E402
from storage.base import iso  # noqa: E402
from storage.models import Item, ItemStatus  # noqa: E402
from storage.repository import Repository  # noqa: E402

CHAT = -100100
START = datetime(2025, 12, 1, tzinfo=UTC)
SOURCES = [f"Outlet {n}" for n in range(40)]


def vocabulary(seed: int) -> list[str]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnoprstuvwy"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(6000)]


def document(rng: random.Random, words: list[str], weights: list[float]) -> tuple[str, str]:
    title = " ".join(rng.choices(words, weights, k=9)) + f" {rng.choice(['Kyiv', 'Lviv', 'Odesa', 'Paris', 'Rome'])}"
    text = " ".join(rng.choices(words, weights, k=110)) + f" {rng.randint(1, 10_000)} Mr {rng.choice(words).title()}"
    return title, text


def rewrite(rng: random.Random, title: str, text: str) -> tuple[str, str]:
    """Another outlet's version: most of the words kept, some swapped, the order shuffled a bit."""
    parts = text.split()
    for _ in range(len(parts) // 5):
        parts[rng.randrange(len(parts))] = parts[rng.randrange(len(parts))]
    return title, " ".join(parts)


def signature_rows(batch: list[tuple[int, str, str, str, str]]) -> list[tuple[int, str, bytes, list[int], str]]:
    """For each (id, submitted_at, title, text, source): its text and title signatures and buckets."""
    rows = []
    for item_id, at, title, text, source in batch:
        item = Item(id=item_id, chat_id=CHAT, url="", canonical_url="", status=ItemStatus.DONE,
                    submitted_at=datetime.fromisoformat(at), title=title, text=text, language="en", site_name=source)
        for signature in signatures_of(item):
            rows.append((item_id, signature.kind, signature.packed, list(signature.buckets), at))
    return rows


def build(path: Path, count: int, days: int, seed: int, workers: int) -> list[tuple[int, str, str, str]]:
    """The archive, written straight into SQLite (as the bot would have written it over `days`)."""
    rng = random.Random(seed)
    words = vocabulary(seed)
    weights = [1 / (rank + 10) for rank in range(len(words))]
    docs = []
    span = days * 86400
    for n in range(count):
        title, text = document(rng, words, weights)
        at = iso(START + timedelta(seconds=int(span * n / max(1, count))))
        docs.append((n + 1, at, title, text, rng.choice(SOURCES)))
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        chunks = [docs[i:i + 2000] for i in range(0, len(docs), 2000)]
        signatures = [row for part in pool.map(signature_rows, chunks) for row in part]
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            """INSERT INTO items (id, chat_id, url, canonical_url, domain, status, title, text, site_name, language,
                                  submitted_at, updated_at, story_id)
               VALUES (?, ?, ?, ?, ?, 'done', ?, ?, ?, 'en', ?, ?, NULL)""",
            [(i, CHAT, f"https://x.example/{i}", f"https://x.example/{i}", "x.example", title, text, source, at, at)
             for i, at, title, text, source in docs])
        db.executemany("INSERT INTO stories (id, chat_id, created_at, updated_at) VALUES (?, ?, ?, ?)",
                       [(i, CHAT, at, at) for i, at, *_ in docs])
        db.execute("UPDATE items SET story_id = id")
        db.executemany("INSERT INTO story_signatures (item_id, kind, language, signature) VALUES (?, ?, 'en', ?)",
                       [(i, kind, packed) for i, kind, packed, _, _ in signatures])
        db.executemany("INSERT OR IGNORE INTO story_bands (chat_id, bucket, submitted_at, item_id) VALUES (?, ?, ?, ?)",
                       [(CHAT, bucket, at, i) for i, _, _, buckets, at in signatures for bucket in buckets])
    db.execute("ANALYZE")
    db.close()
    return [(i, at, title, text) for i, at, title, text, _ in docs]


async def measure(path: Path, archive: list[tuple[int, str, str, str]], new: int, seed: int,
                  *, scan: bool) -> tuple[list[float], list[float], int]:
    """Group `new` items against the archive at `path`; each one's milliseconds (and, with `scan`,
    a full comparison's over the window), and how many joined a stored story."""
    rng = random.Random(seed + 1)
    words = vocabulary(seed)
    weights = [1 / (rank + 10) for rank in range(len(words))]
    end = datetime.fromisoformat(archive[-1][1])
    repository = await Repository.open(path, clock=lambda: end)
    timings, scans, joined = [], [], 0
    two_days_ago = iso(end - timedelta(days=2))
    recent = next((n for n, (_, at, _, _) in enumerate(archive) if at >= two_days_ago), len(archive) - 1)
    try:
        for n in range(new):
            if n % 2 == 0:  # another outlet's version of an item of the last two days
                _, _, title, text = archive[rng.randrange(recent, len(archive))]
                title, text = rewrite(rng, title, text)
            else:
                title, text = document(rng, words, weights)
            url = f"https://new.example/{seed}/{n}"
            item, _ = await repository.add_link(CHAT, url, url, domain="new.example")
            done = await repository.mark_done(item.id, Article(title=title, text=text, site_name=f"New {n}",
                                                               language="en"), "", final_url=url)
            started = time.perf_counter()
            story_id = await group(repository, done)
            timings.append((time.perf_counter() - started) * 1000)
            story = await repository.story(story_id)
            joined += story is not None and len(story.items) > 1
            if scan:
                started = time.perf_counter()
                mine = minhash.unpack(signatures_of(done)[0].packed)
                since = iso(done.submitted_at - timedelta(days=3))
                rows = await repository._fetchall(  # a scan of the window: what the buckets avoid
                    """SELECT s.signature FROM story_signatures AS s JOIN items ON items.id = s.item_id
                       WHERE items.chat_id = ? AND s.kind = 'text' AND items.submitted_at >= ?""", (CHAT, since))
                best = max((minhash.similarity(mine, minhash.unpack(r[0])) for r in rows), default=0.0)
                assert best >= 0
                scans.append((time.perf_counter() - started) * 1000)
    finally:
        await repository.close()
    return timings, scans, joined


def summary(label: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if ordered else 0.0
    return f"{label}: median {statistics.median(ordered):.2f} ms, p95 {p95:.2f} ms (n={len(ordered)})"


async def prepare(path: Path) -> None:
    repository = await Repository.open(path)  # the schema, as the bot makes it
    await repository.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--new", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = {}
        for label, count, days in (("baseline, 1,000 stored", 1000, max(1, args.days * 1000 // args.items)),
                                   (f"{args.items:,} stored over {args.days} days", args.items, args.days)):
            path = Path(folder) / f"{count}.db"
            asyncio.run(prepare(path))
            started = time.perf_counter()
            archive = build(path, count, days, args.seed, args.workers)
            built = time.perf_counter() - started
            timings, scans, joined = asyncio.run(measure(path, archive, args.new, args.seed, scan=True))
            in_window = sum(1 for _, at, *_ in archive if at >= iso(datetime.fromisoformat(archive[-1][1])
                                                                    - timedelta(days=3)))
            print(f"{label} (built in {built:.0f} s; {in_window:,} items in the last 3 days)")
            print("  " + summary("group a new item (LSH)", timings))
            print("  " + summary("scan of the window (baseline)", scans))
            print(f"  joined a stored story: {joined} of {args.new} (half are rewrites of a recent item)")
            results[label] = statistics.median(timings)
        first, second = results.values()
        print(f"median at {args.items:,} / median at 1,000: {second / first:.2f}")


if __name__ == "__main__":
    main()

"""How fast `newsdesk import` stores links from a loopback server, and how fast search answers.

    .venv/bin/python bench/ingest.py [CORPUS_FOLDER] [--links N] [--searches N]

With a corpus folder (e.g. ../shared/corpus/wcxb-dev, pages/*.html.gz), its real pages are served;
without one, the test suite's own generated articles are. Prints links/s for the import (the
whole command, start-up included, and the processing part alone), and the median, p90 and max
time of a search over what was imported.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import articles  # noqa: E402
from tests.support.webserver import WebServer  # noqa: E402

QUERIES = ["war", "economy", '"prime minister"', "energy OR oil", "market -stock", "elect*",
           "source:news", "after:2020-01-01 government", "Київ", '"said on" -sport']


def pages(corpus: Path | None, count: int) -> list[bytes]:
    if corpus is None:
        made = [articles.english_article(title=f"Generated article {n}").encode() for n in range(count // 2)]
        made += [articles.ukrainian_article(title=f"Згенерована стаття {n}").encode() for n in range(count - len(made))]
        return made
    files = sorted((corpus / "pages").glob("*.html.gz"))[:count]
    return [gzip.decompress(f.read_bytes()) for f in files]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", type=Path)
    parser.add_argument("--links", type=int, default=300)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="copy the imported database here for later study")
    args = parser.parse_args()
    bodies = pages(args.corpus, args.links)
    with WebServer() as server, tempfile.TemporaryDirectory() as folder:
        urls = [server.add(f"/bench/{n}", body, content_type="text/html; charset=utf-8") for n, body in enumerate(bodies)]
        links = Path(folder) / "links.txt"
        links.write_text("\n".join(urls) + "\n")
        database = Path(folder) / "bench.db"
        environ = os.environ | {"NEWSDESK_DB": str(database), "FETCH_ALLOW_NETWORKS": "127.0.0.2/32", "LOG_LEVEL": "WARNING"}
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "bot.cli", "import", str(links)], env=environ, cwd=ROOT,
                                capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        with sqlite3.connect(database) as connection:
            _first, _last = connection.execute("SELECT min(submitted_at), max(fetched_at) FROM items").fetchone()
            statuses = dict(connection.execute("SELECT status, count(*) FROM items GROUP BY status").fetchall())
        print(f"import: {len(urls)} links in {elapsed:.1f} s = {len(urls) / elapsed:.1f} links/s "
              f"(whole command, {os.cpu_count()} cores, EXTRACT_WORKERS default); outcome {statuses}")
        print(result.stdout.strip().splitlines()[0] if result.stdout else result.stderr[-500:])
        if args.keep:
            import shutil
            shutil.copy(database, args.keep)
        timings = search_timings(database, args.searches)
        print(f"search: {args.searches} queries over {sum(statuses.values())} items: median {statistics.median(timings):.2f} ms, "
              f"p90 {statistics.quantiles(timings, n=10)[8]:.2f} ms, max {max(timings):.2f} ms")
    return 0


def search_timings(database: Path, count: int) -> list[float]:
    import asyncio

    from storage.repository import Repository

    async def run() -> list[float]:
        repository = await Repository.open(database)
        chat = 0
        timings = []
        try:
            for n in range(count):
                query = QUERIES[n % len(QUERIES)]
                started = time.perf_counter()
                await repository.search(chat, query, limit=5)
                timings.append((time.perf_counter() - started) * 1000)
        finally:
            await repository.close()
        return timings

    return asyncio.run(run())


if __name__ == "__main__":
    raise SystemExit(main())

"""Ingest at the extractor's pace: plain trafilatura, Newsdesk's extractor and the whole pipeline,
on the same pages with the same number of workers, in one run.

    .venv/bin/python bench/throughput.py [CORPUS_FOLDER] [--workers 2] [--rounds 3] [--limit N] [--json FILE]
    .venv/bin/python bench/throughput.py [CORPUS_FOLDER] --worker-processes 1,2,4 [--rounds 3]
                                         [--postgres postgresql://postgres@127.0.0.1:5432]

With a corpus folder (e.g. ../shared/corpus/wcxb-dev, pages/*.html.gz) its pages are read; without
one, the test suite's generated articles. Each round measures, one after another:

- plain `trafilatura.bare_extraction` (comments off, metadata on), pages/s;
- `extract_article`, Newsdesk's extractor, pages/s;
- `analyse_page`, the extractor and the extractive summary: what a worker does for a link;
- the whole pipeline: the links served on loopback, submitted to one chat and processed as the
  bot and `newsdesk import` do (fetch, extract, summarise, store in a fresh SQLite file), links/s.

Every row runs in the same kind of worker pool (the bot's: warm workers forked from one server),
warmed before it is timed, and the rows take turns, 50 pages at a time, so that the shared
machine's changing load falls on all of them alike. Prints each round, the medians and their ratios; writes JSON.

With --worker-processes, instead: links/s with N `newsdesk worker` processes sharing one PostgreSQL
database (a fresh one per round on --postgres, dropped after), each with --workers extraction
workers. The workers are started and warm first (their pools up, nothing pending); then the
pages are committed as pending links in one transaction, and the clock runs until every link is
done or failed. The counts take turns within a round; the table gives the median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.pipeline.errors import IngestError  # noqa: E402
from bot.pipeline.extract import extract_article  # noqa: E402
from bot.pipeline.workers import PAGES_PER_WORKER, WORKER_RSS_MB, WorkerPool, analyse_page  # noqa: E402
from tests.support import articles  # noqa: E402
from tests.support.webserver import WebServer  # noqa: E402


def load_pages(corpus: Path | None, limit: int | None) -> list[bytes]:
    if corpus is None:
        count = limit or 300
        made = [articles.english_article(title=f"Generated article {n}").encode() for n in range(count // 2)]
        made += [articles.ukrainian_article(title=f"Згенерована стаття {n}").encode() for n in range(count - len(made))]
        return made
    files = sorted((corpus / "pages").glob("*.html.gz"))[:limit]
    return [gzip.decompress(f.read_bytes()) for f in files]


def plain_trafilatura(body: bytes, url: str) -> bool:
    """The reference: trafilatura alone, as bench/extraction.py and the issue measure it."""
    import trafilatura

    document = trafilatura.bare_extraction(body.decode("utf-8", "replace"), url=url, include_comments=False,
                                           with_metadata=True)
    return document is not None


def newsdesk_extractor(body: bytes, url: str) -> bool:
    try:
        extract_article(body, url, None)
    except IngestError:
        return False
    return True


def newsdesk_analyse(body: bytes, url: str) -> bool:
    try:
        analyse_page(body, url, None, None)
    except IngestError:
        return False
    return True


async def seconds_for(pool: WorkerPool, function: Callable[[bytes, str], bool], pages: list[tuple[int, bytes]]) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(pool.run(function, body, f"https://bench.invalid/{n}") for n, body in pages))
    return time.perf_counter() - started


async def warm(pool: WorkerPool, workers: int) -> None:
    # every worker started and warm before the clock starts (the bot's are, by its first link)
    await asyncio.gather(*(pool.worker_state() for _ in range(workers * 2)))


ROWS = ("trafilatura", "extract_article", "analyse_page", "pipeline")


async def one_round(pages: list[bytes], workers: int, chunk: int) -> dict[str, Any]:
    """Each row's pages/s over all pages, the rows taking turns a chunk of pages at a time, so that
    a change in the machine's load falls on every row alike."""
    from bot.config import Settings
    from bot.desk.links import process_links, submit_links
    from bot.pipeline.ingest import Submitter
    from bot.services import Services

    seconds = dict.fromkeys(ROWS, 0.0)
    outcome: dict[str, int] = {}
    functions = {"trafilatura": plain_trafilatura, "extract_article": newsdesk_extractor,
                 "analyse_page": newsdesk_analyse}
    with WebServer() as server, tempfile.TemporaryDirectory() as folder:
        urls = [server.add(f"/bench/{n}", body, content_type="text/html; charset=utf-8") for n, body in enumerate(pages)]
        environ = {"NEWSDESK_DB": str(Path(folder) / "bench.db"), "FETCH_ALLOW_NETWORKS": "127.0.0.2/32",
                   "LOG_LEVEL": "WARNING", "EXTRACT_WORKERS": str(workers)}
        services = await Services.open(Settings.from_env(environ))
        pool = WorkerPool(workers=workers, timeout=60, memory_mb=2048)
        try:
            await warm(pool, workers)
            await warm(services.workers, workers)
            for first in range(0, len(pages), chunk):
                numbered = list(enumerate(pages))[first:first + chunk]
                for name, function in functions.items():
                    seconds[name] += await seconds_for(pool, function, numbered)
                # the whole pipeline: submitted to one chat and processed as the bot and `newsdesk import` do
                started = time.perf_counter()
                submitted = await submit_links(services, 1, urls[first:first + chunk], Submitter(name="bench"),
                                               hourly_limit=False)
                processed = await process_links(services, submitted.to_process)
                seconds["pipeline"] += time.perf_counter() - started
                for item in processed:
                    outcome[item.status] = outcome.get(item.status, 0) + 1
        finally:
            await pool.aclose()
            await services.aclose()
    figures: dict[str, Any] = {name: len(pages) / seconds[name] for name in ROWS}
    figures["outcome"] = {str(status): count for status, count in outcome.items()}
    return figures


def worker_processes_round(pages: list[bytes], counts: list[int], workers: int, server: str) -> dict[int, float]:
    """links/s with each number of worker processes, on a fresh database each."""
    figures: dict[int, float] = {}
    with WebServer() as web:
        urls = [web.add(f"/bench/{n}", body, content_type="text/html; charset=utf-8") for n, body in enumerate(pages)]
        for count in counts:
            figures[count] = _links_per_second(urls, count, workers, server)
    return figures


def _links_per_second(urls: list[str], count: int, workers: int, server: str) -> float:
    import psycopg

    name = f"newsdesk_bench_workers_{uuid.uuid4().hex[:8]}"
    admin = f"{server.rstrip('/')}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = f"{server.rstrip('/')}/{name}"
    environ = os.environ | {"NEWSDESK_DB": url, "FETCH_ALLOW_NETWORKS": "127.0.0.2/32", "LOG_LEVEL": "INFO",
                            "EXTRACT_WORKERS": str(workers), "PYTHONUNBUFFERED": "1"}
    processes: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        subprocess.run([sys.executable, "-m", "bot.cli", "latest"], cwd=ROOT, env=environ, check=True,
                       capture_output=True)  # the schema, before the workers start
        with tempfile.TemporaryDirectory() as folder:
            for n in range(count):
                log_path = Path(folder) / f"worker{n}.log"
                with log_path.open("wb") as log:
                    processes.append((subprocess.Popen(
                        [sys.executable, "-m", "bot.cli", "worker", "--no-feeds", "--concurrency", "8"], cwd=ROOT,
                        env=environ, stdout=log, stderr=subprocess.STDOUT), log_path))
            deadline = time.monotonic() + 120
            while not all("claiming up to" in path.read_text(errors="replace") for _, path in processes):
                if time.monotonic() > deadline:
                    raise RuntimeError("the workers did not start within 120 s")
                time.sleep(0.1)
            now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
            with psycopg.connect(url, autocommit=True) as connection:
                started = time.perf_counter()
                with connection.transaction():
                    connection.cursor().executemany(
                        """INSERT INTO items (chat_id, url, canonical_url, domain, status, submitted_at, updated_at)
                           VALUES (1, %s, %s, '127.0.0.2', 'pending', %s, %s)""",
                        [(link, link, now, now) for link in urls])
                while (connection.execute("SELECT count(*) FROM items WHERE status = 'pending'").fetchone()
                       or (0,))[0]:
                    time.sleep(0.05)
                elapsed = time.perf_counter() - started
    finally:
        for process, _ in processes:
            process.send_signal(signal.SIGTERM)
        for process, _ in processes:
            process.wait(60)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return len(urls) / elapsed


def main_worker_processes(args: argparse.Namespace, pages: list[bytes]) -> int:
    counts = [int(part) for part in args.worker_processes.split(",") if part.strip()]
    print(f"{len(pages)} links, worker processes {counts}, {args.workers} extraction workers each, "
          f"{os.cpu_count()} cores, PostgreSQL at {args.postgres}")
    rounds = []
    for number in range(1, args.rounds + 1):
        figures = worker_processes_round(pages, counts, args.workers, args.postgres)
        rounds.append(figures)
        print(f"round {number}: " + ", ".join(f"{count} workers {value:.1f} links/s" for count, value in figures.items()))
    medians = {count: statistics.median(r[count] for r in rounds) for count in counts}
    print(f"\n| worker processes | links/s (median of {len(rounds)} rounds) |\n|---|---|")
    for count, value in medians.items():
        print(f"| {count} | {value:.1f} |")
    args.json.write_text(json.dumps({"links": len(pages), "extraction_workers_each": args.workers,
                                     "rounds": [{str(k): v for k, v in r.items()} for r in rounds],
                                     "medians": {str(k): v for k, v in medians.items()}}, indent=2))
    print(f"\nwritten {args.json}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, help="only the first N pages")
    parser.add_argument("--chunk", type=int, default=50, help="pages each row reads before the next takes its turn")
    parser.add_argument("--json", type=Path, default=Path("bench-throughput.json"))
    parser.add_argument("--worker-processes", metavar="1,2,4",
                        help="instead: links/s with these numbers of `newsdesk worker` processes on PostgreSQL")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432",
                        help="the PostgreSQL server for --worker-processes (a database is made and dropped per round)")
    args = parser.parse_args()
    pages = load_pages(args.corpus, args.limit)
    if args.worker_processes:
        return main_worker_processes(args, pages)
    print(f"{len(pages)} pages, {args.workers} workers, {os.cpu_count()} cores; "
          f"workers retire after {PAGES_PER_WORKER} pages or past {WORKER_RSS_MB} MB")
    rounds = []
    for number in range(1, args.rounds + 1):
        figures = asyncio.run(one_round(pages, args.workers, args.chunk))
        rounds.append(figures)
        print(f"round {number}: trafilatura {figures['trafilatura']:.1f} pages/s, extract_article "
              f"{figures['extract_article']:.1f}, analyse_page {figures['analyse_page']:.1f}, pipeline "
              f"{figures['pipeline']:.1f} links/s {figures['outcome']}")
    medians = {name: statistics.median(r[name] for r in rounds) for name in ROWS}
    ratios = {
        "extract_article / trafilatura": statistics.median(r["extract_article"] / r["trafilatura"] for r in rounds),
        "pipeline / extract_article": statistics.median(r["pipeline"] / r["extract_article"] for r in rounds),
        "pipeline / analyse_page": statistics.median(r["pipeline"] / r["analyse_page"] for r in rounds),
        "pipeline / trafilatura": statistics.median(r["pipeline"] / r["trafilatura"] for r in rounds),
    }
    print(f"\n| median of {len(rounds)} rounds | per second |\n|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {value:.1f} |")
    print("\n| ratio (median of per-round ratios) | value | target |\n|---|---|---|")
    targets = {"extract_article / trafilatura": "≥ 0.77", "pipeline / extract_article": "≥ 0.85"}
    for name, value in ratios.items():
        print(f"| {name} | {value:.2f} | {targets.get(name, '')} |")
    args.json.write_text(json.dumps({"pages": len(pages), "workers": args.workers, "rounds": rounds,
                                     "medians": medians, "ratios": ratios}, indent=2))
    print(f"\nwritten {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Search, /latest and /stats at 100,000 (and, with --million, 1,000,000) items, through the
project's own Repository on databases built with `newsdesk load` from generated text
(bench/textgen.py: Zipf-distributed English and Ukrainian words, 95% of items in one chat).

    .venv/bin/python bench/search.py [--data /tmp/newsdesk-bench] [--million] [--queries 20]
                                     [--backend sqlite|postgresql|both] [--postgres postgresql://…]

Databases are built once into --data and reused. For each size, each query class runs --queries
different queries (words chosen by how many items hold them, read from the index); the table
gives the median and p95 in milliseconds, first run of each query (nothing warmed by repeating
it). With --backend both (the default) the same generated items are loaded into a SQLite file and
into a PostgreSQL database (`newsdesk_bench_<size>` on --postgres: the SQLite file's tables copied
by COPY as `newsdesk migrate` copies them, the GIN index built after the copy, then VACUUM
ANALYZE), the same queries run on each, and a second table gives p95 and median per class side
by side. Writes bench-search.json into --data. Not run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.textgen import generate  # noqa: E402
from storage.repository import Repository  # noqa: E402
from storage.transfer import copy_desk  # noqa: E402

CHAT, OTHER_CHAT, EMPTY_CHAT = -100500, -100600, -100700


def generated(data: Path, size: int) -> Path:
    items = data / f"items-{size}.jsonl"
    if not items.exists():
        with items.open("w", encoding="utf-8") as out:
            for line in generate(size, chat=CHAT, other_chat=OTHER_CHAT):
                out.write(line + "\n")
    return items


def build(data: Path, size: int) -> Path:
    database = data / f"search-{size}.db"
    if database.exists():
        return database
    items = generated(data, size)
    started = time.monotonic()
    partial = database.with_suffix(".partial")
    for path in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        path.unlink(missing_ok=True)
    _load(items, str(partial))
    print(f"built {size:,} items in {time.monotonic() - started:.0f} s", file=sys.stderr)
    partial.rename(database)
    return database


def build_postgres(data: Path, size: int, server: str) -> str:
    """The same items in a PostgreSQL database of their own, built once (a marker table says done;
    a later run migrates it forward):
    the SQLite database's tables copied by COPY (storage/transfer.py), the GIN index made after."""
    name = f"newsdesk_bench_{size}"
    url = f"{server.rstrip('/')}/{name}"
    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            with psycopg.connect(url) as existing:
                built = existing.execute("SELECT to_regclass('bench_built')").fetchone() != (None,)
            if built:  # built by an earlier schema: migrated forward, as a desk's database would be
                asyncio.run(_migrate(url))
                return url
            admin.execute(f'DROP DATABASE "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    source = build(data, size)
    started = time.monotonic()
    asyncio.run(_migrate(url))
    with psycopg.connect(url, autocommit=True) as connection:
        index = connection.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'items_search'").fetchone()
        assert index is not None
        connection.execute("DROP INDEX items_search")  # one sorted build after the load, not 1,000,000 inserts
        copied = copy_desk(source, url)
        print(f"copied {copied.items:,} items in {copied.seconds:.0f} s", file=sys.stderr)
        indexing = time.monotonic()
        connection.execute("SET maintenance_work_mem = '1GB'")
        connection.execute(index[0])
        print(f"GIN index in {time.monotonic() - indexing:.0f} s", file=sys.stderr)
        connection.execute("VACUUM ANALYZE")
        connection.execute("CREATE TABLE bench_built ()")
    print(f"built {size:,} items on PostgreSQL in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return url


async def _migrate(url: str) -> None:
    repository = await Repository.open(url)
    await repository.close()


def _load(items: Path, database: str) -> None:
    env = {"NEWSDESK_DB": database, "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "bot.cli", "load", str(items), "--json"], check=True, env=env, cwd=ROOT)
    subprocess.run([sys.executable, "-m", "bot.cli", "load", "-", f"--chat={EMPTY_CHAT}", "--json"], check=True,
                   env=env, cwd=ROOT, input="\n".join(_ukrainian()), text=True)


def _ukrainian() -> list[str]:
    """A chat whose items are all Ukrainian: English words are in none of them."""
    return [line for line in generate(3000, seed=7, chat=EMPTY_CHAT, other_chat=EMPTY_CHAT)
            if '"language": "uk"' in line][:200]


async def words_by_share(repository: Repository, size: int) -> dict[str, list[str]]:
    """English words of the dictionary by the share of items that hold them."""
    latin = "term ~ '^[a-z]'" if repository._dialect == "postgresql" else "term GLOB '[a-z]*'"
    rows = await repository._fetchall(f"SELECT term, docs FROM search_terms WHERE {latin}")
    def between(low: float, high: float) -> list[str]:
        return sorted(term for term, docs in rows if low * size <= docs <= high * size and len(term) > 2)
    rarest = sorted((docs, term) for term, docs in rows if docs >= 3 and len(term) > 2)[:200]
    return {"rare": sorted(term for _, term in rarest), "medium": between(0.007, 0.013),
            "common": between(0.10, 0.20)}


async def timed(call) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    await call
    return (time.perf_counter() - started) * 1000


async def measure(database: Path | str, size: int, n: int) -> dict[str, dict[str, float]]:
    repository = await Repository.open(database)
    try:
        return await _measure(repository, size, n)
    finally:
        await repository.close()


async def _measure(repository: Repository, size: int, n: int) -> dict[str, dict[str, float]]:
    rng = random.Random(size)
    words = await words_by_share(repository, size)
    common, medium, rare = words["common"], words["medium"], words["rare"]
    prefixes = sorted({word[:4] for word in medium if len(word) > 5})
    classes = {
        "rare word": [rng.choice(rare) for _ in range(n)],
        "medium word (~1%)": rng.sample(medium, n),
        "common word (~15%)": [rng.choice(common) for _ in range(n)],
        "two common words": [" ".join(rng.sample(common, 2)) for _ in range(n)],
        "phrase of two common words": [f'"{a} {b}"' for a, b in (rng.sample(common, 2) for _ in range(n))],
        "prefix (actu*)": [f"{p}*" for p in rng.sample(prefixes, n)],
        "common word + after:": [f"{rng.choice(common)} after:2025-06-01" for _ in range(n)],
        "common word -other": [f"{a} -{b}" for a, b in (rng.sample(common, 2) for _ in range(n))],
        "the / a": ["the", "a"] * (n // 2),
        "a a a … (×2000)": ["a " * 2000] * 3,
        "t* OR … (×680)": [" OR ".join(["t*"] * 680), " OR ".join(f"t{chr(97 + i % 26)}*" for i in range(680))],
    }
    results: dict[str, dict[str, float]] = {}
    for name, queries in classes.items():
        times = [await timed(repository.search(CHAT, query, limit=5)) for query in queries]
        results[name] = summary(times)
    results["common word, chat with none of it"] = summary(
        [await timed(repository.search(EMPTY_CHAT, rng.choice(common), limit=5)) for _ in range(n)])
    results["/latest"] = summary([await timed(repository.latest(CHAT, limit=10)) for _ in range(n)])
    depth = min(100_000, (await repository.stats(CHAT)).items - 20)
    deep = (await repository.latest(CHAT, limit=1, offset=depth))[0].id
    results["/latest after 100,000 (keyset)"] = summary(
        [await timed(repository.latest(CHAT, limit=10, before=deep)) for _ in range(n)])
    results["/latest offset 100,000"] = summary(
        [await timed(repository.latest(CHAT, limit=10, offset=depth)) for _ in range(5)])
    results["/stats"] = summary([await timed(repository.stats(CHAT)) for _ in range(n)])
    if repository._dialect == "postgresql":
        return results
    sizes = await repository._fetchone(
        """SELECT (SELECT sum(length(CAST(text AS BLOB))) + sum(length(CAST(title AS BLOB))) FROM items),
                  (SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'items_fts%'),
                  (SELECT sum(pgsize) FROM dbstat WHERE name = 'search_terms')""")
    if sizes:
        results["index size"] = {"text_bytes": sizes[0], "index_bytes": sizes[1], "dictionary_bytes": sizes[2],
                                 "ratio": round(sizes[1] / sizes[0], 3),
                                 "ratio_with_dictionary": round((sizes[1] + sizes[2]) / sizes[0], 3)}
    return results


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2), "n": len(ordered)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("/tmp/newsdesk-bench"))
    parser.add_argument("--million", action="store_true", help="also 1,000,000 items (about half an hour to build)")
    parser.add_argument("--sizes", type=int, nargs="*", help="other sizes (for a quick look)")
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432",
                        help="the server the PostgreSQL databases are made on")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    sizes = args.sizes or ([100_000, 1_000_000] if args.million else [100_000])
    report: dict[int, dict[str, dict[str, float]]] = {}
    on_postgres: dict[int, dict[str, dict[str, float]]] = {}
    for size in sizes:
        if args.backend in ("sqlite", "both"):
            report[size] = asyncio.run(measure(build(args.data, size), size, args.queries))
        if args.backend in ("postgresql", "both"):
            on_postgres[size] = asyncio.run(measure(build_postgres(args.data, size, args.postgres), size, args.queries))
    if on_postgres:
        side_by_side(report, on_postgres)
        (args.data / "bench-search-postgresql.json").write_text(json.dumps(on_postgres, indent=2))
    if not report:
        return
    names = list(next(iter(report.values())))
    print(f"{'query':40}" + "".join(f"{f'{s:,} median':>16}{'p95 (ms)':>10}" for s in sizes))
    for name in names:
        if name == "index size":
            continue
        print(f"{name:40}" + "".join(f"{report[s][name]['median_ms']:>16}{report[s][name]['p95_ms']:>10}"
                                     for s in sizes))
    for size in sizes:
        print(f"index at {size:,}: {report[size].get('index size')}")
    (args.data / "bench-search.json").write_text(json.dumps(report, indent=2))


def side_by_side(sqlite: dict[int, dict[str, dict[str, float]]],
                 postgresql: dict[int, dict[str, dict[str, float]]]) -> None:
    """Per size and class: p95 and median on each backend (ms), and PostgreSQL's p95 over SQLite's."""
    for size, measured in postgresql.items():
        print(f"\n{size:,} items{'':25}{'p95 SQLite':>12}{'p95 PG':>10}{'ratio':>8}{'med SQLite':>12}{'med PG':>10}")
        for name, pg in measured.items():
            lite = sqlite.get(size, {}).get(name)
            if lite is None or "p95_ms" not in pg:
                print(f"{name:40}{'':>12}{pg.get('p95_ms', ''):>10}{'':>8}{'':>12}{pg.get('median_ms', ''):>10}")
                continue
            ratio = f"{pg['p95_ms'] / lite['p95_ms']:.1f}" if lite["p95_ms"] else "-"
            print(f"{name:40}{lite['p95_ms']:>12}{pg['p95_ms']:>10}{ratio:>8}{lite['median_ms']:>12}"
                  f"{pg['median_ms']:>10}")


if __name__ == "__main__":
    main()

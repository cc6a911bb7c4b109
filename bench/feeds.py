"""What monitoring costs: one polling round over many loopback feeds, and matching a new item
against a chat's watches.

    .venv/bin/python bench/feeds.py [--feeds 500] [--changed 25] [--rounds 5] [--watches 200] [--items 2000]

Polling: a separate process serves `--feeds` RSS feeds (20 entries each) on 127.0.0.2, answering
If-None-Match / If-Modified-Since with 304 while a feed is unchanged. After a first round (every
feed new), each measured round changes `--changed` feeds (one new entry each), so the rest answer
304; the same run then measures rounds where no feed sends validators back (every feed answers 200
and is parsed), as the baseline. Reported per round (medians): wall time, CPU of this process and
of its worker processes, and this process's resident memory. Only polling is measured (fetch,
parse, entries recorded, items committed as pending), not fetching the new items' pages.

Watches: a chat with `--items` stored articles and `--watches` watches (words, phrases, OR,
exclusions, prefixes, filters); each new item is matched with bot.desk.watches.check_new_items
(the lookups, the record, the alert), and matching_watches alone. Not run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import utc_now  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.desk.feeds import poll_due  # noqa: E402
from bot.desk.watches import add_watch, check_new_items  # noqa: E402
from bot.pipeline.models import Article  # noqa: E402
from bot.services import Services  # noqa: E402
from storage.models import FeedMode  # noqa: E402

CHAT = -100500
GENERIC = [f"w{n}" for n in range(5000)]
GENERIC_WEIGHTS = [1 / (rank + 1) for rank in range(len(GENERIC))]  # Zipf, as words in text are
WORDS = ("grain corridor sanctions energy budget election drone refinery harvest ceasefire tariff inflation "
         "pipeline reactor frontline mobilisation subsidy wheat maize shipping insurer port blackout "
         "зерно коридор санкції енергетика бюджет вибори дрон нафта врожай перемир'я мито інфляція").split()


def serve(feeds: int, pipe: Connection) -> None:
    """The feed server's process: serves the feeds; "change N" publishes one entry on N feeds."""
    from tests.support.feeds import BASE_TIME, Entry, LiveFeed
    from tests.support.webserver import WebServer

    with WebServer() as web:
        lives = []
        for n in range(feeds):
            live = LiveFeed(web, f"/feed/{n}.xml", title=f"Feed {n}")
            live.replace([Entry(f"f{n}-e{k}", f"https://news{n}.example/story/{k}", f"Story {k} of feed {n}",
                                "A short summary of the story, as feeds carry.", "Desk",
                                BASE_TIME - timedelta(minutes=k)) for k in range(20)])
            lives.append(live)
        pipe.send([live.url for live in lives])
        serial = 0
        while True:
            command = pipe.recv()
            if command == "stop":
                return
            _, count = command.split()
            for live in random.sample(lives, int(count)):
                serial += 1
                live.publish(Entry(f"new-{serial}", f"https://fresh.example/{serial}", f"Fresh story {serial}"))
            pipe.send("ok")


def cpu_of_children() -> float:
    """CPU seconds used so far by this process's children (the worker pool): the live ones, and
    those already ended (pebble replaces a worker after 200 tasks)."""
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ended.ru_utime + ended.ru_stime
    ticks = os.sysconf("SC_CLK_TCK")
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def make_due(services: Services) -> None:
    await services.repository._db.execute("UPDATE feeds SET next_check_at = ?",
                                          ((utc_now() - timedelta(seconds=1)).isoformat(),))
    await services.repository._db.commit()


async def forget_validators(services: Services) -> None:
    await services.repository._db.execute("UPDATE feeds SET etag = NULL, last_modified = NULL")
    await services.repository._db.commit()


async def one_round(services: Services, pipe: Connection, changed: int, *, conditional: bool) -> dict[str, float]:
    pipe.send(f"change {changed}")
    pipe.recv()
    await make_due(services)
    if not conditional:
        await forget_validators(services)
    wall, cpu, children = time.perf_counter(), time.process_time(), cpu_of_children()
    results = await poll_due(services)
    figures = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
               "workers_cpu": cpu_of_children() - children, "rss": resident_mb(),
               "not_modified": sum(r.status == "not_modified" for r in results),
               "errors": sum(r.status == "error" for r in results), "new": sum(r.new for r in results)}
    return figures


async def bench_polling(args: argparse.Namespace, folder: Path) -> None:
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(args.feeds, child), daemon=True)
    server.start()
    urls = parent.recv()
    settings = Settings.from_env({"NEWSDESK_DB": str(folder / "poll.db"), "FETCH_ALLOW_NETWORKS": "127.0.0.2/32",
                                  "EXTRACT_WORKERS": str(args.workers), "FEED_FIRST_POLL_ITEMS": "10",
                                  "FEED_POLL_CONCURRENCY": str(args.concurrency)})
    services = await Services.open(settings)
    try:
        for url in urls:
            await services.repository.add_feed(CHAT, url, title=None, site_url=None, mode=FeedMode.DIGEST,
                                               thread_id=None, added_by=None, interval_seconds=900,
                                               next_check_at=utc_now())
        rss_before = resident_mb()
        first = await one_round(services, parent, 0, conditional=True)
        print(f"first round, {args.feeds} feeds all new (20 entries each, 10 taken): {first['wall']:.2f} s wall, "
              f"{first['cpu']:.2f} s CPU here + {first['workers_cpu']:.2f} s in workers, "
              f"{int(first['new'])} items, RSS {rss_before:.0f} -> {first['rss']:.0f} MB")
        for label, conditional in (("conditional", True), ("baseline: no validators sent", False)):
            rounds = [await one_round(services, parent, args.changed, conditional=conditional)
                      for _ in range(args.rounds)]
            print(f"{label}: {args.rounds} rounds of {args.feeds} feeds, {args.changed} changed; medians: "
                  f"{statistics.median(r['wall'] for r in rounds) * 1000:.0f} ms wall, "
                  f"{statistics.median(r['cpu'] for r in rounds) * 1000:.0f} ms CPU here + "
                  f"{statistics.median(r['workers_cpu'] for r in rounds) * 1000:.0f} ms in workers, "
                  f"304s {statistics.median(r['not_modified'] for r in rounds):.0f}, "
                  f"new {statistics.median(r['new'] for r in rounds):.0f}, errors {max(r['errors'] for r in rounds):.0f}, "
                  f"RSS {max(r['rss'] for r in rounds):.0f} MB")
            if conditional:
                kept = rounds
            else:
                ratio = statistics.median(r['wall'] for r in rounds) / statistics.median(r['wall'] for r in kept)
                cpu_ratio = (statistics.median(r['cpu'] + r['workers_cpu'] for r in rounds)
                             / statistics.median(r['cpu'] + r['workers_cpu'] for r in kept))
                print(f"conditional requests: the round takes 1/{ratio:.1f} of the time and 1/{cpu_ratio:.1f} "
                      "of the CPU of a round where every feed is sent and parsed")
    finally:
        parent.send("stop")
        server.join(10)
        await services.aclose()


async def bench_watches(args: argparse.Namespace, folder: Path) -> None:
    settings = Settings.from_env({"NEWSDESK_DB": str(folder / "watch.db"), "EXTRACT_WORKERS": "1",
                                  "MAX_WATCHES_PER_CHAT": str(args.watches)})
    services = await Services.open(settings)
    rng = random.Random(7)
    try:
        async def store(n: int) -> int:
            url = f"https://news.example/{n}"
            item, _ = await services.repository.add_link(CHAT, url, url, domain="news.example")
            # 600 words: nine in ten from a Zipf-distributed vocabulary, one in ten a desk topic
            words = rng.choices(GENERIC, GENERIC_WEIGHTS, k=540) + rng.choices(WORDS, k=60)
            rng.shuffle(words)
            text = " ".join(words)
            article = Article(title=" ".join(rng.choice(WORDS) for _ in range(8)), text=text,
                              site_name=rng.choice(("Reuters", "Українська правда", "BBC")), language="en")
            await services.repository.mark_done(item.id, article, text[:400], final_url=url)
            return item.id

        for n in range(args.items):
            await store(n)
        await services.repository._db.execute("UPDATE items SET watch_ids = '[]'")
        await services.repository._db.commit()
        shapes = ("{a}", '"{a} {b}"', "{a} OR {b}", "{a} -{b}", "{p}*", "source:reuters {a}", "{a} {b}")
        while len(await services.repository.watches(CHAT)) < args.watches:
            shape = rng.choice(shapes)
            await add_watch(services, CHAT, shape.format(a=rng.choice(WORDS), b=rng.choice(WORDS + GENERIC[:300]),
                                                         p=rng.choice(WORDS)[:4]))
        print(f"{len(await services.repository.watches(CHAT))} watches, {args.items} stored articles of 600 words "
              "(a Zipf-distributed vocabulary of 5,000 words, one word in ten a desk topic)")
        watches = await services.repository.watches(CHAT)
        whole, lookups, hits = [], [], 0
        for n in range(args.items, args.items + args.samples):
            item_id = await store(n)
            item = await services.repository.get(item_id)
            assert item is not None
            started = time.perf_counter()
            found = await services.repository.matching_watches(item, watches)
            lookups.append(time.perf_counter() - started)
            started = time.perf_counter()
            matched = await check_new_items(services, item_ids=[item_id])
            whole.append(time.perf_counter() - started)
            hits += len(matched.get(item_id, []))
            assert sorted(matched.get(item_id, [])) == sorted(found)

        def spread(values: list[float]) -> str:
            ordered = sorted(values)
            return (f"median {statistics.median(ordered) * 1000:.1f} ms, p90 {ordered[int(len(ordered) * 0.9)] * 1000:.1f}"
                    f" ms, max {ordered[-1] * 1000:.1f} ms")

        print(f"matching one new item against {len(watches)} watches ({args.samples} items, {hits / args.samples:.1f} "
              f"matches each on average): lookups {spread(lookups)}; whole check with record and alert {spread(whole)}")
    finally:
        await services.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--changed", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--watches", type=int, default=200)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await bench_watches(args, Path(folder))
        await bench_polling(args, Path(folder))


if __name__ == "__main__":
    asyncio.run(main())

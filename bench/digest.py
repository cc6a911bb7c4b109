"""How long building a chat's digest takes: 500 stored items, read from SQLite and rendered.

    .venv/bin/python bench/digest.py [--items 500] [--runs 7]

Prints the median of several runs of bot.desk.digests.compose plus render.digest (the query and the
rendering) and a
sample digest as plain text. Not run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli.output import plain_text  # noqa: E402
from bot.desk.digests import compose  # noqa: E402
from bot.pipeline.models import Article  # noqa: E402
from bot.telegram import render  # noqa: E402
from storage.repository import Repository  # noqa: E402

CHAT = -100500
SITES = ("Example Times", "Київські новини", "Reuters", "Українська правда", "BBC News", "Financial Desk")
SUMMARY = ("Grain exports through the Black Sea corridor reached a record in November, officials said. "
           "Shipping insurers lowered premiums after a quiet month. Analysts expect the pace to hold into winter.")


async def fill(repository: Repository, count: int, now: datetime) -> None:
    for n in range(count):
        url = f"https://news{n % len(SITES)}.example/story/{n}"
        item, _ = await repository.add_link(CHAT, url, url, domain=f"news{n % len(SITES)}.example")
        article = Article(title=f"Story {n}: grain, energy and the budget in the autumn session",
                          text=SUMMARY * 20, authors=("Maria Kovalenko",), site_name=SITES[n % len(SITES)],
                          language="en")
        await repository.mark_done(item.id, article, SUMMARY, final_url=url)
        if n % 3 == 0:
            await repository.set_translation(item.id, language="uk", title=f"Історія {n}: зерно, енергетика і бюджет",
                                             summary="Експорт зерна досяг рекорду. Страховики знизили премії.", note=None)
    await repository._db.execute("UPDATE items SET submitted_at = ?", ((now - timedelta(hours=2)).isoformat(),))
    await repository._db.commit()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as folder:
        repository = await Repository.open(Path(folder) / "bench.db")
        try:
            await fill(repository, args.items, now)
            timings, digest, messages = [], None, []
            for _ in range(args.runs):
                started = time.perf_counter()
                digest = await compose(repository, CHAT, day=date.today(), until=now)
                messages = render.digest(digest.items, digest.day, "uk")
                timings.append(time.perf_counter() - started)
        finally:
            await repository.close()
    assert digest is not None
    print(f"{len(digest.items)} items -> {len(messages)} messages; "
          f"median {statistics.median(timings) * 1000:.1f} ms over {args.runs} runs "
          f"(min {min(timings) * 1000:.1f}, max {max(timings) * 1000:.1f})")
    print("\n--- the first message, as the terminal shows it ---\n")
    print(plain_text(messages[0])[:1500])


if __name__ == "__main__":
    asyncio.run(main())

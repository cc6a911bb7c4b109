"""Whether the bot stays responsive while it ingests: /latest answered while 200 links are being
processed, against /latest when the bot is idle, through the project's Bot API emulator.

    .venv/bin/python bench/responsiveness.py [--links 200] [--samples 40] [--workers 2] [--json FILE]

The real bot is run as `python -m bot` against the emulator (tests/support/botapi.py), with
generated article pages on a loopback server. First `--samples` /latest commands are sent to the
idle bot, one at a time; then a member posts the links (100 to a message) in one chat, and while
any is still pending, /latest commands are sent the same way. Each is timed from the moment it is
sent to the moment the bot's answer reaches the emulator. The /latest commands go round 30 other
chats that already hold 10 items each, so that Telegram's per-chat limit (applied by the bot's own
limiter) does not time itself in place of the bot. Prints p50/p95/max for both and the ratio of
the p95s (target ≤ 2); writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
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
from tests.support.botapi import BotApiServer  # noqa: E402
from tests.support.webserver import WebServer  # noqa: E402

MEMBER, ADMIN = 501, 777
INGEST_CHAT = -100700
LATEST_CHATS = [-100710 - n for n in range(30)]
SEEDED = 10
SETTLE_SECONDS = 65.0
"""After seeding: Telegram's group limit (20 messages a minute, kept by the bot's limiter) forgets the
seeding's cards and progress edits."""
LINKS_PER_MESSAGE = 100


def pending(database: Path, chat_id: int) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT count(*) FROM items WHERE chat_id = ? AND status = 'pending'", (chat_id,)
        ).fetchone()[0]


def stored(database: Path, chat_id: int) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(database) as connection:
        try:
            return connection.execute(
                "SELECT count(*) FROM items WHERE chat_id = ? AND status != 'pending'", (chat_id,)
            ).fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def ask_latest(server: BotApiServer, chat_id: int) -> float:
    started = time.monotonic()
    asked = server.send_command(chat_id, "/latest 5", user=ADMIN)
    server.wait_for(lambda s: any(m.reply_to == asked["message_id"] for m in s.bot_messages(chat_id)), timeout=120)
    return (time.monotonic() - started) * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(values: list[float]) -> dict[str, float]:
    return {"count": len(values), "p50": statistics.median(values), "p95": percentile(values, 0.95), "max": max(values)}


def wait(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=200)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout whose bot is run")
    parser.add_argument("--json", type=Path, default=Path("bench-responsiveness.json"))
    parser.add_argument("--bot-log", type=Path, help="keep the bot's log here")
    parser.add_argument("--profile", type=Path, help="run the bot under cProfile and write its statistics here")
    args = parser.parse_args()
    with BotApiServer(token="123:BENCH") as server, WebServer() as web, tempfile.TemporaryDirectory() as folder:
        for chat_id in [INGEST_CHAT, *LATEST_CHATS]:
            server.add_chat(chat_id, chat_type="supergroup", title=f"Desk {chat_id}")
            server.set_chat_admins(chat_id, [ADMIN])
        server.add_user(MEMBER, first_name="Member")
        server.add_user(ADMIN, first_name="Admin")
        database = Path(folder) / "bench.db"
        environ = {
            "TELEGRAM_BOT_TOKEN": server.token, "TELEGRAM_BASE_URL": server.base_url, "NEWSDESK_DB": str(database),
            "ALLOWED_CHATS": ",".join(map(str, [INGEST_CHAT, *LATEST_CHATS])), "ADMINS": str(ADMIN),
            "FETCH_ALLOW_NETWORKS": "127.0.0.2/32", "EXTRACT_WORKERS": str(args.workers),
            "MAX_LINKS_PER_HOUR": str(max(1000, args.links * 2)), "PYTHONDONTWRITEBYTECODE": "1",
        }
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LLM_"))}
        child_env |= environ | {"LOG_LEVEL": "WARNING", "PYTHONPATH": str(args.source.resolve())}
        bot_log = (Path(folder) / "bot.log").open("ab")
        profile = ["-m", "cProfile", "-o", str(args.profile.resolve())] if args.profile else []
        bot = subprocess.Popen([sys.executable, *profile, "-m", "bot"], cwd=args.source, env=child_env,
                               stdout=bot_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            server.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
            # the /latest chats hold a few items each, posted and processed before anything is timed
            for chat_id in LATEST_CHATS:
                urls = [web.add(f"/seed/{chat_id}/{n}", articles.english_article(title=f"Seed {n} in {chat_id}"))
                        for n in range(SEEDED)]
                server.send_message(chat_id, "\n".join(urls), user=MEMBER)
            wait(lambda: all(stored(database, c) == SEEDED for c in LATEST_CHATS), 600)
            time.sleep(SETTLE_SECONDS)
            idle = [ask_latest(server, LATEST_CHATS[n % len(LATEST_CHATS)]) for n in range(args.samples)]

            urls = [web.add(f"/ingest/{n}", articles.english_article(title=f"Article {n} of the batch")
                            if n % 2 else articles.ukrainian_article(title=f"Стаття {n} з пакета"))
                    for n in range(args.links)]
            started = time.monotonic()
            for first in range(0, len(urls), LINKS_PER_MESSAGE):
                server.send_message(INGEST_CHAT, "\n".join(urls[first:first + LINKS_PER_MESSAGE]), user=MEMBER)
            wait(lambda: stored(database, INGEST_CHAT) > 0 or pending(database, INGEST_CHAT) > 0, 60)
            busy: list[float] = []
            while pending(database, INGEST_CHAT) > 0:
                busy.append(ask_latest(server, LATEST_CHATS[len(busy) % len(LATEST_CHATS)]))
            ingest_seconds = time.monotonic() - started
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(60)
            bot_log.close()
            if args.bot_log:
                args.bot_log.write_bytes((Path(folder) / "bot.log").read_bytes())
    results = {"idle": figures(idle), "ingesting": figures(busy), "idle_ms": idle, "ingesting_ms": busy, "links": args.links, "workers": args.workers,
               "ingest_seconds": ingest_seconds}
    results["p95_ratio"] = results["ingesting"]["p95"] / results["idle"]["p95"]
    print(f"{args.links} links ingested in {ingest_seconds:.1f} s with {args.workers} workers ({os.cpu_count()} cores)")
    print("| /latest | samples | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|")
    for name in ("idle", "ingesting"):
        f = results[name]
        print(f"| {name} | {f['count']} | {f['p50']:.1f} | {f['p95']:.1f} | {f['max']:.1f} |")
    print(f"p95 while ingesting / idle: {results['p95_ratio']:.2f} (target ≤ 2)")
    args.json.write_text(json.dumps(results, indent=2))
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

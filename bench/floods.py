"""What one member's flood costs the rest of a chat: how many messages the bot sends, and how long
an administrator's /latest waits behind them.

    .venv/bin/python bench/floods.py [--source DIR] [--only repeats|many] [--flood-limit N]

Two floods, each in a fresh chat of the project's Bot API emulator, with the real bot run as
`python -m bot` from DIR (default: this checkout; pass an extracted older commit to compare, e.g.
`git archive 04c388b | tar -x -C /tmp/before`):

- repeats: the same link posted 50 times in 3 s by a member; /latest is sent by an
  administrator as soon as the bot has answered the first of them;
- many: one message with 100 links; /latest is sent once every link has been processed (the
  moment the most output is waiting).

For each it prints the seconds /latest took to be answered, then, once the bot has been quiet for
15 s, how many messages it sent and edited in that chat. Telegram's group limit (20 messages a
minute) is applied by the bot's own rate limiter; `--flood-limit` also makes the emulator answer
429 above N calls a second per chat.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
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
REPEATS_CHAT, MANY_CHAT = -100801, -100802
QUIET_SECONDS = 15.0
LONGEST = 1200.0


def output_calls(server: BotApiServer, chat_id: int) -> tuple[int, int]:
    """(messages sent, edits made) by the bot in the chat, successful calls only."""
    calls = [c for c in server.calls if c.ok and c.params.get("chat_id") == chat_id]
    sent = sum(1 for c in calls if c.method.lower() in ("sendmessage", "senddocument"))
    edits = sum(1 for c in calls if c.method.lower().startswith("edit"))
    return sent, edits


def wait_quiet(server: BotApiServer, chat_id: int) -> float:
    """Wait until the bot has made no call for the chat in QUIET_SECONDS; when it last did."""
    deadline = time.monotonic() + LONGEST
    seen, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len([c for c in server.calls if c.params.get("chat_id") == chat_id])
        if count != seen:
            seen, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > QUIET_SECONDS:
            return last_change
        time.sleep(0.5)
    return last_change


def pending_in(database: Path, chat_id: int) -> int:
    with sqlite3.connect(database) as connection:
        total, pending = connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'pending') FROM items WHERE chat_id = ?", (chat_id,)
        ).fetchone()
    return pending if total else -1


def ask_latest(server: BotApiServer, chat_id: int) -> float:
    started = time.monotonic()
    asked = server.send_command(chat_id, "/latest 3", user=ADMIN)
    server.wait_for(lambda s: any(m.reply_to == asked["message_id"] for m in s.bot_messages(chat_id)), timeout=LONGEST)
    return time.monotonic() - started


def repeats(server: BotApiServer, web: WebServer, database: Path) -> tuple[float, int, int]:
    url = web.add("/floods/repeat", articles.english_article(title="One article posted fifty times"))
    first = server.send_message(REPEATS_CHAT, url, user=MEMBER)
    for _ in range(49):
        time.sleep(3.0 / 50)
        server.send_message(REPEATS_CHAT, url, user=MEMBER)
    server.wait_for(lambda s: s.bot_messages(REPEATS_CHAT, after=first["message_id"]), timeout=60)
    latest = ask_latest(server, REPEATS_CHAT)
    wait_quiet(server, REPEATS_CHAT)
    return (latest, *output_calls(server, REPEATS_CHAT))


def many(server: BotApiServer, web: WebServer, database: Path) -> tuple[float, int, int]:
    urls = [web.add(f"/floods/many/{n}", articles.english_article(title=f"Article {n} of a hundred"))
            for n in range(100)]
    server.send_message(MANY_CHAT, "\n".join(urls), user=MEMBER)
    deadline = time.monotonic() + LONGEST
    while pending_in(database, MANY_CHAT) != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    latest = ask_latest(server, MANY_CHAT)
    wait_quiet(server, MANY_CHAT)
    return (latest, *output_calls(server, MANY_CHAT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout whose bot is run")
    parser.add_argument("--only", choices=("repeats", "many"))
    parser.add_argument("--flood-limit", type=float, help="the emulator's 429 threshold, calls a second per chat")
    args = parser.parse_args()
    floods = {"repeats": (REPEATS_CHAT, repeats), "many": (MANY_CHAT, many)}
    chosen = [args.only] if args.only else list(floods)
    with BotApiServer(token="123:BENCH") as server, WebServer() as web, tempfile.TemporaryDirectory() as folder:
        for chat_id, _ in floods.values():
            server.add_chat(chat_id, chat_type="supergroup", title=f"Desk {chat_id}")
            server.set_chat_admins(chat_id, [ADMIN])
        server.add_user(MEMBER, first_name="Member")
        server.add_user(ADMIN, first_name="Admin")
        server.flood_limit(args.flood_limit)
        database = Path(folder) / "bench.db"
        environ = {
            "TELEGRAM_BOT_TOKEN": server.token, "TELEGRAM_BASE_URL": server.base_url, "NEWSDESK_DB": str(database),
            "ALLOWED_CHATS": f"{REPEATS_CHAT},{MANY_CHAT}", "ADMINS": str(ADMIN),
            "FETCH_ALLOW_NETWORKS": "127.0.0.2/32", "EXTRACT_WORKERS": "1", "PYTHONDONTWRITEBYTECODE": "1",
        }
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LLM_"))}
        child_env |= environ | {"LOG_LEVEL": "INFO", "PYTHONPATH": str(args.source.resolve())}
        bot_log = (Path(folder) / "bot.log").open("ab")
        bot = subprocess.Popen([sys.executable, "-m", "bot"], cwd=args.source, env=child_env,
                               stdout=bot_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            server.wait_for(lambda s: s.calls_to("getUpdates"), timeout=60)
            print(f"bot from {args.source}, emulator flood limit {args.flood_limit or 'off'}")
            print(f"{'flood':<8} {'/latest s':>10} {'sent':>6} {'edits':>6}")
            for name in chosen:
                chat_id, scenario = floods[name]
                latest, sent, edits = scenario(server, web, database)
                print(f"{name:<8} {latest:>10.2f} {sent:>6} {edits:>6}", flush=True)
            errors = [c for c in server.errors if c.method.lower() != "getupdates"]
            print(f"API errors (429 and others): {len(errors)}")
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(60)
            bot_log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

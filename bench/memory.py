"""Resident memory through a large import: the bot's own process, and each extraction worker.

    .venv/bin/python bench/memory.py [--links 2000] [--workers 2] [--json FILE]

Serves generated article pages (English and Ukrainian, 3–40 paragraphs) on loopback, runs
`newsdesk import` of that many links into a fresh database, and samples every 0.2 s the resident
memory (VmRSS) of the command's process and of every process under it: the extraction workers
and the fork server they come from. Prints the peaks (targets: the bot's process ≤ 150 MB, each
worker ≤ 250 MB), how many worker processes took part (they are replaced after a number of pages
or past a memory limit), and writes JSON. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.pipeline.workers import PAGES_PER_WORKER, WORKER_RSS_MB  # noqa: E402
from tests.support import articles  # noqa: E402
from tests.support.webserver import WebServer  # noqa: E402


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def descendants(pid: int) -> dict[int, str]:
    """Every process under pid, by pid, with what it is: the fork server, the resource tracker, or a
    worker (forked from the fork server, it has the server's command line)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current and child not in found:
                try:
                    command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    command = "?"
                if current != pid:
                    command = "worker"
                elif "forkserver" in command:
                    command = "fork server"
                elif "resource_tracker" in command:
                    command = "resource tracker"
                elif "spawn_main" in command:
                    command = "worker"  # a pool that spawns its workers (before the fork server)
                found[child] = command
                frontier.append(child)
    return found


def page(n: int) -> str:
    """Article n: 3 to 40 paragraphs, each numbered, so that no two pages are the same."""
    count = 3 + (n * 7) % 38
    if n % 2:
        source = articles.ENGLISH_PARAGRAPHS
        paragraphs = [f"{source[k % len(source)]} (Paragraph {k} of story {n}.)" for k in range(count)]
        return articles.article_page(title=f"Generated article {n}", paragraphs=paragraphs)
    source = articles.UKRAINIAN_PARAGRAPHS
    paragraphs = [f"{source[k % len(source)]} (Абзац {k} статті {n}.)" for k in range(count)]
    return articles.article_page(title=f"Згенерована стаття {n}", paragraphs=paragraphs, site="Київські новини",
                                 authors=("Олена Коваленко",), language="uk")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=Path("bench-memory.json"))
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout whose `newsdesk import` is run")
    args = parser.parse_args()
    with WebServer() as server, tempfile.TemporaryDirectory() as folder:
        urls = [server.add(f"/memory/{n}", page(n), content_type="text/html; charset=utf-8") for n in range(args.links)]
        links = Path(folder) / "links.txt"
        links.write_text("\n".join(urls) + "\n")
        environ = os.environ | {"NEWSDESK_DB": str(Path(folder) / "bench.db"), "FETCH_ALLOW_NETWORKS": "127.0.0.2/32",
                                "LOG_LEVEL": "WARNING", "EXTRACT_WORKERS": str(args.workers),
                                "PYTHONPATH": str(args.source.resolve())}
        started = time.monotonic()
        command = subprocess.Popen([sys.executable, "-m", "bot.cli", "import", str(links)], env=environ, cwd=args.source,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        own_peak, samples = 0.0, 0
        children: dict[int, tuple[str, float]] = {}
        while command.poll() is None:
            own_peak = max(own_peak, rss_mb(command.pid) or 0.0)
            for pid, what in descendants(command.pid).items():
                rss = rss_mb(pid)
                if rss is not None:
                    children[pid] = (what, max(rss, children.get(pid, (what, 0.0))[1]))
            samples += 1
            time.sleep(0.2)
        output = command.stdout.read() if command.stdout else ""
        elapsed = time.monotonic() - started
    servers = {pid: peak for pid, (what, peak) in children.items() if what == "fork server"}
    workers = {pid: peak for pid, (what, peak) in children.items() if what == "worker"}
    results = {
        "links": args.links, "workers": args.workers, "seconds": elapsed, "samples": samples,
        "bot_process_peak_mb": own_peak,
        "worker_peak_mb": max(workers.values(), default=0.0), "worker_processes": len(workers),
        "fork_server_peak_mb": max(servers.values(), default=0.0),
        "pages_per_worker": PAGES_PER_WORKER, "worker_rss_limit_mb": WORKER_RSS_MB,
        "outcome": output.strip().splitlines()[-1:],
        "output_head": output[:3000],
    }
    print(f"`newsdesk import` of {args.links} links in {elapsed:.0f} s, {args.workers} workers: {results['outcome']}")
    print("| process | peak RSS MB | target |\n|---|---|---|")
    print(f"| the command (the bot's process) | {own_peak:.0f} | ≤ 150 |")
    print(f"| largest extraction worker (of {len(workers)} that took part) | {results['worker_peak_mb']:.0f} | ≤ 250 |")
    print(f"| fork server (warm, idle: workers are forked from it) | {results['fork_server_peak_mb']:.0f} | |")
    args.json.write_text(json.dumps(results, indent=2))
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

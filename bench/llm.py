"""What the language-model summariser adds per item, against the local test endpoint.

    .venv/bin/python bench/llm.py [--runs 200]

The baseline, measured in the same run, is one bare httpx POST of the same request to the same
instant server; the summariser's row adds the prompt, the budget bookkeeping in SQLite, the
structured-output check and the semaphore. Real models take seconds: this is the part we own.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.pipeline.briefs import build_messages, check_brief  # noqa: E402
from bot.pipeline.models import Article  # noqa: E402
from bot.pipeline.summarise_llm import LlmSummariser, TokenBudget  # noqa: E402
from storage.repository import Repository  # noqa: E402
from tests.support.articles import ENGLISH_PARAGRAPHS  # noqa: E402
from tests.support.llmserver import LlmServer  # noqa: E402

ARTICLE = Article(title="Black Sea grain exports hit a record", text="\n\n".join(ENGLISH_PARAGRAPHS * 6),
                  authors=("Maria Kovalenko",), site_name="Example Times", language="en")


async def bare_posts(server: LlmServer, runs: int) -> list[float]:
    messages = build_messages(ARTICLE, language="uk", max_input_chars=12_000)
    timings = []
    async with httpx.AsyncClient() as client:
        for _ in range(runs):
            started = time.perf_counter()
            response = await client.post(f"{server.base_url}/chat/completions", json={"model": "m", "messages": messages})
            check_brief(response.json()["choices"][0]["message"]["content"], "uk")
            timings.append(time.perf_counter() - started)
    return timings


async def summaries(server: LlmServer, repository: Repository, runs: int) -> list[float]:
    summariser = LlmSummariser(base_url=server.base_url, model="m", budget=TokenBudget(repository, 10**9), timeout=5)
    timings = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            summary = await summariser.summarise(ARTICLE, language="uk")
            timings.append(time.perf_counter() - started)
            assert summary.source == "llm", summary.fallback_reason
    finally:
        await summariser.aclose()
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, LlmServer() as server:
        repository = await Repository.open(Path(folder) / "bench.db")
        try:
            await bare_posts(server, 10)  # warm up both paths
            await summaries(server, repository, 10)
            bare = statistics.median(await bare_posts(server, args.runs)) * 1000
            ours = statistics.median(await summaries(server, repository, args.runs)) * 1000
        finally:
            await repository.close()
    print(f"bare POST + reply check: median {bare:.2f} ms")
    print(f"LlmSummariser.summarise: median {ours:.2f} ms  ({ours / bare:.2f}x; +{ours - bare:.2f} ms per item)")


if __name__ == "__main__":
    asyncio.run(main())

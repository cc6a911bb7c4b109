"""What a PDF costs the extraction worker: a generated 50-page report against an HTML page of the same
text, each read in a fresh process (as a worker reads it), time and peak memory, medians of several runs.

    .venv/bin/python bench/pdf.py [--pages 50] [--runs 5] [folder of .pdf files]

With a folder, each real PDF in it is also read once and its pages, time, peak memory and outcome
printed. The generated report has about 3,000 characters a page, as a text-heavy report does.
Not run by the tests.
"""

from __future__ import annotations

import argparse
import html
import multiprocessing
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.pipeline.errors import IngestError  # noqa: E402
from bot.pipeline.workers import analyse_page  # noqa: E402
from tests.support import pdfs  # noqa: E402

PARAGRAPHS = tuple(
    f"{sentence} Section {n} of the findings adds figures for each region, each council and each month of the year."
    for n, sentence in enumerate(pdfs.REPORT_PARAGRAPHS * 4)
)


def report(pages: int) -> bytes:
    return pdfs.text_pdf(pages=pages, paragraphs=PARAGRAPHS)


def same_text_as_html(pages: int) -> bytes:
    paragraphs = [p if page == 0 else f"Page {page + 1}. {p}" for page in range(pages) for p in PARAGRAPHS]
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f"<!doctype html><html lang=en><head><title>Reconstruction grants audit 2026</title></head>"
            f"<body><article><h1>Reconstruction grants audit 2026</h1>{body}</article></body></html>").encode()


def _measure(body: bytes, url: str, queue: multiprocessing.Queue) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        article, _ = analyse_page(body, url, "utf-8", None)
        outcome = f"{article.content_kind}, {article.page_count or '-'} pages, {len(article.text)} chars"
    except IngestError as error:
        outcome = error.reason
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((seconds, (peak - before) / 1024, peak / 1024, outcome))


def once(body: bytes, url: str) -> tuple[float, float, float, str]:
    """Read `body` in a fresh process: seconds, peak memory added (MB), peak memory (MB), outcome."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(body, url, queue))
    process.start()
    result = queue.get(timeout=300)
    process.join()
    return result


def median_of(body: bytes, url: str, runs: int) -> tuple[float, float, float, str]:
    results = [once(body, url) for _ in range(runs)]
    return (statistics.median(r[0] for r in results), statistics.median(r[1] for r in results),
            statistics.median(r[2] for r in results), results[0][3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    pdf, page = report(args.pages), same_text_as_html(args.pages)
    print(f"{args.pages}-page PDF: {len(pdf) / 1e6:.2f} MB; the same text as HTML: {len(page) / 1e6:.2f} MB; "
          f"medians of {args.runs} runs, each in a fresh process")
    base = median_of(page, "https://example.org/report.html", args.runs)
    read = median_of(pdf, "https://example.org/report.pdf", args.runs)
    print(f"{'':12} {'seconds':>8} {'MB added':>9} {'MB peak':>8}  outcome")
    for name, row in (("HTML page", base), ("PDF", read)):
        print(f"{name:12} {row[0]:8.3f} {row[1]:9.1f} {row[2]:8.1f}  {row[3]}")
    print(f"PDF / HTML: time x{read[0] / base[0]:.2f}, memory added x{read[1] / max(base[1], 0.1):.2f}")
    if args.folder:
        for path in sorted(args.folder.glob("*.pdf")):
            seconds, added, peak, outcome = once(path.read_bytes(), f"https://example.org/{path.name}")
            print(f"{path.name[:40]:40} {seconds:7.3f} s {added:7.1f} MB added {peak:7.1f} MB peak  {outcome}")


if __name__ == "__main__":
    main()

"""Score Newsdesk's extractor against plain trafilatura on a ground-truth corpus, side by side.

    .venv/bin/python bench/extraction.py [../shared/corpus/wcxb-dev] [--limit N]

Uses the shared evaluator (../shared/tools/eval_extraction.py): body precision/recall/F1 over
4-token shingles, exact title/author/date, and the median time per page. Not run by the tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.pipeline.errors import NoArticle  # noqa: E402
from bot.pipeline.extract import extract_article  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "wcxb-dev"
EVALUATOR = ROOT.parent / "shared" / "tools" / "eval_extraction.py"


def trafilatura_extractor(html: str, url: str | None) -> dict:
    """Plain trafilatura, comments off, metadata on: the reference row."""
    document = trafilatura.bare_extraction(html, url=url, include_comments=False, with_metadata=True)
    if document is None:
        return {"text": "", "title": None, "author": None, "date": None}
    return {"text": document.text or "", "title": document.title, "author": document.author, "date": document.date}


def newsdesk_extractor(html: str, url: str | None) -> dict:
    """extract_article mapped to the evaluator's dict: authors joined by "; ", date as ISO text."""
    try:
        article = extract_article(html.encode("utf-8"), url or "", "utf-8")
    except NoArticle:
        return {"text": "", "title": None, "author": None, "date": None}
    return {
        "text": article.text,
        "title": article.title,
        "author": "; ".join(article.authors) or None,
        "date": article.published_date.isoformat() if article.published_date else None,
    }


def load_evaluator(path: Path):
    spec = importlib.util.spec_from_file_location("eval_extraction", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(name: str, summary: dict) -> str:
    meta = summary.get("metadata", {})

    def rate(key: str) -> str:
        return f"{meta[key]['rate']:.3f}" if key in meta else "  -  "

    return (
        f"{name:<12} P {summary['precision']:.3f}  R {summary['recall']:.3f}  F1 {summary['f1']:.3f}"
        f"  | title= {rate('title=')}  author= {rate('author=')}  date= {rate('date=')}"
        f"  | {summary['ms_median']:6.1f} ms/page median  (empty {summary['empty']}, errors {summary['errors']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, nargs="?", default=DEFAULT_CORPUS, help="a folder with truth.json and pages/")
    parser.add_argument("--limit", type=int, help="only the first N pages")
    parser.add_argument("--evaluator", type=Path, default=EVALUATOR)
    args = parser.parse_args()

    evaluator = load_evaluator(args.evaluator)
    results = {}
    for name, extractor in (("trafilatura", trafilatura_extractor), ("newsdesk", newsdesk_extractor)):
        results[name] = evaluator.evaluate(args.corpus, extractor, args.limit, 200)["summary"]
    print(f"corpus {args.corpus} ({results['newsdesk']['pages']} pages)")
    for name, summary in results.items():
        print(row(name, summary))
    ratio = results["newsdesk"]["ms_median"] / results["trafilatura"]["ms_median"]
    print(f"median time ratio newsdesk/trafilatura: {ratio:.2f}x")


if __name__ == "__main__":
    main()

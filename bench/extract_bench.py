"""Extract-stage throughput: bulletins/second on one core over >= 10,000 generated bulletins of 1-3 KB.

Run: python3 -m uv run --frozen python bench/extract_bench.py [--n 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import make_corpus

from etl.extract.facts import extract_text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    args = ap.parse_args()
    corpus = make_corpus(args.n)
    size = sum(len(t.encode("utf-8")) for _, t in corpus)
    extract_text(corpus[0][1], title=corpus[0][0])  # load gazetteer and lexicon outside the timing
    start = time.perf_counter()
    facts = 0
    for title, text in corpus:
        facts += len(extract_text(text, title=title))
    elapsed = time.perf_counter() - start
    print(f"bulletins: {len(corpus)}  mean size: {size / len(corpus):,.0f} bytes  facts: {facts}")
    print(f"extract: {elapsed:.2f} s  ->  {len(corpus) / elapsed:,.0f} bulletins/s (one core)")


if __name__ == "__main__":
    main()

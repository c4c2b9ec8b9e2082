"""Extraction cost against text length: 1, 2, 4 and 8 MB pages, as written and flattened to one line.

Run: python3 uvw.py run --frozen python bench/linear_bench.py [--sizes 1 2 4 8]

A page at the fetch cap must not tie a run up: cost has to grow in proportion to length (CPU seconds per MB
roughly constant), whatever the page's shape. The pages are generated bulletins (bench/corpus.py) laid end to
end; "one line" removes every line break and sentence end, so clauses and sentences are as long as the page.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import make_corpus

from etl.extract.facts import extract


def page(mb: float, one_line: bool) -> str:
    corpus = make_corpus(max(1, int(mb * 1_000_000 / 2_000)))
    text = "\n".join(t for _, t in corpus)
    if one_line:
        text = text.replace("\n", "").replace("。", "，")
    target = int(mb * 1_000_000)
    while len(text.encode("utf-8")) < target:
        text += text
    return text.encode("utf-8")[:target].decode("utf-8", "ignore")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=float, nargs="+", default=[1, 2, 4, 8])
    args = ap.parse_args()
    extract("南京市建成社工站1个。")  # load the gazetteer and lexicon outside the timing
    for one_line in (False, True):
        for mb in args.sizes:
            text = page(mb, one_line)
            start = time.process_time()
            n = len(extract(text).facts)
            cpu = time.process_time() - start
            shape = "one line" if one_line else "as written"
            print(f"{mb:g} MB {shape:10}: {cpu:.2f} s CPU ({cpu / mb:.2f} s/MB), {n} facts")


if __name__ == "__main__":
    main()

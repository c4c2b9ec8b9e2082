"""Extraction quality on the seed page and both fixed halves of the shared dev bulletins, regions on and off.

Run: python3 uvw.py run --frozen python bench/quality.py [--shared ../shared] [--show A|B|seed]

Scores with the shared scorer (``shared/tools/score_facts.py``) over exactly what ``etl extract`` prints. The
dev bulletins are for measuring: write a rule looking at one half and keep it only if the other half's score
holds or rises.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def _extract(files: list[Path], out: Path) -> None:
    with out.open("w", encoding="utf-8") as f:
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from etl.cli import main; sys.exit(main(sys.argv[1:]))",
                "extract",
            ]
            + [str(p) for p in files],
            stdout=f,
            stderr=subprocess.DEVNULL,
            check=True,
        )


def _without_regions(src: Path, dst: Path, field: str) -> None:
    with src.open(encoding="utf-8") as f, dst.open("w", encoding="utf-8") as g:
        for line in f:
            d = json.loads(line)
            d[field] = ["X"] if field == "region_codes" else "X"
            g.write(json.dumps(d, ensure_ascii=False) + "\n")


def _score(scorer: Path, gold: Path, pred: Path, show: bool = False) -> str:
    args = [sys.executable, str(scorer), str(gold), str(pred)] + (["--show"] if show else [])
    out = subprocess.run(args, capture_output=True, text=True, check=False).stdout
    return out if show else out.strip().splitlines()[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared")
    ap.add_argument(
        "--show", choices=["A", "B", "seed"], help="list misses and false positives of one corpus"
    )
    args = ap.parse_args()
    sh = args.shared
    scorer = sh / "tools" / "score_facts.py"
    halves = json.loads((sh / "dev" / "halves.json").read_text(encoding="utf-8"))
    gold_lines = (sh / "dev" / "gold.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    corpora = {"seed": (sorted((sh / "seed").glob("*.txt")), (sh / "seed" / "gold.jsonl").read_text("utf-8"))}
    for h in ("A", "B"):
        ids = set(halves[h])
        files = [sh / "dev" / "corpus" / f"{d}.txt" for d in halves[h]]
        corpora[h] = (files, "".join(g for g in gold_lines if json.loads(g)["doc"] in ids))
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        print(f"{'corpus':6} {'regions':8} result")
        for name, (files, gold_text) in corpora.items():
            gold, pred = t / f"{name}.gold.jsonl", t / f"{name}.pred.jsonl"
            gold.write_text(gold_text, encoding="utf-8")
            _extract(files, pred)
            if args.show == name:
                print(_score(scorer, gold, pred, show=True))
            print(f"{name:6} {'on':8} {_score(scorer, gold, pred)}")
            _without_regions(gold, t / "g.nr", "region_codes")
            _without_regions(pred, t / "p.nr", "region_code")
            print(f"{name:6} {'off':8} {_score(scorer, t / 'g.nr', t / 'p.nr')}")


if __name__ == "__main__":
    main()

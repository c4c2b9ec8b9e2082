"""Load-path benchmark: 1,000,000 facts through validation and the idempotent batch load, the time of each
mart over them, and the same facts through dlt's DuckDB destination with write_disposition="merge".

Run: python3 uvw.py run --frozen --group bench python bench/load_bench.py [--facts 1000000] [--skip-dlt]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from etl.demo.synthetic import window_batch
from etl.warehouse.database import create_views, open_warehouse, view_files
from etl.warehouse.load import batch_frames, load_batch

BULLETINS_PER_WINDOW = 10_000
FACTS_PER_BULLETIN = 5


def windows(total_facts: int) -> list[tuple[str, int, int]]:
    per = BULLETINS_PER_WINDOW * FACTS_PER_BULLETIN
    n = max(1, total_facts // per)
    return [(f"src{i % 4}", 2020 + i // 48, 1 + (i // 4) % 12) for i in range(n)]


def bench_etl(db: Path, plan: list[tuple[str, int, int]]) -> int:
    batches = [
        window_batch(s, y, m, bulletins=BULLETINS_PER_WINDOW, facts_per=FACTS_PER_BULLETIN)
        for s, y, m in plan
    ]
    facts = sum(len(b.facts) for b in batches)
    with open_warehouse(db) as con:
        t = time.perf_counter()
        for i, b in enumerate(batches):
            load_batch(con, b, f"run{i}")
        dt = time.perf_counter() - t
        print(
            f"etl load path: {facts:,} facts in {len(batches)} batches, {dt:.1f} s -> {facts / dt:,.0f} facts/s "
            "(pandera validation and one transaction per batch included)"
        )
        create_views(con)
        for v in (p.stem for p in view_files() if p.stem.startswith("mart_")):
            t = time.perf_counter()
            con.execute(f"create or replace temp table bench_out as select * from {v}")
            rows = con.execute("select count(*) from bench_out").fetchone()[0]
            print(f"  {v:32s} {time.perf_counter() - t:6.3f} s  ({rows:,} rows)")
    return facts


def bench_dlt(tmp: Path, plan: list[tuple[str, int, int]]) -> None:
    import dlt

    pipeline = dlt.pipeline(
        pipeline_name="bench",
        destination=dlt.destinations.duckdb(str(tmp / "dlt.duckdb")),
        dataset_name="facts",
        pipelines_dir=str(tmp / "dlt-pipelines"),
    )
    batches = [
        window_batch(s, y, m, bulletins=BULLETINS_PER_WINDOW, facts_per=FACTS_PER_BULLETIN)
        for s, y, m in plan
    ]
    # the same fact rows the etl loader inserts (ids, units, evidence), as dicts: dlt's usual input
    rows = [batch_frames(b, "dlt")[1].drop(columns=["run_id"]).to_dict("records") for b in batches]
    facts = sum(len(r) for r in rows)
    t = time.perf_counter()
    for r in rows:
        pipeline.run(r, table_name="fact", write_disposition="merge", primary_key="fact_id")
    dt = time.perf_counter() - t
    print(f"dlt duckdb merge: {facts:,} facts in {len(rows)} runs, {dt:.1f} s -> {facts / dt:,.0f} facts/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--facts", type=int, default=1_000_000)
    ap.add_argument("--skip-dlt", action="store_true")
    args = ap.parse_args()
    plan = windows(args.facts)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bench_etl(tmp / "etl.duckdb", plan)
        if not args.skip_dlt:
            bench_dlt(tmp, plan)


if __name__ == "__main__":
    main()

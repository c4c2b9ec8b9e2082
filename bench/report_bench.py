"""Report benchmark: generate the HTML report of a 1,000-region warehouse; prints seconds and megabytes.
Goals: under 5 s and under 5 MB.

Run: python3 uvw.py run --frozen python bench/report_bench.py [--regions 1000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from etl.models import Bulletin, Fact, SourceBatch, SourceStats, Window, bulletin_id
from etl.reference.regions import load_gazetteer
from etl.report.html import build_report
from etl.warehouse.database import open_warehouse
from etl.warehouse.load import load_batch

UNITS = {
    "social_work_stations": "station",
    "station_coverage_rate": "percent",
    "social_work_orgs": "org",
    "community_social_orgs": "org",
    "social_workers": "person",
    "certified_social_workers": "person",
    "volunteers": "person",
    "service_projects": "project",
    "service_activities": "event",
    "people_served": "person_time",
    "funding": "cny",
}


def warehouse(db: Path, regions: int) -> None:
    rng = random.Random(3)
    codes = [r.code for r in load_gazetteer().by_code.values() if r.level in ("prefecture", "county")][
        :regions
    ]
    with open_warehouse(db) as con:
        for year in (2023, 2024, 2025):
            bulletins, facts = [], []
            for code in codes:
                url = f"http://bench.test/{year}/{code}.html"
                b = Bulletin(
                    bulletin_id=bulletin_id("bench", url),
                    source_id="bench",
                    url=url,
                    title=code,
                    published=date(year, 6, 1),
                    text="正文",
                    issuer_region=code,
                    fetched_at=datetime(year, 6, 2, tzinfo=UTC),
                )
                bulletins.append(b)
                for k, (ind, unit) in enumerate(UNITS.items()):
                    v = float(rng.randint(50, 100) if unit == "percent" else rng.randint(1, 100_000))
                    facts.append(
                        Fact(
                            bulletin_id=b.bulletin_id,
                            indicator=ind,
                            region_code=code,
                            region_name="",
                            value=v,
                            unit=unit,
                            qualifier=rng.choice(["exact", "more_than", "about"]),
                            change="level",
                            evidence=f"全市{ind}达到{v:g}（合成数据）",
                            span_start=k,
                            span_end=k + 5,
                            region_basis="issuer",
                        )
                    )
            stats = SourceStats(source_id="bench", discovered=len(bulletins), fetched=len(bulletins))
            load_batch(
                con,
                SourceBatch(
                    source_id="bench",
                    window=Window(date(year, 1, 1), date(year, 12, 31)),
                    stats=stats,
                    bulletins=bulletins,
                    facts=facts,
                    outcomes={b.url: "fetched" for b in bulletins},
                ),
                f"y{year}",
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--regions", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "w.duckdb"
        warehouse(db, args.regions)
        with open_warehouse(db) as con:
            t = time.perf_counter()
            res = build_report(con, Path(d) / "report")
            dt = time.perf_counter() - t
        print(
            f"report of {res.regions:,} regions: {dt:.2f} s, {res.bytes / 1e6:.2f} MB "
            f"({res.bar_charts} bar charts, {res.trend_charts} trend charts)"
        )


if __name__ == "__main__":
    main()

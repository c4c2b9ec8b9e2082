"""Deterministic synthetic batches (source x month windows) for warehouse tests and the load benchmark."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from etl.models import Bulletin, Fact, RawPage, SourceBatch, SourceStats, Window, bulletin_id

INDICATORS = [
    ("social_work_stations", "station"),
    ("social_workers", "person"),
    ("funding", "cny"),
    ("people_served", "person_time"),
    ("station_coverage_rate", "percent"),
    ("volunteers", "person"),
]
REGIONS = ["341200", "341221", "320700", "320722", "530702", "653100", "510100", "510117", "340000", "320000"]


def window_batch(
    source: str, year: int, month: int, bulletins: int = 20, facts_per: int = 5, seed: int = 0
) -> SourceBatch:
    rng = random.Random(f"{source}-{year}-{month}-{seed}")
    bs: list[Bulletin] = []
    fs: list[Fact] = []
    for i in range(bulletins):
        url = f"http://{source}.test/{year}{month:02d}/{i}.html"
        b = Bulletin(
            bulletin_id=bulletin_id(source, url),
            source_id=source,
            url=url,
            title=f"{source} {i}",
            published=date(year, month, 1 + i % 28),
            text="正文" * 20,
            issuer_region=None,
            content_hash=f"{source}{year}{month}{i}",
            fetched_at=datetime(year, month, 28, tzinfo=UTC),
        )
        bs.append(b)
        for k in range(facts_per):
            ind, unit = INDICATORS[rng.randrange(len(INDICATORS))]
            value = float(rng.randint(0, 100) if unit == "percent" else rng.randint(1, 100_000))
            fs.append(
                Fact(
                    bulletin_id=b.bulletin_id,
                    indicator=ind,
                    region_code=REGIONS[rng.randrange(len(REGIONS))],
                    region_name="",
                    value=value,
                    unit=unit,
                    qualifier="exact",
                    change="level",
                    evidence=f"{ind} {value}",
                    span_start=k * 10,
                    span_end=k * 10 + 8,
                    region_basis="issuer",
                )
            )
    return batch_of(source, bs, fs, Window(date(year, month, 1), date(year, month, 28)))


def batch_of(
    source: str, bulletins: list[Bulletin], facts: list[Fact], window: Window | None = None
) -> SourceBatch:
    """A batch as if every bulletin's page had just been fetched: one raw page per page, all reconciled."""
    urls = list(dict.fromkeys(b.url for b in bulletins))
    stats = SourceStats(source_id=source, discovered=len(urls), fetched=len(urls), parsed=len(bulletins))
    raw = [
        RawPage(
            source_id=source,
            url=b.url,
            status=200,
            content_hash=b.content_hash,
            fetched_at=b.fetched_at or datetime(2025, 1, 1, tzinfo=UTC),
            encoding="utf-8",
            headers={"etag": f'"{b.content_hash}"'},
            size=100,
            path="x",
        )
        for b in bulletins
        if b.article_index == 0
    ]
    return SourceBatch(
        source_id=source,
        window=window or Window(date(2020, 1, 1), date(2025, 12, 31)),
        stats=stats,
        raw_pages=raw,
        bulletins=bulletins,
        facts=facts,
        outcomes=dict.fromkeys(urls, "fetched"),
        succeeded_urls=urls,
    )

"""Builders for batches with known rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

from etl.discover import Window
from etl.models import Bulletin, Fact, RawPage, SourceStats, bulletin_id
from etl.pipeline import SourceBatch


def bulletin(source: str, path: str, published: date, text: str = "正文", idx: int = 0) -> Bulletin:
    url = f"http://bureau.test{path}"
    return Bulletin(
        bulletin_id=bulletin_id(source, url, idx),
        source_id=source,
        url=url,
        title=path,
        published=published,
        text=text,
        issuer_region=None,
        article_index=idx,
        content_hash="h" + path,
        fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def fact(
    b: Bulletin,
    indicator: str,
    region: str,
    value: float,
    unit: str,
    qualifier: str = "exact",
    span: int = 0,
    change: str = "level",
) -> Fact:
    return Fact(
        bulletin_id=b.bulletin_id,
        indicator=indicator,
        region_code=region,
        region_name="",
        value=value,
        unit=unit,
        qualifier=qualifier,
        change=change,
        evidence=f"{indicator} {value}",
        span_start=span,
        span_end=span + 5,
    )


def batch(source: str, bulletins: list[Bulletin], facts: list[Fact]) -> SourceBatch:
    stats = SourceStats(
        source_id=source,
        discovered=len({b.url for b in bulletins}),
        fetched=len({b.url for b in bulletins}),
        parsed=len(bulletins),
    )
    raw = [
        RawPage(
            source_id=source,
            url=b.url,
            status=200,
            content_hash=b.content_hash,
            fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
            encoding="utf-8",
            headers={},
            size=10,
            path="x",
        )
        for b in bulletins
        if b.article_index == 0
    ]
    return SourceBatch(
        source_id=source,
        window=Window(date(2020, 1, 1), date(2025, 12, 31)),
        stats=stats,
        raw_pages=raw,
        bulletins=bulletins,
        facts=facts,
        outcomes={b.url: "fetched" for b in bulletins},
        succeeded_urls=[b.url for b in bulletins],
    )

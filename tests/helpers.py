"""Builders for batches with known rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

from etl.models import Bulletin, Fact, bulletin_id
from etl.pipeline import SourceBatch
from etl.synthetic import batch_of


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
        region_basis="clause",
    )


def batch(source: str, bulletins: list[Bulletin], facts: list[Fact]) -> SourceBatch:
    return batch_of(source, bulletins, facts)

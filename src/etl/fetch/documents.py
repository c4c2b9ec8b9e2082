"""Pages a source is read through (list pages, feeds, data-proxy pages, robots.txt), fetched conditionally:
validators are sent only when the raw zone still holds the body they stand for, so that a 304 can be answered
from it; a 200 is stored in the raw zone and recorded as a :class:`SiteDocument` for the loader."""

from __future__ import annotations

from dataclasses import dataclass

from etl.fetch.client import Fetcher, FetchResult, sendable_header
from etl.fetch.rawzone import RawZone
from etl.models import FetchMemory, SiteDocument, url_key


@dataclass(frozen=True)
class DocumentRead:
    result: FetchResult
    body: bytes | None  # fetched (200), or the stored body a 304 stands for; None when neither
    from_store: bool  # answered 304 and read from the raw zone
    document: SiteDocument | None  # a 200 stored in the raw zone, to be recorded


async def get_document(
    fetcher: Fetcher,
    url: str,
    allowed_hosts: tuple[str, ...],
    concurrency: int,
    delay: float,
    memory: dict[str, FetchMemory],
    raw: RawZone | None,
    source_id: str,
    role: str,
) -> DocumentRead:
    mem = memory.get(url_key(url), FetchMemory())
    cached = mem.content_hash if raw is not None and mem.content_hash and raw.has(mem.content_hash) else None
    res = await fetcher.get(
        url,
        allowed_hosts,
        concurrency,
        delay,
        etag=mem.etag if cached else None,
        last_modified=mem.last_modified if cached else None,
    )
    if res.not_modified and cached and raw is not None:
        return DocumentRead(res, raw.get(cached), True, None)
    if not res.ok:
        return DocumentRead(res, None, False, None)
    body = res.body or b""
    document = None
    if raw is not None:
        digest, _ = raw.put(body)
        document = SiteDocument(
            source_id=source_id,
            url=url,
            role=role,
            content_hash=digest,
            etag=sendable_header(res.headers.get("etag")),
            last_modified=sendable_header(res.headers.get("last-modified")),
            fetched_at=res.fetched_at,
        )
    return DocumentRead(res, body, False, document)

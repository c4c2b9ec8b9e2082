"""The page path every reader shares, the nightly run and the re-parse workers: a stored or fetched body read
into bulletins, each extracted into the batch. Apart from :mod:`etl.orchestration.ingest` so that a worker
imports no fetch client (httpx, the kinds): each worker process costs its share of the memory budget."""

from __future__ import annotations

import bisect
import dataclasses
from datetime import datetime

from etl.extract.facts import Extraction, extract
from etl.extract.region_resolution import UNPLACED_REASONS
from etl.models import Bulletin, BulletinRef, Fact, Source, SourceBatch, url_key
from etl.parse.document import Selectors, Undecodable, read_document
from etl.parse.errorpage import ErrorPage
from etl.parse.html import NothingToRead, ParsedPage, ParseError, to_bulletins


def parse_page(
    source: Source,
    ref: BulletinRef,
    body: bytes,
    headers: dict[str, str],
    digest: str,
    fetched_at: datetime | None,
    batch: SourceBatch,
) -> tuple[list[Bulletin], str, ParsedPage | None]:
    """The page path every reader shares (the nightly run, the re-parse): the body read by its content type,
    split into bulletins; a page that cannot be read is quarantined under its identity (so that a later fetch
    or re-parse of it replaces the row), never dropped, and named in ``batch.unreadable`` unless it holds
    nothing to read (:class:`NothingToRead`). Returns the bulletins,
    the encoding used and the parsed page (None when it could not be read)."""
    selectors = Selectors(source.title_selector, source.date_selector, source.body_selector)
    page: ParsedPage
    try:
        page, encoding = read_document(body, headers.get("content-type"), source.encoding, selectors, ref.url)
    except ParseError as e:
        if not isinstance(e, NothingToRead):
            batch.unreadable[ref.url] = str(e)
        check = (
            "decode"
            if isinstance(e, Undecodable)
            else "error_page"
            if isinstance(e, ErrorPage)
            else "main_text"
        )
        quarantine_page(batch, "parse", check, ref.url, e, digest)
        return [], getattr(e, "encoding", ""), None
    batch.unreadable.pop(ref.url, None)  # an earlier version of it could not be read, this one can
    bulletins = to_bulletins(
        source.id, ref.url, page, source.region, ref.published, ref.title, digest, fetched_at
    )
    batch.stats.parsed += len(bulletins)
    return bulletins, encoding, page


def read_into(
    source: Source,
    ref: BulletinRef,
    body: bytes,
    headers: dict[str, str],
    digest: str,
    fetched_at: datetime | None,
    batch: SourceBatch,
) -> tuple[list[Bulletin], str, ParsedPage | None]:
    """:func:`parse_page`, then :func:`extract_page`. An error nothing foresaw (a bug meeting an odd page) leaves
    the batch as it was and makes the page unreadable, named by the error and quarantined under its identity:
    the page fails alone (retried by the next fetch), the source's other pages load."""
    marks = len(batch.bulletins), len(batch.facts), len(batch.quarantine), batch.stats.parsed
    try:
        bulletins, encoding, page = parse_page(source, ref, body, headers, digest, fetched_at, batch)
        extract_page(batch, bulletins, page)
        return bulletins, encoding, page
    except Exception as e:
        del batch.bulletins[marks[0] :], batch.facts[marks[1] :], batch.quarantine[marks[2] :]
        batch.stats.parsed = marks[3]
        reason = f"unexpected {type(e).__name__} while reading it: {e}"
        batch.unreadable[ref.url] = reason
        quarantine_page(batch, "parse", "error", ref.url, reason, digest)
        return [], "", None


def quarantine_page(batch: SourceBatch, layer: str, check: str, url: str, why: object, digest: str) -> None:
    """Quarantine a page version that was not read, under the page's identity (a later fetch or re-parse of it
    replaces the row) and with its content hash (the raw file to look into)."""
    batch.quarantine.append(
        {
            "layer": layer,
            "source_id": batch.source_id,
            "record_key": url_key(url),
            "check": check,
            "reason": f"{url}: {why}",
            "row": {"url": url, "content_hash": digest},
        }
    )


def add_extraction(batch: SourceBatch, b: Bulletin, result: Extraction) -> None:
    """Placed facts go to the batch; numbers whose region is undecided (or another place's) go to the
    quarantine with their evidence, so a later rule or a source's ``region`` recovers them on a re-parse."""
    batch.facts.extend(result.facts)
    for f in result.unplaced:
        reason = UNPLACED_REASONS[f.region_basis]
        batch.quarantine.append(
            {
                "layer": "extract",
                "source_id": batch.source_id,
                "record_key": b.bulletin_id,
                "check": f"region_{f.region_basis}",
                "reason": f"{b.url}: {f.indicator} {f.value:g}: {reason}: {f.evidence[:120]}",
                "row": {"url": b.url, **f.as_dict()},
            }
        )


def extract_page(batch: SourceBatch, bulletins: list[Bulletin], page: ParsedPage | None) -> None:
    """Extract each bulletin of a page into the batch; a PDF's facts name their page in the evidence."""
    batch.bulletins.extend(bulletins)
    for b in bulletins:
        result = extract_bulletin(b)
        if page is not None and page.page_starts:
            result = on_pages(result, page, page.text.find(b.text[:80]))
        add_extraction(batch, b, result)


def on_pages(result: Extraction, page: ParsedPage, offset: int) -> Extraction:
    def paged(f: Fact) -> Fact:
        number = bisect.bisect_right(page.page_starts, max(offset, 0) + f.span_start)
        return dataclasses.replace(f, evidence=f"{f.evidence} [PDF p.{number}]")

    return Extraction([paged(f) for f in result.facts], [paged(f) for f in result.unplaced])


def extract_bulletin(b: Bulletin) -> Extraction:
    return extract(
        b.text,
        bulletin_id=b.bulletin_id,
        title=b.title,
        issuer_region=b.issuer_region,
        published=b.published,
        region_hint=b.region_hint,
        split=False,
    )

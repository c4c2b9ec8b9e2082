"""Re-parse and re-extract from the raw zone, with no network at all: the path taken when the extractor or a
source's selectors improve."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

from etl.fetch.rawzone import RawZone, RawZoneCorrupt
from etl.models import BulletinRef, PageIssue, Source, SourceBatch, SourceStats, Window
from etl.orchestration.pages import quarantine_page, read_into
from etl.warehouse.sqlparams import in_list

if TYPE_CHECKING:  # the re-parse workers import this module and need no database
    import duckdb


# The first publication date of each stored page's bulletins, which places the page in a window, and the version
# they were read from. The sources are a list of constants: DuckDB then skips the row groups of the others.
_PUB = """pub as (
        select source_id, url_key, min(published) as published, min(content_hash) as loaded_hash
        from bulletin where {ids}
        group by source_id, url_key
    )"""
# The newest stored version of each page of the sources, with its publication date.
_LATEST_PAGES = (
    """with latest as (
        select source_id, url, url_key, content_hash, encoding, fetched_at, headers,
               row_number() over (partition by source_id, url_key order by fetched_at desc, content_hash) as rn
        from raw_page where {ids} and status = 200
    ), """
    + _PUB
)
# One row per stored page, whichever version, with its publication date: what counting needs, without a window
# over every stored version's columns (over 3M stored pages that window held ~900 MB, the distinct keys ~1/3)
_PAGE_KEYS = (
    """with page as (
        select distinct source_id, url_key from raw_page where {ids} and status = 200
    ), """
    + _PUB
)


def _latest(source_ids: list[str]) -> str:
    return _LATEST_PAGES.format(ids=in_list("source_id", source_ids))


def raw_pages_in_window(con: duckdb.DuckDBPyConnection, source_id: str, window: Window | None) -> list[tuple]:
    """(url, content_hash, encoding, fetched_at, published, headers, loaded) of the newest stored version of each
    page; ``loaded`` is (content_hash, encoding, headers, fetched_at) of the version its loaded bulletins were
    read from, or None when it has none (what is read instead when the newest version cannot be).

    A page belongs to the window by the publication date of its bulletins; pages that never parsed (no bulletin)
    belong to every window, so a parser fix reaches them too.
    """
    return raw_pages_of(con, [source_id], window)[source_id]


def raw_pages_of(
    con: duckdb.DuckDBPyConnection, source_ids: list[str], window: Window | None
) -> dict[str, list[tuple]]:
    """:func:`raw_pages_in_window` of several sources in one query (~5 ms each, whatever the source's size:
    a re-parse of thousands of small sources reads their indexes a few dozen at a time)."""
    out: dict[str, list[tuple]] = {s: [] for s in source_ids}
    if not source_ids:
        return out
    rows = con.execute(
        f"""{_latest(source_ids)}
           select l.source_id, l.url, l.content_hash, l.encoding, l.fetched_at, p.published, l.headers,
                  v.content_hash, v.encoding, v.headers, v.fetched_at
           from latest as l
           left join pub as p using (source_id, url_key)
           left join raw_page as v
             on v.source_id = p.source_id and v.url_key = p.url_key and v.content_hash = p.loaded_hash
                and v.status = 200 and {in_list("v.source_id", source_ids)}
           where l.rn = 1
           order by l.source_id, l.url_key""",
        [*source_ids, *source_ids, *source_ids],
    ).fetchall()
    for sid, *page, loaded_hash, loaded_encoding, loaded_headers, loaded_at in rows:
        if window is None or page[4] is None or window.start <= page[4] <= window.end:
            loaded = (loaded_hash, loaded_encoding, loaded_headers, loaded_at) if loaded_hash else None
            out[sid].append((*page, loaded))
    return out


def pages_by_month(con: duckdb.DuckDBPyConnection, source_id: str, window: Window) -> dict[str | None, int]:
    """How many pages :func:`raw_pages_in_window` returns, per YYYY-MM of publication (None: undated), without
    holding them: the total a re-parse's progress and ETA are measured against."""
    return pages_by_month_of(con, [source_id], window)[source_id]


def pages_by_month_of(
    con: duckdb.DuckDBPyConnection, source_ids: list[str], window: Window
) -> dict[str, dict[str | None, int]]:
    """:func:`pages_by_month` of every source in one query."""
    out: dict[str, dict[str | None, int]] = {s: {} for s in source_ids}
    if not source_ids:
        return out
    rows = con.execute(
        f"""{_PAGE_KEYS.format(ids=in_list("source_id", source_ids))}
           select g.source_id, strftime(p.published, '%Y-%m'), count(*)
           from page as g left join pub as p using (source_id, url_key)
           where p.published is null or p.published between ? and ?
           group by 1, 2""",
        [*source_ids, *source_ids, window.start, window.end],
    ).fetchall()
    for sid, month, n in rows:
        out[sid][month] = n
    return out


def reparse_source(
    con: duckdb.DuckDBPyConnection, source: Source, raw: RawZone, window: Window | None
) -> SourceBatch:
    return reparse_pages(source, raw, raw_pages_in_window(con, source.id, window), window)


def reparse_pages(
    source: Source,
    raw: RawZone,
    pages: list[tuple],
    window: Window | None,
    unread: dict[str, str] | None = None,
    page_seconds: float | None = None,
) -> SourceBatch:
    """Re-read stored pages (rows of :func:`raw_pages_in_window`) through the nightly run's page path; no
    network, no warehouse (so worker processes can run it). A page whose newest version cannot be read (a
    challenge or error page a site answered with 200) is read from the version its loaded facts came from; if
    that cannot be read either, its facts stay and the page is failed, named. ``unread``: pages not to read
    (url → why: reading them killed the worker process), failed and quarantined as such. ``page_seconds``: in a
    worker process only, the time a page may take before the kernel ends the process (:func:`time_limit`)."""
    stats = SourceStats(source_id=source.id, discovered=len(pages))
    batch = SourceBatch(source_id=source.id, window=window or Window(date.min, date.max), stats=stats)
    for url, digest, encoding, fetched_at, published, stored_headers, loaded in pages:
        if unread and url in unread:
            # it keeps what the warehouse holds for it, like any page that cannot be read
            batch.fail(PageIssue(url, "reparse", unread[url]))
            quarantine_page(batch, "parse", "worker_died", url, unread[url], digest)
            continue
        ref = BulletinRef(source.id, url, "", published)
        version = (digest, encoding, stored_headers, fetched_at)
        try:
            with time_limit(page_seconds):
                _read_version(source, raw, ref, version, batch)
                if url in batch.unreadable and loaded is not None and loaded[0] != digest:
                    version = loaded
                    _read_version(source, raw, ref, version, batch)
        except (FileNotFoundError, RawZoneCorrupt) as e:
            # the page keeps what the warehouse holds for it; the partition is failed and the file named
            batch.fail(PageIssue(url, "reparse", str(e)))
            if isinstance(e, RawZoneCorrupt):
                quarantine_page(batch, "raw", "content_hash", url, e, version[0])
            continue
        if url in batch.unreadable and loaded is not None:
            # the facts came from a version this parser cannot read any more (changed selectors?): they stay
            batch.fail(PageIssue(url, "reparse", f"cannot be parsed: {batch.unreadable[url]}"))
            continue
        stats.fetched += 1  # read from the raw zone
        batch.outcomes[url] = "fetched"
        batch.reparsed_urls.append(url)
    return batch


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Past ``seconds``, the kernel ends this process (SIGALRM, whose default action is to terminate): a page
    stuck in native code (a regular expression backtracking, a parser looping) cannot be interrupted from Python,
    only ended. For worker processes only: the pool then finds and fails the page as it does one that crashes
    its worker (:mod:`etl.orchestration.chunk_pool`)."""
    if not seconds:
        yield
        return
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _read_version(source: Source, raw: RawZone, ref: BulletinRef, version: tuple, batch: SourceBatch) -> None:
    """Parse and extract one stored version (content_hash, encoding, headers, fetched_at) of a page into the
    batch."""
    digest, encoding, stored_headers, fetched_at = version
    body = raw.get(digest)
    headers = json.loads(stored_headers) if stored_headers else {}
    ctype = headers.get("content-type") or "text/html"
    if encoding and encoding != "binary":  # the charset the page was first read with, whatever it declared
        ctype = f"{ctype.split(';', 1)[0]}; charset={encoding}"
    read_into(source, ref, body, {"content-type": ctype}, digest, fetched_at, batch)

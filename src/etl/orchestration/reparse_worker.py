"""One chunk of a re-parse, in a worker process: read, parse and extract stored pages, and count what the
writer needs to book each month; the batch goes back as columns (:mod:`etl.warehouse.rows`). Kept apart from the
pool so that a spawned worker imports the page path only (no pandas, pandera or loading code): each worker costs
its share of the memory budget."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from etl.fetch.rawzone import RawZone
from etl.models import Source, SourceBatch, Window
from etl.orchestration.backfill import Partition, month_of
from etl.orchestration.reparse import reparse_pages
from etl.warehouse.rows import to_rows


@dataclass
class ChunkResult:
    """A chunk's batch and its bookkeeping, computed in the worker."""

    batch: SourceBatch
    cpu: float  # seconds of this process's CPU spent on the chunk
    pages: dict[str, int]  # month → pages re-read
    facts: dict[str, int]  # month → facts
    failures: dict[str, list[str]]  # month → errors


def reparse_chunk(
    source: Source,
    raw_root: str,
    pages: list[tuple],
    window: Window,
    parts: list[Partition],
    unread: dict[str, str] | None = None,
    page_seconds: float | None = None,
) -> ChunkResult:
    started = time.process_time()
    batch = reparse_pages(source, RawZone(raw_root), pages, window, unread, page_seconds)
    month = {p[0]: month_of(p[4], parts) for p in pages}
    done = ChunkResult(batch, 0.0, defaultdict(int), defaultdict(int), defaultdict(list))
    for url in batch.reparsed_urls:
        done.pages[month[url]] += 1
    by_bulletin = {b.bulletin_id: month_of(b.published, parts) for b in batch.bulletins}
    for f in batch.facts:
        done.facts[by_bulletin.get(f.bulletin_id, parts[-1].month)] += 1
    for f in batch.stats.failures:
        done.failures[month.get(f.url, parts[-1].month)].append(f.line())
    to_rows(batch)
    done.cpu = time.process_time() - started
    return done


def reparse_pieces(
    raw_root: str,
    window: Window,
    pieces: list[tuple[Source, list[tuple], list[Partition]]],
    unread: dict[str, str] | None = None,
    page_seconds: float | None = None,
) -> list[ChunkResult]:
    """A chunk of several sources' pages (small sources are packed together): one batch per source.
    ``unread``: pages failed without being read (url → why); ``page_seconds``: in a worker process, the time a
    page may take before the kernel ends the process."""
    return [
        reparse_chunk(source, raw_root, pages, window, parts, unread, page_seconds)
        for source, pages, parts in pieces
    ]

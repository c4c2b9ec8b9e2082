"""Re-parse a backfill window from the raw zone at scale: partitions are bookkeeping, not units of work.

Each source's raw-page index is read once; its pages are cut into chunks of a few thousand; worker processes
(one per core) read, parse and extract the chunks through the nightly run's page path; the single writer (this
process) loads each chunk's batch as it comes back. At most ``workers + 1`` chunks are in flight, so memory does
not grow with the window. Afterwards each source x month partition is recorded done, or failed with the pages
that could not be re-read."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from etl.fetch.rawzone import RawZone
from etl.fetch.sources import Source
from etl.models import SourceBatch, SourceStats, Window
from etl.orchestration.backfill import Partition, month_of, record
from etl.orchestration.reparse import raw_pages_in_window, reparse_pages
from etl.warehouse.load import load_batch

CHUNK_PAGES = 2000


@dataclass
class ReparseTimes:
    """Where the time went: parse + extract summed over the workers' CPU, loading in the writer."""

    parse_extract_cpu: float = 0.0
    load: float = 0.0
    chunks: int = 0
    pages: int = 0

    def line(self) -> str:
        return (
            f"reparse: {self.pages} pages in {self.chunks} chunks; parse+extract {self.parse_extract_cpu:.1f} s "
            f"CPU over the workers, load {self.load:.1f} s"
        )


@dataclass
class _Outcome:
    stats: SourceStats
    failures: dict[str, list[str]] = field(default_factory=dict)  # month → errors
    pages: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # month → pages re-read
    facts: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # month → facts extracted


def _work(source: Source, raw_root: str, pages: list[tuple], window: Window) -> tuple[SourceBatch, float]:
    started = time.process_time()
    batch = reparse_pages(source, RawZone(raw_root), pages, window)
    return batch, time.process_time() - started


def chunks(pages: list[tuple], size: int) -> Iterator[list[tuple]]:
    for i in range(0, len(pages), size):
        yield pages[i : i + size]


def reparse_window(
    con: duckdb.DuckDBPyConnection,
    sources: list[Source],
    parts: dict[str, list[Partition]],
    raw_root: str,
    window: Window,
    run_id: str,
    workers: int | None = None,
    chunk_pages: int = CHUNK_PAGES,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[SourceStats], ReparseTimes]:
    """Re-parse every stored page of ``sources`` in ``window`` and load it; record ``parts`` (source id → its
    partitions to run). Returns per-source stats and the time split."""
    workers = workers or os.cpu_count() or 1
    times = ReparseTimes()
    started = datetime.now(UTC)
    jobs: list[tuple[Source, list[tuple]]] = []
    for s in sources:
        pages = raw_pages_in_window(con, s.id, window)
        months = {p.month for p in parts.get(s.id, [])}
        pages = [p for p in pages if month_of(p[4], parts[s.id]) in months] if s.id in parts else []
        jobs += [(s, c) for c in chunks(pages, chunk_pages)]
    times.pages = sum(len(c) for _, c in jobs)
    outcomes: dict[str, _Outcome] = {}
    done = 0

    def take(batch: SourceBatch, cpu: float, source: Source) -> None:
        nonlocal done
        times.parse_extract_cpu += cpu
        t0 = time.perf_counter()
        stats = load_batch(con, batch, run_id, move_cursor=False)
        times.load += time.perf_counter() - t0
        times.chunks += 1
        out = outcomes.setdefault(source.id, _Outcome(SourceStats(source_id=f"{source.id} (reparse)")))
        for k in ("discovered", "fetched", "failed", "parsed", "facts", "quarantined"):
            setattr(out.stats, k, getattr(out.stats, k) + getattr(stats, k))
        out.stats.failures += stats.failures
        month_of_bulletin = {}
        for b in batch.bulletins:
            month_of_bulletin[b.bulletin_id] = month_of(b.published, parts[source.id])
        for url in batch.reparsed_urls:
            out.pages[month_of(pages_by_url[url][0][4], parts[source.id])] += 1
        for f in batch.facts:
            out.facts[month_of_bulletin.get(f.bulletin_id, parts[source.id][-1].month)] += 1
        for f in stats.failures:
            published = next((p[4] for p in pages_by_url.get(f["url"], [])), None)
            out.failures.setdefault(month_of(published, parts[source.id]), []).append(
                f"{f['url']}: {f['error']}"
            )
        done += 1
        if progress:
            progress(done, len(jobs))

    pages_by_url: dict[str, list[tuple]] = defaultdict(list)
    for _, c in jobs:
        for p in c:
            pages_by_url[p[0]].append(p)
    if workers <= 1 or len(jobs) <= 1:
        for s, c in jobs:
            batch, cpu = _work(s, raw_root, c, window)
            take(batch, cpu, s)
    else:
        # spawn, not fork: the flow runs in threads (Prefect, httpx pools), and a forked thread holding a lock
        # deadlocks the child
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            pending: dict[Future, Source] = {}
            queue = iter(jobs)
            for s, c in queue:
                pending[pool.submit(_work, s, raw_root, c, window)] = s
                if len(pending) >= workers + 1:
                    break
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    source = pending.pop(fut)
                    batch, cpu = fut.result()
                    take(batch, cpu, source)
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending[pool.submit(_work, nxt[0], raw_root, nxt[1], window)] = nxt[0]
    for sid, ps in parts.items():
        out = outcomes.get(sid)
        for p in ps:
            errors = out.failures.get(p.month) if out else None
            record(
                con,
                p,
                "reparse",
                "failed" if errors else "done",
                run_id,
                started,
                out.pages.get(p.month, 0) if out else 0,
                out.facts.get(p.month, 0) if out else 0,
                "; ".join(errors)[:2000] if errors else None,
            )
    return [o.stats for o in outcomes.values()], times

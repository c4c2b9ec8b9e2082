"""Re-parse a backfill window from the raw zone at scale: partitions are bookkeeping, not units of work.

Each source's raw-page index is read once; the pages are cut into chunks of a thousand, a large source's over
several chunks and small sources packed together into one; worker processes (one per core unless told) read, parse
and extract the chunks through the nightly run's page path; the single writer (this process) loads each chunk's
batches (one per source in it) in one transaction as they come back. At most ``workers + 1`` chunks are in
flight, so memory does not grow with the window. Each source x month partition is recorded done, or failed with
the pages that could not be re-read, once the source's last chunk is loaded. A page that kills its worker process
fails alone and the run goes on (:mod:`etl.orchestration.chunk_pool`)."""

from __future__ import annotations

import ctypes
import functools
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from etl.models import Source, SourceStats, Window
from etl.orchestration.backfill import Partition, PartitionRecord, month_of, record_all
from etl.orchestration.chunk_pool import run_chunks
from etl.orchestration.cores import default_workers, usable_cores
from etl.orchestration.reader import reader_of
from etl.orchestration.reparse import pages_by_month_of, raw_pages_of
from etl.orchestration.reparse_worker import ChunkResult, reparse_pieces
from etl.settings import reparse_page_seconds
from etl.warehouse.database import checkpoint_file
from etl.warehouse.load import load_batches

# Pages per chunk: a chunk is ~13 KB per page as Python objects in a worker and again in the writer, up to
# workers + 1 of them at once; per chunk the writer validates once and runs ~25 statements and a commit
# (~100 ms whatever the chunk's size). 1,000 pages kept 100k-page re-parses at the same rate as 2,000 (within
# the machine's run-to-run spread) with 50 MB less in each worker and 40 MB less in the writer. Chunks are cut
# by pages, not by source: with one chunk per source, 1,000 sources of 20 pages ran at 175 pages/s, the writer
# busy with fixed costs.
CHUNK_PAGES = 1000
# The writer's DuckDB budget, and the WAL size after which it checkpoints. Measured over 100k pages: DuckDB's
# default 16 MB threshold with a 384 MB budget and 122,880-row groups peaked at +364 MB during commits (see
# database.ROW_GROUP_SIZE). Committed rows not yet checkpointed stay in memory (~2x the WAL), and DuckDB needs a
# working set that grows with the tables it scans: 128 MB with 64 MB of WAL ran out at 470k bulletins, 192 MB at
# 938k (with 64 MB of WAL). With checkpoints every 16 MB, 192 MB re-parsed 1M pages, and so did 128 MB at the
# same speed (1,831 pages/s with 3 workers) with the writer's process ~45 MB smaller (477 MB at most, the tree
# 949 MB)
WRITER_MEMORY = "128MB"
WRITER_CHECKPOINT = "16MB"
# Pages after which the writer closes its connection and opens a new one (when it is given how): a DuckDB
# instance keeps C++ allocations that grow with the rows it has loaded, outside its memory limit. Measured over
# 400k pages: the writer's heap rose 61 -> 94 MB on one connection; renewed every 100k it went back to 39 MB
# each time and peaked at 70 (RSS 450 MB at most, 483 without), and the loads were no slower.
RENEW_PAGES = 100_000


@dataclass
class ReparseTimes:
    """Where the time went: parse + extract summed over the workers' CPU, loading in the writer (wall time, and
    the writer thread's CPU: on a machine whose cores the workers share with the writer, the wall time also
    holds the time the writer waited for a core)."""

    parse_extract_cpu: float = 0.0
    load: float = 0.0
    load_cpu: float = 0.0
    chunks: int = 0
    pages: int = 0
    facts: int = 0
    workers: int = 1

    def line(self) -> str:
        return (
            f"reparse: {self.pages} pages in {self.chunks} chunks over {self.workers} workers; parse+extract "
            f"{self.parse_extract_cpu:.1f} s "
            f"CPU over the workers, load {self.load:.1f} s ({self.load_cpu:.1f} s CPU)"
        )


@dataclass
class _Outcome:
    stats: SourceStats
    failures: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # month → errors
    pages: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # month → pages re-read
    facts: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # month → facts extracted


class _Writer:
    """The writer's connection, renewed every RENEW_PAGES pages when ``reopen`` says how to open another."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, reopen: Callable[[], duckdb.DuckDBPyConnection] | None
    ) -> None:
        self.con, self.reopen, self.renewed = con, reopen, 0
        self.setup()

    def setup(self) -> None:
        # DuckDB's buffer cache would otherwise grow with the warehouse (80% of RAM by default): a long
        # backfill's writer stays within a fixed budget, spilling to disk if ever needed
        self.con.execute(f"set memory_limit = '{WRITER_MEMORY}'")
        self.con.execute(f"set checkpoint_threshold = '{WRITER_CHECKPOINT}'")
        # the workers take every core: DuckDB's own threads in the writer would only contend with them
        # (measured on 2 cores over 100k pages: the writer's CPU 30-36 s with one thread, 37-39 s with two)
        self.con.execute("set threads = 1")

    def renew(self) -> None:
        if self.reopen is None:
            return
        checkpoint_file(self.con)
        self.con.close()
        self.con = self.reopen()
        self.renewed += 1
        self.setup()


Piece = tuple[Source, list[tuple], bool]  # a source's pages in a chunk, and whether they are its last


def _jobs(
    writer: _Writer,
    sources: list[Source],
    parts: dict[str, list[Partition]],
    window: Window,
    size: int,
    planned: dict[str, int],
) -> Iterator[list[Piece]]:
    """Chunks of ``size`` stored pages (the last one fewer). Each source's raw-page index is read once per run,
    never all at once: small sources' together, up to ``size`` pages by their ``planned`` count (one query per
    source cost more than their pages at 20 pages a source), a large source's alone."""
    groups: list[list[Source]] = []
    room = 0
    for s in sources:
        if not parts.get(s.id):
            continue
        n = planned.get(s.id, 0)
        if groups and n <= room:
            groups[-1].append(s)
            room -= n
        else:
            groups.append([s])
            room = size - n
    chunk: list[Piece] = []
    room = size
    for group in groups:
        stored = raw_pages_of(writer.con, [s.id for s in group], window)
        for s in group:
            months = {p.month for p in parts[s.id]}
            pages = [p for p in stored.pop(s.id) if month_of(p[4], parts[s.id]) in months]
            start = 0
            while start < len(pages):
                piece = pages[start : start + room]
                start += len(piece)
                room -= len(piece)
                chunk.append((s, piece, start >= len(pages)))
                if not room:
                    yield chunk
                    chunk, room = [], size
    if chunk:
        yield chunk


def _return_freed_memory() -> None:
    """Hand the heap pages freed by a loaded chunk back to the OS (glibc's malloc_trim; elsewhere a no-op).
    A chunk's columns are unpickled in the pool's result thread and freed in this one, and glibc keeps freed
    pages in each thread's arena (measured, 96 chunks of 2,000 pages loaded the same way: 600-680 MB resident
    without, 475-550 MB with; 1-13 ms a call, against ~250 ms to load a chunk)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None


def _records(ps: list[Partition], out: _Outcome | None, reader: str | None) -> list[PartitionRecord]:
    """A source's partitions as they end (``out``: what its chunks loaded, None for a source with no page):
    failed where a page of the month failed, else done, by ``reader``."""
    failures, pages, facts = (out.failures, out.pages, out.facts) if out else ({}, {}, {})
    return [
        PartitionRecord(
            p,
            "failed" if (errors := failures.get(p.month)) else "done",
            pages.get(p.month, 0),
            facts.get(p.month, 0),
            "; ".join(errors)[:2000] if errors else None,
            reader,
        )
        for p in ps
    ]


def _pieces(
    chunk: list[Piece], parts: dict[str, list[Partition]]
) -> list[tuple[Source, list[tuple], list[Partition]]]:
    return [(s, pages, parts[s.id]) for s, pages, _ in chunk]


def _handed_out(
    jobs: Iterator[list[Piece]], hand_out: Callable[[list[Piece]], None]
) -> Iterator[list[Piece]]:
    """The chunks, each booked as handed out when drawn."""
    for chunk in jobs:
        hand_out(chunk)
        yield chunk


def _planned_pages(counts: dict[str | None, int], ps: list[Partition]) -> int:
    """The pages :func:`_jobs` will hand out for a source, from its :func:`pages_by_month` count (undated pages
    go to the source's latest partition, as in :func:`month_of`)."""
    months = {p.month for p in ps}
    return sum(n for m, n in counts.items() if (m or ps[-1].month) in months)


def reparse_window(
    con: duckdb.DuckDBPyConnection,
    sources: list[Source],
    parts: dict[str, list[Partition]],
    raw_root: str,
    window: Window,
    run_id: str,
    workers: int | None = None,
    chunk_pages: int = CHUNK_PAGES,
    progress: Callable[[ReparseTimes, int], None] | None = None,
    page_counts: dict[str, dict[str | None, int]] | None = None,
    reopen: Callable[[], duckdb.DuckDBPyConnection] | None = None,
) -> tuple[list[SourceStats], ReparseTimes]:
    """Re-parse every stored page of ``sources`` in ``window`` and load it; record ``parts`` (source id → its
    partitions to run). ``progress`` is called after each chunk with the running totals and the pages planned:
    ``page_counts`` (source id → :func:`pages_by_month`) as the caller planned with, else counted here.
    ``reopen`` opens the warehouse again: given it, the writer closes ``con`` after RENEW_PAGES pages and goes on
    with new connections, closing the last one itself (the caller's ``con`` is then closed too).
    A source's partitions are recorded as soon as its last chunk is loaded, so a run that stops part-way (a
    signal, a crash, a full disk) keeps the sources it finished, and the next ``reprocess=missing`` run starts
    after them. Returns per-source stats and the time split."""
    workers = workers or default_workers(usable_cores())
    # each month is recorded with the reader that did it: the next re-parse runs again what another one did
    readers = {s.id: reader_of(s) for s in sources}
    writer = _Writer(con, reopen)
    times = ReparseTimes(workers=workers)
    started = datetime.now(UTC)
    outcomes: dict[str, _Outcome] = {}
    in_flight: dict[str, int] = defaultdict(int)  # source id → chunks handed out and not yet loaded
    handed_out: set[str] = set()  # sources whose last chunk has been handed out

    def hand_out(chunk: list[Piece]) -> None:
        for source, _, last in chunk:
            in_flight[source.id] += 1
            if last:
                handed_out.add(source.id)

    def take(results: list[ChunkResult], chunk: list[Piece]) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        loaded = load_batches(writer.con, [r.batch for r in results], run_id, move_cursor=False)
        times.chunks += 1
        before = times.pages
        finished: list[PartitionRecord] = []
        for done, stats, (source, _, _) in zip(results, loaded, chunk, strict=True):
            times.parse_extract_cpu += done.cpu
            times.pages += stats.discovered
            times.facts += stats.facts
            out = outcomes.setdefault(source.id, _Outcome(SourceStats(source_id=f"{source.id} (reparse)")))
            for k in ("discovered", "fetched", "failed", "parsed", "facts", "quarantined"):
                setattr(out.stats, k, getattr(out.stats, k) + getattr(stats, k))
            out.stats.failures += stats.failures
            for month, n in done.pages.items():
                out.pages[month] += n
            for month, n in done.facts.items():
                out.facts[month] += n
            for month, errors in done.failures.items():
                out.failures[month] += errors
            in_flight[source.id] -= 1
            if source.id in handed_out and not in_flight[source.id]:
                finished += _records(parts[source.id], out, readers[source.id])
        record_all(writer.con, finished, "reparse", run_id, started)
        if times.pages // RENEW_PAGES > before // RENEW_PAGES:
            writer.renew()
        # the partitions' commit is where DuckDB checkpoints when the chunk's rows took the WAL past its
        # threshold (measured: 0.1 ms a page, a third of the writer's CPU), so it counts as loading; DuckDB runs
        # the writer's statements on this thread (threads = 1)
        times.load_cpu += time.thread_time() - c0
        times.load += time.perf_counter() - t0
        _return_freed_memory()
        if progress:
            progress(times, total)

    todo = [s.id for s in sources if parts.get(s.id)]
    counts = dict(page_counts or {})
    counts |= pages_by_month_of(writer.con, [sid for sid in todo if sid not in counts], window)
    planned = {sid: _planned_pages(counts[sid], parts[sid]) for sid in todo}
    total = sum(planned.values())
    jobs = _handed_out(_jobs(writer, sources, parts, window, chunk_pages, planned), hand_out)
    if workers <= 1:
        for chunk in jobs:
            take(reparse_pieces(raw_root, window, _pieces(chunk, parts)), chunk)
    else:
        say = functools.partial(print, flush=True)
        chunks = run_chunks(
            jobs, lambda c: _pieces(c, parts), workers, raw_root, window, say, reparse_page_seconds()
        )
        for chunk, results in chunks:
            take(results, chunk)
    # the others were recorded as their last chunk was loaded
    rest = [
        r for sid, ps in parts.items() if sid not in handed_out for r in _records(ps, None, readers.get(sid))
    ]
    t0, c0 = time.perf_counter(), time.thread_time()
    record_all(writer.con, rest, "reparse", run_id, started)
    # within the writer's budget and row groups: left in the WAL, the last chunks would be replayed by the next
    # connection under DuckDB's defaults (measured: +410 MB in the flow after the loads)
    checkpoint_file(writer.con)
    times.load_cpu += time.thread_time() - c0
    times.load += time.perf_counter() - t0
    if writer.renewed:
        writer.con.close()
    return [o.stats for o in outcomes.values()], times

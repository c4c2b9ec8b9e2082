"""Backfill a window: source x month partitions, each fetched (or re-parsed from the raw zone) and loaded as a
unit, recorded when done, skipped when done unless asked. Never moves the nightly cursor. Logic lives in
``etl``; this file wires it.

Each source's window is discovered once (one list walk, not one per month); months with nothing published are
recorded done without a task, so a three-year backfill of a quiet source costs a handful of task runs."""

from __future__ import annotations

import time
import uuid
from contextlib import closing
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from etl import settings
from etl.fetch.client import FetchSettings
from etl.fetch.discover import Discovery
from etl.fetch.rawzone import RawZone
from etl.fetch.sources import Source, load_fetch_config, load_sources
from etl.models import BulletinRef, FetchMemory, SourceBatch, SourceStats, Window
from etl.orchestration import cancel
from etl.orchestration.backfill import (
    Assignment,
    BackfillRun,
    Partition,
    assign_fetch,
    assign_reparse,
    bound_planning,
    by_source,
    check_arguments,
    dry_run_lines,
    interleave_by_host,
    parallel_from_politeness,
    plan,
    read_by_another,
    record,
    record_empty,
)
from etl.orchestration.ingest import discover_source, fetch_refs
from etl.orchestration.reader import reader_of
from etl.orchestration.reparse import pages_by_month_of
from etl.orchestration.reparse_pool import CHUNK_PAGES, ReparseTimes, reparse_window
from etl.orchestration.runs import outcome, writer_slot
from etl.report.summary import reparse_progress, source_progress, summary_markdown
from etl.warehouse.config import use_registry
from etl.warehouse.database import connect, create_views, open_warehouse
from etl.warehouse.load import load_batch
from etl.warehouse.state import read_state


@task(cache_policy=NO_CACHE, task_run_name="discover {source.id} {window.start}..{window.end}")
def discover_task(source: Source, window: Window, settings: FetchSettings) -> Discovery:
    return discover_source(source, window, settings)


@task(cache_policy=NO_CACHE, task_run_name="fetch {part.source_id} {part.month}")
def fetch_partition(
    part: Partition,
    source: Source,
    refs: list[BulletinRef],
    raw_root: str,
    memory: dict,
    settings: FetchSettings,
) -> SourceBatch:
    return fetch_refs(source, part.window, refs, RawZone(Path(raw_root)), memory, settings)


@task(cache_policy=NO_CACHE, task_run_name="load {part.source_id} {part.month}")
def load_partition(
    part: Partition, batch: SourceBatch, run: BackfillRun, discovery_error: str | None = None
) -> SourceStats:
    started = datetime.now(UTC)
    with closing(connect(run.db, run.lock_timeout)) as con:
        stats = load_batch(con, batch, run.run_id, move_cursor=False)
        errors = "; ".join(f.line() for f in stats.failures) or None
        if discovery_error:  # the source's list was seen only in part: this month may hold more
            errors = "; ".join(e for e in (errors, f"discovery incomplete: {discovery_error}") if e)
        status = "failed" if stats.failed or discovery_error else "done"
        reader = run.readers.get(part.source_id)
        record(con, part, run.mode, status, run.run_id, started, stats.fetched, stats.facts, errors, reader)
    stats.source_id = part.name
    return stats


@task(cache_policy=NO_CACHE, task_run_name="reparse {window.start}..{window.end}")
def reparse_task(
    parts: dict,
    srcs: dict[str, Source],
    counts: dict,
    window: Window,
    run: BackfillRun,
    workers: int | None,
    chunk_pages: int | None = None,
) -> list[SourceStats]:
    with closing(connect(run.db, run.lock_timeout)) as con:
        stats, times = reparse_window(
            con,
            [srcs[sid] for sid in parts],
            parts,
            run.raw_root,
            window,
            run.run_id,
            workers,
            chunk_pages or CHUNK_PAGES,
            progress=_progress(),
            page_counts=counts,
            reopen=lambda: connect(run.db, run.lock_timeout),
        )
    print(times.line(), flush=True)
    return stats


def _progress():
    """A progress line every 5 s at most (a million pages is a thousand chunks), and the last one."""
    started = time.monotonic()
    shown = [0.0]

    def show(times: ReparseTimes, total: int) -> None:
        elapsed = time.monotonic() - started
        if elapsed - shown[0] >= 5 or times.pages >= total:
            shown[0] = elapsed
            print(f"backfill: {reparse_progress(times.pages, total, times.facts, elapsed)}", flush=True)

    return show


@flow(name="backfill")
def backfill(
    start: date,
    end: date,
    sources: list[str] | None = None,
    registry: str = "sources",
    db: str | None = None,
    reparse: bool = False,
    reprocess: str = "missing",
    dry_run: bool = False,
    max_parallel: int | None = None,
    lock_timeout: float = 600.0,
    writer_limit: str | None = None,
    workers: int | None = None,
    chunk_pages: int | None = None,
) -> list[dict]:
    """Backfill [start, end] for ``sources`` (default: all); ``reparse`` re-reads the raw zone over a process pool;
    ``reprocess``: missing | failed | all; ``writer_limit``: a Prefect concurrency limit held while loading;
    ``workers``: re-parse processes (default :func:`etl.orchestration.cores.default_workers`); ``chunk_pages``: pages per re-parse chunk."""
    cancel.install()  # after Prefect's own SIGTERM bridge: a signal also stops the fetches in worker threads
    use_registry(Path(registry))  # its [warehouse] table, under the environment
    db_path = Path(db) if db else settings.default_db()
    srcs = {s.id: s for s in load_sources(Path(registry))}
    check_arguments(start, end, max_parallel, sources, set(srcs), workers, chunk_pages)
    run_id = str(flow_run.id or uuid.uuid4())
    ids, mode, window = sorted(sources or srcs), "reparse" if reparse else "fetch", Window(start, end)
    readers = {sid: reader_of(srcs[sid]) for sid in ids}
    run = BackfillRun(
        str(db_path), str(settings.raw_dir_for(db_path)), mode, run_id, lock_timeout, writer_limit, readers
    )
    fetch_cfg = load_fetch_config(Path(registry))
    fetch_settings = replace(
        fetch_cfg.to_settings(), run_deadline=time.time() + fetch_cfg.run_budget, run_key=run.run_id
    )
    with open_warehouse(db_path, lock_timeout) as con:
        bound_planning(con)
        todo, skipped = plan(con, ids, start, end, mode, reprocess, readers)
        stale = read_by_another(con, todo, mode, readers)
        # validators for conditional GETs: a re-parse sends none
        memory = {} if reparse else read_state(con, ids).memory
        counts = pages_by_month_of(con, ids, window) if reparse else {}
    parts = by_source(todo)
    if reparse:
        work = assign_reparse(counts, parts)
    else:  # one discovery per source over its whole window, not one per month
        spans = {sid: Window(ps[0].window.start, ps[-1].window.end) for sid, ps in parts.items()}
        work = assign_fetch(
            {sid: discover_task(srcs[sid], w, fetch_settings) for sid, w in spans.items()}, parts
        )
    get_run_logger().info(work.summary(window, mode, skipped, len(stale)))
    if dry_run:
        print("\n".join(dry_run_lines(work, skipped, reparse, stale)))
        return [{"partition": p.name, "action": mode} for p in work.work]
    with closing(connect(db_path, lock_timeout)) as con:
        record_empty(con, work.empty, mode, run.run_id, work.unseen, readers)
    stats: list[SourceStats] = list(work.faults)
    if reparse:
        with writer_slot(writer_limit, lock_timeout):
            stats += reparse_task(work.by_source(), srcs, counts, window, run, workers, chunk_pages)
    else:
        stats += fetch_partitions(work, srcs, memory, fetch_settings, run, max_parallel)
    with closing(connect(db_path, lock_timeout)) as con:
        create_views(con)
    _summary_artifact(stats, f"Backfill {start}..{end} ({mode}, reprocess={reprocess})")
    return outcome(stats)


def _summary_artifact(stats: list[SourceStats], title: str) -> None:
    create_markdown_artifact(
        key="backfill-run-summary",
        markdown=summary_markdown(stats, title),
        description="per partition: discovered, fetched, parsed, facts, quarantined, failed",
    )


def fetch_partitions(
    work: Assignment,
    srcs: dict[str, Source],
    memory: dict[str, dict[str, FetchMemory]],
    fetch_settings: FetchSettings,
    run: BackfillRun,
    max_parallel: int | None,
) -> list[SourceStats]:
    """Fetch partitions ``max_parallel`` at a time (default: what the hosts' politeness allows together), the
    hosts interleaved; each host's gate still holds across them; load each."""
    stats: list[SourceStats] = []
    items = interleave_by_host(list(work.work.items()), srcs)
    max_parallel = max_parallel or parallel_from_politeness(
        [srcs[p.source_id] for p, _ in items] or list(srcs.values())
    )
    started_at = time.monotonic()
    for i in range(0, len(items), max_parallel):
        chunk = items[i : i + max_parallel]
        futures = [
            fetch_partition.submit(
                p, srcs[p.source_id], refs, run.raw_root, memory.get(p.source_id, {}), fetch_settings
            )
            for p, refs in chunk
        ]
        batches = [f.result() for f in futures]
        cancel.check()
        # one writer slot per chunk of loads: taking it per partition cost ~2 s each on a real server
        with writer_slot(run.writer_limit, run.lock_timeout):
            for (p, _), b in zip(chunk, batches, strict=True):
                stats.append(load_partition(p, b, run, work.unseen.get(p.source_id)))
                # each partition as it lands, with the ETA of the whole backfill
                print(
                    source_progress(len(stats), len(items), stats[-1], time.monotonic() - started_at),
                    flush=True,
                )
    return stats

"""Backfill a window: source x month partitions, each fetched (or re-parsed from the raw zone) and loaded as a
unit, recorded when done, skipped when done unless asked. Never moves the nightly cursor. Logic lives in
``etl``; this file wires it.

Each source's window is discovered once (one list walk, not one per month); months with nothing published are
recorded done without a task, so a three-year backfill of a quiet source costs a handful of task runs."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
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
from etl.models import BulletinRef, SourceBatch, SourceStats, Window
from etl.orchestration import cancel
from etl.orchestration.backfill import (
    Partition,
    discovery_stats,
    month_of,
    plan,
    progress_line,
    record,
    record_empty,
)
from etl.orchestration.ingest import discover_source, fetch_refs
from etl.orchestration.reparse import raw_pages_in_window, reparse_source
from etl.orchestration.runs import outcome, writer_slot
from etl.report.summary import summary_markdown, summary_text
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
    part: Partition,
    batch: SourceBatch | None,
    source: Source,
    db: str,
    raw_root: str,
    mode: str,
    run_id: str,
    lock_timeout: float,
    discovery_error: str | None = None,
) -> SourceStats:
    started = datetime.now(UTC)
    con = connect(db, lock_timeout)
    try:
        if batch is None:  # reparse: read the raw zone inside the writer's connection, no network
            batch = reparse_source(con, source, RawZone(Path(raw_root)), part.window)
        stats = load_batch(con, batch, run_id, move_cursor=False)
        errors = "; ".join(f"{f['url']}: {f['error']}" for f in stats.failures) or None
        if discovery_error:  # the source's list was seen only in part: this month may hold more
            errors = "; ".join(e for e in (errors, f"discovery incomplete: {discovery_error}") if e)
        status = "failed" if stats.failed or discovery_error else "done"
        record(con, part, mode, status, run_id, started, stats.fetched, stats.facts, errors)
        stats.source_id = part.name
        return stats
    finally:
        con.close()


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
    max_parallel: int = 4,
    lock_timeout: float = 600.0,
    writer_limit: str | None = None,
) -> list[dict]:
    """Backfill [start, end] for the ``sources`` ids (all of the registry by default). ``reparse`` re-reads the
    raw zone instead of fetching; ``reprocess`` picks partitions: missing (default), failed, or all.
    ``writer_limit`` names a Prefect global concurrency limit held while loading."""
    cancel.install()  # after Prefect's own SIGTERM bridge: a signal also stops the fetches in worker threads
    log = get_run_logger()
    db_path = Path(db) if db else settings.default_db()
    srcs = {s.id: s for s in load_sources(Path(registry))}
    if not isinstance(max_parallel, int) or not 1 <= max_parallel <= 64:
        raise ValueError(f"max_parallel must be an integer in 1..64, got {max_parallel!r}")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    unknown = set(sources or []) - set(srcs)
    if unknown:
        raise ValueError(f"unknown source ids {sorted(unknown)}; configured: {sorted(srcs)}")
    ids = sorted(sources or srcs)
    mode = "reparse" if reparse else "fetch"
    run_id = str(flow_run.id or uuid.uuid4())
    raw_root = str(settings.raw_dir_for(db_path))
    fetch_cfg = load_fetch_config(Path(registry))
    fetch_settings = replace(fetch_cfg.to_settings(), run_deadline=time.time() + fetch_cfg.run_budget)
    with open_warehouse(db_path, lock_timeout) as con:
        todo, skipped = plan(con, ids, start, end, mode, reprocess)
        state = read_state(con, ids)
        stored = {sid: raw_pages_in_window(con, sid, Window(start, end)) for sid in ids} if reparse else {}
    by_source: dict[str, list[Partition]] = defaultdict(list)
    for p in todo:
        by_source[p.source_id].append(p)

    # What each partition holds: pages in the raw zone (reparse) or bulletins found by one discovery per source.
    work: dict[Partition, list[BulletinRef]] = {}
    unseen: dict[str, str] = {}  # source id → discovery error: its months without refs are not known empty
    discovery_faults: list[SourceStats] = []
    for sid, parts in by_source.items():
        if reparse:
            months = {month_of(row[4], parts) for row in stored[sid]}  # row[4]: publication date
            work.update({p: [] for p in parts if p.month in months})
            continue
        window = Window(parts[0].window.start, parts[-1].window.end)
        found = discover_task(srcs[sid], window, fetch_settings)
        refs: dict[str, list[BulletinRef]] = defaultdict(list)
        for r in found.refs:
            refs[month_of(r.published, parts)].append(r)
        for p in parts:
            if refs.get(p.month):
                work[p] = refs[p.month]
        faults = discovery_stats(sid, found.failures, found.skips)
        if faults is not None:
            discovery_faults.append(faults)
            unseen[sid] = "; ".join(f"{f['url']}: {f['error']}" for f in faults.failures)[:2000]
    empty = [p for p in todo if p not in work]
    log.info(
        "backfill %s..%s (%s): %d partitions with work, %d empty, %d already done",
        start,
        end,
        mode,
        len(work),
        len(empty),
        len(skipped),
    )
    if dry_run:
        verb = "re-parse from the raw zone" if reparse else "fetch"
        lines = [
            f"would {verb}: {p.name} ({len(refs) if not reparse else 'stored'} pages)"
            for p, refs in work.items()
        ]
        lines += [f"nothing published: {p.name}" for p in empty]
        lines += [f"skip (done): {p.name}" for p in skipped]
        print("\n".join(lines) or "nothing to do")
        return [{"partition": p.name, "action": verb} for p in work]

    con = connect(db_path, lock_timeout)
    try:
        record_empty(con, empty, mode, run_id, unseen)
    finally:
        con.close()
    stats: list[SourceStats] = list(discovery_faults)
    items = list(work.items())
    started_at = time.monotonic()
    for i in range(0, len(items), max_parallel):
        chunk = items[i : i + max_parallel]
        if reparse:
            batches: list[SourceBatch | None] = [None] * len(chunk)
        else:
            futures = [
                fetch_partition.submit(
                    p, srcs[p.source_id], refs, raw_root, state.memory.get(p.source_id, {}), fetch_settings
                )
                for p, refs in chunk
            ]
            batches = [f.result() for f in futures]
        cancel.check()
        # one writer slot per chunk of loads: taking it per partition cost ~2 s each on a real server
        with writer_slot(writer_limit, lock_timeout):
            for (p, _), b in zip(chunk, batches, strict=True):
                stats.append(
                    load_partition(
                        p,
                        b,
                        srcs[p.source_id],
                        str(db_path),
                        raw_root,
                        mode,
                        run_id,
                        lock_timeout,
                        unseen.get(p.source_id),
                    )
                )
        print(progress_line(len(stats), len(items), started_at), flush=True)
    con = connect(db_path, lock_timeout)
    try:
        create_views(con)
    finally:
        con.close()
    log.info("backfill summary\n%s", summary_text(stats))
    create_markdown_artifact(
        key="backfill-run-summary",
        markdown=summary_markdown(stats, f"Backfill {start}..{end} ({mode}, reprocess={reprocess})"),
        description="per partition: discovered, fetched, parsed, facts, quarantined, failed",
    )
    return outcome(stats)

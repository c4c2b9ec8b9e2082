"""Nightly ingest: discover → fetch → raw zone → parse → extract (one task per source) → validate + load (one
task per source batch, single writer) → refresh views. All logic lives in ``etl``; this file only wires it."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run, task_run

from etl import settings
from etl.fetch.client import FetchSettings
from etl.fetch.rawzone import RawZone
from etl.fetch.sources import Source, load_fetch_config, load_sources
from etl.models import SourceBatch, SourceStats
from etl.orchestration import cancel
from etl.orchestration.ingest import ingest_source, window_for
from etl.orchestration.runs import outcome, ready_groups, writer_slot
from etl.report.html import build_report
from etl.report.summary import source_progress, summary_markdown, summary_text
from etl.warehouse.config import use_registry
from etl.warehouse.database import connect, create_views, open_warehouse, table_counts
from etl.warehouse.load import load_batch
from etl.warehouse.state import read_state


@task(cache_policy=NO_CACHE, task_run_name="ingest {source.id}")
def ingest(
    source: Source, window, raw_root: str, memory: dict, retry_urls: list[str], settings: FetchSettings
) -> SourceBatch:
    return ingest_source(source, window, RawZone(Path(raw_root)), memory, retry_urls, settings)


def _load_run_name() -> str:
    ids = [b.source_id for b in task_run.parameters["batches"]]
    return "load " + ", ".join(ids[:3]) + (f" +{len(ids) - 3}" if len(ids) > 3 else "")


@task(cache_policy=NO_CACHE, task_run_name=_load_run_name)
def load(batches: list[SourceBatch], db: str, run_id: str, lock_timeout: float) -> list[SourceStats]:
    """One connection for the batches, one transaction per batch."""
    con = connect(db, lock_timeout)
    try:
        return [load_batch(con, b, run_id) for b in batches]
    finally:
        con.close()


@task(cache_policy=NO_CACHE)
def refresh_views(db: str, lock_timeout: float) -> dict[str, int]:
    con = connect(db, lock_timeout)
    try:
        create_views(con)
        build_report(
            con, settings.report_dir_for(Path(db)), {"when": datetime.now().strftime("%Y-%m-%d %H:%M")}
        )
        return table_counts(con)
    finally:
        con.close()


def _logical_date(given: date | None) -> date:
    if given is not None:
        return given
    scheduled = flow_run.scheduled_start_time
    return scheduled.date() if scheduled else datetime.now().date()


@flow(name="nightly")
def nightly(
    registry: str = "sources",
    db: str | None = None,
    logical_date: date | None = None,
    lag_days: int = 30,
    lock_timeout: float = 600.0,
    writer_limit: str | None = None,
) -> list[dict]:
    """Ingest every source of the ``registry`` from its cursor (minus ``lag_days``) up to the logical date (the
    scheduled time, not now). ``writer_limit`` names a Prefect global concurrency limit held while loading."""
    cancel.install()  # after Prefect's own SIGTERM bridge: a signal also stops the fetches in worker threads
    log = get_run_logger()
    use_registry(Path(registry))  # its [warehouse] table, under the environment
    db_path = Path(db) if db else settings.default_db()
    srcs = load_sources(Path(registry))
    fetch_cfg = load_fetch_config(Path(registry))
    # the run's fetching ends by its budget, however many sources wait for a worker thread
    run_id = str(flow_run.id or uuid.uuid4())
    fetch_settings = replace(
        fetch_cfg.to_settings(), run_deadline=time.time() + fetch_cfg.run_budget, run_key=run_id
    )
    day = _logical_date(logical_date)
    with open_warehouse(db_path, lock_timeout) as con:
        state = read_state(con, [s.id for s in srcs])
    raw_root = str(settings.raw_dir_for(db_path))
    started = time.monotonic()
    futures = []
    for s in srcs:
        window = window_for(s, state.cursors.get(s.id), day, lag_days)
        futures.append(
            ingest.submit(
                s,
                window,
                raw_root,
                state.memory.get(s.id, {}),
                state.retry_urls.get(s.id, []),
                fetch_settings,
            )
        )
    stats = []
    # Load batches as soon as they are ingested, together when several are ready (single writer). The writer
    # slot is taken once for the run's loads: taking it per batch cost ~2 s each on a real server.
    with writer_slot(writer_limit, lock_timeout):
        for group in ready_groups(futures):
            batches = [f.result() for f in group]
            cancel.check()  # a cancelled run loads nothing more; what loaded is whole (one transaction a batch)
            for s in load(batches, str(db_path), run_id, lock_timeout):
                stats.append(s)
                print(source_progress(len(stats), len(srcs), s, time.monotonic() - started), flush=True)
    stats.sort(key=lambda s: s.source_id)
    refresh_views(str(db_path), lock_timeout)
    text = summary_text(stats)
    log.info("run summary\n%s", text)
    create_markdown_artifact(
        key="nightly-run-summary",
        markdown=summary_markdown(stats, f"Nightly run {day.isoformat()}"),
        description="per source: discovered, fetched, parsed, facts, quarantined, failed",
    )
    return outcome(stats)

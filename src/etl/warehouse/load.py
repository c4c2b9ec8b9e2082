"""Idempotent loading of one source batch into the warehouse, in one transaction.

Everything a batch fetched replaces what the warehouse held for the same pages (bulletins, facts and quarantine
rows keyed by source + URL), so loading the same window again leaves the same warehouse. Frames are inserted
whole (executemany was measured ~1,000x slower).
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import duckdb
import pandas as pd

from etl.fetch.client import sendable_header
from etl.models import BatchRows, SourceBatch, SourceStats, url_key
from etl.warehouse.lake import retry_conflicts
from etl.warehouse.rows import (
    BULLETIN_COLUMNS,
    FACT_COLUMNS,
    batch_rows,
    quarantine_columns,
)
from etl.warehouse.validate import bulletin_schema, fact_schema, quarantine_columns_frame, validate


def batch_frames(batch: SourceBatch, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _frames(batch_rows(batch), run_id)


def _frames(rows: BatchRows, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    # bulletins are inserted by position (the table's order, run_id last), facts by name
    bdf = pd.DataFrame(rows.bulletins, columns=BULLETIN_COLUMNS)
    bdf["run_id"] = run_id
    fdf = pd.DataFrame(rows.facts, columns=FACT_COLUMNS)
    fdf["run_id"] = run_id
    # A bulletin stating the same figure twice counts once; the first mention is the evidence.
    fdf = fdf.sort_values(["bulletin_id", "span_start"], kind="stable").drop_duplicates(
        ["bulletin_id", "indicator", "region_code", "value"], keep="first"
    )
    bdf["article_index"] = bdf["article_index"].astype("int64")
    fdf["value"] = fdf["value"].astype("float64")
    fdf["value_high"] = fdf["value_high"].astype("float64")
    fdf["span_start"] = fdf["span_start"].astype("int64")
    fdf["span_end"] = fdf["span_end"].astype("int64")
    return bdf, fdf


def load_batch(
    con: duckdb.DuckDBPyConnection, batch: SourceBatch, run_id: str, move_cursor: bool = True
) -> SourceStats:
    """Validate and load one batch; returns its stats with facts and quarantine counts filled in."""
    now = datetime.now(UTC)
    stats = batch.stats
    rows = batch_rows(batch)
    bdf, fdf = _frames(rows, run_id)
    vb = validate(bdf, bulletin_schema(), "bulletin", "bulletin_id")
    rejected_bulletins = {r["record_key"] for r in vb.rejected}
    orphan = fdf["bulletin_id"].isin(rejected_bulletins)
    quarantine = list(vb.rejected)
    for _, row in fdf[orphan].iterrows():
        quarantine.append(
            {
                "layer": "fact",
                "record_key": row["bulletin_id"],
                "source_id": batch.source_id,
                "check": "bulletin_quarantined",
                "reason": f"its bulletin {row['bulletin_id']} was quarantined",
                "row": json.loads(json.dumps(row.to_dict(), default=str, ensure_ascii=False)),
            }
        )
    vf = validate(fdf[~orphan], fact_schema(), "fact", "bulletin_id")
    quarantine += vf.rejected
    found = quarantine_columns(quarantine, batch.source_id)
    q_cols = {k: rows.quarantine[k] + found[k] for k in found}  # rejected before validation, then by it
    facts = vf.valid
    bulletins = vb.valid
    stats.facts = len(facts)
    stats.quarantined = len(q_cols["record_key"])

    raw_df = pd.DataFrame(
        [
            {
                "source_id": p.source_id,
                "url": p.url,
                "url_key": url_key(p.url),
                "content_hash": p.content_hash,
                "status": p.status,
                "fetched_at": p.fetched_at,
                "encoding": p.encoding,
                "etag": sendable_header(p.headers.get("etag")),
                "last_modified": sendable_header(p.headers.get("last-modified")),
                "headers": json.dumps(p.headers, ensure_ascii=False),
                "size_bytes": p.size,
                "path": p.path,
            }
            for p in batch.raw_pages
        ],
        columns=[
            "source_id",
            "url",
            "url_key",
            "content_hash",
            "status",
            "fetched_at",
            "encoding",
            "etag",
            "last_modified",
            "headers",
            "size_bytes",
            "path",
        ],
    )
    fetched_urls = pd.DataFrame({"url_key": [url_key(u) for u in batch.replaced_urls()]}, dtype="object")
    q_keys = set(q_cols["record_key"]) | set(bdf["bulletin_id"]) | set(fetched_urls["url_key"])
    q_df = quarantine_columns_frame(q_cols, run_id, now)
    q_key_df = pd.DataFrame({"record_key": sorted(q_keys)}, dtype="object")
    ok_df = pd.DataFrame({"url_key": [url_key(u) for u in batch.succeeded_urls]}, dtype="object")
    fail_df = pd.DataFrame(
        [
            {
                "url": f.url,
                "url_key": url_key(f.url),
                "stage": f.stage,
                "status": f.status,
                "error": f.reason,
            }
            for f in stats.failures
        ],
        columns=["url", "url_key", "stage", "status", "error"],
    )
    page_df = _page_frame(batch, rows)
    doc_df = pd.DataFrame(
        [
            {
                "source_id": d.source_id,
                "url_key": url_key(d.url),
                "url": d.url,
                "role": d.role,
                "content_hash": d.content_hash,
                "etag": d.etag,
                "last_modified": d.last_modified,
                "fetched_at": d.fetched_at,
            }
            for d in {url_key(d.url): d for d in batch.documents}.values()
        ],
        columns=[
            "source_id",
            "url_key",
            "url",
            "role",
            "content_hash",
            "etag",
            "last_modified",
            "fetched_at",
        ],
    )
    src = batch.source_id
    frames = {
        "raw_df": raw_df,
        "fetched_urls": fetched_urls,
        "bdf": bdf,
        "bulletins": bulletins,
        "facts": facts,
        "q_key_df": q_key_df,
        "q_df": q_df,
        "ok_df": ok_df,
        "fail_df": fail_df,
        "page_df": page_df,
        "doc_df": doc_df,
    }
    # Empty frames are neither registered (DuckDB inspects every registered frame: ~2 ms each) nor read.
    present = {name: frame for name, frame in frames.items() if not frame.empty}
    for name, frame in present.items():
        con.register(name, frame)
    try:
        # on DuckLake, another writer may commit to the same tables first
        retry_conflicts(lambda: _write(con, src, run_id, now, batch, move_cursor, set(frames) - set(present)))
    finally:
        for name in present:
            con.unregister(name)
    return stats


def _write(
    con: duckdb.DuckDBPyConnection,
    src: str,
    run_id: str,
    now: datetime,
    batch: SourceBatch,
    move_cursor: bool,
    empty: set[str],
) -> None:
    """The batch's one transaction; the frames it reads are registered by name. A statement driven by an empty
    frame is skipped: a night in which nothing changed is mostly empty frames, and each statement costs a few
    milliseconds."""

    def run(needs: str, sql: str, params: list | None = None) -> None:
        if needs not in empty:
            con.execute(sql, params or [])

    con.execute("begin transaction")
    try:
        run(
            "doc_df",
            """delete from site_document as s
               where exists (select 1 from doc_df as d where d.source_id = s.source_id and d.url_key = s.url_key)""",
        )
        run(
            "doc_df",
            """insert into site_document by name
               select source_id, url_key, url, role, content_hash, etag, last_modified, fetched_at from doc_df""",
        )
        run(
            "raw_df",
            """insert into raw_page select r.* from raw_df as r
               where not exists (select 1 from raw_page as p
                                 where p.source_id = r.source_id and p.url_key = r.url_key
                                   and p.content_hash = r.content_hash)""",
        )
        run(
            "fetched_urls",
            "delete from fact where source_id = ? and bulletin_id in "
            "(select bulletin_id from bulletin where source_id = ? and url_key in (select url_key from fetched_urls))",
            [src, src],
        )
        # every statement names the source: a bulletin id is the source's (models.bulletin_id), and the filter
        # lets DuckDB skip other sources' row groups instead of scanning the whole table for every batch (a
        # re-parse of 1M pages slowed down chunk after chunk without it)
        run(
            "bdf",
            "delete from fact where source_id = ? and bulletin_id in (select bulletin_id from bdf)",
            [src],
        )
        run(
            "fetched_urls",
            "delete from bulletin where source_id = ? and url_key in (select url_key from fetched_urls)",
            [src],
        )
        run("bulletins", "insert into bulletin select * from bulletins")
        run("facts", "insert into fact by name select * from facts")
        run(
            "q_key_df",
            "delete from quarantine where source_id = ? and record_key in (select record_key from q_key_df)",
            [src],
        )
        run("q_df", "insert into quarantine select * from q_df")
        run(
            "ok_df",
            "delete from fetch_failure where source_id = ? and url_key in (select url_key from ok_df)",
            [src],
        )
        run(
            "fail_df",
            """update fetch_failure as x set attempts = x.attempts + 1, last_failed_at = ?, status = f.status,
                      error = f.error, url = f.url, last_run_id = ?
               from fail_df as f where x.source_id = ? and x.url_key = f.url_key and x.last_run_id <> ?""",
            [now, run_id, src, run_id],
        )
        run(
            "fail_df",
            """insert into fetch_failure
               select ?, f.url, f.url_key, f.stage, f.status, f.error, 1, ?, ?, ? from fail_df as f
               where not exists (select 1 from fetch_failure as x where x.source_id = ? and x.url_key = f.url_key)""",
            [src, now, now, run_id, src],
        )
        if "page_df" not in empty:
            _rebuild_audit(con, src, run_id, now)
        _update_state(con, batch, run_id, now, move_cursor)
        con.execute("commit")
    except Exception:
        # a commit that failed (a DuckLake conflict) has already ended the transaction
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise


def _update_state(
    con: duckdb.DuckDBPyConnection, batch: SourceBatch, run_id: str, now: datetime, move_cursor: bool
) -> None:
    src = batch.source_id
    st = batch.stats.status
    status = st if st == "ok" else f"{st}: {len(batch.stats.failures)} failed"
    row = con.execute(
        "select cursor_date, last_success_at from source_state where source_id = ?", [src]
    ).fetchone()
    cursor = row[0] if row else None
    # a failed discovery saw only part of the list: moving the cursor would put the unseen part out of the next
    # night's window for good
    if move_cursor and st != "failed" and batch.newest and (cursor is None or batch.newest > cursor):
        cursor = batch.newest
    last_success = now if batch.stats.fetched + batch.stats.not_modified > 0 else (row[1] if row else None)
    con.execute("delete from source_state where source_id = ?", [src])
    con.execute(
        "insert into source_state values (?, ?, ?, ?, ?, ?)", [src, cursor, run_id, now, status, last_success]
    )


def _page_frame(batch: SourceBatch, rows: BatchRows) -> pd.DataFrame:
    """The pages of the batch with their outcome and partition (list pages, run-level faults, stay out: they
    are in the run summary and fetch_failure, not in the ledger of pages)."""
    month_of_url: dict[str, str] = {}
    for r in batch.refs:
        if r.published:
            month_of_url[r.url] = r.published.strftime("%Y-%m")
    for url, published in zip(rows.bulletins["url"], rows.bulletins["published"], strict=True):
        if published:
            month_of_url[url] = published.strftime("%Y-%m")  # the page's own date wins over the list's
    listing = {f.url for f in batch.stats.failures + batch.stats.skips if f.stage == "discover"}
    rows = [
        {
            "url_key": url_key(u),
            "partition": month_of_url.get(u, "undated"),
            "outcome": o,
            "read_at": batch.read_at.get(u),
        }
        for u, o in batch.outcomes.items()
        if u not in listing
    ]
    df = pd.DataFrame(rows, columns=["url_key", "partition", "outcome", "read_at"], dtype="object")
    df["read_at"] = pd.to_datetime(df["read_at"], utc=True)
    return df


def _rebuild_audit(con: duckdb.DuckDBPyConnection, src: str, run_id: str, now: datetime) -> None:
    """Record the batch's pages in the ledger and rebuild the audit rows of every partition they touch from
    the ledger and the tables. A page seen undated (a retried failure, a feed item without date) keeps the
    partition it had; its bulletin's publication date decides once it has one."""
    con.execute(
        """create or replace temp table audit_pages as
           select d.url_key, d.outcome, d.read_at,
                  coalesce(case when d.partition <> 'undated' then d.partition end,
                           case when o.partition <> 'undated' then o.partition end, 'undated') as partition,
                  o.partition as old_partition
           from page_df as d
           left join page_state as o on o.source_id = ? and o.url_key = d.url_key""",
        [src],
    )
    con.execute(
        "delete from page_state where source_id = ? and url_key in (select url_key from audit_pages)", [src]
    )
    con.execute(
        "insert into page_state select ?, url_key, partition, outcome, read_at, ?, ? from audit_pages",
        [src, run_id, now],
    )
    con.execute(
        """create or replace temp table audit_touched as
           select partition from audit_pages union select old_partition from audit_pages
           where old_partition is not null""",
    )
    con.execute(
        """create or replace temp table audit_new as
           with pages as (
               select partition, outcome from page_state where source_id = ?
           ), bulletins as (
               select b.bulletin_id, b.url_key,
                      coalesce(p.partition, strftime(b.published, '%Y-%m'), 'undated') as partition
               from bulletin as b
               left join page_state as p on p.source_id = b.source_id and p.url_key = b.url_key
               where b.source_id = ?
           ), facts as (
               select b.partition, count(*) as n from fact as f join bulletins as b using (bulletin_id)
               where f.source_id = ?
               group by b.partition
           ), quarantined as (
               select coalesce(b.partition, p.partition, 'undated') as partition, count(*) as n
               from quarantine as q
               left join bulletins as b on b.bulletin_id = q.record_key
               left join page_state as p on p.source_id = q.source_id and p.url_key = q.record_key
               where q.source_id = ?
               group by 1
           ), outcomes as (
               select partition, count(*) as discovered,
                      count(*) filter (where outcome = 'fetched') as fetched,
                      count(*) filter (where outcome = 'not_modified') as not_modified,
                      count(*) filter (where outcome = 'skipped') as skipped,
                      count(*) filter (where outcome = 'failed') as failed
               from pages group by partition
           ), parsed as (
               select partition, count(*) as n from bulletins group by partition
           )
           select t.partition,
                  coalesce(o.discovered, 0) as discovered, coalesce(o.fetched, 0) as fetched,
                  coalesce(o.not_modified, 0) as not_modified, coalesce(o.skipped, 0) as skipped,
                  coalesce(o.failed, 0) as failed, coalesce(p.n, 0) as parsed, coalesce(f.n, 0) as facts,
                  coalesce(q.n, 0) as quarantined
           from audit_touched as t
           left join outcomes as o using (partition)
           left join parsed as p using (partition)
           left join facts as f using (partition)
           left join quarantined as q using (partition)""",
        [src, src, src, src],
    )
    con.execute(
        """insert into load_audit
           select ?, a.partition, a.discovered, a.fetched, a.not_modified, a.skipped, a.failed, a.parsed,
                  a.facts, a.quarantined, coalesce(o.load_count, 0) + 1, coalesce(o.first_loaded_at, ?), ?, ?
           from audit_new as a
           left join load_audit as o on o.source_id = ? and o.partition = a.partition""",
        [src, now, now, run_id, src],
    )
    # keep only the newest row of each partition (the one just inserted has the highest load_count)
    con.execute(
        """delete from load_audit as l where l.source_id = ? and exists (
               select 1 from load_audit as n where n.source_id = l.source_id and n.partition = l.partition
               and n.load_count > l.load_count)""",
        [src],
    )
    # a partition whose every page moved elsewhere holds nothing any more
    con.execute(
        """delete from load_audit where source_id = ? and discovered = 0 and parsed = 0 and facts = 0
           and quarantined = 0 and partition in (select partition from audit_touched)""",
        [src],
    )

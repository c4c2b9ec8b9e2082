"""Idempotent loading of source batches into the warehouse, one transaction per call.

Everything a batch fetched replaces what the warehouse held for the same pages (bulletins, facts and quarantine
rows keyed by source + URL), so loading the same window again leaves the same warehouse. Frames are inserted
whole (executemany was measured ~1,000x slower). Several batches of distinct sources can share one transaction
(:func:`load_batches`): every statement is set-based over the batches' sources, so a re-parse of thousands of
small sources pays the validation, the ~25 statements and the commit once per chunk, not once per source.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
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
from etl.warehouse.sqlparams import in_list
from etl.warehouse.validate import bulletin_schema, fact_schema, quarantine_columns_frame, validate

RAW_COLUMNS = [
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
]
DOC_COLUMNS = ["source_id", "url_key", "url", "role", "content_hash", "etag", "last_modified", "fetched_at"]


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


def _merged(rows: list[BatchRows]) -> BatchRows:
    if len(rows) == 1:
        return rows[0]

    def cat(tables: list[dict[str, list]]) -> dict[str, list]:
        return {k: [v for t in tables for v in t[k]] for k in tables[0]}

    return BatchRows(
        cat([r.bulletins for r in rows]), cat([r.facts for r in rows]), cat([r.quarantine for r in rows])
    )


def load_batch(
    con: duckdb.DuckDBPyConnection, batch: SourceBatch, run_id: str, move_cursor: bool = True
) -> SourceStats:
    """Validate and load one batch; returns its stats with facts and quarantine counts filled in."""
    return load_batches(con, [batch], run_id, move_cursor)[0]


def load_batches(
    con: duckdb.DuckDBPyConnection, batches: list[SourceBatch], run_id: str, move_cursor: bool = True
) -> list[SourceStats]:
    """Validate and load batches of distinct sources in one transaction (all or none of them); returns their
    stats with facts and quarantine counts filled in, in the batches' order."""
    sources = [b.source_id for b in batches]
    if not batches:
        return []
    if len(set(sources)) != len(sources):
        # every statement replaces a source's rows by key; two batches of one source would both insert
        raise ValueError(f"one transaction loads one batch per source, got {sorted(sources)}")
    now = datetime.now(UTC)
    rows = [batch_rows(b) for b in batches]
    # which batch a bulletin (the key of bulletin and fact rejects) belongs to
    owner = {
        bid: i for i, r in enumerate(rows) for bid in r.bulletins["bulletin_id"] + r.facts["bulletin_id"]
    }
    position = {s: i for i, s in enumerate(sources)}

    def owner_of(key: object, source_id: object) -> int:
        return owner.get(key, position.get(source_id, 0))  # type: ignore[arg-type]

    bdf, fdf = _frames(_merged(rows), run_id)
    vb = validate(bdf, bulletin_schema(), "bulletin", "bulletin_id")
    rejected_bulletins = {r["record_key"] for r in vb.rejected}
    orphan = fdf["bulletin_id"].isin(rejected_bulletins)
    quarantine = list(vb.rejected)
    for _, row in fdf[orphan].iterrows():
        quarantine.append(
            {
                "layer": "fact",
                "record_key": row["bulletin_id"],
                "source_id": row["source_id"],
                "check": "bulletin_quarantined",
                "reason": f"its bulletin {row['bulletin_id']} was quarantined",
                "row": json.loads(json.dumps(row.to_dict(), default=str, ensure_ascii=False)),
            }
        )
    vf = validate(fdf[~orphan], fact_schema(), "fact", "bulletin_id")
    quarantine += vf.rejected
    found = quarantine_columns(quarantine)
    # rejected before validation (each batch's own), then by it
    q_cols = {k: [v for r in rows for v in r.quarantine[k]] + found[k] for k in found}
    q_owner = [i for i, r in enumerate(rows) for _ in r.quarantine["record_key"]] + [
        owner_of(r["record_key"], r.get("source_id")) for r in quarantine
    ]
    facts = vf.valid
    bulletins = vb.valid
    fact_count = Counter(owner[b] for b in facts["bulletin_id"])
    quarantined = Counter(q_owner)
    for i, b in enumerate(batches):
        b.stats.facts = fact_count[i]
        b.stats.quarantined = quarantined[i]

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
            for b in batches
            for p in b.raw_pages
        ],
        columns=RAW_COLUMNS,
    )
    fetched = [[url_key(u) for u in b.replaced_urls()] for b in batches]
    fetched_urls = _keyed(sources, fetched, "url_key")
    # a batch's quarantine rows are replaced for the records it holds again and the pages it read again
    q_keys = [set(fetched[i]) | set(r.bulletins["bulletin_id"]) for i, r in enumerate(rows)]
    for key, i in zip(q_cols["record_key"], q_owner, strict=True):
        q_keys[i].add(key)
    q_df = quarantine_columns_frame(q_cols, run_id, now)
    q_key_df = _keyed(sources, [sorted(k) for k in q_keys], "record_key")
    ok_df = _keyed(sources, [[url_key(u) for u in b.succeeded_urls] for b in batches], "url_key")
    fail_df = pd.DataFrame(
        [
            {
                "source_id": b.source_id,
                "url": f.url,
                "url_key": url_key(f.url),
                "stage": f.stage,
                "status": f.status,
                "error": f.reason,
            }
            for b in batches
            for f in b.stats.failures
        ],
        columns=["source_id", "url", "url_key", "stage", "status", "error"],
    )
    page_df = _page_frame(batches, rows)
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
            for b in batches
            for d in {url_key(d.url): d for d in b.documents}.values()
        ],
        columns=DOC_COLUMNS,
    )
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
        retry_conflicts(
            lambda: _write(con, sources, run_id, now, batches, move_cursor, set(frames) - set(present))
        )
    finally:
        for name in present:
            con.unregister(name)
    return [b.stats for b in batches]


def _keyed(sources: list[str], keys: list[list[str]], name: str) -> pd.DataFrame:
    """A frame of (source_id, key) from each source's keys."""
    return pd.DataFrame(
        {
            "source_id": [s for s, ks in zip(sources, keys, strict=True) for _ in ks],
            name: [k for ks in keys for k in ks],
        },
        dtype="object",
    )


def _write(
    con: duckdb.DuckDBPyConnection,
    sources: list[str],
    run_id: str,
    now: datetime,
    batches: list[SourceBatch],
    move_cursor: bool,
    empty: set[str],
) -> None:
    """The batches' one transaction; the frames it reads are registered by name. A statement driven by an empty
    frame is skipped: a night in which nothing changed is mostly empty frames, and each statement costs a few
    milliseconds. Every statement names the sources: a bulletin id is its source's (models.bulletin_id), and the
    filter lets DuckDB skip other sources' row groups instead of scanning the whole table for every batch (a
    re-parse of 1M pages slowed down chunk after chunk without it)."""

    def run(needs: str, sql: str, params: list | None = None) -> None:
        if needs not in empty:
            con.execute(sql, params or [])

    s = sources
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
            f"""delete from fact where {in_list("source_id", s)} and bulletin_id in (
                    select b.bulletin_id from bulletin as b
                    join fetched_urls as u on u.source_id = b.source_id and u.url_key = b.url_key
                    where {in_list("b.source_id", s)})""",
            [*s, *s],
        )
        run(
            "bdf",
            f"delete from fact where {in_list('source_id', s)} and bulletin_id in (select bulletin_id from bdf)",
            s,
        )
        run(
            "fetched_urls",
            f"""delete from bulletin as b where {in_list("b.source_id", s)} and exists (
                    select 1 from fetched_urls as u where u.source_id = b.source_id and u.url_key = b.url_key)""",
            s,
        )
        run("bulletins", "insert into bulletin select * from bulletins")
        run("facts", "insert into fact by name select * from facts")
        run(
            "q_key_df",
            f"""delete from quarantine as q where {in_list("q.source_id", s)} and exists (
                    select 1 from q_key_df as k where k.source_id = q.source_id and k.record_key = q.record_key)""",
            s,
        )
        run("q_df", "insert into quarantine select * from q_df")
        run(
            "ok_df",
            f"""delete from fetch_failure as x where {in_list("x.source_id", s)} and exists (
                    select 1 from ok_df as o where o.source_id = x.source_id and o.url_key = x.url_key)""",
            s,
        )
        run(
            "fail_df",
            f"""update fetch_failure as x set attempts = x.attempts + 1, last_failed_at = ?, status = f.status,
                       error = f.error, url = f.url, last_run_id = ?
                from fail_df as f
                where {in_list("x.source_id", s)} and x.source_id = f.source_id and x.url_key = f.url_key
                  and x.last_run_id <> ?""",
            [now, run_id, *s, run_id],
        )
        run(
            "fail_df",
            f"""insert into fetch_failure
                select f.source_id, f.url, f.url_key, f.stage, f.status, f.error, 1, ?, ?, ? from fail_df as f
                where not exists (select 1 from fetch_failure as x
                                  where {in_list("x.source_id", s)} and x.source_id = f.source_id
                                    and x.url_key = f.url_key)""",
            [now, now, run_id, *s],
        )
        if "page_df" not in empty:
            _rebuild_audit(con, s, run_id, now)
        _update_state(con, batches, run_id, now, move_cursor)
        con.execute("commit")
    except Exception:
        # a commit that failed (a DuckLake conflict) has already ended the transaction
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise


def _update_state(
    con: duckdb.DuckDBPyConnection, batches: list[SourceBatch], run_id: str, now: datetime, move_cursor: bool
) -> None:
    sources = [b.source_id for b in batches]
    old = {
        r[0]: (r[1], r[2])
        for r in con.execute(
            f"select source_id, cursor_date, last_success_at from source_state where {in_list('source_id', sources)}",
            sources,
        ).fetchall()
    }
    values: list = []
    for batch in batches:
        st = batch.stats.status
        status = st if st == "ok" else f"{st}: {len(batch.stats.failures)} failed"
        cursor, last_success = old.get(batch.source_id, (None, None))
        # a failed discovery saw only part of the list: moving the cursor would put the unseen part out of the
        # next night's window for good
        if move_cursor and st != "failed" and batch.newest and (cursor is None or batch.newest > cursor):
            cursor = batch.newest
        if batch.stats.fetched + batch.stats.not_modified > 0:
            last_success = now
        values += [batch.source_id, cursor, run_id, now, status, last_success]
    con.execute(f"delete from source_state where {in_list('source_id', sources)}", sources)
    con.execute("insert into source_state values " + ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(batches)), values)


def _page_frame(batches: list[SourceBatch], rows: list[BatchRows]) -> pd.DataFrame:
    """The pages of the batches with their outcome and partition (list pages, run-level faults, stay out: they
    are in the run summary and fetch_failure, not in the ledger of pages)."""
    out = []
    for batch, r in zip(batches, rows, strict=True):
        month_of_url: dict[str, str] = {}
        for ref in batch.refs:
            if ref.published:
                month_of_url[ref.url] = ref.published.strftime("%Y-%m")
        for url, published in zip(r.bulletins["url"], r.bulletins["published"], strict=True):
            if published:
                month_of_url[url] = published.strftime("%Y-%m")  # the page's own date wins over the list's
        listing = {f.url for f in batch.stats.failures + batch.stats.skips if f.stage == "discover"}
        out += [
            {
                "source_id": batch.source_id,
                "url_key": url_key(u),
                "partition": month_of_url.get(u, "undated"),
                "outcome": o,
                "read_at": batch.read_at.get(u),
            }
            for u, o in batch.outcomes.items()
            if u not in listing
        ]
    df = pd.DataFrame(
        out, columns=["source_id", "url_key", "partition", "outcome", "read_at"], dtype="object"
    )
    df["read_at"] = pd.to_datetime(df["read_at"], utc=True)
    return df


def _rebuild_audit(con: duckdb.DuckDBPyConnection, sources: list[str], run_id: str, now: datetime) -> None:
    """Record the batches' pages in the ledger and rebuild the audit rows of every partition they touch from
    the ledger and the tables. A page seen undated (a retried failure, a feed item without date) keeps the
    partition it had; its bulletin's publication date decides once it has one."""
    s = sources
    con.execute(
        f"""create or replace temp table audit_pages as
            with old as (select source_id, url_key, partition from page_state where {in_list("source_id", s)})
            select d.source_id, d.url_key, d.outcome, d.read_at,
                   coalesce(case when d.partition <> 'undated' then d.partition end,
                            case when o.partition <> 'undated' then o.partition end, 'undated') as partition,
                   o.partition as old_partition
            from page_df as d
            left join old as o on o.source_id = d.source_id and o.url_key = d.url_key""",
        s,
    )
    con.execute(
        f"""delete from page_state as p where {in_list("p.source_id", s)} and exists (
                select 1 from audit_pages as a where a.source_id = p.source_id and a.url_key = p.url_key)""",
        s,
    )
    con.execute(
        "insert into page_state select source_id, url_key, partition, outcome, read_at, ?, ? from audit_pages",
        [run_id, now],
    )
    con.execute(
        """create or replace temp table audit_touched as
           select source_id, partition from audit_pages union select source_id, old_partition from audit_pages
           where old_partition is not null""",
    )
    con.execute(
        f"""create or replace temp table audit_new as
            with states as (
                select source_id, url_key, partition, outcome from page_state where {in_list("source_id", s)}
            ), bulletins as (
                select b.source_id, b.bulletin_id, b.url_key,
                       coalesce(p.partition, strftime(b.published, '%Y-%m'), 'undated') as partition
                from bulletin as b
                left join states as p on p.source_id = b.source_id and p.url_key = b.url_key
                where {in_list("b.source_id", s)}
            ), facts as (
                select b.source_id, b.partition, count(*) as n
                from fact as f join bulletins as b using (bulletin_id)
                where {in_list("f.source_id", s)}
                group by b.source_id, b.partition
            ), quarantined as (
                select q.source_id, coalesce(b.partition, p.partition, 'undated') as partition, count(*) as n
                from quarantine as q
                left join bulletins as b on b.source_id = q.source_id and b.bulletin_id = q.record_key
                left join states as p on p.source_id = q.source_id and p.url_key = q.record_key
                where {in_list("q.source_id", s)}
                group by 1, 2
            ), outcomes as (
                select source_id, partition, count(*) as discovered,
                       count(*) filter (where outcome = 'fetched') as fetched,
                       count(*) filter (where outcome = 'not_modified') as not_modified,
                       count(*) filter (where outcome = 'skipped') as skipped,
                       count(*) filter (where outcome = 'failed') as failed
                from states group by source_id, partition
            ), parsed as (
                select source_id, partition, count(*) as n from bulletins group by source_id, partition
            )
            select t.source_id, t.partition,
                   coalesce(o.discovered, 0) as discovered, coalesce(o.fetched, 0) as fetched,
                   coalesce(o.not_modified, 0) as not_modified, coalesce(o.skipped, 0) as skipped,
                   coalesce(o.failed, 0) as failed, coalesce(p.n, 0) as parsed, coalesce(f.n, 0) as facts,
                   coalesce(q.n, 0) as quarantined
            from audit_touched as t
            left join outcomes as o using (source_id, partition)
            left join parsed as p using (source_id, partition)
            left join facts as f using (source_id, partition)
            left join quarantined as q using (source_id, partition)""",
        [*s, *s, *s, *s],
    )
    con.execute(
        """insert into load_audit
           select a.source_id, a.partition, a.discovered, a.fetched, a.not_modified, a.skipped, a.failed,
                  a.parsed, a.facts, a.quarantined, coalesce(o.load_count, 0) + 1, coalesce(o.first_loaded_at, ?),
                  ?, ?
           from audit_new as a
           left join load_audit as o on o.source_id = a.source_id and o.partition = a.partition""",
        [now, now, run_id],
    )
    # keep only the newest row of each partition (the one just inserted has the highest load_count)
    con.execute(
        f"""delete from load_audit as l where {in_list("l.source_id", s)} and exists (
                select 1 from load_audit as n where n.source_id = l.source_id and n.partition = l.partition
                and n.load_count > l.load_count)""",
        s,
    )
    # a partition whose every page moved elsewhere holds nothing any more
    con.execute(
        f"""delete from load_audit as l where {in_list("l.source_id", s)} and l.discovered = 0 and l.parsed = 0
                and l.facts = 0 and l.quarantined = 0 and exists (
                    select 1 from audit_touched as t where t.source_id = l.source_id and t.partition = l.partition)""",
        s,
    )

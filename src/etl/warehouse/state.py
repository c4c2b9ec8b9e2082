"""What a run needs to know from earlier runs: cursors, HTTP validators, pages that failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from etl.models import FetchMemory


@dataclass
class RunState:
    cursors: dict[str, date | None] = field(default_factory=dict)
    memory: dict[str, dict[str, FetchMemory]] = field(default_factory=dict)  # source → url key → validators
    retry_urls: dict[str, list[str]] = field(default_factory=dict)  # source → url keys of pages that failed


def read_state(con: duckdb.DuckDBPyConnection, source_ids: list[str]) -> RunState:
    st = RunState()
    for sid in source_ids:
        row = con.execute("select cursor_date from source_state where source_id = ?", [sid]).fetchone()
        st.cursors[sid] = row[0] if row else None
        # The newest version of each page that is still loaded: its validators make the next GET conditional.
        rows = con.execute(
            """with latest as (
                   select url_key, etag, last_modified, content_hash,
                          row_number() over (partition by url_key order by fetched_at desc) as rn
                   from raw_page where source_id = ?
               )
               select l.url_key, l.etag, l.last_modified, l.content_hash from latest as l
               where l.rn = 1 and exists (select 1 from bulletin as b where b.source_id = ? and b.url_key = l.url_key)""",
            [sid, sid],
        ).fetchall()
        # List pages, feeds and robots.txt: their stored body answers a 304.
        rows += con.execute(
            "select url_key, etag, last_modified, content_hash from site_document where source_id = ?", [sid]
        ).fetchall()
        st.memory[sid] = {u: FetchMemory(e, lm, h) for u, e, lm, h in rows}
        st.retry_urls[sid] = [
            u
            for (u,) in con.execute(
                "select url_key from fetch_failure where source_id = ? and stage = 'fetch' order by url_key",
                [sid],
            ).fetchall()
        ]
    return st

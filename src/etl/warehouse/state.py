"""What a run needs to know from earlier runs: cursors, HTTP validators, pages that failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from etl.models import FetchMemory
from etl.warehouse.sqlparams import in_list


@dataclass
class RunState:
    cursors: dict[str, date | None] = field(default_factory=dict)
    memory: dict[str, dict[str, FetchMemory]] = field(default_factory=dict)  # source → url key → validators
    retry_urls: dict[str, list[str]] = field(default_factory=dict)  # source → url keys of pages that failed


def read_state(con: duckdb.DuckDBPyConnection, source_ids: list[str]) -> RunState:
    """The state of ``source_ids`` in four queries, whatever their number (four per source cost ~8 ms each: 16 s
    before a run of 2,000 sources could start)."""
    st = RunState(
        cursors=dict.fromkeys(source_ids),
        memory={s: {} for s in source_ids},
        retry_urls={s: [] for s in source_ids},
    )
    if not source_ids:
        return st
    ids = in_list("source_id", source_ids)
    for sid, cursor in con.execute(
        f"select source_id, cursor_date from source_state where {ids}", source_ids
    ).fetchall():
        st.cursors[sid] = cursor
    # The newest version of each page that its loaded bulletins were read from: its validators make the next GET
    # conditional. Not a newer version that could not be read (a challenge page): a 304 to that one would clear
    # the page's failure while the warehouse still holds the older text.
    rows = con.execute(
        f"""with loaded as (
               select distinct source_id, url_key, content_hash from bulletin where {ids}
           ), latest as (
               select r.source_id, r.url_key, r.etag, r.last_modified, r.content_hash,
                      row_number() over (partition by r.source_id, r.url_key order by r.fetched_at desc) as rn
               from raw_page as r
               where {in_list("r.source_id", source_ids)} and exists (
                   select 1 from loaded as b
                   where b.source_id = r.source_id and b.url_key = r.url_key and b.content_hash = r.content_hash)
           )
           select source_id, url_key, etag, last_modified, content_hash from latest
           where rn = 1
           order by source_id, url_key""",
        [*source_ids, *source_ids],
    ).fetchall()
    # List pages, feeds and robots.txt: their stored body answers a 304.
    rows += con.execute(
        f"""select source_id, url_key, etag, last_modified, content_hash from site_document where {ids}
            order by source_id, url_key""",
        source_ids,
    ).fetchall()
    for sid, u, e, lm, h in rows:
        st.memory[sid][u] = FetchMemory(e, lm, h)
    for sid, u in con.execute(
        f"""select source_id, url_key from fetch_failure where {ids} and stage in ('fetch', 'parse')
            order by source_id, url_key""",
        source_ids,
    ).fetchall():
        st.retry_urls[sid].append(u)
    return st

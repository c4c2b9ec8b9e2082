"""A re-parse backfill in chunks over worker processes loads exactly what the nightly run loaded, records each
source x month partition, and fails only the month whose stored page is gone."""

from __future__ import annotations

from datetime import date

import pytest

from etl.fetch.rawzone import RawZone
from etl.orchestration.backfill import by_source, plan
from etl.orchestration.reparse_pool import reparse_window
from etl.warehouse.database import connect, migrate
from tests.cmssites import CmsSites
from tests.orchestration.test_conditional_lists import nightly, sources

FACTS = "select bulletin_id, indicator, region_code, value, evidence from fact order by all"
RECORDED = "select count(*) from backfill_partition where mode = 'reparse' and status = 'done'"


def _loaded(tmp_path, only: str | None = None):
    """A warehouse at tmp_path/w.duckdb loaded by a nightly run of the CMS sites (or of source ``only``), its
    raw zone at tmp_path/raw: (connection, sources)."""
    con = connect(tmp_path / "w.duckdb")
    migrate(con)
    with CmsSites() as site:
        srcs = [s for s in sources(site) if only in (None, s.id)]
        nightly(con, srcs, RawZone(tmp_path / "raw"))
    return con, srcs


def test_chunks_over_processes_load_what_the_nightly_loaded(tmp_path):
    con, srcs = _loaded(tmp_path)
    before = con.execute(FACTS).fetchall()
    assert len(before) == 70
    todo, _ = plan(con, [s.id for s in srcs], date(2024, 1, 1), date(2024, 12, 31), "reparse", "missing")
    from etl.models import Window

    seen: list[tuple[int, int, int, int]] = []
    recorded: list[int] = []
    stats, times = reparse_window(
        con,
        srcs,
        by_source(todo),
        str(tmp_path / "raw"),
        Window(date(2024, 1, 1), date(2024, 12, 31)),
        "r2",
        workers=2,
        chunk_pages=3,
        progress=lambda t, total: (
            seen.append((t.chunks, t.pages, t.facts, total)),
            recorded.append(con.execute(RECORDED).fetchone()[0]),
        ),
    )
    # the total is counted before the first chunk, and the last call reaches it
    assert len(seen) == 12 and {total for *_, total in seen} == {35} and seen[-1] == (12, 35, 70, 35)
    # a source's 12 months are recorded as soon as its last chunk is loaded, not at the end of the run: with
    # one of the 12 chunks still out (3 pages: parts of two 7-page sources at most), one or two sources are
    # unrecorded, whichever chunk it is
    assert recorded[10] in (3 * 12, 4 * 12) and recorded[-1] == 5 * 12
    assert recorded == sorted(recorded) and all(n % 12 == 0 for n in recorded)
    assert con.execute(FACTS).fetchall() == before  # same facts, same ids, nothing doubled
    # chunks are cut by pages, not by source: 5 sources of 7 pages in 11 chunks of 3 and one of 2
    assert times.pages == 35 and times.chunks == 12
    assert sum(s.fetched for s in stats) == 35 and sum(s.failed for s in stats) == 0
    # the writer's CPU is its own thread's: never more than the wall time it spent loading
    assert 0 < times.load_cpu <= times.load + 0.01
    assert f"load {times.load:.1f} s ({times.load_cpu:.1f} s CPU)" in times.line()
    months = con.execute(
        "select partition, sum(pages), sum(facts) from backfill_partition where mode = 'reparse' and status = 'done'"
        " group by partition order by partition"
    ).fetchall()
    assert [m for m, _, _ in months] == [f"2024-{m:02d}" for m in range(1, 13)]
    assert sum(p for _, p, _ in months) == 35 and sum(f for _, _, f in months) == 70


def test_small_sources_share_chunks_and_index_reads(tmp_path, monkeypatch):
    """A chunk is pages, not a source: 5 sources of 7 pages in chunks of 16 are 3 chunks (16, 16, 3), and their
    raw-page indexes are read two sources at a time (as many as fit in a chunk), not once per source."""
    from etl.models import Window
    from etl.orchestration import reparse_pool as pool

    con, srcs = _loaded(tmp_path)
    before = con.execute(FACTS).fetchall()
    window = Window(date(2024, 1, 1), date(2024, 12, 31))
    todo, _ = plan(con, [s.id for s in srcs], window.start, window.end, "reparse", "missing")
    reads: list[list[str]] = []
    real = pool.raw_pages_of
    monkeypatch.setattr(pool, "raw_pages_of", lambda c, ids, w: reads.append(ids) or real(c, ids, w))
    stats, times = reparse_window(
        con, srcs, by_source(todo), str(tmp_path / "raw"), window, "r2", workers=2, chunk_pages=16
    )
    assert times.chunks == 3 and times.pages == 35
    assert reads == [[s.id for s in srcs[:2]], [s.id for s in srcs[2:4]], [srcs[4].id]]
    assert sorted(s.source_id for s in stats) == sorted(f"{s.id} (reparse)" for s in srcs)
    assert all(s.fetched == 7 for s in stats)
    assert con.execute(FACTS).fetchall() == before
    assert con.execute(RECORDED).fetchone() == (60,)


class Interrupted(Exception):
    pass


def test_a_run_stopped_part_way_keeps_the_sources_it_finished_and_the_next_run_starts_after_them(tmp_path):
    from etl.models import Window

    con, srcs = _loaded(tmp_path)
    before = con.execute(FACTS).fetchall()
    window = Window(date(2024, 1, 1), date(2024, 12, 31))
    ids = [s.id for s in srcs]
    todo, _ = plan(con, ids, window.start, window.end, "reparse", "missing")

    def stop_in_the_second_source(times, total) -> None:
        if times.chunks == 4:  # 7 pages a source in chunks of 3: the second source's first chunk
            raise Interrupted

    with pytest.raises(Interrupted):
        reparse_window(
            con, srcs, by_source(todo), str(tmp_path / "raw"), window, "r1", workers=1, chunk_pages=3,
            progress=stop_in_the_second_source,
        )  # fmt: skip
    done = con.execute(
        "select source_id, count(*), sum(pages) from backfill_partition where mode = 'reparse' "
        "and status = 'done' group by 1"
    ).fetchall()
    assert done == [(srcs[0].id, 12, 7)]
    todo, skipped = plan(con, ids, window.start, window.end, "reparse", "missing")
    assert {p.source_id for p in skipped} == {srcs[0].id} and len(skipped) == 12
    assert {p.source_id for p in todo} == set(ids[1:]) and len(todo) == 48
    stats, times = reparse_window(
        con, srcs, by_source(todo), str(tmp_path / "raw"), window, "r2", workers=1, chunk_pages=3
    )
    assert times.pages == 28 and sum(s.fetched for s in stats) == 28  # the four sources left, nothing more
    assert con.execute(FACTS).fetchall() == before  # nothing doubled by the chunk loaded twice
    assert con.execute(RECORDED).fetchone() == (60,)


def test_a_missing_stored_page_fails_its_month_only(tmp_path):
    con, srcs = _loaded(tmp_path, only="pager")
    raw = RawZone(tmp_path / "raw")
    (h,) = con.execute(
        "select content_hash from raw_page where url like '%c1000.html'"
    ).fetchone()  # 2024-06-28
    path = tmp_path / "raw" / raw.relpath(h)
    path.chmod(0o644)
    path.unlink()
    from etl.models import Window

    todo, _ = plan(con, ["pager"], date(2024, 5, 1), date(2024, 6, 30), "reparse", "missing")
    stats, _ = reparse_window(
        con, srcs, by_source(todo), str(tmp_path / "raw"), Window(date(2024, 5, 1), date(2024, 6, 30)), "r"
    )
    status = dict(
        con.execute("select partition, status from backfill_partition where mode = 'reparse'").fetchall()
    )
    assert status == {"2024-05": "done", "2024-06": "failed"}
    assert stats[0].failed == 1
    # the page keeps what the warehouse held for it
    assert con.execute("select count(*) from bulletin where url like '%c1000.html'").fetchone() == (1,)


def test_pages_are_counted_per_month_as_they_are_handed_out(tmp_path):
    from etl.models import Window
    from etl.orchestration.reparse import pages_by_month, pages_by_month_of, raw_pages_in_window, raw_pages_of

    con, srcs = _loaded(tmp_path)
    # a page stored twice (changed on a later fetch) is one page to re-parse: its newest version
    con.execute(
        "insert into raw_page select * replace (md5(content_hash) as content_hash, fetched_at + interval 1 day "
        "as fetched_at) from raw_page where status = 200 order by url limit 1"
    )
    totals = []
    for window in (
        Window(date(2024, 1, 1), date(2024, 12, 31)),
        Window(date(2024, 3, 15), date(2024, 5, 20)),
    ):
        for s in srcs:
            pages = raw_pages_in_window(con, s.id, window)
            months: dict[str | None, int] = {}
            for p in pages:
                m = p[4].strftime("%Y-%m") if p[4] else None
                months[m] = months.get(m, 0) + 1
            assert pages_by_month(con, s.id, window) == months
        totals.append(sum(sum(pages_by_month(con, s.id, window).values()) for s in srcs))
        # read for several sources at once, the same as one by one (and a source with nothing stored is there)
        ids = [s.id for s in srcs] + ["nothing-stored"]
        assert pages_by_month_of(con, ids, window) == {i: pages_by_month(con, i, window) for i in ids}
        assert raw_pages_of(con, ids, window) == {i: raw_pages_in_window(con, i, window) for i in ids}
        assert raw_pages_of(con, ids, window)["nothing-stored"] == []
    assert totals[0] == 35 and 0 < totals[1] < 35  # a clipped window counts only its own pages


def test_the_pool_measures_progress_against_the_counts_it_was_planned_with(tmp_path):
    from etl.models import Window
    from etl.orchestration.reparse import pages_by_month

    con, srcs = _loaded(tmp_path)
    window = Window(date(2024, 3, 15), date(2024, 5, 20))
    counts = {s.id: pages_by_month(con, s.id, window) for s in srcs}
    runs = []
    for given in (None, counts, {**counts, srcs[0].id: {"2024-04": 1000}}):
        todo, _ = plan(con, [s.id for s in srcs], window.start, window.end, "reparse", "all")
        seen: list[tuple[int, int]] = []
        reparse_window(
            con,
            srcs,
            by_source(todo),
            str(tmp_path / "raw"),
            window,
            "r",
            workers=1,
            progress=lambda t, total, seen=seen: seen.append((t.pages, total)),
            page_counts=given,
        )
        runs.append(seen[-1])
    handed_out = runs[0][0]
    assert 0 < handed_out < 35
    # counted by the pool, or given by the planner: the same total, the pages handed out
    assert runs[0] == runs[1] == (handed_out, handed_out)
    # given counts are used as they are, not counted again
    assert runs[2] == (handed_out, handed_out - sum(counts[srcs[0].id].values()) + 1000)


def test_the_writer_renews_its_connection_and_loads_the_same(tmp_path, monkeypatch):
    import duckdb

    import etl.orchestration.reparse_pool as pool
    from etl.models import Window

    db = tmp_path / "w.duckdb"
    con, srcs = _loaded(tmp_path)
    before = con.execute(FACTS).fetchall()
    window = Window(date(2024, 1, 1), date(2024, 12, 31))
    todo, _ = plan(con, [s.id for s in srcs], window.start, window.end, "reparse", "all")
    monkeypatch.setattr(pool, "RENEW_PAGES", 10)
    opened = []

    def reopen():
        opened.append(connect(db))
        return opened[-1]

    _, times = reparse_window(
        con,
        srcs,
        by_source(todo),
        str(tmp_path / "raw"),
        window,
        "r3",
        workers=2,
        chunk_pages=3,
        reopen=reopen,
    )
    assert times.pages == 35 and len(opened) == 3  # renewed at 10, 20 and 30 pages
    # every connection the writer had is closed when it returns, the caller's included: the file is free
    for c in [con, *opened]:
        with pytest.raises(duckdb.ConnectionException):
            c.execute("select 1")
    con = connect(db, read_only=True)
    assert con.execute(FACTS).fetchall() == before
    # each renewed connection ran within the writer's budget: the partitions were recorded through the last one
    done = con.execute(
        "select count(*), sum(pages) from backfill_partition where mode = 'reparse' and status = 'done' and run_id = 'r3'"
    ).fetchone()
    assert done == (5 * 12, 35)


def test_the_reparse_after_an_improvement_reads_again_what_an_earlier_one_did_and_only_once(tmp_path):
    """Months are recorded with the reader that did them; with another reader (an edited lexicon, a source's
    new region) the default plan runs them again, the facts are replaced, not doubled, and the run after it has
    nothing left to do."""
    from dataclasses import replace

    from etl.models import Window
    from etl.orchestration.backfill import read_by_another
    from etl.orchestration.reader import reader_of

    con, srcs = _loaded(tmp_path)
    before = con.execute(FACTS).fetchall()
    window = Window(date(2024, 1, 1), date(2024, 12, 31))
    ids = [s.id for s in srcs]
    readers = {s.id: reader_of(s) for s in srcs}

    def planned(srcs_now):
        rs = {s.id: reader_of(s) for s in srcs_now}
        todo, skipped = plan(con, ids, window.start, window.end, "reparse", "missing", rs)
        return todo, skipped, read_by_another(con, todo, "reparse", rs)

    todo, _, stale = planned(srcs)
    assert len(todo) == 60 and stale == set()
    reparse_window(con, srcs, by_source(todo), str(tmp_path / "raw"), window, "r1", workers=1)
    recorded = con.execute(
        "select source_id, min(reader), max(reader), count(*) from backfill_partition where mode = 'reparse' "
        "group by 1 order by 1"
    ).fetchall()
    assert recorded == [(s, readers[s], readers[s], 12) for s in sorted(ids)]
    assert planned(srcs)[0] == []  # the same reader: nothing to do

    # one source's issuing region is corrected: its months, and only its, are read again
    moved = replace(srcs[0], region="110000")
    now = [moved, *srcs[1:]]
    todo, skipped, stale = planned(now)
    assert {p.source_id for p in todo} == {moved.id} and len(todo) == 12 and stale == set(todo)
    assert len(skipped) == 48
    stats, times = reparse_window(con, now, by_source(todo), str(tmp_path / "raw"), window, "r2", workers=1)
    assert times.pages == 7 and sum(s.fetched for s in stats) == 7
    after = con.execute(FACTS).fetchall()
    assert len(after) == len(before)  # replaced, not doubled
    assert planned(now)[0] == []
    assert con.execute(
        "select count(distinct reader) from backfill_partition where mode = 'reparse' and source_id = ?",
        [moved.id],
    ).fetchone() == (1,)

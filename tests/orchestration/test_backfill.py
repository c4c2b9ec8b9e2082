from datetime import date

import pytest

from etl.orchestration.backfill import PartitionRecord, months, plan, record, record_all
from etl.warehouse.database import open_warehouse


def test_months_are_clipped_to_the_window():
    got = months(date(2024, 1, 15), date(2024, 3, 10))
    assert [(m, w.start, w.end) for m, w in got] == [
        ("2024-01", date(2024, 1, 15), date(2024, 1, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2024-03", date(2024, 3, 1), date(2024, 3, 10)),
    ]
    assert [m for m, _ in months(date(2024, 12, 1), date(2025, 1, 1))] == ["2024-12", "2025-01"]
    with pytest.raises(ValueError, match="ends"):
        months(date(2024, 2, 1), date(2024, 1, 1))


def test_plan_skips_done_partitions_and_honours_reprocess(tmp_path):
    from datetime import UTC, datetime

    with open_warehouse(tmp_path / "w.duckdb") as con:
        todo, skipped = plan(con, ["a", "b"], date(2024, 1, 1), date(2024, 2, 29), "fetch", "missing")
        assert [p.name for p in todo] == [
            "a 2024-01",
            "a 2024-02",
            "b 2024-01",
            "b 2024-02",
        ] and skipped == []
        now = datetime.now(UTC)
        record(con, todo[0], "fetch", "done", "r1", now, 3, 9)
        record(con, todo[1], "fetch", "failed", "r1", now, 1, 0, "http://x/1")
        record(con, todo[0], "fetch", "done", "r2", now, 3, 9)  # recorded again: still one row
        assert con.execute("select count(*) from backfill_partition").fetchone()[0] == 2
        todo, skipped = plan(con, ["a", "b"], date(2024, 1, 1), date(2024, 2, 29), "fetch", "missing")
        assert [p.name for p in todo] == ["a 2024-02", "b 2024-01", "b 2024-02"]
        assert [p.name for p in skipped] == ["a 2024-01"]
        todo, _ = plan(con, ["a", "b"], date(2024, 1, 1), date(2024, 2, 29), "fetch", "failed")
        assert [p.name for p in todo] == ["a 2024-02"]
        todo, _ = plan(con, ["a", "b"], date(2024, 1, 1), date(2024, 2, 29), "fetch", "all")
        assert len(todo) == 4
        # the reparse mode keeps its own state
        todo, _ = plan(con, ["a"], date(2024, 1, 1), date(2024, 1, 31), "reparse", "missing")
        assert [p.name for p in todo] == ["a 2024-01"]
        with pytest.raises(ValueError, match="reprocess"):
            plan(con, ["a"], date(2024, 1, 1), date(2024, 1, 31), "fetch", "some")


def test_record_all_writes_every_partition_once_and_replaces_only_its_own_mode(tmp_path):
    from datetime import UTC, datetime

    with open_warehouse(tmp_path / "w.duckdb") as con:
        todo, _ = plan(con, ["a", "b"], date(2023, 1, 1), date(2024, 12, 31), "reparse", "missing")
        assert len(todo) == 48
        now = datetime.now(UTC)
        record(con, todo[0], "fetch", "done", "f1", now, 1, 1)  # the fetch mode's own row stays
        first = [PartitionRecord(p, "done", i, 2 * i) for i, p in enumerate(todo)]
        record_all(con, first, "reparse", "r1", now)
        again = [
            PartitionRecord(todo[3], "failed", 0, 0, "http://a/3: gone"),
            PartitionRecord(todo[40], "done", 7, 8),
        ]
        record_all(con, again, "reparse", "r2", now)
        record_all(con, [], "reparse", "r3", now)  # nothing to record: nothing written
        rows = con.execute(
            """select source_id, partition, status, run_id, pages, facts, error from backfill_partition
               where mode = 'reparse' order by source_id, partition"""
        ).fetchall()
        assert len(rows) == 48
        assert rows[0] == ("a", "2023-01", "done", "r1", 0, 0, None)
        assert rows[3] == ("a", "2023-04", "failed", "r2", 0, 0, "http://a/3: gone")
        assert rows[40] == ("b", "2024-05", "done", "r2", 7, 8, None)
        assert rows[47] == ("b", "2024-12", "done", "r1", 47, 94, None)
        assert con.execute("select count(*) from backfill_partition where mode = 'fetch'").fetchone()[0] == 1
        todo, skipped = plan(con, ["a", "b"], date(2023, 1, 1), date(2024, 12, 31), "reparse", "failed")
        assert [p.name for p in todo] == ["a 2023-04"] and len(skipped) == 47


def test_fetch_parallelism_comes_from_the_hosts_politeness_and_hosts_interleave():
    from datetime import date

    from etl.fetch.sources import parse_source
    from etl.models import Window
    from etl.orchestration.backfill import Partition, interleave_by_host, parallel_from_politeness

    def src(sid, host, conc):
        return parse_source(
            {
                "id": sid,
                "name": sid,
                "list_url": f"http://{host}/l.html",
                "politeness": {"concurrency": conc},
            },
            "t",
        )

    srcs = {s.id: s for s in (src("a1", "a.gov", 3), src("a2", "a.gov", 1), src("b", "b.gov", 2))}
    # a.gov's strictest setting (1) plus b.gov's 2
    assert parallel_from_politeness(list(srcs.values())) == 3
    w = Window(date(2024, 1, 1), date(2024, 1, 31))
    items = [(Partition(s, m, w), []) for s in ("a1", "a2") for m in ("2024-01", "2024-02")]
    items += [(Partition("b", m, w), []) for m in ("2024-01", "2024-02")]
    order = [(p.source_id, p.month) for p, _ in interleave_by_host(items, srcs)]
    assert order[:2] == [("a1", "2024-01"), ("b", "2024-01")]
    assert sorted(order) == sorted((p.source_id, p.month) for p, _ in items)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 0}, "workers must be an integer in 1..64"),
        ({"workers": 2.5}, "workers must be an integer in 1..64"),
        ({"max_parallel": 65}, "max_parallel must be an integer in 1..64"),
        ({"sources": ["nope"]}, "unknown source ids"),
    ],
)
def test_backfill_arguments_are_checked_before_any_work(kwargs, message):
    from etl.orchestration.backfill import check_arguments

    args = {"max_parallel": None, "sources": None, "workers": None, **kwargs}
    with pytest.raises(ValueError, match=message):
        check_arguments(date(2024, 1, 1), date(2024, 1, 31), known={"a"}, **args)
    check_arguments(
        date(2024, 1, 1), date(2024, 1, 31), None, ["a"], {"a"}, workers=64
    )  # the largest allowed


def test_reparse_work_goes_to_months_with_stored_pages_and_undated_pages_to_the_latest():
    from etl.orchestration.backfill import Partition, assign_reparse

    parts = {
        sid: [Partition(sid, m, w) for m, w in months(date(2024, 1, 1), date(2024, 4, 30))] for sid in "abc"
    }
    work = assign_reparse({"a": {"2024-02": 3, "2024-03": 0}, "b": {None: 2, "2024-01": 1}}, parts)
    assert sorted(p.name for p in work.work) == ["a 2024-02", "b 2024-01", "b 2024-04"]
    # every other partition is recorded done without a task, source c (nothing stored) included
    assert len(work.empty) == 12 - 3 and {p.source_id for p in work.empty} == {"a", "b", "c"}


def test_planning_runs_within_its_own_budget_whatever_the_warehouse_allows(tmp_path, monkeypatch):
    from etl.orchestration.backfill import bound_planning

    monkeypatch.setenv("ETL_MEMORY_LIMIT", "2GB")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        assert con.execute("select current_setting('memory_limit')").fetchone() == ("1.8 GiB",)
        bound_planning(con)
        assert con.execute("select current_setting('memory_limit')").fetchone() == ("122.0 MiB",)
        assert plan(con, ["a"], date(2024, 1, 1), date(2024, 2, 29), "reparse", "missing")[0]


def test_a_reparse_month_is_done_for_the_reader_that_did_it_only(tmp_path):
    """After an extractor improvement the default plan reads again what an earlier re-parse did; a month recorded
    before readers were (no reader) counts as an earlier reader's; a fetch month stays done whatever read it."""
    from datetime import UTC, datetime

    from etl.orchestration.backfill import read_by_another

    old, new = {"a": "r-old", "b": "r-old"}, {"a": "r-new", "b": "r-old"}
    with open_warehouse(tmp_path / "w.duckdb") as con:
        todo, _ = plan(con, ["a", "b"], date(2024, 1, 1), date(2024, 3, 31), "reparse", "missing", old)
        now = datetime.now(UTC)
        record_all(
            con, [PartitionRecord(p, "done", 1, 2, reader="r-old") for p in todo[:5]], "reparse", "r1", now
        )
        record_all(
            con, [PartitionRecord(todo[5], "done", 1, 2)], "reparse", "r0", now
        )  # b 2024-03, no reader
        record(con, todo[0], "fetch", "done", "f1", now, 1, 1, reader="r-old")
        args = (con, ["a", "b"], date(2024, 1, 1), date(2024, 3, 31), "reparse")
        todo_same, skipped = plan(*args, "missing", old)
        assert [p.name for p in todo_same] == ["b 2024-03"] and len(skipped) == 5
        todo_new, skipped = plan(*args, "missing", new)
        # a's three months were read by another reader; b's stay done but for the one with no reader
        assert [p.name for p in todo_new] == ["a 2024-01", "a 2024-02", "a 2024-03", "b 2024-03"]
        assert [p.name for p in skipped] == ["b 2024-01", "b 2024-02"]
        assert {p.name for p in read_by_another(con, todo_new, "reparse", new)} == {
            "a 2024-01",
            "a 2024-02",
            "a 2024-03",
            "b 2024-03",
        }
        # failed means failed, whatever the reader; without readers, done is done (the behaviour before)
        assert plan(*args, "failed", new)[0] == []
        assert [p.name for p in plan(*args, "missing")[0]] == []
        # a fetch month is done once fetched: re-reading is the re-parse's job
        todo_f, _ = plan(con, ["a"], date(2024, 1, 1), date(2024, 1, 31), "fetch", "missing", new)
        assert todo_f == [] and read_by_another(con, [todo[0]], "fetch", new) == set()
        assert con.execute(
            "select reader from backfill_partition where mode = 'fetch' and source_id = 'a'"
        ).fetchall() == [("r-old",)]

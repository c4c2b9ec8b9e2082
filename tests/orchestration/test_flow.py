"""The nightly flow under Prefect's test harness, against the demo bureau sites on 127.0.0.1."""

from __future__ import annotations

from datetime import date

import pytest

from etl.cli import load_flow_module
from etl.warehouse.database import connect, table_counts

pytestmark = pytest.mark.usefixtures("prefect_harness", "fast_flow_end")


def scorecard(db):
    con = connect(db, read_only=True)
    try:
        rows = con.execute(
            "select region_code, region_name, social_work_stations, funding from mart_region_scorecard"
        ).fetchall()
        return {r[0]: r[1:] for r in rows}, table_counts(con)
    finally:
        con.close()


def test_nightly_loads_the_demo_and_a_rerun_changes_nothing(tmp_path, demo_sources):
    nightly = load_flow_module("nightly").nightly
    db = tmp_path / "w.duckdb"
    stats = nightly(registry=str(demo_sources), db=str(db), lock_timeout=30)
    by_source = {s["source_id"]: s for s in stats}
    assert len(by_source) == 8
    assert all(
        s["discovered"] == s["fetched"] + s["not_modified"] + s["skipped"] + s["failed"] for s in stats
    )
    assert sum(s["failed"] for s in stats) == 0
    assert by_source["sgzk-weekly"]["parsed"] == 6  # two newspaper pages, three articles each
    assert by_source["fuyang-mzj"]["fetched"] == 4  # GBK site, all four bulletins across two list pages

    card, counts = scorecard(db)
    assert len(card) >= 9
    assert card["341200"][:2] == ("阜阳市", 167.0)
    assert card["320722"][0] == "东海县" and card["320722"][2] == 3_450_000.0
    # sidebar headlines (南京, 合肥, 全国) never become facts
    assert not {"320100", "340100", "100000"} & set(card)

    again = nightly(registry=str(demo_sources), db=str(db), lock_timeout=30)
    assert sum(s["not_modified"] for s in again) == sum(s["discovered"] for s in again) > 0
    card2, counts2 = scorecard(db)
    assert counts2 == counts and card2 == card


def test_a_new_warehouse_gets_facts_with_evidence_and_provenance(tmp_path, demo_sources, monkeypatch):
    nightly = load_flow_module("nightly").nightly
    db = tmp_path / "w.duckdb"
    # the warehouse named by the registry's [warehouse] table, as a deployment finds it with no --db
    for var in ("ETL_WAREHOUSE", "ETL_MEMORY_LIMIT", "ETL_LAKE_DATA"):
        monkeypatch.setenv(var, "")  # restored (unset) after the test, whatever the flow sets
    (demo_sources / "settings.toml").write_text(
        f'[warehouse]\ntarget = "{db.as_posix()}"\nmemory_limit = "256MB"\n', encoding="utf-8"
    )
    nightly(registry=str(demo_sources), lock_timeout=30)
    assert db.exists()
    con = connect(db, read_only=True)
    try:
        row = con.execute(
            "select value, qualifier, evidence, source_url, as_of from mart_region_indicator_latest "
            "where region_code = '341200' and indicator = 'funding'"
        ).fetchone()
        versions = {v for (v,) in con.execute("select distinct extractor_version from fact").fetchall()}
    finally:
        con.close()
    assert row[0] == 1_300_000 and row[1] == "more_than"
    assert "超130万元" in row[2] and row[3].endswith("/art/20250312-stations.html")
    assert str(row[4]) == "2025-03-12"
    assert len(versions) == 1


def test_backfill_reparse_needs_no_network_and_changes_nothing(tmp_path, demo_sites, demo_sources, capsys):
    nightly = load_flow_module("nightly").nightly
    backfill = load_flow_module("backfill").backfill
    db = tmp_path / "w.duckdb"
    nightly(registry=str(demo_sources), db=str(db), lock_timeout=30)
    card, counts = scorecard(db)
    demo_sites.__exit__(None, None, None)  # the bureau sites are gone: only the raw zone remains

    stats = backfill(
        start=date(2023, 1, 1),
        end=date(2025, 12, 31),
        registry=str(demo_sources),
        db=str(db),
        reparse=True,
        lock_timeout=30,
        workers=1,  # in this process; the pool of several is tested in test_reparse_pool
    )
    assert sum(s["fetched"] for s in stats) == 24 and sum(s["failed"] for s in stats) == 0
    card2, counts2 = scorecard(db)
    assert card2 == card
    assert {k: v for k, v in counts2.items() if k not in ("backfill_partition", "load_audit")} == {
        k: v for k, v in counts.items() if k not in ("backfill_partition", "load_audit")
    }
    con = connect(db, read_only=True)
    try:
        cursors = con.execute("select source_id, cursor_date from source_state order by 1").fetchall()
        done = con.execute("select count(*) from backfill_partition where status = 'done'").fetchone()[0]
    finally:
        con.close()
    assert done == 8 * 36

    # a second backfill over the same window skips every partition
    again = backfill(
        start=date(2023, 1, 1),
        end=date(2025, 12, 31),
        registry=str(demo_sources),
        db=str(db),
        reparse=True,
        lock_timeout=30,
    )
    assert again == []
    con = connect(db, read_only=True)
    try:
        assert con.execute("select source_id, cursor_date from source_state order by 1").fetchall() == cursors
    finally:
        con.close()

    # one source's reading settings change (a body selector, here one its pages do not have, so the template's
    # is read as before): its months, and only its, are not done for the new reader
    reg = demo_sources / "demo.toml"
    text = reg.read_text(encoding="utf-8")
    reg.write_text(
        text.replace('id = "fuyang-mzj"\n', 'id = "fuyang-mzj"\nbody_selector = ".no-such-block"\n'), "utf-8"
    )
    args = {
        "start": date(2023, 1, 1),
        "end": date(2025, 12, 31),
        "registry": str(demo_sources),
        "db": str(db),
    }
    capsys.readouterr()
    planned = backfill(**args, reparse=True, dry_run=True, lock_timeout=30)
    out = capsys.readouterr().out
    assert planned and {p["partition"].split()[0] for p in planned} == {"fuyang-mzj"}
    assert all(
        line.endswith("(stored pages; done by an earlier reader)")
        for line in out.splitlines()
        if line.startswith("would re-parse")
    )
    assert "skip (done): kashgar-mzj 2023-01" in out
    stats = backfill(**args, reparse=True, lock_timeout=30, workers=1)
    assert {s["source_id"] for s in stats} == {"fuyang-mzj (reparse)"} and sum(
        s["fetched"] for s in stats
    ) > 0
    assert scorecard(db)[0] == card
    assert backfill(**args, reparse=True, lock_timeout=30, workers=1) == []


def test_fetch_backfill_loads_only_its_window_and_leaves_the_cursor(tmp_path, demo_sources):
    backfill = load_flow_module("backfill").backfill
    db = tmp_path / "w.duckdb"
    plan = backfill(
        start=date(2024, 1, 1),
        end=date(2024, 12, 31),
        registry=str(demo_sources),
        db=str(db),
        dry_run=True,
        lock_timeout=30,
    )
    assert plan and all(p["action"] == "fetch" for p in plan)
    con = connect(db, read_only=True)
    try:
        assert con.execute("select count(*) from bulletin").fetchone()[0] == 0  # a dry run loads nothing
    finally:
        con.close()

    stats = backfill(
        start=date(2024, 1, 1),
        end=date(2024, 12, 31),
        registry=str(demo_sources),
        db=str(db),
        lock_timeout=30,
    )
    assert all(
        s["discovered"] == s["fetched"] + s["not_modified"] + s["skipped"] + s["failed"] for s in stats
    )
    con = connect(db, read_only=True)
    try:
        years = {d.year for (d,) in con.execute("select published from bulletin").fetchall()}
        cursors = {c for (c,) in con.execute("select cursor_date from source_state").fetchall()}
        n = con.execute("select count(*) from bulletin").fetchone()[0]
    finally:
        con.close()
    assert years == {2024} and n == 12
    assert cursors == {None}  # a backfill never moves the nightly cursor


def test_nightly_on_a_dask_task_runner_keeps_one_writer(tmp_path, demo_sources):
    from etl.cli import dask_runner

    nightly = load_flow_module("nightly").nightly.with_options(task_runner=dask_runner("local"))
    db = tmp_path / "w.duckdb"
    stats = nightly(registry=str(demo_sources), db=str(db), lock_timeout=30)
    assert sum(s["fetched"] for s in stats) == 24
    card, _ = scorecard(db)
    assert card["341200"][:2] == ("阜阳市", 167.0)


def test_backfill_against_a_dead_site_fails_its_months_and_revisits_them(tmp_path):
    from etl.cli import EXIT_FAILED_SOURCE, exit_code
    from etl.models import SourceStats
    from etl.orchestration.backfill import plan
    from etl.orchestration.runs import rows_of
    from tests.helpers import dead_site_registry

    reg = dead_site_registry(tmp_path)
    backfill = load_flow_module("backfill").backfill
    db = tmp_path / "w.duckdb"
    state = backfill(
        start=date(2024, 1, 1),
        end=date(2024, 3, 31),
        registry=str(reg),
        db=str(db),
        lock_timeout=30,
        return_state=True,
    )
    assert state.is_failed() and "dead (discovery)" in state.message  # the run is Failed in Prefect
    objs = [SourceStats.from_row(s) for s in rows_of(state)]
    assert [s.status for s in objs] == ["failed"] and "unreachable" in objs[0].failures[0].reason
    assert exit_code(objs) == EXIT_FAILED_SOURCE
    con = connect(db)
    try:
        rows = con.execute("select partition, status, error from backfill_partition order by 1").fetchall()
        assert [(p, s) for p, s, _ in rows] == [
            ("2024-01", "failed"),
            ("2024-02", "failed"),
            ("2024-03", "failed"),
        ]
        assert all("robots.txt unreachable" in e for _, _, e in rows)
        todo, skipped = plan(con, ["dead"], date(2024, 1, 1), date(2024, 3, 31), "fetch", "missing")
        assert len(todo) == 3 and not skipped  # a later backfill visits them again
    finally:
        con.close()

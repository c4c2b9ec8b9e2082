"""The warehouse as a DuckLake on a real PostgreSQL catalog: migrations, loads, quarantine and every mart run
on it; two writer processes load at the same time with nothing lost or doubled; the marts equal those of a
DuckDB-file warehouse loaded with the same batches."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from etl.demo.synthetic import window_batch
from etl.warehouse.database import connect, open_warehouse
from etl.warehouse.load import load_batch
from etl.warehouse.sqlfiles import mart_names
from tests.pgserver import PostgresServer, binaries

LOADER = str(Path(__file__).resolve().parents[1] / "loader_proc.py")
MISSING = importlib.util.find_spec("duckdb_extensions") is None or binaries() is None
pytestmark = pytest.mark.skipif(
    MISSING and os.environ.get("CI") != "true",
    reason="needs PostgreSQL's binaries and the ducklake extra (.ci/run installs both)",
)


def snapshot(con) -> dict[str, list]:
    tables = {
        "bulletin": "select bulletin_id, source_id, title, published from bulletin",
        "fact": "select fact_id, bulletin_id, indicator, region_code, value from fact",
        "load_audit": "select source_id, partition, parsed, facts, load_count from load_audit",
    }
    out = {k: sorted(con.execute(q).fetchall()) for k, q in tables.items()}
    for m in mart_names():
        if m == "mart_source_freshness":  # its ages are relative to now
            continue
        out[m] = sorted(map(repr, con.execute(f"select * from {m}").fetchall()))
    return out


def test_two_writers_at_once_on_a_ducklake_equal_the_file_warehouse(tmp_path, monkeypatch):
    with PostgresServer() as pg:
        lake = "ducklake:postgres:" + pg.createdb("lake")
        monkeypatch.setenv("ETL_LAKE_DATA", str(tmp_path / "lake-data"))
        with open_warehouse(lake) as con:  # migrations, dimensions, views: once, before the writers
            assert con.execute("select count(*) from schema_migration").fetchone()[0] == 6
        env = dict(os.environ)
        procs = [
            subprocess.Popen(
                [sys.executable, LOADER, lake, source, "1", "6"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for source in ("alpha", "beta")
        ]
        outs = [p.communicate(timeout=600) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
        assert all(o[0].count("committed") == 6 for o in outs)
        # the same batches again: idempotent on the lake as on a file
        again = subprocess.run([sys.executable, LOADER, lake, "alpha", "1", "6"], capture_output=True, text=True,
                               env=env, timeout=600)  # fmt: skip
        assert again.returncode == 0, again.stderr[-2000:]
        con = connect(lake, read_only=True)
        try:
            lake_view = snapshot(con)
        finally:
            con.close()

    with open_warehouse(tmp_path / "file.duckdb") as con:
        for source in ("alpha", "beta"):
            for m in range(1, 7):
                load_batch(con, window_batch(source, 2024, m), f"{source}-{m}")
        file_view = snapshot(con)
    assert len(lake_view["bulletin"]) == 2 * 6 * 20 and len(lake_view["fact"]) == 2 * 6 * 20 * 5
    for name in file_view:
        if name == "load_audit":  # alpha was loaded twice on the lake
            continue
        assert lake_view[name] == file_view[name], name
    loads = {(s, p): n for s, p, _, _, n in lake_view["load_audit"]}
    assert {n for (s, _), n in loads.items() if s == "alpha"} == {2}
    assert {n for (s, _), n in loads.items() if s == "beta"} == {1}


def test_a_transaction_refused_for_a_concurrent_commit_runs_again_on_the_new_state(tmp_path, monkeypatch):
    from datetime import UTC, date, datetime

    from etl.models import Window
    from etl.orchestration.backfill import Partition, PartitionRecord, record_all
    from etl.warehouse.lake import is_conflict, retry_conflicts

    def parts(source: str, status: str) -> list[PartitionRecord]:
        return [
            PartitionRecord(
                Partition(source, f"2024-{m:02d}", Window(date(2024, m, 1), date(2024, m, 28))), status
            )
            for m in (1, 2)
        ]

    started = datetime.now(UTC)
    with PostgresServer() as pg:
        lake = "ducklake:postgres:" + pg.createdb("lake")
        monkeypatch.setenv("ETL_LAKE_DATA", str(tmp_path / "lake-data"))
        with open_warehouse(lake) as con:
            record_all(con, parts("a", "failed") + parts("b", "failed"), "reparse", "r0", started)  # one file
        mine, other = connect(lake), connect(lake)
        try:
            attempts: list[int] = []

            def mark_a_done() -> None:
                # another writer deletes from the same data file between this transaction's start and its commit
                # (the first time only), as a concurrent backfill recording its own partitions does
                attempts.append(len(attempts))
                mine.execute("begin transaction")
                mine.execute("delete from backfill_partition where source_id = 'a'")
                mine.execute("insert into backfill_partition (source_id, partition, mode, status) "
                             "values ('a', '2024-01', 'reparse', 'done'), ('a', '2024-02', 'reparse', 'done')")  # fmt: skip
                if len(attempts) == 1:
                    record_all(other, parts("b", "done"), "reparse", "r1", started)
                try:
                    mine.execute("commit")
                except Exception as e:
                    assert is_conflict(e), e  # DuckLake's own words for it
                    raise

            retry_conflicts(mark_a_done)
            assert attempts == [0, 1]
            rows = mine.execute(
                "select source_id, partition, status from backfill_partition order by all"
            ).fetchall()
            assert rows == [(s, f"2024-0{m}", "done") for s in "ab" for m in (1, 2)]  # both writers' changes
        finally:
            mine.close()
            other.close()

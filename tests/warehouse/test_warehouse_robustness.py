"""Idempotent loads in any order, crashes mid-transaction (a real SIGKILL), and two writers at once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from etl.demo.synthetic import window_batch
from etl.warehouse.database import connect, create_views, open_warehouse, view_files
from etl.warehouse.load import load_batch

LOADER = str(Path(__file__).resolve().parents[1] / "loader_proc.py")


def export_marts(con, out: Path) -> dict[str, bytes]:
    create_views(con)
    files = {}
    for v in (p.stem for p in view_files() if p.stem.startswith("mart_")):
        path = out / f"{v}.csv"
        con.execute(f"copy (select * from {v} order by all) to '{path}' (header)")
        files[v] = path.read_bytes()
    return files


def test_loading_a_window_five_times_in_any_order_gives_byte_identical_marts(tmp_path):
    windows = [("s1", 1), ("s1", 2), ("s2", 1), ("s2", 3)]
    with open_warehouse(tmp_path / "once.duckdb") as con:
        for src, m in windows:
            load_batch(con, window_batch(src, 2024, m), "r")
        (tmp_path / "a").mkdir()
        expected = export_marts(con, tmp_path / "a")
    assert all(len(b) > 100 for b in expected.values())

    rng = random.Random(5)
    order = [w for w in windows for _ in range(5)]
    rng.shuffle(order)
    with open_warehouse(tmp_path / "many.duckdb") as con:
        for i, (src, m) in enumerate(order):
            load_batch(con, window_batch(src, 2024, m), f"r{i}")
        (tmp_path / "b").mkdir()
        got = export_marts(con, tmp_path / "b")
        # every partition was loaded five times; the audit says so
        assert {n for (n,) in con.execute("select load_count from load_audit").fetchall()} == {5}
    assert got == expected


def committed_months(db: Path) -> dict[int, int]:
    con = connect(db, lock_timeout=30)
    try:
        rows = con.execute(
            "select cast(split_part(run_id, '-', 2) as integer) as m, count(*) from fact group by m order by m"
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


@pytest.mark.parametrize("trial", range(10))
def test_sigkill_mid_batch_leaves_exactly_the_committed_batches(tmp_path, trial):
    db = tmp_path / "w.duckdb"
    with open_warehouse(db):
        pass
    rng = random.Random(trial)
    stop_after = rng.randint(0, 3)  # commits to see before the kill
    proc = subprocess.Popen(
        [sys.executable, LOADER, str(db), "src", "1", "5", "300"], stdout=subprocess.PIPE, text=True
    )
    seen = 0
    while seen < stop_after:
        line = proc.stdout.readline()
        assert line.startswith("committed"), line
        seen += 1
    os.kill(proc.pid, signal.SIGKILL)  # at whatever point the next batch has reached
    proc.wait()
    proc.stdout.close()

    months = committed_months(db)
    # exactly the batches committed before the kill: a prefix, each complete (300 bulletins x 5 facts)
    assert sorted(months) == list(range(1, len(months) + 1))
    assert len(months) >= stop_after
    assert all(n == 1500 for n in months.values())

    # the next run completes them
    con = connect(db, lock_timeout=30)
    try:
        for m in range(1, 6):
            load_batch(con, window_batch("src", 2024, m, bulletins=300), f"src-{m}")
    finally:
        con.close()
    months = committed_months(db)
    assert months == {m: 1500 for m in range(1, 6)}


def test_two_writer_processes_take_turns_and_both_finish(tmp_path):
    db = tmp_path / "w.duckdb"
    with open_warehouse(db):
        pass
    a = subprocess.Popen(
        [sys.executable, LOADER, str(db), "a", "1", "6", "200", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    b = subprocess.Popen(
        [sys.executable, LOADER, str(db), "b", "1", "6", "200", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out_a, err_a = a.communicate(timeout=300)
    out_b, err_b = b.communicate(timeout=300)
    assert a.returncode == 0 and b.returncode == 0, (err_a, err_b)
    assert out_a.count("committed") == out_b.count("committed") == 6
    con = connect(db, lock_timeout=30)
    try:
        per_source = dict(con.execute("select source_id, count(*) from fact group by 1").fetchall())
        audit = con.execute(
            "select source_id, sum(discovered), sum(fetched), sum(facts) from load_audit group by 1 order by 1"
        ).fetchall()
    finally:
        con.close()
    assert per_source == {"a": 6 * 200 * 5, "b": 6 * 200 * 5}
    assert audit == [("a", 1200, 1200, 6000), ("b", 1200, 1200, 6000)]

import subprocess
import sys

import pytest

from etl.warehouse.database import (
    WarehouseError,
    WarehouseLocked,
    connect,
    migrate,
    open_warehouse,
    table_counts,
)


def test_migrations_apply_once_and_record_themselves(tmp_path):
    db = tmp_path / "w.duckdb"
    con = connect(db)
    assert migrate(con) == [1, 2, 3, 4, 5, 6]
    assert migrate(con) == []
    assert con.execute("select version, name from schema_migration order by version").fetchall() == [
        (1, "core_tables"),
        (2, "backfill_partitions"),
        (3, "fact_region_basis"),
        (4, "page_state"),
        (5, "site_document"),
        (6, "partition_reader"),
    ]
    con.close()


def test_facts_loaded_before_region_basis_existed_say_unrecorded(tmp_path):
    from etl.warehouse.sqlfiles import migrations

    con = connect(tmp_path / "w.duckdb")
    con.execute(
        "create table schema_migration (version integer, name varchar, checksum varchar, applied_at timestamptz)"
    )
    for version, name, sql in migrations()[:2]:
        con.execute(sql)
        con.execute("insert into schema_migration values (?, ?, 'x', now())", [version, name])
    con.execute(
        "insert into fact (fact_id, bulletin_id, source_id, indicator, region_code, value, unit, qualifier, change,"
        " evidence, extractor_version) values ('f', 'b', 's', 'funding', '320722', 1, 'cny', 'exact', 'level',"
        " 'e', '0.2.0')"
    )
    assert migrate(con) == [3, 4, 5, 6]
    assert con.execute("select region_basis from fact").fetchall() == [("unrecorded",)]
    con.close()


def test_older_code_refuses_a_newer_warehouse(tmp_path):
    db = tmp_path / "w.duckdb"
    con = connect(db)
    migrate(con)
    con.execute("insert into schema_migration values (99, 'future', 'x', now())")
    with pytest.raises(WarehouseError, match="schema version 99 is newer than this code knows"):
        migrate(con)
    con.close()


def test_views_and_dimensions_exist(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        counts = table_counts(con)
    assert counts["dim_indicator"] == 11 and counts["dim_region"] > 3000
    for v in ("stg_fact", "core_fact", "mart_region_indicator_latest", "mart_region_scorecard"):
        assert counts[v] == 0


def test_a_second_writer_waits_then_names_the_holder(tmp_path):
    db = tmp_path / "w.duckdb"
    with open_warehouse(db):
        pass
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseLocked) as e:
            connect(db, lock_timeout=0.5)
        assert f"process {holder.pid}" in str(e.value) and "waited" in str(e.value)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    connect(db, lock_timeout=5).close()  # free again once the holder is gone


def test_region_rows_failing_their_contract_are_quarantined(tmp_path, monkeypatch):
    import pandas as pd

    import etl.warehouse.database as wh

    real = pd.DataFrame

    def with_bad_rows(data=None, columns=None, **kw):
        df = real(data, columns=columns, **kw)
        if columns and columns[0] == "code" and "province_code" in columns:
            bad = real(
                [
                    ("12345", "坏码", "county", "341200", "120000", "县"),
                    ("999901", "孤儿县", "county", "999900", "990000", "县"),
                ],
                columns=columns,
            )
            df = pd.concat([df, bad], ignore_index=True)
        return df

    monkeypatch.setattr(wh.pd, "DataFrame", with_bad_rows)
    with open_warehouse(tmp_path / "w.duckdb") as con:
        rows = con.execute(
            "select record_key, check_name from quarantine where layer = 'region' order by 1"
        ).fetchall()
        n = con.execute("select count(*) from dim_region").fetchone()[0]
    assert rows == [("12345", "code: not a 6-digit code"), ("999901", "parent code not in the gazetteer")]
    assert n == 3213

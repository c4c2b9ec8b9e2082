import json

import pytest

from etl.cli import main


def test_extract_prints_jsonl_for_text_and_html(tmp_path, capsys):
    (tmp_path / "a.txt").write_text("盐城市民政局：全市已建成社工站130个，建成率达100%。", encoding="utf-8")
    (tmp_path / "b.html").write_text(
        "<html><body><h1>标题</h1><div id='zoom'><p>连云港市投入资金345万元。</p></div>"
        "<div class='sidebar'>南京市建成社工站100个</div></body></html>",
        encoding="gbk",
    )
    assert main(["extract", str(tmp_path / "a.txt"), str(tmp_path / "b.html"), "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    got = {(r["doc"], r["indicator"], r["region_code"], r["value"], r["qualifier"]) for r in rows}
    assert got == {
        ("a", "social_work_stations", "320900", 130, "exact"),
        ("a", "station_coverage_rate", "320900", 100, "exact"),
        ("b", "funding", "320700", 3_450_000, "exact"),
    }
    assert all(r["evidence"] and r["unit"] and "span_start" in r for r in rows)


def test_extract_region_gives_the_issuing_region_and_every_fact_its_basis(tmp_path, capsys):
    (tmp_path / "c.txt").write_text("社工站建设见成效\n今年全县新建社工站6个。\n", encoding="utf-8")
    assert main(["extract", str(tmp_path / "c.txt")]) == 0
    out = capsys.readouterr()
    assert out.out == ""
    assert "c.txt: 1 numbers not printed, region 1 undecided" in out.err and "--region CODE" in out.err
    assert main(["extract", str(tmp_path / "c.txt"), "--region", "320722"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["indicator"], r["region_code"], r["value"], r["region_basis"]) for r in rows] == [
        ("social_work_stations", "320722", 6, "collective")
    ]
    assert main(["extract", str(tmp_path / "c.txt"), "--region", "999999"]) == 2
    assert "--region 999999: not a division code" in capsys.readouterr().err


def test_extract_names_a_missing_file(tmp_path, capsys):
    assert main(["extract", str(tmp_path / "nope.txt")]) == 1
    assert "nope.txt: cannot read" in capsys.readouterr().err


def test_bad_source_registry_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "s.toml").write_text('[[source]]\nid = "x"\n', encoding="utf-8")
    assert main(["sources", "--sources", str(tmp_path), "--db", str(tmp_path / "w.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "s.toml" in err and "'name'" in err


def test_run_with_a_bad_registry_fails_before_starting_prefect(tmp_path, capsys):
    (tmp_path / "s.toml").write_text('[[source]]\nid = "x"\nname = "某民政局"\n', encoding="utf-8")
    assert main(["run", "--sources", str(tmp_path), "--db", str(tmp_path / "w.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "s.toml" in err and "temporary API server" not in err
    assert not (tmp_path / "w.duckdb").exists()


def _small_warehouse(tmp_path):
    from datetime import date

    from etl.warehouse.database import open_warehouse
    from etl.warehouse.load import load_batch
    from tests.helpers import batch, bulletin, fact

    db = tmp_path / "w.duckdb"
    b = bulletin("s", "/a.html", date(2024, 5, 1))
    with open_warehouse(db) as con:
        load_batch(
            con,
            batch(
                "s",
                [b],
                [
                    fact(b, "social_work_stations", "341200", 167, "station"),
                    fact(b, "social_work_stations", "320722", 19, "station", span=5),
                    fact(b, "funding", "320722", 3_450_000, "cny", span=9),
                ],
            ),
            "r",
        )
    return db


def test_indicators_filters_and_formats(tmp_path, capsys):
    db = _small_warehouse(tmp_path)
    assert (
        main(["indicators", "--db", str(db), "--indicator", "social_work_stations", "--format", "jsonl"]) == 0
    )
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {(r["region_code"], r["value"]) for r in rows} == {("341200", 167), ("320722", 19)}
    assert all(isinstance(r["value"], int) for r in rows)  # whole numbers print as integers
    assert main(["indicators", "--db", str(db), "--indicator", "社工站", "--format", "json"]) == 0
    assert {(r["region_code"], r["value"]) for r in json.loads(capsys.readouterr().out)} == {
        ("341200", 167),
        ("320722", 19),
    }

    assert main(["indicators", "--db", str(db), "--region", "东海县", "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("region_code,region_name") and len(out) == 3

    assert (
        main(
            [
                "indicators",
                "--db",
                str(db),
                "--view",
                "mart_indicator_ranking",
                "--level",
                "prefecture",
                "--format",
                "table",
            ]
        )
        == 0
    )
    assert "阜阳市" in capsys.readouterr().out

    pq = tmp_path / "latest.parquet"
    assert (
        main(["indicators", "--db", str(db), "--province", "320000", "--format", "parquet", "--out", str(pq)])
        == 0
    )
    import duckdb

    assert duckdb.sql(f"select count(*) from '{pq}'").fetchone()[0] == 2


def test_check_prints_quarantine_and_reconciliation(tmp_path, capsys):
    db = _small_warehouse(tmp_path)
    assert main(["check", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Quarantine: 0 rows" in out and "reconciled" in out and "yes" in out


def test_flow_commands_share_their_run_options():
    from etl.cli import build_parser

    p = build_parser()
    for argv in (["run"], ["backfill", "--start", "2024-01-01", "--end", "2024-01-31"]):
        args = p.parse_args([*argv, "--dask", "local", "--deployment", "x", "--lock-timeout", "5"])
        assert (args.dask, args.deployment, args.lock_timeout) == ("local", "x", 5.0)


@pytest.mark.parametrize("option", ["--max-parallel", "--workers"])
@pytest.mark.parametrize("value", ["0", "-3", "x", "65"])
def test_backfill_max_parallel_and_workers_must_be_positive(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as e:
        main(["backfill", "--start", "2024-01-01", "--end", "2024-02-01", option, value])
    assert e.value.code == 2 and option in capsys.readouterr().err


def test_backfill_end_before_start_is_one_line(tmp_path, capsys):
    assert main(["backfill", "--start", "2024-05-01", "--end", "2024-01-01"]) == 2
    assert "--end 2024-01-01 is before --start 2024-05-01" in capsys.readouterr().err


def test_a_reparse_with_a_bad_page_time_limit_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ETL_REPARSE_PAGE_SECONDS", "five")
    assert main(["backfill", "--reparse", "--start", "2024-01-01", "--end", "2024-01-31"]) == 2
    assert capsys.readouterr().err.strip() == (
        "etl backfill: ETL_REPARSE_PAGE_SECONDS must be a number of seconds in (0, 86400), got 'five'"
    )


def test_extract_table_has_a_header_and_whole_numbers(tmp_path, capsys):
    (tmp_path / "t.txt").write_text("连云港市投入资金123.4567万元，建成社工站12个。", encoding="utf-8")
    assert main(["extract", str(tmp_path / "t.txt"), "--format", "table"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t")[:4] == ["doc", "indicator", "region", "value"]
    values = {line.split("\t")[1]: line.split("\t")[3] for line in lines[1:]}
    assert values == {"funding": "1234567", "social_work_stations": "12"}


def test_backfill_of_an_unknown_source_is_one_line_before_any_server(tmp_path, capsys, monkeypatch):
    import etl.cli as cli

    def no_server():
        raise AssertionError("Prefect's server must not start for a usage error")

    monkeypatch.setattr(cli, "local_prefect", no_server)
    reg = tmp_path / "reg.toml"
    reg.write_text(
        '[[source]]\nid = "a"\nname = "甲"\nlist_url = "http://127.0.0.1:9/l.html"\n', encoding="utf-8"
    )
    args = ["backfill", "--sources", str(reg), "--start", "2024-01-01", "--end", "2024-02-01"]
    assert main([*args, "--source", "nope"]) == 2
    err = capsys.readouterr().err
    assert err == f"etl backfill: --source nope: not in {reg} (configured: a)\n"


@pytest.mark.parametrize("command", [["indicators"], ["report", "--out", "r"]])
def test_a_warehouse_without_its_views_is_refused_in_one_line(tmp_path, capsys, monkeypatch, command):
    from etl.warehouse.database import connect, migrate

    monkeypatch.chdir(tmp_path)  # the report's --out r lands here
    db = tmp_path / "w.duckdb"
    con = connect(db)
    migrate(con)  # tables only: a run that stopped before creating the views
    con.close()
    assert main([*command, "--db", str(db)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"etl {command[0]}: {db}: the warehouse has no view stg_")
    assert err.endswith("`etl run` or `etl backfill` on it creates the views") and "\n" not in err

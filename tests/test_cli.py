import json

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


def test_extract_names_a_missing_file(tmp_path, capsys):
    assert main(["extract", str(tmp_path / "nope.txt")]) == 1
    assert "nope.txt: cannot read" in capsys.readouterr().err


def test_bad_source_registry_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "s.toml").write_text('[[source]]\nid = "x"\n', encoding="utf-8")
    assert main(["sources", "--sources", str(tmp_path), "--db", str(tmp_path / "w.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "s.toml" in err and "'name'" in err

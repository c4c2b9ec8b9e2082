"""The ``[warehouse]`` table: which warehouse and within what memory, under the environment and ``--db``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from etl.cli import main
from etl.fetch.sources import SourceConfigError, load_sources
from etl.warehouse.config import ENV, load_warehouse_config, use_registry
from etl.warehouse.database import connect, migrate

SOURCE = (
    '[[source]]\nid = "a"\nname = "甲民政局"\nregion = "340000"\nlist_url = "http://a.invalid/list.html"\n'
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    # set to empty, not deleted: monkeypatch then restores the unset variable after use_registry wrote it
    for var in ENV.values():
        monkeypatch.setenv(var, "")


def _registry(tmp_path: Path, settings: str) -> Path:
    reg = tmp_path / "sources"
    reg.mkdir()
    (reg / "bureaus.toml").write_text(SOURCE, encoding="utf-8")
    (reg / "settings.toml").write_text(settings, encoding="utf-8")
    return reg


def test_a_settings_file_configures_the_warehouse_and_the_sources_still_load(tmp_path):
    reg = _registry(tmp_path, '[warehouse]\ntarget = "team/wh.duckdb"\nmemory_limit = " 64MB "\n')
    assert [s.id for s in load_sources(reg)] == ["a"]
    cfg = use_registry(reg)
    assert (cfg.target, cfg.data_path, cfg.memory_limit) == ("team/wh.duckdb", None, "64MB")  # the floor
    assert os.environ["ETL_WAREHOUSE"] == "team/wh.duckdb"
    assert os.environ["ETL_MEMORY_LIMIT"] == "64MB"
    assert os.environ["ETL_LAKE_DATA"] == ""  # not configured: left as it was


def test_the_environment_wins_over_the_table(tmp_path, monkeypatch):
    reg = _registry(tmp_path, '[warehouse]\ntarget = "team/wh.duckdb"\nmemory_limit = "2GB"\n')
    monkeypatch.setenv("ETL_MEMORY_LIMIT", "1GB")
    use_registry(reg)
    assert os.environ["ETL_MEMORY_LIMIT"] == "1GB"
    assert os.environ["ETL_WAREHOUSE"] == "team/wh.duckdb"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('memory_limit = "100b"', "field 'memory_limit' = '100b': expected a size of at least 64MB"),
        ('memory_limit = "10MB"', "field 'memory_limit' = '10MB': expected a size of at least 64MB"),
        ('memory_limit = "63.9MB"', "field 'memory_limit' = '63.9MB': expected a size of at least 64MB"),
        ("memory_limit = 2048", "field 'memory_limit' = 2048: expected a size"),
        ('target = ""', "field 'target' = '': expected a DuckDB file path or a ducklake: target"),
        ('targt = "x.duckdb"', "unknown field 'targt'"),
    ],
)
def test_a_bad_field_is_refused_naming_file_table_and_field(tmp_path, table, message):
    reg = _registry(tmp_path, f"[warehouse]\n{table}\n")
    with pytest.raises(SourceConfigError) as e:
        load_warehouse_config(reg)
    assert str(e.value).startswith(f"{reg / 'settings.toml'}: [warehouse]: {message}")


def test_an_unknown_table_in_a_registry_file_is_refused(tmp_path):
    reg = _registry(tmp_path, '[warehous]\ntarget = "x.duckdb"\n')
    with pytest.raises(SourceConfigError, match=r"settings\.toml: unknown table or key 'warehous'"):
        load_sources(reg)


def test_a_registry_of_settings_only_has_no_sources(tmp_path):
    reg = tmp_path / "sources"
    reg.mkdir()
    (reg / "settings.toml").write_text('[warehouse]\nmemory_limit = "1GB"\n', encoding="utf-8")
    with pytest.raises(SourceConfigError, match="no \\[\\[source\\]\\] tables, only settings"):
        load_sources(reg)


def test_every_connection_runs_within_the_configured_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("ETL_MEMORY_LIMIT", "96MiB")
    con = connect(tmp_path / "wh.duckdb")
    try:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "96.0 MiB"
    finally:
        con.close()
    monkeypatch.setenv("ETL_MEMORY_LIMIT", "")
    con = connect(tmp_path / "wh.duckdb", read_only=True)
    try:  # unset: DuckDB's own default, a share of the machine's memory, far above 96 MiB
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] != "96.0 MiB"
    finally:
        con.close()


def test_a_bad_budget_in_the_environment_fails_before_anything_is_opened(tmp_path, monkeypatch):
    monkeypatch.setenv("ETL_MEMORY_LIMIT", "plenty")
    with pytest.raises(SourceConfigError, match="ETL_MEMORY_LIMIT='plenty': expected a size"):
        connect(tmp_path / "wh.duckdb")
    assert not (tmp_path / "wh.duckdb").exists()


def test_commands_read_the_warehouse_the_registry_names(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _registry(tmp_path, '[warehouse]\ntarget = "team/wh.duckdb"\n')
    (tmp_path / "team").mkdir()
    con = connect(tmp_path / "team" / "wh.duckdb")
    migrate(con)
    con.execute(
        "insert into source_state (source_id, cursor_date, last_run_at, last_status) "
        "values ('a', date '2026-03-31', now(), 'ok')"
    )
    con.close()
    assert main(["sources"]) == 0
    assert "2026-03-31" in capsys.readouterr().out
    from etl import settings

    assert settings.default_db() == tmp_path / "team" / "wh.duckdb"  # absolute, for a deployment's worker
    # --db wins over the table: an empty warehouse elsewhere has no cursor for the source
    other = tmp_path / "other.duckdb"
    con = connect(other)
    migrate(con)
    con.close()
    assert main(["sources", "--db", str(other)]) == 0
    assert "2026-03-31" not in capsys.readouterr().out


def test_a_bad_table_fails_a_command_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _registry(tmp_path, '[warehouse]\nmemory_limit = "lots"\n')
    assert main(["check"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("etl check: ") and "[warehouse]: field 'memory_limit' = 'lots'" in err
    assert len(err.splitlines()) == 1

"""``etl sources add URL`` writes an entry that ``etl run`` then loads; ``etl sources test ID`` prints a parsed
article; a second run over the unchanged site is answered with 304s, list pages and robots.txt included."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import duckdb
import pytest

from tests.cmssites import LIST_PATHS, CmsSites
from tests.helpers import cli_env


def etl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "etl.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.slow
def test_sources_add_then_run_loads_it_and_a_second_run_is_conditional(tmp_path):
    env = cli_env(tmp_path)
    reg = tmp_path / "reg"
    reg.mkdir()
    db = str(tmp_path / "w.duckdb")
    with CmsSites() as site:
        added = etl("sources", "--sources", str(reg), "add", site.base + LIST_PATHS["trs"], env=env)
        assert added.returncode == 0, added.stderr
        assert "recognised: trs" in added.stdout and "bulletins   7, 2024-05-05 … 2024-06-28" in added.stdout
        written = tomllib.loads((reg / "added.toml").read_text(encoding="utf-8"))["source"]
        assert written == [
            {
                "id": "127-0-0-1-trs",
                "name": "蚌埠市民政局",
                "region": "340300",
                "list_url": site.base + LIST_PATHS["trs"],
            }
        ]
        assert not any(
            p.startswith("/trs/2024") and p != "/trs/202406/t20240628_1000.html" for p, _ in site.requests
        )

        tested = etl("sources", "--sources", str(reg), "test", "127-0-0-1-trs", env=env)
        assert tested.returncode == 0, tested.stderr
        assert "title     蚌埠市民政局通报第7批社会工作服务站运行情况" in tested.stdout
        assert "facts     2: social_work_stations 340300 20; social_workers 340300 60" in tested.stdout
        assert not (tmp_path / "home").joinpath("warehouse.duckdb").exists()  # tested, nothing loaded

        first = etl("run", "--sources", str(reg), "--db", db, env=env)
        assert first.returncode == 0, first.stderr
        before = len(site.requests)
        second = etl("run", "--sources", str(reg), "--db", db, env=env)
        assert second.returncode == 0, second.stderr
        again = site.requests[before:]
    con = duckdb.connect(db, read_only=True)
    assert con.execute("select count(*) from bulletin").fetchone() == (7,)
    assert con.execute("select count(*), count(distinct region_code) from fact").fetchone() == (14, 1)
    assert con.execute("select role, count(*) from site_document group by role order by role").fetchall() == [
        ("list", 3),
        ("robots", 1),
    ]
    # every request of the second run was conditional and answered 304: robots.txt, list pages, articles
    assert again and all(status == 304 for _, status in again), again
    assert {p for p, _ in again} >= {"/robots.txt", "/trs/index.html"}


def test_sources_add_without_a_list_writes_nothing(tmp_path):
    env = cli_env(tmp_path)
    reg = tmp_path / "reg"
    reg.mkdir()
    with CmsSites() as site:
        r = etl(
            "sources", "--sources", str(reg), "add", site.base + "/trs/202406/t20240628_1000.html", env=env
        )
    assert r.returncode == 3
    assert "no run of dated same-site links" in r.stdout
    assert "no entry written" in r.stderr
    assert not (reg / "added.toml").exists()


def test_sources_test_of_an_unknown_id_is_one_line(tmp_path):
    env = cli_env(tmp_path)
    reg = tmp_path / "reg.toml"
    reg.write_text(
        '[[source]]\nid = "a"\nname = "甲"\nlist_url = "http://127.0.0.1:9/list.html"\n', encoding="utf-8"
    )
    r = etl("sources", "--sources", str(reg), "test", "nope", env=env)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "no source 'nope'" in r.stderr

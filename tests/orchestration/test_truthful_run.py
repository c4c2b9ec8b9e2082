"""A run tells the truth about hostile pages (issue 12): each test fails on the code before its fix."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest

from etl.fetch.rawzone import RawZone
from etl.orchestration.ingest import ingest_source
from etl.warehouse.database import open_warehouse
from etl.warehouse.load import load_batch
from etl.warehouse.state import read_state
from tests.faultserver import FaultServer
from tests.fetch.test_faults import SETTINGS, WINDOW, source


@pytest.fixture
def server():
    with FaultServer() as s:
        yield s


def test_validators_that_cannot_be_sent_back_are_not_stored_and_the_next_run_works(tmp_path, server):
    src = source(server, "/odd/list.html")
    raw = RawZone(tmp_path / "raw")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        first = load_batch(con, ingest_source(src, WINDOW, raw, settings=SETTINGS), "r1")
        # /no-text answers 200 with nothing to read: a failure (see test_unreadable_pages), not the validators'
        assert first.fetched == 1 and [f.url for f in first.failures] == [server.base + "/no-text"]
        assert con.execute(
            "select etag, last_modified from raw_page where url_key = '/odd-validators'"
        ).fetchall() == [(None, None)]
        state = read_state(con, ["faulty"])
        second = ingest_source(src, WINDOW, raw, state.memory["faulty"], settings=SETTINGS)
        # a plain GET again, not a UnicodeEncodeError on every later run
        assert second.stats.fetched == 1 and [f.url for f in second.stats.failures] == [
            server.base + "/no-text"
        ]
        assert "If-None-Match" not in server.seen_headers["/odd-validators"][-1]


def test_a_page_without_text_is_quarantined_and_the_rest_loads(tmp_path, server):
    src = source(server, "/odd/list.html")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        stats = load_batch(
            con, ingest_source(src, WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS), "r1"
        )
        assert stats.parsed == 1 and stats.facts == 1
        rows = con.execute(
            "select layer, record_key, reason from quarantine where layer = 'parse'"
        ).fetchall()
        assert len(rows) == 1 and rows[0][1] == "/no-text" and "/no-text" in rows[0][2]
        # a second load of the same pages replaces the quarantine row instead of adding one
        load_batch(con, ingest_source(src, WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS), "r2")
        assert con.execute("select count(*) from quarantine where layer = 'parse'").fetchone()[0] == 1


@pytest.mark.parametrize(
    "amount",
    ["9" * 400 + "亿元", "1" + "0" * 23 + "万元", "3" + "0" * 41 + "个社工站"],
)
def test_overflowing_and_absurd_values_are_quarantined_not_loaded(tmp_path, amount):
    from etl.orchestration.pages import add_extraction, extract_bulletin
    from tests.helpers import batch, bulletin

    text = f"连云港市民政局介绍，全市建成社工站20个，投入资金{amount}。"
    b = bulletin("s", "/big.html", date(2024, 5, 1), text=text)
    bt = batch("s", [b], [])
    add_extraction(bt, b, extract_bulletin(b))
    assert any(not math.isfinite(f.value) or f.value > 1e12 for f in bt.facts)  # the extractor read it
    with open_warehouse(tmp_path / "w.duckdb") as con:
        stats = load_batch(con, bt, "r1")
        assert stats.facts == 1  # the 20 stations
        assert con.execute("select max(value) from fact").fetchone()[0] == 20
        rows = con.execute("select check_name from quarantine where layer = 'fact'").fetchall()
        assert rows and all("plausible maximum" in c for (c,) in rows)


def test_etl_extract_never_prints_an_infinite_value(tmp_path, capsys):
    from etl.cli import main

    (tmp_path / "x.txt").write_text(
        "连云港市投入资金" + "9" * 400 + "亿元，建成社工站20个。", encoding="utf-8"
    )
    assert main(["extract", str(tmp_path / "x.txt")]) == 0
    out = capsys.readouterr()
    rows = [json.loads(line) for line in out.out.splitlines()]
    assert [(r["indicator"], r["value"]) for r in rows] == [("social_work_stations", 20)]
    assert "1 implausible values not printed" in out.err


def test_a_corrupt_raw_file_fails_its_page_keeps_its_facts_and_is_quarantined(tmp_path, server):
    import os

    from etl.orchestration.reparse import reparse_source

    src = source(server, "/odd/list.html")
    raw = RawZone(tmp_path / "raw")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        load_batch(con, ingest_source(src, WINDOW, raw, settings=SETTINGS), "r1")
        before = con.execute("select indicator, value from fact order by all").fetchall()
        assert before == [("social_work_stations", 15.0)]
        (digest,) = con.execute(
            "select content_hash from raw_page where url_key = '/odd-validators'"
        ).fetchone()
        path = raw.root / raw.relpath(digest)
        os.chmod(path, 0o644)
        path.write_bytes(path.read_bytes()[:40])  # truncated on disk
        batch = reparse_source(con, src, raw, None)
        assert batch.stats.failed == 1 and batch.outcomes[server.base + "/odd-validators"] == "failed"
        assert "does not match its name" in batch.stats.failures[0].reason
        load_batch(con, batch, "r2", move_cursor=False)
        assert con.execute("select indicator, value from fact order by all").fetchall() == before
        rows = con.execute("select record_key, check_name from quarantine where layer = 'raw'").fetchall()
        assert rows == [("/odd-validators", "content_hash")]


def test_a_later_list_page_that_matches_nothing_fails_the_source_and_names_the_page(tmp_path, server):
    src = source(server, "/broken/list.html")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        stats = load_batch(
            con, ingest_source(src, WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS), "r1"
        )
        assert stats.fetched == 1  # page 1's bulletin still loads
        assert stats.status == "failed"
        broken = [f for f in stats.failures if f.stage == "discover"]
        assert [f.url for f in broken] == [server.base + "/broken/list_2.html"]
        assert "no items matching" in broken[0].reason


def test_a_site_that_is_down_fails_the_source_instead_of_skipping_it(tmp_path):
    from etl.fetch.sources import load_sources
    from tests.helpers import dead_site_registry

    (src,) = load_sources(dead_site_registry(tmp_path))
    with open_warehouse(tmp_path / "w.duckdb") as con:
        stats = load_batch(
            con, ingest_source(src, WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS), "r1"
        )
        assert (stats.status, stats.failed, stats.skipped) == ("failed", 1, 0)
        assert "robots.txt unreachable" in stats.failures[0].reason
        assert (
            con.execute("select last_status from source_state where source_id = 'dead'").fetchone()[0] != "ok"
        )


def test_a_failed_discovery_does_not_move_the_cursor(tmp_path, server):
    src = source(server, "/broken/list.html")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        load_batch(con, ingest_source(src, WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS), "r1")
        cursor, status = con.execute(
            "select cursor_date, last_status from source_state where source_id = 'faulty'"
        ).fetchone()
        assert cursor is None and status.startswith("failed")


def test_a_trickling_page_ends_at_its_deadline_with_the_url_named(server):
    import asyncio

    from etl.fetch.client import Fetcher, FetchSettings

    settings = FetchSettings(timeout=0.4, deadline=1.0, retries=2, backoff=0.01)

    async def go():
        async with Fetcher(settings) as f:
            return await f.get(server.base + "/trickle", (server.host,), 1, 0.0)

    res = asyncio.run(go())
    assert not res.ok and res.error.startswith("deadline: no complete response within 1s")
    assert res.attempts == 1  # not retried


@pytest.mark.parametrize(
    "line, says",
    [
        ('timeout = "fast"', "field 'timeout' = 'fast': expected seconds"),
        ("max_bytes = -1", "field 'max_bytes' = -1: expected an integer of bytes"),
        ("retries = true", "field 'retries' = True: expected an integer"),
        ("deadline = 0", "field 'deadline' = 0: expected seconds"),
    ],
)
def test_bad_fetch_settings_are_named_before_any_network(tmp_path, line, says):
    from etl.fetch.sources import SourceConfigError, load_fetch_config

    (tmp_path / "s.toml").write_text(f"[fetch]\n{line}\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match=r"s\.toml: \[fetch\]: ") as e:
        load_fetch_config(tmp_path)
    assert says in str(e.value)


def test_a_registry_that_is_not_utf8_is_one_line_error(tmp_path):
    from etl.fetch.sources import SourceConfigError, load_sources

    (tmp_path / "s.toml").write_bytes('[[source]]\nid = "x"\nname = "阜阳市民政局"\n'.encode("gbk"))
    with pytest.raises(SourceConfigError, match=r"s\.toml: not UTF-8"):
        load_sources(tmp_path)


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("item_selector", "ul[[", "is not a CSS selector"),
        ("next_selector", "li >> a", "is not a CSS selector"),
        ("since", "2999-01-01", "is in the future"),
        ("politeness", {"concurrency": True, "delay": 0}, "politeness.concurrency"),
    ],
)
def test_bad_source_fields_are_named_when_the_registry_is_read(field, value, says):
    from etl.fetch.sources import SourceConfigError, parse_source

    entry = {"id": "x", "name": "某民政局", "kind": "html_list", "list_url": "http://bureau.test/list.html"}
    with pytest.raises(SourceConfigError, match=f"field '{field}") as e:
        parse_source({**entry, field: value}, "s.toml")
    assert says in str(e.value)


def test_a_lying_charset_is_corrected_and_a_mixed_page_is_quarantined_with_the_reason(tmp_path, server):
    src = source(server, "/mojibake/list.html")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        stats = load_batch(
            con, ingest_source(src, WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS), "r1"
        )
        # GBK declared as UTF-8: read as GB18030, which reads every byte of it, with its facts
        assert (stats.fetched, stats.failed, stats.parsed) == (1, 1, 1)
        assert con.execute("select url_key, encoding from raw_page order by url_key").fetchall() == [
            ("/lying-charset", "gb18030"),
            ("/mixed-charset", "utf-8"),
        ]
        assert set(con.execute("select indicator, value from fact").fetchall()) == {
            ("social_work_stations", 167.0),
            ("people_served", 120000.0),
        }
        # UTF-8 with a GBK passage: no charset reads it whole, so its numbers are not trusted
        ((check, reason),) = con.execute("select check_name, reason from quarantine").fetchall()
        assert check == "decode" and "/mixed-charset" in reason and "could not be decoded as utf-8" in reason
        # answered but not read: retried next run, like a page that did not answer
        assert con.execute("select url_key, stage, status from fetch_failure").fetchall() == [
            ("/mixed-charset", "parse", "200")
        ]


def test_the_source_s_encoding_is_the_operator_s_word_over_the_site_s_declarations():
    from etl.fetch.charset import decode

    text = (
        "<html><head><meta charset='utf-8'></head><body>全市建成社工站12个，服务群众三千人次。</body></html>"
    )
    body = text.encode("gbk")
    assert decode(body, "text/html; charset=utf-8", "gbk") == (text, "gb18030")
    # big5 text claimed as GBK by the source: the operator's word holds, wrong as it is (garbled, refused later)
    big5 = ("臺北市志願服務人數" * 10).encode("big5")
    out, used = decode(big5, "text/html; charset=big5", "gbk")
    assert used == "gb18030" and out != ("臺北市志願服務人數" * 10)


def _audit_matches_tables(con, sid):
    audit = con.execute(
        "select sum(parsed), sum(facts), sum(quarantined) from load_audit where source_id = ?", [sid]
    ).fetchone()
    tables = (
        con.execute("select count(*) from bulletin where source_id = ?", [sid]).fetchone()[0],
        con.execute("select count(*) from fact where source_id = ?", [sid]).fetchone()[0],
        con.execute("select count(*) from quarantine where source_id = ?", [sid]).fetchone()[0],
    )
    assert tuple(int(x or 0) for x in audit) == tables
    bad = con.execute(
        "select partition from load_audit where discovered <> fetched + not_modified + skipped + failed"
    ).fetchall()
    assert bad == []


def test_the_audit_holds_what_the_warehouse_holds_after_any_sequence_of_runs(tmp_path, server):
    from etl.models import Window
    from etl.orchestration.reparse import reparse_source

    src = source(server)
    raw = RawZone(tmp_path / "raw")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        load_batch(con, ingest_source(src, WINDOW, raw, settings=SETTINGS), "r1")
        _audit_matches_tables(con, "faulty")
        month_facts = con.execute("select facts from load_audit where partition = '2024-05'").fetchone()[0]
        assert month_facts > 0
        # an incremental run: a window that holds only part of May, the validators of run 1 (304s), the
        # failed pages retried (they come back undated)
        state = read_state(con, ["faulty"])
        part = Window(date(2024, 5, 6), date(2024, 12, 31))
        b2 = ingest_source(
            src, part, raw, state.memory["faulty"], state.retry_urls["faulty"], settings=SETTINGS
        )
        load_batch(con, b2, "r2")
        _audit_matches_tables(con, "faulty")
        # May still shows every fact May holds, not the partial slice nor 0 for its 304s. Every page of this
        # site is listed in May, so May holds every fact of the source: at least run 1's, more when a page
        # that failed in run 1 (a healthy one can time out on a loaded machine) came back in run 2
        may = con.execute("select facts from load_audit where partition = '2024-05'").fetchone()[0]
        held = con.execute("select count(*) from fact where source_id = 'faulty'").fetchone()[0]
        assert may == held >= month_facts
        assert con.execute("select count(*) from load_audit where partition = 'undated'").fetchone()[0] == 0
        # a re-parse of the raw zone, then the full window again
        load_batch(con, reparse_source(con, src, raw, None), "r3", move_cursor=False)
        _audit_matches_tables(con, "faulty")
        load_batch(con, ingest_source(src, WINDOW, raw, settings=SETTINGS), "r4")
        _audit_matches_tables(con, "faulty")


@pytest.mark.parametrize("budget", ["source_budget", "run_deadline"])
def test_a_source_within_its_budget_fails_the_pages_still_in_flight(tmp_path, server, budget):
    import time
    from dataclasses import replace

    from etl.fetch.client import FetchSettings

    limit = {"source_budget": 1.0} if budget == "source_budget" else {"run_deadline": time.time() + 1.0}
    settings = replace(FetchSettings(timeout=5, deadline=600, retries=0), **limit)
    batch = ingest_source(
        source(server, "/trickle/list.html"), WINDOW, RawZone(tmp_path / "raw"), settings=settings
    )
    assert (batch.stats.discovered, batch.stats.failed, batch.stats.fetched) == (3, 3, 0)
    assert all(
        f.reason.startswith("budget exceeded") and "/trickle?n=" in f.url for f in batch.stats.failures
    )


def test_an_unchanged_site_answering_304_is_fresh(tmp_path, server):
    from etl.warehouse.database import create_views

    src = source(server, "/etag/list.html")
    raw = RawZone(tmp_path / "raw")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        load_batch(con, ingest_source(src, WINDOW, raw, settings=SETTINGS), "r1")
        create_views(con)
        first = con.execute("select last_successful_fetch from mart_source_freshness").fetchone()[0]
        state = read_state(con, ["faulty"])
        b2 = ingest_source(src, WINDOW, raw, state.memory["faulty"], settings=SETTINGS)
        assert b2.stats.not_modified == 1
        load_batch(con, b2, "r2")
        second = con.execute("select last_successful_fetch from mart_source_freshness").fetchone()[0]
        assert second > first  # the 304 counts as a successful read of the site
        _audit_matches_tables(con, "faulty")
        assert con.execute("select not_modified, facts from load_audit").fetchall() == [(1, 1)]


@pytest.mark.parametrize(
    "order",
    [
        ("nightly", "incremental", "backfill", "reparse"),
        ("backfill", "reparse", "nightly", "incremental"),
        ("reparse", "incremental", "nightly", "backfill"),
    ],
)
def test_the_audit_reconciles_after_runs_in_any_order(tmp_path, server, order):
    from etl.models import Window
    from etl.orchestration.ingest import discover_source, fetch_refs
    from etl.orchestration.reparse import reparse_source

    src = source(server)
    raw = RawZone(tmp_path / "raw")
    may = Window(date(2024, 5, 1), date(2024, 5, 31))
    with open_warehouse(tmp_path / "w.duckdb") as con:
        for step in order:
            state = read_state(con, ["faulty"])
            memory, retry = state.memory.get("faulty", {}), state.retry_urls.get("faulty", [])
            if step == "nightly":
                batch = ingest_source(src, WINDOW, raw, memory, retry, settings=SETTINGS)
            elif step == "incremental":
                part = Window(date(2024, 5, 6), date(2024, 12, 31))
                batch = ingest_source(src, part, raw, memory, retry, settings=SETTINGS)
            elif step == "backfill":
                refs = discover_source(src, may, SETTINGS).refs
                batch = fetch_refs(src, may, refs, raw, memory, SETTINGS)
            else:
                batch = reparse_source(con, src, raw, None)
            load_batch(con, batch, f"r-{step}", move_cursor=step != "backfill")
            _audit_matches_tables(con, "faulty")

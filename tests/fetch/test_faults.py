"""A whole source batch against a site full of faults: the run finishes, good pages load, every fault is
recorded with its URL and reason, and nothing already in the warehouse is lost."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from etl.fetch.client import Fetcher, FetchSettings
from etl.fetch.discover import discover
from etl.fetch.rawzone import RawZone
from etl.fetch.sources import parse_source
from etl.models import Window
from etl.orchestration.ingest import ingest_source
from etl.warehouse.database import open_warehouse
from etl.warehouse.load import load_batch
from etl.warehouse.state import read_state
from tests.faultserver import LIST_PATHS, STUB_LINKS, FaultServer
from tests.helpers import batch, bulletin, fact

# /slow answers after 1.5 s, so it always times out; a healthy page gets 1 s, which a loaded CI machine has
# exceeded at 0.4 s (a page that should load failed, and a later run's count changed under the test)
SETTINGS = FetchSettings(timeout=1.0, backoff=0.01, retries=1, max_bytes=2_000_000)
WINDOW = Window(date(2024, 1, 1), date(2024, 12, 31))


@pytest.fixture
def server():
    with FaultServer() as s:
        yield s


def source(server, list_path="/list.html", **extra):
    return parse_source(
        {
            "id": "faulty",
            "name": "故障民政局",
            "kind": "html_list",
            "region": "341200",
            "list_url": server.base + list_path,
            "item_selector": "ul.l li",
            "next_selector": "a.next",
            "body_selector": ".TRS_Editor",
            "politeness": {"concurrency": 4, "delay": 0.0},
            **extra,
        },
        "test",
    )


def test_faulty_site_run_finishes_and_accounts_for_every_page(tmp_path, server):
    db = tmp_path / "w.duckdb"
    with open_warehouse(db) as con:
        keep = bulletin("other", "/kept.html", date(2024, 2, 1))
        load_batch(
            con, batch("other", [keep], [fact(keep, "social_work_stations", "320722", 19, "station")]), "r0"
        )

        src = source(server)
        b = ingest_source(src, WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS)
        stats = load_batch(con, b, "r1")

        assert stats.discovered == len(LIST_PATHS)
        assert stats.reconciles()
        loaded = {
            r[0] for r in con.execute("select url_key from bulletin where source_id = 'faulty'").fetchall()
        }
        assert loaded == {"/ok", "/flaky", "/ratelimited0", "/inside", "/gbk", "/etag"}
        failures = dict(con.execute("select url_key, error from fetch_failure").fetchall())
        assert set(failures) == {"/slow", "/reset", "/truncated", "/missing", "/away", "/huge", "/binary"}
        assert failures["/missing"] == "HTTP 404"
        assert failures["/slow"].startswith("timeout")
        assert "not allowed" in failures["/away"]
        assert failures["/huge"] == "body exceeds 2000000 bytes"
        assert "content-type" in failures["/binary"]
        assert [s.url for s in stats.skips] == [server.base + "/private/secret"]
        assert "robots.txt disallows" in stats.skips[0].reason
        assert server.hits.get("/private/secret") is None
        # the GBK page was decoded and read
        assert con.execute(
            "select value from fact f join bulletin b using (bulletin_id) where b.url_key = '/gbk'"
        ).fetchall() == [(167.0,)]
        # nothing already loaded was lost
        assert con.execute("select count(*) from fact where source_id = 'other'").fetchone()[0] == 1

        # next run: failed pages are tried again, unchanged pages answer 304
        state = read_state(con, ["faulty"])
        assert set(state.retry_urls["faulty"]) == set(failures)
        b2 = ingest_source(
            src,
            WINDOW,
            RawZone(tmp_path / "raw"),
            state.memory["faulty"],
            state.retry_urls["faulty"],
            SETTINGS,
        )
        stats2 = load_batch(con, b2, "r2")
        assert stats2.reconciles() and stats2.not_modified >= 1
        assert con.execute("select max(attempts) from fetch_failure").fetchone()[0] == 2
        assert server.hits["/missing"] == 2


def run_discovery(src):
    async def go():
        async with Fetcher(SETTINGS) as f:
            return await discover(src, f, WINDOW)

    return asyncio.run(go())


def test_a_list_that_repeats_forever_stops(server):
    found = run_discovery(source(server, "/loop/list.html"))
    assert [r.url for r in found.refs] == [server.base + "/ok"]
    assert found.pages == 2 and "nothing new" in found.stopped_because


def test_a_malformed_list_page_is_a_recorded_failure(server):
    found = run_discovery(source(server, "/bad/list.html"))
    assert found.refs == []
    assert found.failures and "has no items" in found.failures[0].reason


def test_pages_no_client_can_read_fail_alone_and_the_source_goes_on(tmp_path, server):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        b = ingest_source(
            source(server, "/hostile/list.html"), WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS
        )
        stats = load_batch(con, b, "r1")
        # the malformed link is not a page (a browser cannot follow it either); the other three are
        assert (stats.discovered, stats.fetched, stats.failed) == (3, 1, 2) and stats.reconciles()
        failures = dict(con.execute("select url_key, error from fetch_failure").fetchall())
        assert failures["/bad-gzip"].startswith("body does not decode as its content-encoding says")
        assert server.hits["/bad-gzip"] == 1  # the same bytes on a retry: left to the next run
        # the redirect's port is outside 0-65535: the page fails, named, instead of the socket layer raising
        assert failures["/to-bad-port"] == "not a URL a client can request: Port out of range 0-65535"
        assert set(failures) == {"/bad-gzip", "/to-bad-port"}
        assert con.execute("select count(*) from bulletin").fetchone()[0] == 1


def test_a_304_to_a_request_without_validators_is_a_failure_not_an_unchanged_page(tmp_path, server):
    async def get():
        async with Fetcher(SETTINGS) as f:
            return await f.get(server.base + "/unasked-304", (server.host,), 1, 0.0)

    res = asyncio.run(get())
    assert (res.status, res.not_modified, res.ok) == (304, False, False)
    assert res.error == "HTTP 304 to a request that sent no validators: nothing stored to reuse"
    with open_warehouse(tmp_path / "w.duckdb") as con:
        b = ingest_source(
            source(server, "/unasked/list.html"), WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS
        )
        stats = load_batch(con, b, "r1")
        assert (stats.fetched, stats.not_modified, stats.failed) == (1, 0, 1) and stats.reconciles()
        assert con.execute("select url_key, status from fetch_failure").fetchall() == [
            ("/unasked-304", "304")
        ]
        assert read_state(con, ["faulty"]).retry_urls["faulty"] == ["/unasked-304"]


def test_pages_that_redirect_by_themselves_are_followed_like_a_301(tmp_path, server):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        b = ingest_source(
            source(server, "/stubs/list.html"), WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS
        )
        stats = load_batch(con, b, "r1")
        assert (stats.discovered, stats.fetched, stats.failed) == (
            len(STUB_LINKS),
            3,
            2,
        ) and stats.reconciles()
        facts = dict(
            con.execute(
                "select b.url_key, f.value from fact as f join bulletin as b using (bulletin_id)"
            ).fetchall()
        )
        # the moved article (its meta refresh's &amp; read as &), the script stub's target (which 301s on to
        # /ok), and the page that reloads itself every five minutes, read as it is
        assert facts == {"/moved-stub": 21.0, "/js-stub": 10.0, "/reloading": 22.0}
        assert server.hits["/new/moved.html?a=1&b=2"] == 1 and server.hits["/ok"] == 1
        failures = dict(con.execute("select url_key, error from fetch_failure").fetchall())
        assert failures == {
            "/refresh-loop": "redirect without location or more than 5 hops",
            "/stub-elsewhere": "host 'mp.weixin.invalid' not allowed (allowed: " + server.host + ")",
        }


def test_a_redirect_to_a_path_in_chinese_reaches_the_page_whatever_its_bytes(tmp_path, server):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        b = ingest_source(
            source(server, "/gbk-location/list.html"), WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS
        )
        stats = load_batch(con, b, "r1")
        assert (stats.fetched, stats.failed) == (2, 0) and stats.reconciles()
        facts = con.execute(
            "select b.url_key, f.value from fact as f join bulletin as b using (bulletin_id) order by 1"
        ).fetchall()
        assert facts == [("/moved-gbk", 23.0), ("/moved-utf8", 23.0)]


def test_json_api_discovery_walks_pages_until_the_window_start(server):
    src = parse_source(
        {
            "id": "api",
            "name": "接口民政局",
            "kind": "json_api",
            "region": "341200",
            "list_url": server.base + "/api/list",
            "items_path": "data.list",
            "link_field": "url",
            "date_field": "date",
            "page_param": "page",
            "politeness": {"concurrency": 2, "delay": 0.0},
        },
        "test",
    )
    found = run_discovery(src)
    assert [(r.url.removeprefix(server.base), r.title) for r in found.refs] == [
        ("/flaky", "甲"),
        ("/gbk", "乙"),
    ]
    assert found.pages == 3 and found.stopped_because == "reached the window's start"
    assert "/api/list?page=4" not in server.hits


def test_an_error_nothing_foresaw_fails_its_page_only(tmp_path, server, monkeypatch):
    real = Fetcher.get

    async def get(self, url, *a, **kw):
        if url.endswith("/inside"):
            raise RuntimeError("a bug in some layer below")
        return await real(self, url, *a, **kw)

    monkeypatch.setattr(Fetcher, "get", get)
    b = ingest_source(source(server), WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS)
    failed = {f.url.rsplit("/", 1)[1]: f.reason for f in b.stats.failures}
    assert failed["inside"] == "unexpected RuntimeError: a bug in some layer below"
    # the five other healthy pages of test_faulty_site_run still load
    assert b.stats.reconciles() and b.stats.fetched == 5


def test_a_page_that_breaks_the_extractor_fails_alone_and_leaves_nothing_half_read(
    tmp_path, server, monkeypatch
):
    import etl.orchestration.pages as pages

    real = pages.extract_bulletin

    def extract(b):
        if b.url.endswith("/gbk"):
            raise RuntimeError("a bug meeting an odd page")
        return real(b)

    monkeypatch.setattr(pages, "extract_bulletin", extract)
    with open_warehouse(tmp_path / "w.duckdb") as con:
        b = ingest_source(source(server), WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS)
        stats = load_batch(con, b, "r1")
        failed = {f.url.rsplit("/", 1)[1]: f for f in stats.failures}
        assert failed["gbk"].stage == "parse" and "unexpected RuntimeError" in failed["gbk"].reason
        assert stats.reconciles() and stats.fetched == 5 and stats.status == "partial"
        urls = {r[0] for r in con.execute("select url_key from bulletin").fetchall()}
        assert urls == {"/ok", "/flaky", "/ratelimited0", "/inside", "/etag"}  # no bulletin of /gbk
        assert con.execute("select check_name from quarantine where record_key = '/gbk'").fetchall() == [
            ("error",)
        ]
        assert read_state(con, ["faulty"]).retry_urls["faulty"].count("/gbk") == 1


def test_a_discovery_that_breaks_fails_its_source_named(tmp_path, server, monkeypatch):
    import etl.orchestration.ingest as ingest

    async def broken(*a, **kw):
        raise KeyError("a list page nothing foresaw")

    monkeypatch.setattr(ingest, "discover", broken)
    b = ingest_source(source(server), WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS)
    assert b.stats.status == "failed" and b.stats.reconciles()
    (issue,) = b.stats.failures
    assert issue.url == server.base + "/list.html" and issue.stage == "discover"
    assert issue.reason == "unexpected KeyError: 'a list page nothing foresaw'"

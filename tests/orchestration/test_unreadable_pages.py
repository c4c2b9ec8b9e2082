"""A page answered with 200 but nothing to read (a site's bot challenge or error page, a re-templated CMS) is a
failure, retried, and never replaces what the warehouse holds for the page: not on the night it is fetched, not
on a later re-parse, not through the validators of the next conditional GET."""

from __future__ import annotations

from datetime import date
from http.server import BaseHTTPRequestHandler

import pytest

from etl.fetch.client import FetchSettings
from etl.fetch.rawzone import RawZone
from etl.fetch.sources import parse_source
from etl.models import Window
from etl.orchestration.ingest import ingest_source
from etl.orchestration.reparse import reparse_source
from etl.warehouse.database import open_warehouse
from etl.warehouse.load import load_batch
from etl.warehouse.state import read_state
from tests.localsite import LocalSite

WINDOW = Window(date(2024, 1, 1), date(2024, 12, 31))
SETTINGS = FetchSettings(timeout=2.0, retries=0)
ARTICLE = (
    "<html><head><title>示例县社会工作简报</title></head><body><div class='TRS_Editor'>"
    "<p>2024年5月3日，示例县民政局通报：全县已建成社工站{n}个。</p></div></body></html>"
)
# what a bot wall answers in place of the article: a script that sets a cookie and reloads, no text
CHALLENGE = (
    "<html><head><meta http-equiv='refresh' content='1'><script>document.cookie='v=1';"
    "location.reload();</script></head><body><noscript>请开启JavaScript</noscript></body></html>"
)

# pages with text that are not the article: the site's "not found" page in its template, a firewall's block
# page, a maintenance notice, a server's stock error page, each answered with 200
NOTICES = {
    "notfound": (
        "<html><head><title>示例县民政局</title></head><body><div class='nav'><a href='/'>首页</a></div>"
        "<div class='content'><p>对不起，您访问的页面不存在或已被删除！</p><p><a href='/'>返回首页</a></p></div>"
        "<div class='footer'>主办单位：示例县民政局</div></body></html>"
    ),
    "waf": (
        "<html><head><title>访问拦截</title></head><body><div class='box'><h2>您的请求已被拦截</h2>"
        "<p>当前访问疑似存在安全威胁，已被网站防火墙拦截。事件编号：20240506-7731</p></div></body></html>"
    ),
    "upkeep": (
        "<html><head><title>示例县民政局</title></head><body><div id='main'><p>网站正在升级维护，"
        "预计于2024年5月7日8时恢复访问，给您带来不便敬请谅解。</p></div></body></html>"
    ),
    "stock": "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx/1.20.1 (2024 build 31)</center></body></html>",
}


class Site:
    def __init__(self) -> None:
        self.answer = ("good", 31)
        self.if_none_match: list[str | None] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/list.html":
                    body = "<ul class='l'><li><a href='/a1.html'>简报</a> 2024-05-03</li></ul>".encode()
                    etag = None
                elif self.path == "/":
                    # the home page: headlines with other places' figures, read as an article they would load
                    body = "<html><body><div class='news'><p>邻市已建成社工站999个，另一县建成社工站88个。</p></div></body></html>".encode()
                    etag = None
                elif self.path == "/a1.html" and site.answer[0] == "gone":
                    self.send_response(302)
                    self.send_header("Location", "/")
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                elif self.path == "/a1.html":
                    site.if_none_match.append(self.headers.get("If-None-Match"))
                    kind, n = site.answer
                    etag = f'"{kind}-{n}"'
                    if self.headers.get("If-None-Match") == etag:
                        self.send_response(304)
                        self.end_headers()
                        return
                    body = (ARTICLE.format(n=n) if kind == "good" else NOTICES.get(kind, CHALLENGE)).encode()
                else:
                    self.send_response(404)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        self.local = LocalSite(Handler)


@pytest.fixture
def site():
    s = Site()
    with s.local:
        yield s


def _source(site: Site, **extra):
    return parse_source(
        {
            "id": "wall",
            "name": "示例县民政局",
            "kind": "html_list",
            "region": "320722",
            "list_url": site.local.base + "/list.html",
            "item_selector": "ul.l li",
            "politeness": {"delay": 0.0},
            **extra,
        },
        "test",
    )


def _night(con, site: Site, raw: RawZone, run_id: str):
    state = read_state(con, ["wall"])
    batch = ingest_source(
        _source(site), WINDOW, raw, state.memory["wall"], state.retry_urls["wall"], SETTINGS
    )
    return load_batch(con, batch, run_id)


def _facts(con) -> list[tuple]:
    return con.execute("select indicator, region_code, value from fact").fetchall()


def test_a_challenge_page_fails_the_page_keeps_its_facts_and_is_retried(tmp_path, site):
    raw = RawZone(tmp_path / "raw")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        first = _night(con, site, raw, "r1")
        assert (first.fetched, first.failed, first.facts) == (1, 0, 1)
        assert _facts(con) == [("social_work_stations", "320722", 31.0)]

        site.answer = ("wall", 0)
        second = _night(con, site, raw, "r2")
        assert (second.fetched, second.failed, second.status) == (0, 1, "failed")
        (issue,) = second.failures
        assert issue.stage == "parse" and issue.status == "200" and "no main text" in issue.reason
        assert _facts(con) == [("social_work_stations", "320722", 31.0)]  # nothing already loaded is lost
        assert con.execute("select count(*) from bulletin").fetchone()[0] == 1
        assert con.execute("select url_key, stage from fetch_failure").fetchall() == [("/a1.html", "parse")]
        # the challenge is kept in the raw zone and quarantined under its own hash, for whoever looks into it
        ((row,),) = con.execute("select row_json from quarantine where layer = 'parse'").fetchall()
        (wall_hash,) = con.execute(
            "select content_hash from raw_page order by fetched_at desc limit 1"
        ).fetchone()
        assert wall_hash in row

        # the next night asks with the validator of the version the facts came from, not the challenge's
        site.answer = ("good", 31)
        third = _night(con, site, raw, "r3")
        assert site.if_none_match == [None, '"good-31"', '"good-31"']
        assert (third.not_modified, third.failed) == (1, 0)
        assert con.execute("select count(*) from fetch_failure").fetchone()[0] == 0
        assert _facts(con) == [("social_work_stations", "320722", 31.0)]


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("notfound", "访问的页面不存在"),
        ("waf", "请求已被拦截"),
        ("upkeep", "网站正在升级维护"),
        ("stock", "404 Not Found"),
    ],
)
def test_an_error_or_block_page_with_text_fails_the_page_and_keeps_its_facts(tmp_path, site, kind, says):
    raw = RawZone(tmp_path / "raw")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        _night(con, site, raw, "r1")
        site.answer = (kind, 0)
        second = _night(con, site, raw, "r2")
        assert (second.fetched, second.failed, second.parsed, second.facts) == (0, 1, 0, 0)
        (issue,) = second.failures
        assert issue.stage == "parse" and issue.status == "200" and says in issue.reason
        # not read as the article: its bulletin, title and facts are the article's still
        assert _facts(con) == [("social_work_stations", "320722", 31.0)]
        assert con.execute("select title from bulletin").fetchall() == [("示例县社会工作简报",)]
        assert con.execute("select check_name from quarantine").fetchall() == [("error_page",)]
        assert con.execute("select url_key, stage from fetch_failure").fetchall() == [("/a1.html", "parse")]


def test_a_new_page_that_cannot_be_read_is_a_failure_not_a_success(tmp_path, site):
    site.answer = ("wall", 0)
    with open_warehouse(tmp_path / "w.duckdb") as con:
        stats = _night(con, site, RawZone(tmp_path / "raw"), "r1")
        assert (stats.discovered, stats.fetched, stats.failed, stats.parsed) == (1, 0, 1, 0)
        assert stats.reconciles() and stats.status == "failed"
        assert read_state(con, ["wall"]).retry_urls["wall"] == ["/a1.html"]
        (outcome,) = con.execute("select outcome from page_state").fetchone()
        assert outcome == "failed"


def test_a_reparse_reads_the_version_the_facts_came_from_when_the_newest_is_a_challenge(tmp_path, site):
    raw = RawZone(tmp_path / "raw")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        _night(con, site, raw, "r1")
        site.answer = ("wall", 0)
        _night(con, site, raw, "r2")
        assert con.execute("select count(*) from raw_page").fetchone()[0] == 2

        batch = reparse_source(con, _source(site), raw, WINDOW)
        assert (batch.stats.fetched, batch.stats.failed) == (1, 0)
        stats = load_batch(con, batch, "r3", move_cursor=False)
        assert stats.facts == 1
        assert _facts(con) == [("social_work_stations", "320722", 31.0)]
        # the newest version stays quarantined as unreadable: the re-parse tried it first
        assert con.execute("select check_name from quarantine").fetchall() == [("main_text",)]


def test_a_reparse_that_cannot_read_the_loaded_version_keeps_its_facts_and_fails_the_page(tmp_path, site):
    raw = RawZone(tmp_path / "raw")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        _night(con, site, raw, "r1")
        # as if this parser no longer reads the stored version: the source now names a charset (the
        # operator's word, never second-guessed) in which its Chinese decodes to nothing but U+FFFD
        batch = reparse_source(con, _source(site, encoding="ascii"), raw, WINDOW)
        assert (batch.stats.fetched, batch.stats.failed) == (0, 1)
        (issue,) = batch.stats.failures
        assert issue.stage == "reparse" and "cannot be parsed" in issue.reason
        load_batch(con, batch, "r2", move_cursor=False)
        assert _facts(con) == [("social_work_stations", "320722", 31.0)]


def test_an_article_redirected_to_the_home_page_is_not_read_as_the_article(tmp_path, site):
    raw = RawZone(tmp_path / "raw")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        _night(con, site, raw, "r1")
        site.answer = ("gone", 0)
        stats = _night(con, site, raw, "r2")
        (issue,) = stats.failures
        assert issue.stage == "fetch" and "redirected to the site's home page" in issue.reason
        assert _facts(con) == [("social_work_stations", "320722", 31.0)]  # not 999 or 88 from the headlines
        assert con.execute("select count(*) from raw_page").fetchone()[0] == 1

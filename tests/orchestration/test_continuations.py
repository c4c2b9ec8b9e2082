"""A long article split over several pages (name.html, name_1.html, …): every page is fetched and read, so that
the figures of page 2 are not silently lost; links to other files' numbered pages are not followed, and an
unchanged article costs one conditional request on the next run."""

from __future__ import annotations

from datetime import date
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest

from etl.fetch.client import FetchSettings
from etl.fetch.rawzone import RawZone
from etl.fetch.sources import parse_source
from etl.models import Bulletin, Window
from etl.orchestration.ingest import continuation_refs, ingest_source
from etl.parse.html import ParsedPage, parse_html
from etl.warehouse.database import open_warehouse
from etl.warehouse.load import load_batch
from etl.warehouse.state import read_state
from tests.docxmaker import make_docx

WINDOW = Window(date(2024, 1, 1), date(2024, 12, 31))
SETTINGS = FetchSettings(timeout=5, retries=0)


def page(title: str, text: str, extra: str = "") -> bytes:
    return (
        f"<html><head><meta name='PubDate' content='2024-07-01'></head><body><h1>{title}</h1>"
        f"<div class='TRS_Editor'><p>{text}</p></div>{extra}</body></html>"
    ).encode()


TRS = "<script>createPageHTML({count}, {current}, 't20240701_100', 'html');</script>"
PAGES = {
    "/list.html": (
        "<ul class='l'><li><a href='/a/t20240701_100.html'>全年社会工作情况（上）</a><span>2024-07-01</span></li>"
        "<li><a href='/b/news_7.html'>志愿服务情况</a><span>2024-07-01</span></li></ul>"
    ).encode(),
    # a TRS article of three pages: the page count only in the script
    "/a/t20240701_100.html": page("全年社会工作情况", "全市建成社工站31个。", TRS.format(count=3, current=0)),
    "/a/t20240701_100_1.html": page(
        "全年社会工作情况", "全市共有社会工作服务机构17家。", TRS.format(count=3, current=1)
    ),
    "/a/t20240701_100_2.html": page(
        "全年社会工作情况",
        "全市持证社会工作者达到420人。",
        TRS.format(count=3, current=2) + "<p>附件：<a href='/files/annex.docx'>annex.docx</a></p>",
    ),
    "/files/annex.docx": make_docx(["附表说明", "全市注册志愿者5.5万人。"]),
    # a pager of links; the last link is another article's second page
    "/b/news_7.html": page(
        "志愿服务情况",
        "全市开展志愿服务活动230场。",
        "<div class='pager'><a href='news_7_2.html'>2</a> <a href='news_7_3.html'>3</a> "
        "<a href='/b/other_9_2.html'>相关</a></div>",
    ),
    "/b/news_7_2.html": page("志愿服务情况", "全市实施社会工作服务项目64个。"),
    "/b/news_7_3.html": page("志愿服务情况", "全市新增注册志愿者3000人。"),
    "/b/other_9_2.html": page("另一篇", "全市建成社工站999个。"),
}


class Handler(BaseHTTPRequestHandler):
    hits: ClassVar[dict[str, int]] = {}

    def log_message(self, *a):
        pass

    def do_GET(self):
        Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        body = PAGES.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        etag = f'"{hash(body) & 0xFFFF:x}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        ctype = "application/octet-stream" if self.path.endswith(".docx") else "text/html; charset=utf-8"
        self.send_header("Content-Type", ctype)
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site():
    from tests.localsite import LocalSite

    Handler.hits = {}
    with LocalSite(Handler) as s:
        yield s


def source(site, **extra):
    return parse_source(
        {
            "id": "long",
            "name": "示例市民政局",
            "region": "340300",
            "kind": "html_list",
            "list_url": site.base + "/list.html",
            "item_selector": "ul.l li",
            "obey_robots": False,
            "politeness": {"concurrency": 2, "delay": 0.0},
            **extra,
        },
        "test",
    )


def facts_by_page(con) -> dict[str, set]:
    out: dict[str, set] = {}
    for key, indicator, value in con.execute(
        "select b.url_key, f.indicator, f.value from fact as f join bulletin as b using (bulletin_id)"
    ).fetchall():
        out.setdefault(key, set()).add((indicator, value))
    return out


def test_every_page_of_a_long_article_is_read_and_nothing_else(site, tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        b = ingest_source(source(site), WINDOW, RawZone(tmp_path / "raw"), settings=SETTINGS)
        stats = load_batch(con, b, "r1")
        # 2 listed, 2 + 2 further pages, the Word file page 3 attaches
        assert (stats.discovered, stats.fetched, stats.failed) == (7, 7, 0) and stats.reconciles()
        assert facts_by_page(con) == {
            "/a/t20240701_100.html": {("social_work_stations", 31.0)},
            "/a/t20240701_100_1.html": {("social_work_orgs", 17.0)},
            "/a/t20240701_100_2.html": {("certified_social_workers", 420.0)},
            "/files/annex.docx": {("volunteers", 55000.0)},
            "/b/news_7.html": {("service_activities", 230.0)},
            "/b/news_7_2.html": {("service_projects", 64.0)},
            "/b/news_7_3.html": {("volunteers", 3000.0)},
        }
        assert "/b/other_9_2.html" not in Handler.hits  # another article's page
        # every further page is titled and dated like its article
        assert con.execute(
            "select distinct title, published from bulletin where url_key like '/a/%'"
        ).fetchall() == [("全年社会工作情况", date(2024, 7, 1))]

        # next run: the unchanged articles answer 304 and their further pages keep their facts
        before = dict(Handler.hits)
        state = read_state(con, ["long"])
        b2 = ingest_source(
            source(site), WINDOW, RawZone(tmp_path / "raw"), state.memory["long"], settings=SETTINGS
        )
        stats2 = load_batch(con, b2, "r2")
        assert (stats2.not_modified, stats2.fetched) == (2, 0) and stats2.reconciles()
        assert {p: n - before.get(p, 0) for p, n in Handler.hits.items() if n != before.get(p, 0)} == {
            "/list.html": 1,
            "/a/t20240701_100.html": 1,
            "/b/news_7.html": 1,
        }
        assert sum(len(v) for v in facts_by_page(con).values()) == 7


def test_further_pages_are_read_even_without_attachments(site, tmp_path):
    b = ingest_source(source(site, follow_attachments=False), WINDOW, RawZone(tmp_path), settings=SETTINGS)
    assert sorted(u.rsplit("/", 1)[1] for u in b.outcomes) == [
        "news_7.html",
        "news_7_2.html",
        "news_7_3.html",
        "t20240701_100.html",
        "t20240701_100_1.html",
        "t20240701_100_2.html",
    ]


@pytest.mark.parametrize(
    ("url", "links", "expected"),
    [
        # numbered pages of this file only, in order, once
        ("http://h/a/x_5.html", ["x_5_3.html", "x_5_2.html#top", "x_5_2.html"], ["x_5_2.html", "x_5_3.html"]),
        # another folder, another host, a query, another extension, another file: not this article
        (
            "http://h/a/x_5.html",
            ["/b/x_5_2.html", "http://other/a/x_5_2.html", "x_5_2.html?p=1", "x_5_2.htm", "y_5_2.html"],
            [],
        ),
        # a page with no file name (a folder's index) has no numbered pages of its own
        ("http://h/a/", ["x_2.html"], []),
    ],
)
def test_which_links_are_further_pages(url, links, expected):
    src = parse_source({"id": "s", "name": "n", "list_url": "http://h/list.html"}, "test")
    parsed = ParsedPage(title="t", published=None, text="x", continuations=tuple(links))
    article = Bulletin(
        bulletin_id="b",
        source_id="s",
        url=url,
        title="标题",
        published=date(2024, 1, 2),
        text="x",
        issuer_region=None,
    )
    refs = continuation_refs(src, url, url, parsed, article)
    assert [r.url.rsplit("/", 1)[1] for r in refs] == expected
    assert all((r.title, r.published) == ("标题", date(2024, 1, 2)) for r in refs)


def test_a_later_page_names_no_further_pages():
    later = parse_html(PAGES["/a/t20240701_100_1.html"].decode())
    assert later.continuations == ()
    first = parse_html(PAGES["/a/t20240701_100.html"].decode())
    assert first.continuations == ("t20240701_100_1.html", "t20240701_100_2.html")


def test_a_later_page_s_pager_names_pages_of_another_file():
    # page 2's pager links to the first page and to page 3: numbered pages of the first page's file, not its own
    second = parse_html(PAGES["/b/news_7.html"].decode().replace("news_7_2.html", "news_7.html"))
    src = parse_source({"id": "s", "name": "n", "list_url": "http://h/list.html"}, "test")
    assert (
        second.continuations
        and continuation_refs(src, "http://h/b/news_7_2.html", "http://h/b/news_7_2.html", second, None) == []
    )


def test_a_probe_reads_the_first_page_only(site):
    from etl.orchestration.probe import probe

    Handler.hits = {}
    p = probe(source(site), SETTINGS, today=date(2024, 12, 31))
    assert p.ok and p.bulletin is not None
    # the list and one article: not its further pages, not its files
    assert sorted(Handler.hits) == ["/a/t20240701_100.html", "/list.html"]


def test_without_follow_only_the_given_pages_are_fetched_and_counted(site, tmp_path):
    from etl.models import BulletinRef
    from etl.orchestration.ingest import fetch_refs

    ref = BulletinRef("long", site.base + "/a/t20240701_100.html", "全年社会工作情况", date(2024, 7, 1))
    b = fetch_refs(source(site), WINDOW, [ref], RawZone(tmp_path), None, SETTINGS, follow=False)
    # the further pages it names are neither fetched nor counted as discovered
    assert (b.stats.discovered, b.stats.fetched) == (1, 1) and b.stats.reconciles()
    assert [r.url for r in b.refs] == [ref.url]

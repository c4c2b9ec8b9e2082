"""Relative links resolve where a page was answered from, as in a browser: after a redirect (a column asked for
as /tzgg is answered from /tzgg/, an old article address sent to its new one) and under the page's
<base href>, not against the address it was asked for. Resolved against the asked-for address, a column's
``./202407/t1.html`` would point one folder up, at pages the site does not have."""

from __future__ import annotations

from datetime import date
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest

from etl.fetch.client import FetchSettings
from etl.fetch.rawzone import RawZone
from etl.fetch.sources import parse_source
from etl.fetch.urls import base_from, page_base
from etl.models import Window
from etl.orchestration.ingest import discover_source, ingest_source
from etl.parse.html import parse_html
from tests.docxmaker import make_docx

WINDOW = Window(date(2024, 1, 1), date(2024, 12, 31))
SETTINGS = FetchSettings(timeout=5, retries=0)


def article(title: str, text: str, extra: str = "", head: str = "") -> bytes:
    return (
        f"<html><head>{head}<meta name='PubDate' content='2024-07-02'></head><body><h1>{title}</h1>"
        f"<div class='TRS_Editor'><p>{text}</p></div>{extra}</body></html>"
    ).encode()


def column(items: list[tuple[str, str, str]], pager: str = "") -> bytes:
    lis = "".join(f"<li><a href='{h}'>{t}</a><span>{d}</span></li>" for h, t, d in items)
    return f"<html><head><title>通知公告</title></head><body><ul class='list'>{lis}</ul>{pager}</body></html>".encode()


REDIRECTS = {
    "/tzgg": "/tzgg/",  # a folder asked for without its slash
    "/old/t20240702_7.html": "/new/2024/t20240702_7.html",  # an article moved
}
PAGES = {
    # TRS column: relative items and the page count only in the script, both relative to /tzgg/
    "/tzgg/": column(
        [
            ("./202407/t20240702_1.html", "关于社会工作服务站建设情况的通报", "2024-07-02"),
            ("./202407/t20240701_2.html", "关于志愿服务工作情况的通报", "2024-07-01"),
        ],
        "<script>createPageHTML(2, 0, 'index', 'html');</script>",
    ),
    "/tzgg/index_1.html": column(
        [
            ("../tzgg/202406/t20240620_3.html", "关于社会工作人才队伍建设情况的通报", "2024-06-20"),
            ("./202406/t20240611_4.html", "关于社会救助工作情况的通报", "2024-06-11"),
        ],
        "<script>createPageHTML(2, 1, 'index', 'html');</script>",
    ),
    # articles whose attachments are relative to where they were answered from, or to their <base href>
    "/new/2024/t20240702_7.html": article(
        "社会工作年度情况",
        "全市建成社工站12个。",
        "<p>附件：<a href='files/annex.docx'>年度社会工作统计表</a></p>",
    ),
    "/new/2024/files/annex.docx": make_docx(["年度社会工作统计表", "全市持证社会工作者达到260人。"]),
    "/cms/t20240703_8.html": article(
        "志愿服务年度情况",
        "全市开展志愿服务活动80场。",
        "<p>附件：<a href='annex2.docx'>志愿服务统计表</a></p>",
        head="<base href='/upload/2024/'>",
    ),
    "/upload/2024/annex2.docx": make_docx(["志愿服务统计表", "全市注册志愿者1.2万人。"]),
    # a column whose links open their articles by script, as some CMSs write them
    "/script/list.html": (
        "<html><body><ul class='list'>"
        "<li><a href='javascript:void(0)' onclick=\"openDoc('./202407/t20240705_5.html')\">关于养老服务工作情况的通报</a>"
        "<span>2024-07-05</span></li>"
        "<li><a href=\"javascript:window.open('/script/202407/t20240704_6.html','_blank')\">关于儿童福利工作情况的通报</a>"
        "<span>2024-07-04</span></li>"
        "<li><a href='javascript:show(42)'>关于婚姻登记工作情况的通报</a><span>2024-07-03</span></li>"
        "</ul></body></html>"
    ).encode(),
    # a column that moved: its old address answers the site's not-found page, with 200
    "/moved/list.html": (
        "<html><head><title>提示</title><script>var t=3;</script></head><body><div class='nav'><a href='/'>首页</a></div>"
        "<p>抱歉，您访问的页面不存在或已被删除。</p></body></html>"
    ).encode(),
    "/list.html": column(
        [
            ("/old/t20240702_7.html", "社会工作年度情况", "2024-07-02"),
            ("/cms/t20240703_8.html", "志愿服务年度情况", "2024-07-03"),
        ]
    ),
}


class Handler(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def log_message(self, *a):
        pass

    def do_GET(self):
        Handler.hits.append(self.path)
        if self.path in REDIRECTS:
            self.send_response(301)
            self.send_header("Location", REDIRECTS[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = PAGES.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        self.send_header("Content-Type", docx if self.path.endswith(".docx") else "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site():
    from tests.localsite import LocalSite

    Handler.hits = []
    with LocalSite(Handler) as s:
        yield s


def source(site, list_path: str, **extra):
    return parse_source(
        {
            "id": "base",
            "name": "示例市民政局",
            "region": "340300",
            "list_url": site.base + list_path,
            "obey_robots": False,
            "politeness": {"concurrency": 2, "delay": 0.0},
            **extra,
        },
        "test",
    )


def test_a_column_answered_from_its_folder_resolves_its_items_and_pager_there(site):
    found = discover_source(source(site, "/tzgg"), WINDOW, SETTINGS)
    assert found.failures == []
    assert found.family == "trs"
    assert [r.url.removeprefix(site.base) for r in found.refs] == [
        "/tzgg/202407/t20240702_1.html",
        "/tzgg/202407/t20240701_2.html",
        "/tzgg/202406/t20240620_3.html",
        "/tzgg/202406/t20240611_4.html",
    ]
    assert "/tzgg/index_1.html" in Handler.hits and "/index_1.html" not in Handler.hits


@pytest.mark.parametrize("kind", [{}, {"kind": "html_list", "item_selector": "ul.list li"}])
def test_links_that_open_their_article_by_script_are_followed_where_a_click_lands(site, kind):
    found = discover_source(source(site, "/script/list.html", **kind), WINDOW, SETTINGS)
    # the third link's script names no page: it is not guessed at
    assert [r.url.removeprefix(site.base) for r in found.refs] == [
        "/script/202407/t20240705_5.html",
        "/script/202407/t20240704_6.html",
    ]


def test_a_column_address_that_answers_an_error_page_fails_saying_so(site):
    found = discover_source(source(site, "/moved/list.html"), WINDOW, SETTINGS)
    (failure,) = found.failures
    assert "is the site's error, block or maintenance page" in failure.reason
    assert "您访问的页面不存在" in failure.reason and "html_list" not in failure.reason


def test_a_hand_configured_column_resolves_there_too(site):
    found = discover_source(
        source(site, "/tzgg", kind="html_list", item_selector="ul.list li"), WINDOW, SETTINGS
    )
    assert [r.url.removeprefix(site.base) for r in found.refs] == [
        "/tzgg/202407/t20240702_1.html",
        "/tzgg/202407/t20240701_2.html",
    ]


def test_attachments_resolve_after_a_redirect_and_under_base_href(site, tmp_path):
    batch = ingest_source(source(site, "/list.html"), WINDOW, RawZone(tmp_path), settings=SETTINGS)
    assert batch.stats.failed == 0
    assert {"/new/2024/files/annex.docx", "/upload/2024/annex2.docx"} <= set(Handler.hits)
    facts = {(f.indicator, f.value) for f in batch.facts}
    assert ("certified_social_workers", 260) in facts
    assert ("volunteers", 12000) in facts
    # the files are kept under the addresses they were fetched from
    assert {site.base + "/new/2024/files/annex.docx", site.base + "/upload/2024/annex2.docx"} <= {
        p.url for p in batch.raw_pages
    }


@pytest.mark.parametrize(
    ("text", "url", "expected"),
    [
        ("<html><head><base href='/a/b/'></head><body>", "http://h/x/y.html", "http://h/a/b/"),
        ('<head><BASE target=_blank HREF="http://h/z/"></head>', "http://h/x/y.html", "http://h/z/"),
        ("<head><base href=sub/></head>", "http://h/x/y.html", "http://h/x/sub/"),
        ("<head><base href='/a/?p=1&amp;q=2'></head>", "http://h/", "http://h/a/?p=1&q=2"),
        # no base, a target only, one in the body, one that is no http(s) address: the page's own address
        ("<head></head><body><a href='x'>x</a>", "http://h/x/y.html", "http://h/x/y.html"),
        ("<head><base target='_blank'></head>", "http://h/x/y.html", "http://h/x/y.html"),
        ("<head></head><body><base href='/q/'>", "http://h/x/y.html", "http://h/x/y.html"),
        ("<head><base href='javascript:void(0)'></head>", "http://h/x/y.html", "http://h/x/y.html"),
        ("<head><base href='http://[::1/'></head>", "http://h/x/y.html", "http://h/x/y.html"),
        # a feed or a JSON list has no head
        ('{"base": "<base href=\'/q/\'>"}', "http://h/api", "http://h/api"),
    ],
)
def test_page_base(text, url, expected):
    assert page_base(text, url) == expected
    if text.startswith("<"):  # the parser, which gives the fetcher an article's links, reads the same base
        parsed = parse_html(text + "<div class='TRS_Editor'><p>全市建成社工站12个，运行良好。</p></div>")
        assert base_from(url, parsed.base_href) == expected


def test_parse_and_fetch_read_the_same_base():
    html = PAGES["/cms/t20240703_8.html"].decode()
    parsed = parse_html(html)
    assert base_from("http://h/cms/t.html", parsed.base_href) == page_base(html, "http://h/cms/t.html")
    assert page_base(html, "http://h/cms/t.html") == "http://h/upload/2024/"

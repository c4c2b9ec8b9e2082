"""Local bureau sites modelled on the CMS families Chinese civil-affairs bureaus run on, in markup of our own:
TRS WCM (``index_N.html`` pages counted in a ``createPageHTML`` script), Hanweb (the list inside a datastore
script, the rest through a data proxy), a 下一页 pager over table rows, a landing page advertising an RSS feed
(some items with full text), and a JSON list API (with inline bodies). Every response carries an ETag and
answers ``If-None-Match`` with 304; every request is logged with its status."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.localsite import LocalSite

PER_PAGE = 3
COUNT = 7


@dataclass(frozen=True)
class Post:
    family: str
    n: int
    published: date
    title: str
    path: str
    body_html: str


FAMILIES = {
    "trs": ("蚌埠市", "340300"),
    "hanweb": ("湖州市", "330500"),
    "pager": ("泸州市", "510500"),
    "rss": ("赣州市", "360700"),
    "json": ("曲靖市", "530300"),
}


def _path(family: str, n: int, d: date) -> str:
    if family == "trs":
        return f"/trs/{d:%Y%m}/t{d:%Y%m%d}_{1000 + n}.html"
    if family == "hanweb":
        return f"/art/{d.year}/{d.month}/{d.day}/art_1234_{1000 + n}.html"
    if family == "pager":
        return f"/news/{d.year}/{d:%m%d}/c{1000 + n}.html"
    if family == "rss":
        return f"/feed/a/{1000 + n}.html"
    return f"/api/detail/{1000 + n}.html"


def posts(family: str) -> list[Post]:
    city, _ = FAMILIES[family]
    out = []
    for n in range(COUNT):
        d = date(2024, 6, 28) - timedelta(days=9 * n)
        title = f"{city}民政局通报第{COUNT - n}批社会工作服务站运行情况"
        body = (
            f"<p>{d.year}年{d.month}月{d.day}日，{city}民政局通报社会工作服务站运行情况。</p>"
            f"<p>截至目前，全市已建成乡镇（街道）社工站{20 + n}个，配备专职社会工作者{60 + n}名，"
            "各站点围绕困难群众帮扶、老年人关爱等开展服务，群众反映良好，下一步将继续完善站点运行管理制度。</p>"
        )
        out.append(Post(family, n, d, title, _path(family, n, d), body))
    return out


def _chrome(city: str) -> str:
    return (
        '<div class="header"><ul class="nav"><li><a href="/">首页</a></li><li><a href="/jgzn/">机构职能</a></li>'
        '<li><a href="/zwgk/">政务公开</a></li></ul></div>'
        f'<div class="crumb">当前位置：<a href="/">{city}民政局</a> &gt; 通知公告</div>'
    )


def _article(p: Post, city: str) -> str:
    return (
        f'<html><head><meta charset="utf-8"><title>{p.title}_{city}民政局</title>'
        f'<meta name="ArticleTitle" content="{p.title}"><meta name="PubDate" content="{p.published} 09:30">'
        f'<meta name="ContentSource" content="{city}民政局"></head><body>{_chrome(city)}'
        f'<div class="article"><div class="info">发布时间：{p.published} 来源：{city}民政局</div>'
        f'<div class="TRS_Editor">{p.body_html}</div></div>'
        '<div class="footer">主办单位：民政局 技术支持：某公司</div></body></html>'
    )


def _trs_list(page: int) -> str:
    city = FAMILIES["trs"][0]
    ps = posts("trs")
    pages = (len(ps) + PER_PAGE - 1) // PER_PAGE
    items = "".join(
        f'<li><a href=".{p.path[4:]}" title="{p.title}">{p.title[:12]}…</a><span>{p.published}</span></li>'
        for p in ps[page * PER_PAGE : (page + 1) * PER_PAGE]
    )
    hot = "".join(f'<li><a href=".{p.path[4:]}">{p.title}</a></li>' for p in ps[:2])
    return (
        f'<html><head><meta charset="utf-8"><title>通知公告_{city}民政局</title></head><body>{_chrome(city)}'
        f'<div class="main"><div class="left"><h3>热点关注</h3><ul class="hot">{hot}</ul></div>'
        f'<div class="right"><ul class="xxgk_list">{items}</ul>'
        f'<div class="page"><script type="text/javascript">var countPage = {pages};'
        f'createPageHTML(countPage, {page}, "index", "html");</script></div></div></div>'
        '<div class="footer">版权所有</div></body></html>'
    )


def _records(ps: list[Post]) -> str:
    return "".join(
        f'<record><![CDATA[<li><a href="{p.path}" title="{p.title}" target="_blank">{p.title}</a>'
        f"<span>[{p.published}]</span></li>]]></record>"
        for p in ps
    )


def _hanweb_list() -> str:
    city = FAMILIES["hanweb"][0]
    ps = posts("hanweb")
    proxy = "/module/web/jpage/dataproxy.jsp?page=1&amp;webid=12&amp;path=/&amp;columnid=1234&amp;unitid=5678"
    return (
        f'<html><head><meta charset="utf-8"><title>{city}民政局 通知公告</title></head><body>{_chrome(city)}'
        '<div id="5678"><script type="text/xml"><datastore>'
        f'<nextgroup><![CDATA[<a href="{proxy}"></a>]]></nextgroup>'
        f"<recordset>{_records(ps[:PER_PAGE])}</recordset></datastore></script></div>"
        f"<script>$('#5678').jpage({{totalRecord: {len(ps)}, perPage: {PER_PAGE}}});</script>"
        "</body></html>"
    )


def _pager_list(page: int) -> str:
    city = FAMILIES["pager"][0]
    ps = posts("pager")
    pages = (len(ps) + PER_PAGE - 1) // PER_PAGE
    rows = "".join(
        f'<tr><td class="t"><a href="{p.path}">{p.title}</a></td>'
        f"<td>{p.published.year}年{p.published.month:02d}月{p.published.day:02d}日</td></tr>"
        for p in ps[(page - 1) * PER_PAGE : page * PER_PAGE]
    )
    name = lambda k: "list.html" if k == 1 else f"list_{k}.html"  # noqa: E731
    nxt = f'<a class="next" href="{name(page + 1)}">下一页</a>' if page < pages else ""
    return (
        f'<html><head><meta charset="gbk"><title>{city}民政局</title></head><body>{_chrome(city)}'
        f'<table class="list">{rows}</table>'
        f'<div class="pager"><a href="list.html">首页</a>{nxt}<a href="{name(pages)}">尾页</a></div>'
        "</body></html>"
    )


def _rss_landing() -> str:
    city = FAMILIES["rss"][0]
    return (
        f'<html><head><meta charset="utf-8"><title>{city}民政局</title>'
        '<link rel="alternate" type="application/rss+xml" title="通知公告" href="/feed/rss.xml"></head>'
        f"<body>{_chrome(city)}<p>欢迎访问</p></body></html>"
    )


def _rss() -> str:
    items = []
    for p in posts("rss"):
        full = f"<content:encoded><![CDATA[{p.body_html}]]></content:encoded>" if p.n % 2 == 0 else ""
        items.append(
            f"<item><title>{p.title}</title><link>{p.path}</link>"
            f"<pubDate>{p.published:%a, %d %b %Y} 08:00:00 +0800</pubDate>"
            f"<description>摘要</description>{full}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>通知公告</title>'
        f"{''.join(items)}</channel></rss>"
    )


def _json_list(page: int, epoch: bool = False) -> str:
    ps = posts("json")
    rows = [
        {
            "id": 1000 + p.n,
            "docTitle": p.title,
            "docUrl": p.path,
            "pubDate": f"{p.published} 10:00:00",
            "channel": "通知公告",
            "bodyHtml": p.body_html,
        }
        if not epoch
        else {
            # an id that is a number in the range of timestamps too, and the time in milliseconds at 00:30 in
            # Beijing (the day before in UTC)
            "id": 1_700_000_000 + p.n,
            "title": p.title,
            "url": p.path,
            "publishTime": int(
                datetime.combine(p.published, time(0, 30), timezone(timedelta(hours=8))).timestamp() * 1000
            ),
        }
        for p in ps[(page - 1) * PER_PAGE : page * PER_PAGE]
    ]
    return json.dumps({"code": 200, "data": {"total": len(ps), "rows": rows}}, ensure_ascii=False)


class CmsSites:
    """All five families on one 127.0.0.1 site; ``requests`` logs (path, status) in order."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self.site = LocalSite(self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sites = self
        articles = {p.path: (p, FAMILIES[f][0]) for f in FAMILIES for p in posts(f)}

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body, ctype, status = sites.route(parts.path, q, articles)
                if body is None:
                    self._send(404, b"not found", "text/plain")
                    return
                tag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == tag:
                    sites._log(self.path, 304)
                    self.send_response(304)
                    self.send_header("ETag", tag)
                    self.end_headers()
                    return
                self._send(status, body, ctype, tag)

            def _send(self, status: int, body: bytes, ctype: str, tag: str | None = None) -> None:
                sites._log(self.path, status)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if tag:
                    self.send_header("ETag", tag)
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _log(self, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((path, status))

    def route(
        self, path: str, q: dict[str, str], articles: dict[str, tuple[Post, str]]
    ) -> tuple[bytes | None, str, int]:
        html = "text/html; charset=utf-8"
        if path == "/robots.txt":
            return b"User-agent: *\nDisallow: /admin/\n", "text/plain", 200
        if path == "/trs/index.html":
            return _trs_list(0).encode(), html, 200
        if path.startswith("/trs/index_"):
            return _trs_list(int(path.rsplit("_", 1)[1].split(".")[0])).encode(), html, 200
        if path == "/col/col1234/index.html":
            return _hanweb_list().encode(), html, 200
        if path == "/module/web/jpage/dataproxy.jsp":
            start, end = int(q.get("startrecord", 1)), int(q.get("endrecord", PER_PAGE))
            ps = posts("hanweb")[start - 1 : end]
            xml = f"<datastore><totalrecord>{COUNT}</totalrecord><recordset>{_records(ps)}</recordset></datastore>"
            return xml.encode(), "text/xml; charset=utf-8", 200
        if path.startswith("/news/list"):
            page = 1 if path == "/news/list.html" else int(path.rsplit("_", 1)[1].split(".")[0])
            return _pager_list(page).encode("gbk"), "text/html", 200
        if path == "/feed/index.html":
            return _rss_landing().encode(), html, 200
        if path == "/feed/rss.xml":
            return _rss().encode(), "application/rss+xml; charset=utf-8", 200
        if path == "/api/list":
            return _json_list(int(q.get("page", 1))).encode(), "application/json; charset=utf-8", 200
        if path == "/api/epoch":
            return (
                _json_list(int(q.get("page", 1)), epoch=True).encode(),
                "application/json; charset=utf-8",
                200,
            )
        if path in articles:
            p, city = articles[path]
            return _article(p, city).encode(), html, 200
        return None, "", 404

    def __enter__(self) -> CmsSites:
        self.site.__enter__()
        self.base = self.site.base
        return self

    def __exit__(self, *exc: object) -> None:
        self.site.__exit__(*exc)


LIST_PATHS = {
    "trs": "/trs/index.html",
    "hanweb": "/col/col1234/index.html",
    "pager": "/news/list.html",
    "rss": "/feed/index.html",
    "json": "/api/list?page=1",
}

# What a user would write for each family with the selector/field kinds (where one can be written at all:
# a Hanweb datastore is not markup, and a TRS pager is a script).
HAND = {
    "trs": {"kind": "html_list", "item_selector": "ul.xxgk_list li", "item_date_selector": "span"},
    "pager": {
        "kind": "html_list",
        "list_url": "/news/list.html",
        "item_selector": "table.list tr",
        "next_selector": "div.pager a.next",
    },
    "rss": {"kind": "rss", "list_url": "/feed/rss.xml"},
    "json": {
        "kind": "json_api",
        "items_path": "data.rows",
        "link_field": "docUrl",
        "title_field": "docTitle",
        "date_field": "pubDate",
        "body_field": "bodyHtml",
        "page_param": "page",
    },
}

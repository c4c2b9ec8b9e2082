"""A real HTTP server on 127.0.0.1 whose paths misbehave on purpose."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import quote

from tests.localsite import LocalSite

ARTICLE = "<html><body><div class='article'><h1>{title}</h1><div class='info'>2024-05-0{day}</div><div class='TRS_Editor'><p>{body}</p></div></div></body></html>"


# The list page of the fault site: one healthy page and one of each fault.
LIST_PATHS = [
    "/ok",
    "/flaky",
    "/ratelimited0",
    "/slow",
    "/reset",
    "/truncated",
    "/missing",
    "/away",
    "/inside",
    "/huge",
    "/gbk",
    "/etag",
    "/private/secret",
    "/binary",
]


# Pages of the second list: validators that cannot be sent back, a page with no text at all.
ODD_PATHS = ["/odd-validators", "/no-text"]

# Links of the third list: a healthy page, a body its Content-Encoding does not describe, a link no client can
# request (a malformed IPv6 host), a redirect to a port outside 0-65535 on the same host.
HOSTILE_LINKS = ["/ok", "/bad-gzip", "http://[broken/x.html", "/to-bad-port"]

# Links of a list whose pages redirect by themselves: a moved article's meta refresh, a script-only stub, an
# article that reloads itself every five minutes (read as it is), a stub sending its reader on forever, and a
# stub pointing to another site.
STUB_LINKS = ["/moved-stub", "/js-stub", "/reloading", "/refresh-loop", "/stub-elsewhere"]


class FaultServer(LocalSite):
    def __init__(self):
        self.hits: dict[str, int] = {}
        self.seen_headers: dict[str, list[dict[str, str]]] = {}
        self.trickling = threading.Event()  # set once a client is reading a trickling page
        super().__init__(self._handler())

    def _handler(self):
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def send(self, status, body=b"", ctype="text/html; charset=utf-8", headers=None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def list_page(self, hrefs, day="2024-05-01", text=None):
                """A list page: one item per link, dated ``day``, reading ``text`` (else its href)."""
                items = "".join(f"<li><a href='{h}'>{text or h}</a><span>{day}</span></li>" for h in hrefs)
                self.send(200, f"<html><body><ul class='l'>{items}</ul></body></html>".encode())

            def article(self, title, body, day=1, **kw):
                self.send(200, ARTICLE.format(title=title, body=body, day=day).encode(), **kw)

            def do_GET(self):
                path = self.path
                n = outer.hits[path] = outer.hits.get(path, 0) + 1
                outer.seen_headers.setdefault(path, []).append(dict(self.headers))
                if path.startswith("/api/list"):
                    page = int(path.rsplit("page=", 1)[1]) if "page=" in path else 1
                    pages = {
                        1: [{"url": "/ok", "title": "新", "date": "2025-03-01"}],  # newer than the window
                        2: [
                            {"url": "/flaky", "title": "甲", "date": "2024-06-01"},
                            {"url": "/gbk", "title": "乙", "date": "2024-02-01"},
                        ],
                        3: [{"url": "/etag", "title": "丙", "date": "2023-12-01"}],  # older: stop here
                        4: [{"url": "/missing", "title": "不该读到", "date": "2023-01-01"}],
                    }
                    body = json.dumps({"data": {"list": pages.get(page, [])}}, ensure_ascii=False).encode()
                    self.send(200, body, ctype="application/json")
                elif path == "/robots.txt":
                    self.send(200, b"User-agent: *\nDisallow: /private/\n", ctype="text/plain")
                elif path == "/list.html":
                    items = "".join(
                        f'<li><a href="{p}">{p}</a><span>2024-05-0{i % 9 + 1}</span></li>'
                        for i, p in enumerate(LIST_PATHS)
                    )
                    self.send(200, f"<html><body><ul class='l'>{items}</ul></body></html>".encode())
                elif path.startswith("/loop/list.html"):
                    # every page shows the same items and links to a "next" page that differs only in its URL
                    nxt = n + 1
                    body = (
                        f"<html><body><ul class='l'><li><a href='/ok'>ok</a><span>2024-05-01</span></li></ul>"
                        f"<a class='next' href='/loop/list.html?p={nxt}'>next</a></body></html>"
                    )
                    self.send(200, body.encode())
                elif path == "/broken/list.html":
                    # page 1 is fine and points to page 2, which was re-templated: no item matches any more
                    body = (
                        "<html><body><ul class='l'><li><a href='/ok'>ok</a><span>2024-05-01</span></li></ul>"
                        "<a class='next' href='/broken/list_2.html'>next</a></body></html>"
                    )
                    self.send(200, body.encode())
                elif path == "/broken/list_2.html":
                    body = "<html><body><div class='newlist'><p><a href='/gbk'>gbk</a> 2024-05-02</p></div></body></html>"
                    self.send(200, body.encode())
                elif path == "/bad/list.html":
                    self.send(200, b"<html><body><div>maintenance <<<>>> </div")
                elif path == "/private/secret":
                    self.article("不该抓取", "全市建成社工站99个。")
                elif path == "/ratelimited0":
                    if n == 1:
                        self.send(429, b"slow down", headers={"Retry-After": "0"})
                    else:
                        self.article("限流后", "全市建成社工站15个。")
                elif path == "/ok":
                    self.article("正常", "全市建成社工站10个。")
                elif path == "/flaky":
                    if n == 1:
                        self.send(500, b"oops")
                    else:
                        self.article("恢复", "全市建成社工站11个。")
                elif path == "/ratelimited":
                    if n == 1:
                        self.send(429, b"slow down", headers={"Retry-After": "7"})
                    else:
                        self.article("限流后", "全市建成社工站12个。")
                elif path == "/ratelimited-long":
                    self.send(503, b"maintenance", headers={"Retry-After": "86400"})
                elif path == "/always500":
                    self.send(503, b"down")
                elif path == "/slow":
                    time.sleep(1.5)  # the client's timeout is far shorter: this is the fault under test
                    self.article("慢", "全市建成社工站13个。")
                elif path == "/trickle/list.html":
                    self.list_page([f"/trickle?n={i}" for i in range(3)], "2024-05-03", "t")
                elif path.startswith("/trickle"):
                    outer.trickling.set()
                    # a slow-loris page: headers at once, then one byte at a time, each well within the
                    # client's per-read timeout, for far longer than any deadline (bounded: the test ends it)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.end_headers()
                    try:
                        for _ in range(600):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.05)
                    except OSError:
                        pass  # the client gave up: the fault worked
                elif path == "/reset":
                    self.connection.shutdown(2)
                    self.close_connection = True
                elif path == "/truncated":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "5000")
                    self.end_headers()
                    self.wfile.write(b"<html><body>cut")
                    self.wfile.flush()
                    self.close_connection = True
                elif path == "/missing":
                    self.send(404, b"no")
                elif path == "/away":
                    self.send(302, b"", headers={"Location": "http://203.0.113.9/elsewhere"})
                elif path == "/inside":
                    self.send(301, b"", headers={"Location": "/ok"})
                elif path == "/huge":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    chunk = b"x" * 65536
                    try:
                        for _ in range(50 * 16):  # 50 MB, unless the client hangs up first
                            self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    self.close_connection = True
                elif path == "/gbk":
                    body = ARTICLE.format(title="阜阳", body="阜阳市建成社工站167个。", day=2).encode("gbk")
                    self.send(200, body, ctype="text/html")
                elif path == "/etag":
                    if self.headers.get("If-None-Match") == '"v1"':
                        self.send_response(304)
                        self.send_header("ETag", '"v1"')
                        self.end_headers()
                    else:
                        self.article("不变", "全市建成社工站14个。", headers={"ETag": '"v1"'})
                elif path == "/odd/list.html":
                    self.list_page(ODD_PATHS, "2024-05-03")
                elif path == "/etag/list.html":
                    self.list_page(["/etag"], "2024-05-03", "x")
                elif path == "/hostile/list.html":
                    self.list_page(HOSTILE_LINKS, "2024-05-03", "x")
                elif path == "/bad-gzip":
                    body = ARTICLE.format(title="压缩", body="全市建成社工站16个。", day=3).encode()
                    self.send(200, body, headers={"Content-Encoding": "gzip"})
                elif path == "/to-bad-port":
                    host = self.headers["Host"].rsplit(":", 1)[0]
                    self.send(302, headers={"Location": f"http://{host}:99999/x"})
                elif path == "/mojibake/list.html":
                    self.list_page(["/lying-charset", "/mixed-charset"], "2024-05-03", "x")
                elif path == "/lying-charset":
                    # GBK bytes declared as UTF-8
                    body = ARTICLE.format(
                        title="阜阳",
                        body="阜阳市建成乡镇（街道）社工站一百六十七个，服务困难群众十二万人次。" * 4,
                        day=2,
                    )
                    self.send(200, body.encode("gbk"), ctype="text/html; charset=utf-8")
                elif path == "/mixed-charset":
                    # a UTF-8 page with a GBK passage pasted in: no single charset reads it
                    half = "阜阳市开展志愿服务活动三百二十场，惠及困难群众八千人次。" * 10
                    body = ARTICLE.format(title="阜阳", body=half + "{gbk}", day=2).encode()
                    body = body.replace(b"{gbk}", half.encode("gbk"))
                    self.send(200, body, ctype="text/html; charset=utf-8")
                elif path == "/odd-validators":
                    # UTF-8 bytes in the validators, as some CMSs send them (read back as latin-1 text)
                    odd = {
                        "ETag": '"版本一"'.encode().decode("latin-1"),
                        "Last-Modified": "星期一, 06 May 2024 08:00:00 GMT".encode().decode("latin-1"),
                    }
                    self.article("验证器", "全市建成社工站15个。", headers=odd)
                elif path == "/no-text":
                    self.send(200, b"<html><body><img src='a.png'><img src='b.png'></body></html>")
                elif path == "/unasked/list.html":
                    self.list_page(["/ok", "/unasked-304"])
                elif path == "/unasked-304":
                    # a cache in front of the site answering 304 whatever the request asked
                    self.send(304)
                elif path == "/gbk-location/list.html":
                    self.list_page(["/moved-gbk", "/moved-utf8"])
                elif path in ("/moved-gbk", "/moved-utf8"):
                    # a Location of raw non-ASCII bytes, as some CMSs send it (http.server writes Latin-1)
                    encoding = "gbk" if path == "/moved-gbk" else "utf-8"
                    where = f"/新闻/{encoding}.html".encode(encoding).decode("latin-1")
                    self.send(302, b"", headers={"Location": where})
                elif path in (quote("/新闻/gbk.html".encode("gbk")), quote("/新闻/utf-8.html")):
                    self.article("中文路径", "全市建成社工站23个。")
                elif path == "/stubs/list.html":
                    self.list_page(STUB_LINKS)
                elif path == "/moved-stub":
                    body = "<html><head><meta http-equiv='Refresh' content='0; URL=/new/moved.html?a=1&amp;b=2'></head></html>"
                    self.send(200, body.encode())
                elif path == "/new/moved.html?a=1&b=2":
                    self.article("迁移后", "全市建成社工站21个。")
                elif path == "/js-stub":
                    body = "<html><body><script>window.location.href = '/inside';</script>页面跳转中……</body></html>"
                    self.send(200, body.encode("gbk"), ctype="text/html")
                elif path == "/reloading":
                    self.send(
                        200,
                        ARTICLE.format(title="自动刷新", body="全市建成社工站22个。", day=3)
                        .replace(
                            "<html>", "<html><head><meta http-equiv='refresh' content='300; url=/'></head>"
                        )
                        .encode(),
                    )
                elif path.startswith("/refresh-loop"):
                    k = sum(v for p, v in outer.hits.items() if p.startswith("/refresh-loop"))
                    self.send(200, f"<meta http-equiv=refresh content=0;url=/refresh-loop?n={k}>".encode())
                elif path == "/stub-elsewhere":
                    self.send(
                        200, b'<meta http-equiv="refresh" content="0;url=http://mp.weixin.invalid/s/abc">'
                    )
                elif path == "/binary":
                    self.send(200, b"\x89PNG....", ctype="image/png")
                else:
                    self.send(404, b"unknown")

        return H

"""Serve the demo bureau sites over real HTTP on 127.0.0.1, one ephemeral port (one host) per site.

Responses carry ETag and Last-Modified and answer conditional requests with 304, like a well-behaved CMS.
The GBK site sends its bytes with ``Content-Type: text/html`` and no charset anywhere, as some bureau sites do.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from collections.abc import Callable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from etl.demo.sites import Site, article_page, list_page, load_sites, rss_feed, sources_toml

_LIST = re.compile(r"^/list(?:_(\d+))?\.html$")
_ART = re.compile(r"^/art/([A-Za-z0-9_.-]+)\.html$")
# One fixed modification time: the demo's pages never change between runs.
_LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)


def _handler(site: Site, base: list[str], tally: Callable[[int], None]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet: the run summary says what happened
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            body: str | None = None
            ctype = "text/html; charset=utf-8"
            if path == "/robots.txt":
                body, ctype = "User-agent: *\nAllow: /\n", "text/plain; charset=utf-8"
            elif site.shape == "rss" and path == "/rss.xml":
                body, ctype = rss_feed(site, base[0]), "application/rss+xml; charset=utf-8"
            elif m := _LIST.match(path):
                body = list_page(site, int(m.group(1) or 1))
            elif m := _ART.match(path):
                body = article_page(site, m.group(1))
            if body is None:
                self._send(404, b"not found", "text/plain")
                return
            if site.encoding != "utf-8" and ctype.startswith("text/html"):
                data, ctype = body.encode(site.encoding), "text/html"
            else:
                data = body.encode("utf-8")
            etag = '"' + hashlib.sha1(data).hexdigest()[:20] + '"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", None, {"ETag": etag})
                return
            self._send(200, data, ctype, {"ETag": etag, "Last-Modified": _LAST_MODIFIED})

        def _send(
            self, status: int, data: bytes, ctype: str | None, extra: dict[str, str] | None = None
        ) -> None:
            tally(status)
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if status != 304:
                self.wfile.write(data)

    return Handler


class DemoSites:
    """Context manager: start every demo site, expose their base URLs and a source registry for them."""

    def __init__(self, host: str = "127.0.0.1", sites: dict[str, Site] | None = None):
        self.host = host
        self.sites = sites if sites is not None else load_sites()
        self.servers: dict[str, ThreadingHTTPServer] = {}
        self.threads: list[threading.Thread] = []
        self.base_urls: dict[str, str] = {}
        self.statuses: Counter[int] = Counter()  # every response the sites sent, by status
        self._lock = threading.Lock()

    def _tally(self, status: int) -> None:
        with self._lock:
            self.statuses[status] += 1

    def __enter__(self) -> DemoSites:
        for sid, site in self.sites.items():
            base: list[str] = [""]
            server = ThreadingHTTPServer((self.host, 0), _handler(site, base, self._tally))
            server.daemon_threads = True
            server.block_on_close = False
            base[0] = f"http://{self.host}:{server.server_address[1]}"
            self.base_urls[sid] = base[0]
            self.servers[sid] = server
            t = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"demo-{sid}", daemon=True
            )
            t.start()
            self.threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()
        for t in self.threads:
            t.join(timeout=5)

    def sources_toml(self) -> str:
        return sources_toml(self.sites, self.base_urls)

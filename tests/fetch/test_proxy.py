"""A machine behind a proxy (an office's HTTP proxy, a lab's SOCKS one) fetches through it, as any client there
does; its own addresses (the demo's sites, Prefect's temporary server on 127.0.0.1) never go through it."""

from __future__ import annotations

import asyncio
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest

from etl.fetch.client import Fetcher, FetchSettings
from etl.settings import direct_loopback
from tests.localsite import LocalSite

SETTINGS = FetchSettings(timeout=3, retries=0)
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy")


class Proxy(BaseHTTPRequestHandler):
    """A forward proxy that knows one far-away site: it answers absolute-URI requests for it."""

    asked: ClassVar[list[str]] = []

    def log_message(self, *a):
        pass

    def do_GET(self):
        Proxy.asked.append(self.path)
        body = "<p>经代理取得：全市建成社工站12个。</p>".encode() if self.path.startswith("http://") else b""
        self.send_response(200 if body else 400)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Local(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        body = "<p>本机站点</p>".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def no_proxy_env(monkeypatch):
    for v in PROXY_VARS:
        monkeypatch.delenv(v, raising=False)
    return monkeypatch


def fetch(*urls: str):
    async def go():
        async with Fetcher(SETTINGS) as f:
            return [await f.get(u, (u.split("/")[2],), 2, 0.0) for u in urls]

    return asyncio.run(go())


def test_pages_go_through_the_machine_s_proxy_and_its_own_addresses_do_not(no_proxy_env):
    Proxy.asked = []
    with LocalSite(Proxy) as proxy, LocalSite(Local) as local:
        no_proxy_env.setenv("HTTP_PROXY", proxy.base)
        far, near = fetch("http://bureau.proxied.test/a.html", local.base + "/b.html")
    assert far.ok and "社工站12个" in far.body.decode()
    assert Proxy.asked == ["http://bureau.proxied.test/a.html"]  # the local site was asked directly
    assert near.ok and near.body.decode() == "<p>本机站点</p>"


def test_a_socks_proxy_is_used_not_refused(no_proxy_env):
    # nothing listens on the proxy's port: the page fails as a connection failure, named, instead of the
    # client refusing to exist (httpx without socksio raises ImportError for any SOCKS proxy in the environment)
    with LocalSite(Local) as local:
        port = int(local.base.rsplit(":", 1)[1])
    no_proxy_env.setenv("ALL_PROXY", f"socks5://127.0.0.1:{port}")
    (res,) = fetch("http://bureau.socks.test/a.html")
    assert not res.ok and res.status == 0 and res.error


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HTTP_PROXY": "http://p:3128"}, "127.0.0.1,localhost,::1"),
        (
            {"https_proxy": "http://p:3128", "NO_PROXY": ".gov.cn, localhost"},
            ".gov.cn,localhost,127.0.0.1,::1",
        ),
        ({"HTTP_PROXY": "http://p:3128", "NO_PROXY": "*"}, "*"),
        ({}, None),
    ],
)
def test_with_a_proxy_the_machine_s_own_addresses_are_added_to_no_proxy(env, expected):
    direct_loopback(env)
    assert env.get("NO_PROXY") == expected
    if expected is not None:  # the lowercase spelling, which some clients read first, says the same
        assert set(env["no_proxy"].split(",")) >= {"127.0.0.1", "localhost", "::1"}

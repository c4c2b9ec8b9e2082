"""A robots.txt Crawl-delay longer than the source's politeness is honoured for its host."""

from __future__ import annotations

import asyncio
from http.server import BaseHTTPRequestHandler

from etl.fetch.client import Fetcher, FetchSettings
from etl.fetch.hostgate import HostGates
from etl.fetch.robots import Robots
from tests.localsite import LocalSite


def _site(robots: str) -> LocalSite:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:
            body = robots.encode() if self.path == "/robots.txt" else b"<p>x</p>"
            self.send_response(200)
            self.send_header("content-type", "text/plain" if self.path == "/robots.txt" else "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return LocalSite(Handler)


def _waits(robots: str, delay: float) -> tuple[list[float], int]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        # recorded, not slept: each start is then scheduled one more delay after the last one
        waits.append(round(seconds))

    gates = HostGates()

    async def go(site: LocalSite) -> None:
        async with Fetcher(FetchSettings(timeout=2, retries=0), sleep=sleep, gates=gates) as f:
            hosts = (site.host,)
            assert await Robots(f, f.settings.user_agent).check(site.base + "/a", hosts, 4, delay) is None
            for page in ("/a", "/b", "/c"):
                assert (await f.get(site.base + page, hosts, 4, delay)).ok

    with _site(robots) as site:
        asyncio.run(go(site))
        return waits, gates.get(site.host, 4, delay).concurrency


def test_a_crawl_delay_spaces_the_hosts_requests_one_at_a_time():
    waits, concurrency = _waits("User-agent: *\nCrawl-delay: 7\n", 0.0)
    # robots.txt itself went out at once; then /a, /b and /c 7 s apart
    assert waits == [7, 14] and concurrency == 1


def test_a_crawl_delay_shorter_than_the_sources_own_changes_nothing():
    waits, concurrency = _waits("User-agent: *\nCrawl-delay: 1\n", 3.0)
    assert waits == [3, 6, 9] and concurrency == 4


def test_no_crawl_delay_no_wait():
    waits, concurrency = _waits("User-agent: *\nDisallow: /private/\n", 0.0)
    assert waits == [] and concurrency == 4

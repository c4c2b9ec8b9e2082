"""robots.txt, obeyed by default: fetched once per host per run, through the same polite fetcher.

Per RFC 9309: a robots.txt that is missing (4xx) allows everything; one that cannot be fetched (5xx, network
failure) disallows everything for this run, since the site may be overloaded.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from etl.fetch.client import Fetcher

UNREACHABLE = "robots.txt unreachable"


def is_unreachable(reason: str | None) -> bool:
    """A refusal because the host could not be asked (its site is down), not because robots.txt says no: the
    run failed to reach the page, and it is counted and retried as a failure, never as a deliberate skip."""
    return bool(reason) and reason.startswith(UNREACHABLE)


class Robots:
    def __init__(self, fetcher: Fetcher, user_agent: str):
        self.fetcher = fetcher
        self.agent = user_agent.split("/", 1)[0]  # product token: bulletin-etl
        self._rules: dict[str, RobotFileParser | str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def check(
        self, url: str, allowed_hosts: tuple[str, ...], concurrency: int, delay: float
    ) -> str | None:
        """None when ``url`` may be fetched, else the reason it may not."""
        parts = urlsplit(url)
        host = parts.netloc.lower()
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            if host not in self._rules:
                self._rules[host] = await self._load(parts.scheme, host, allowed_hosts, concurrency, delay)
        rules = self._rules[host]
        if isinstance(rules, str):
            return rules
        if not rules.can_fetch(self.agent, url):
            return "robots.txt disallows this path"
        return None

    async def _load(
        self, scheme: str, host: str, allowed_hosts: tuple[str, ...], concurrency: int, delay: float
    ) -> RobotFileParser | str:
        robots_url = urlunsplit((scheme, host, "/robots.txt", "", ""))
        res = await self.fetcher.get(robots_url, allowed_hosts, concurrency, delay)
        parser = RobotFileParser(robots_url)
        if res.ok:
            parser.parse((res.body or b"").decode("utf-8", errors="replace").splitlines())
            return parser
        if 400 <= res.status < 500:
            parser.parse([])  # no robots.txt: everything allowed
            return parser
        return f"{UNREACHABLE} ({res.error or f'HTTP {res.status}'}): not fetching this host in this run"

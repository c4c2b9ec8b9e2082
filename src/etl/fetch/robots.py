"""robots.txt, obeyed by default: fetched once per host per run, through the same polite fetcher.

Per RFC 9309: a robots.txt that is missing (4xx) allows everything; one that cannot be fetched (5xx, network
failure) disallows everything for this run, since the site may be overloaded. A ``Crawl-delay`` longer than the
source's politeness delay is honoured for the host.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from etl.fetch.client import Fetcher
from etl.fetch.documents import get_document
from etl.fetch.rawzone import RawZone
from etl.models import FetchMemory, SiteDocument

UNREACHABLE = "robots.txt unreachable"
# (run key, host) → the rules, shared by every batch of one run in this process
_SHARED: dict[tuple[str, str], concurrent.futures.Future] = {}
_SHARED_LOCK = threading.Lock()


def is_unreachable(reason: str | None) -> bool:
    """A refusal because the host could not be asked (its site is down), not because robots.txt says no: the
    run failed to reach the page, and it is counted and retried as a failure, never as a deliberate skip."""
    return bool(reason) and reason.startswith(UNREACHABLE)


class Robots:
    """With ``raw`` and ``memory`` (the source's stored documents), robots.txt is asked for conditionally and a
    304 is read from the raw zone; each 200 is recorded in ``documents`` for the loader."""

    def __init__(
        self,
        fetcher: Fetcher,
        user_agent: str,
        source_id: str = "",
        memory: dict[str, FetchMemory] | None = None,
        raw: RawZone | None = None,
    ):
        self.fetcher = fetcher
        self.agent = user_agent.split("/", 1)[0]  # product token: bulletin-etl
        self.source_id = source_id
        self.memory = memory or {}
        self.raw = raw
        self.documents: list[SiteDocument] = []
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
                self._rules[host] = await self._shared(parts.scheme, host, allowed_hosts, concurrency, delay)
        rules = self._rules[host]
        if isinstance(rules, str):
            return rules
        asked = rules.crawl_delay(self.agent)
        if asked and float(asked) > delay:
            # the site's own Crawl-delay, one request at a time: a long one makes the source's budget run out,
            # and the pages left are failed, named and retried, never fetched faster than asked
            self.fetcher.slow_down(host, 1, float(asked))
        if not rules.can_fetch(self.agent, url):
            return "robots.txt disallows this path"
        return None

    async def _shared(
        self, scheme: str, host: str, allowed_hosts: tuple[str, ...], concurrency: int, delay: float
    ) -> RobotFileParser | str:
        """Once per host per run: the batches of one run (sources on one host, backfill partitions) run in
        threads with their own event loops, so the first to ask fetches and the others wait on its answer."""
        run = self.fetcher.settings.run_key
        if run is None:
            return await self._load(scheme, host, allowed_hosts, concurrency, delay)
        key = (run, host)
        with _SHARED_LOCK:
            fut = _SHARED.get(key)
            owner = fut is None
            if owner:
                fut = _SHARED[key] = concurrent.futures.Future()
        assert fut is not None
        if not owner:
            return await asyncio.wrap_future(fut)
        try:
            rules = await self._load(scheme, host, allowed_hosts, concurrency, delay)
        except BaseException as e:
            with _SHARED_LOCK:
                _SHARED.pop(key, None)  # a cancelled or crashed fetch is not the host's answer
            fut.set_exception(e)
            raise
        fut.set_result(rules)
        return rules

    async def _load(
        self, scheme: str, host: str, allowed_hosts: tuple[str, ...], concurrency: int, delay: float
    ) -> RobotFileParser | str:
        robots_url = urlunsplit((scheme, host, "/robots.txt", "", ""))
        read = await get_document(
            self.fetcher,
            robots_url,
            allowed_hosts,
            concurrency,
            delay,
            self.memory,
            self.raw,
            self.source_id,
            "robots",
        )
        res = read.result
        parser = RobotFileParser(robots_url)
        if read.body is not None:
            if read.document is not None:
                self.documents.append(read.document)
            parser.parse(read.body.decode("utf-8", errors="replace").splitlines())
            return parser
        if 400 <= res.status < 500:
            parser.parse([])  # no robots.txt: everything allowed
            return parser
        return f"{UNREACHABLE} ({res.error or f'HTTP {res.status}'}): not fetching this host in this run"

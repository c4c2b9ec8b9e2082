"""Polite HTTP fetching with httpx: per-host limits, retries with backoff, conditional GET, size cap.

Retries only what can succeed later (timeouts, connection faults, 408, 429, 5xx) and honours ``Retry-After``;
other 4xx are final. Redirects are followed by hand so that every hop is checked against the source's allowed
hosts. Bodies are read in a stream and abandoned past the size cap.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from etl import __version__

DEFAULT_CONTACT_URL = "https://github.com/bulletin-etl/bulletin-etl"
RETRY_STATUS = {408, 429}
ACCEPTED_TYPES = (
    "application/json",
    "text/html",
    "application/xhtml",
    "text/xml",
    "application/xml",
    "application/rss",
    "application/atom",
    "text/plain",
)


def user_agent(contact_url: str) -> str:
    """A User-Agent naming the project and where a webmaster can reach whoever runs it."""
    return f"bulletin-etl/{__version__} (+{contact_url})"


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str = field(default_factory=lambda: user_agent(DEFAULT_CONTACT_URL))
    timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    retries: int = 3  # attempts after the first
    backoff: float = 0.5  # seconds, doubled each attempt, with jitter
    max_backoff: float = 60.0
    max_redirects: int = 5
    politeness_override: bool = False  # benchmarks lift per-host limits; never for real sites


@dataclass
class FetchResult:
    url: str
    status: int  # last HTTP status, 0 when no response arrived
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    final_url: str = ""
    attempts: int = 0
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200 and self.body is not None

    @property
    def not_modified(self) -> bool:
        return self.status == 304 and self.error is None


class _HostGate:
    """At most ``concurrency`` requests in flight to a host, and ``delay`` seconds between request starts."""

    def __init__(self, concurrency: int, delay: float):
        self.sem = asyncio.Semaphore(concurrency)
        self.delay = delay
        self.lock = asyncio.Lock()
        self.next_start = 0.0

    async def __aenter__(self) -> None:
        await self.sem.acquire()
        if self.delay > 0:
            async with self.lock:
                now = time.monotonic()
                wait = self.next_start - now
                self.next_start = max(now, self.next_start) + self.delay
            if wait > 0:
                await asyncio.sleep(wait)

    async def __aexit__(self, *exc: object) -> None:
        self.sem.release()


class Fetcher:
    """One per run (or per source batch): holds the client and the per-host gates."""

    def __init__(self, settings: FetchSettings | None = None, sleep: Callable[[float], object] | None = None):
        self.settings = settings or FetchSettings()
        self._client: httpx.AsyncClient | None = None
        self._gates: dict[str, _HostGate] = {}
        self._sleep = sleep or asyncio.sleep

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(s.timeout),
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
            # The per-host gates bound concurrency; a global pool limit would make queued requests time out.
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _gate(self, host: str, concurrency: int, delay: float) -> _HostGate:
        if self.settings.politeness_override:
            concurrency, delay = 16, 0.0
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = _HostGate(concurrency, delay)
        return gate

    async def get(
        self,
        url: str,
        allowed_hosts: tuple[str, ...],
        concurrency: int = 2,
        delay: float = 1.0,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        assert self._client is not None, "use 'async with Fetcher()'"
        s = self.settings
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        result = FetchResult(url=url, status=0)
        current = url
        hops = 0
        attempt = 0
        while True:
            host = urlsplit(current).netloc.lower()
            if host not in allowed_hosts:
                result.error = f"host {host!r} not allowed (allowed: {', '.join(allowed_hosts)})"
                return result
            attempt += 1
            result.attempts = attempt
            retry_after: float | None = None
            try:
                async with self._gate(host, concurrency, delay):
                    status, resp_headers, body, error = await self._request(current, headers)
            except httpx.TimeoutException as e:
                status, resp_headers, body, error = 0, {}, None, f"timeout: {type(e).__name__}"
            except httpx.TransportError as e:
                status, resp_headers, body, error = 0, {}, None, f"transport error: {type(e).__name__}: {e}"
            result.status, result.headers, result.final_url = status, resp_headers, current
            result.fetched_at = datetime.now(UTC)
            if status in (301, 302, 303, 307, 308) and error is None:
                hops += 1
                location = resp_headers.get("location")
                if not location or hops > s.max_redirects:
                    result.error = f"redirect without location or more than {s.max_redirects} hops"
                    return result
                current = urljoin(current, location)
                attempt -= 1  # a redirect is not a failed attempt
                continue
            retryable = status == 0 and error is not None and not error.startswith("body exceeds")
            retryable = retryable or status in RETRY_STATUS or status >= 500
            if not retryable:
                if error is None and status not in (200, 304):
                    error = f"HTTP {status}"
                result.error = error
                result.body = body if error is None else None
                return result
            if status:
                error = f"HTTP {status}"
                retry_after = _retry_after(resp_headers.get("retry-after"))
            if attempt > s.retries:
                result.error = f"{error} after {attempt} attempts"
                return result
            if retry_after is not None and retry_after > s.max_backoff:
                # The site asks for a longer pause than a run may wait: leave it alone, retry on the next run.
                result.error = (
                    f"{error}: Retry-After {retry_after:.0f}s exceeds the {s.max_backoff:.0f}s wait limit"
                )
                return result
            wait = retry_after if retry_after is not None else s.backoff * 2 ** (attempt - 1)
            wait = min(s.max_backoff, wait) * (1 if retry_after is not None else random.uniform(0.5, 1.5))
            await self._sleep(wait)

    async def _request(
        self, url: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes | None, str | None]:
        assert self._client is not None
        async with self._client.stream("GET", url, headers=headers) as resp:
            resp_headers = {k.lower(): v for k, v in resp.headers.items()}
            if resp.status_code != 200:
                await resp.aclose()
                return resp.status_code, resp_headers, None, None
            ctype = resp_headers.get("content-type", "text/html").split(";")[0].strip().lower()
            if ctype and not ctype.startswith(ACCEPTED_TYPES):
                return resp.status_code, resp_headers, None, f"unexpected content-type {ctype!r}"
            declared = resp_headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.settings.max_bytes:
                return resp.status_code, resp_headers, None, f"body exceeds {self.settings.max_bytes} bytes"
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > self.settings.max_bytes:
                    return (
                        resp.status_code,
                        resp_headers,
                        None,
                        f"body exceeds {self.settings.max_bytes} bytes",
                    )
                chunks.append(chunk)
            return resp.status_code, resp_headers, b"".join(chunks), None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())

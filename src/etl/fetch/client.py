"""Polite HTTP fetching with httpx: per-host limits, retries with backoff, conditional GET, size cap.

Retries only what can succeed later (timeouts, connection faults, 408, 429, 5xx) and honours ``Retry-After``;
other 4xx are final. Redirects are followed by hand so that every hop is checked against the source's allowed
hosts, and so are those a page makes by itself (a meta refresh, a script-only stub: :mod:`etl.fetch.refresh`).
Bodies are read in a stream and abandoned past the size cap.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urljoin, urlsplit

import httpx

from etl import __version__
from etl.fetch.hostgate import PROCESS_GATES, HostGate, HostGates
from etl.fetch.refresh import client_redirect
from etl.fetch.tls import CERT_REJECTED, HANDSHAKE_FAILED, ssl_context, tls_problem
from etl.fetch.urls import url_problem
from etl.models import Tls

DEFAULT_CONTACT_URL = "https://github.com/bulletin-etl/bulletin-etl"
RETRY_STATUS = {408, 429}
UNDECODABLE_BODY = "body does not decode as its content-encoding says"
ACCEPTED_TYPES = (
    "application/pdf",  # attachments; bureau servers often label them octet-stream
    "application/octet-stream",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",  # .docx attachments
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
    timeout: float = 20.0  # httpx's, per operation (connect, each read): a trickling server resets it
    deadline: float = 120.0  # the whole request (connect + headers + body), however the server trickles
    source_budget: float = 3600.0  # all of one source's pages in one run
    run_deadline: float | None = None  # epoch seconds by which the whole run's fetching must end
    run_key: str | None = None  # the run's id: robots.txt is fetched once per host per run
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


def sendable_header(value: str | None) -> str | None:
    """``value`` if it can be sent back as a request header (printable ASCII, as httpx requires), else None: a
    server that answers a non-ASCII ``ETag`` or ``Last-Modified`` must not break every later run."""
    if not value or not value.isascii() or not value.isprintable() or len(value) > 512:
        return None
    return value


# This machine's addresses: never through a proxy (a browser's implicit bypass of loopback). An office's proxy
# cannot reach a site served on 127.0.0.1 (the demo's, a test's, a local mirror's).
LOOPBACK_PATTERNS = ("all://127.0.0.1", "all://localhost", "all://[::1]")


class Fetcher:
    """One per source batch: holds the httpx client. Per-host limits live in ``gates``, by default shared by every
    fetcher of the process (see etl.hostgate), so that batches running side by side stay polite together."""

    def __init__(
        self,
        settings: FetchSettings | None = None,
        sleep: Callable[[float], Awaitable[object]] | None = None,
        gates: HostGates | None = None,
        tls: Tls | None = None,
    ):
        self.settings = settings or FetchSettings()
        self.tls = tls or Tls()
        self._client: httpx.AsyncClient | None = None
        # Lifted limits (benchmarks) never touch the gates real sites share.
        self._gates = gates or (HostGates() if self.settings.politeness_override else PROCESS_GATES)
        self._sleep = sleep or asyncio.sleep

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            verify=ssl_context(self.tls),
            timeout=httpx.Timeout(s.timeout),
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
            # The per-host gates bound concurrency; a global pool limit would make queued requests time out.
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
            # the machine's proxy (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY) is used, as by any client
            # there, except for this machine's own addresses, which no proxy can reach
            mounts=dict.fromkeys(LOOPBACK_PATTERNS),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    def slow_down(self, host: str, concurrency: int, delay: float) -> None:
        """From now on at most ``concurrency`` requests at once to ``host``, their starts ``delay`` seconds apart
        (what its robots.txt asks, when that is more than the source's politeness)."""
        self._gate(host, concurrency, delay)

    def _gate(self, host: str, concurrency: int, delay: float) -> HostGate:
        if self.settings.politeness_override:
            concurrency, delay = 16, 0.0
        return self._gates.get(host, concurrency, delay)

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
        # a validator that cannot be sent back (stored by an older version) is dropped: a plain GET instead
        if etag := sendable_header(etag):
            headers["If-None-Match"] = etag
        if last_modified := sendable_header(last_modified):
            headers["If-Modified-Since"] = last_modified
        result = FetchResult(url=url, status=0)
        current = url
        hops = 0
        attempt = 0
        while True:
            # checked here, not deep in the socket layer (a port outside 0-65535 raised out of httpx)
            if (problem := url_problem(current)) is not None:
                result.final_url = current
                result.error = f"not a URL a client can request: {problem}"
                return result
            host = urlsplit(current).netloc.lower()
            if host not in allowed_hosts:
                result.error = f"host {host!r} not allowed (allowed: {', '.join(allowed_hosts)})"
                return result
            attempt += 1
            result.attempts = attempt
            retry_after: float | None = None
            gate = self._gate(host, concurrency, delay)
            try:
                await gate.acquire(self._sleep)
                try:
                    status, resp_headers, body, error = await asyncio.wait_for(
                        self._request(current, headers), s.deadline
                    )
                finally:
                    gate.release()
            except TimeoutError:
                # not retried: a server trickling bytes would hold the host's slot for (retries + 1) deadlines
                result.status, result.final_url = 0, current
                result.error = (
                    f"deadline: no complete response within {s.deadline:g}s (connect + headers + body)"
                )
                return result
            except httpx.TimeoutException as e:
                status, resp_headers, body, error = 0, {}, None, f"timeout: {type(e).__name__}"
            except httpx.TransportError as e:
                error = tls_problem(e) or f"transport error: {type(e).__name__}: {e}"
                status, resp_headers, body = 0, {}, None
            except httpx.DecodingError as e:
                # a body its Content-Encoding does not describe (plain bytes sent as gzip): the same on a retry
                status, resp_headers, body, error = 0, {}, None, f"{UNDECODABLE_BODY}: {e}"
            except (httpx.RequestError, httpx.InvalidURL, ValueError) as e:
                # a URL httpx will not send (a malformed host or port): named, and the other pages go on
                result.status, result.final_url = 0, current
                result.error = f"request not sent: {type(e).__name__}: {e}"
                return result
            result.status, result.headers, result.final_url = status, resp_headers, current
            result.fetched_at = datetime.now(UTC)
            if status == 304 and not headers and error is None:
                # nothing was asked to be reused (a cache answering 304 whatever the request): taken as "not
                # modified", the page would count as read and never be fetched, its content never stored
                error = "HTTP 304 to a request that sent no validators: nothing stored to reuse"
            location = None
            if status == 200 and error is None:
                location = client_redirect(body, resp_headers.get("content-type", "text/html"))
                if location is not None and _same_page(urljoin(current, location), current):
                    location = None  # a page that reloads itself is the page
            if location is not None or (status in (301, 302, 303, 307, 308) and error is None):
                hops += 1
                location = location or resp_headers.get("location")
                if not location or hops > s.max_redirects:
                    result.error = f"redirect without location or more than {s.max_redirects} hops"
                    return result
                current = urljoin(current, location)
                attempt -= 1  # a redirect is not a failed attempt
                continue
            retryable = (
                status == 0
                and error is not None
                # the same bytes, or the same handshake, again: left to the next run
                and not error.startswith(("body exceeds", UNDECODABLE_BODY, CERT_REJECTED, HANDSHAKE_FAILED))
            )
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
            if retry_after is not None:
                # The host asked for a pause: every request to it waits it out at the gate, not only this one.
                gate.pause(retry_after)
            else:
                await self._sleep(
                    min(s.max_backoff, s.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
                )

    async def _request(
        self, url: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes | None, str | None]:
        assert self._client is not None
        async with self._client.stream("GET", url, headers=headers) as resp:
            resp_headers = {k.lower(): v for k, v in resp.headers.items()}
            if "location" in resp_headers and not resp_headers["location"].isascii():
                resp_headers["location"] = _raw_location(resp.headers.raw)
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


def _raw_location(raw: list[tuple[bytes, bytes]]) -> str:
    """A ``Location`` of non-ASCII bytes (a Chinese path, often in GBK) as the server sent them, percent-encoded:
    decoded as text first, a GBK path would be sent back as the UTF-8 of its Latin-1 reading (a 404)."""
    value = next(v for k, v in raw if k.lower() == b"location")
    return quote(value.strip(), safe="!#$%&'()*+,/:;=?@[]~")


def _same_page(a: str, b: str) -> bool:
    return urlsplit(a)._replace(fragment="") == urlsplit(b)._replace(fragment="")


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
    if when.tzinfo is None:  # an HTTP date is GMT, said or not ("-0000" and no zone parse as naive)
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())

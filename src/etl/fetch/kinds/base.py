"""What every source kind shares: the fields it declares, the discovery record, and the reader of list pages
(polite, robots-checked, conditional, stored in the raw zone)."""

from __future__ import annotations

import email.utils
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from etl.fetch.charset import decode
from etl.fetch.client import Fetcher
from etl.fetch.documents import get_document
from etl.fetch.rawzone import RawZone
from etl.fetch.robots import Robots, is_unreachable
from etl.fetch.urls import page_base
from etl.models import BulletinRef, FetchMemory, PageIssue, SiteDocument, Window
from etl.reference.dates import china_date, stamp_date
from etl.reference.notices import html_title

if TYPE_CHECKING:
    from etl.fetch.sources import Source


@dataclass(frozen=True)
class Field:
    """A registry field a kind reads: its type, default, and what it means (docs/sources.md lists them all)."""

    name: str
    type: type
    default: Any
    doc: str
    required: bool = False
    selector: bool = False  # a CSS selector, compiled when the registry is read


@dataclass
class Discovery:
    refs: list[BulletinRef] = field(default_factory=list)
    pages: int = 0
    failures: list[PageIssue] = field(default_factory=list)  # list pages that failed
    skips: list[PageIssue] = field(default_factory=list)  # list pages not fetched, with the reason
    stopped_because: str = ""
    documents: list[SiteDocument] = field(default_factory=list)  # list pages and feeds read with a 200
    not_modified: int = 0  # list pages and feeds answered 304 (read from the raw zone)
    family: str = ""  # what automatic discovery recognised (trs, hanweb, feed, json, pager, list)
    page_title: str = ""  # the first list page's <title>, for naming a source that is being added


@dataclass(frozen=True)
class ListPage:
    url: str  # as asked for: what the walk, its failures and its conditional requests are keyed by
    text: str
    content_type: str
    # what its relative links resolve against: the address it was answered from after redirects (a column
    # asked for as /tzgg is answered from /tzgg/) or its <base href>, as in a browser
    base: str


@dataclass(frozen=True)
class Kind:
    name: str
    doc: str
    fields: tuple[Field, ...]
    discover: Callable[[Source, ListReader, Window], Awaitable[Discovery]]


class ListReader:
    """Reads a source's list pages and feeds for its kind's ``discover``: robots.txt first, the source's
    politeness, a conditional GET when the raw zone still holds the body an earlier run stored (a 304 is then
    read from there), and every failure or refusal recorded on the discovery, never raised."""

    def __init__(
        self,
        source: Source,
        fetcher: Fetcher,
        robots: Robots | None = None,
        memory: dict[str, FetchMemory] | None = None,
        raw: RawZone | None = None,
    ):
        self.source = source
        self.fetcher = fetcher
        self.robots = robots
        self.memory = memory or {}
        self.raw = raw
        self.out = Discovery()
        self.prefetched: dict[str, ListPage] = {}  # pages already read while recognising the site

    async def get(self, url: str, role: str = "list") -> ListPage | None:
        if url in self.prefetched:
            return self.prefetched.pop(url)
        src = self.source
        out = self.out
        if self.robots is not None:
            reason = await self.robots.check(
                url, src.allowed_hosts, src.politeness.concurrency, src.politeness.delay
            )
            if is_unreachable(reason):
                out.failures.append(PageIssue(url, "discover", reason or ""))
                return None
            if reason:
                out.skips.append(PageIssue(url, "discover", reason))
                return None
        read = await get_document(
            self.fetcher,
            url,
            src.allowed_hosts,
            src.politeness.concurrency,
            src.politeness.delay,
            self.memory,
            self.raw,
            src.id,
            role,
        )
        if read.from_store:
            out.not_modified += 1
            text, _ = decode(read.body or b"", None, src.encoding)
            return ListPage(url, text, "", page_base(text, read.result.final_url or url))
        if read.body is None:
            res = read.result
            out.failures.append(
                PageIssue(url, "discover", res.error or f"HTTP {res.status}", str(res.status))
            )
            return None
        content_type = read.result.headers.get("content-type", "")
        text, _ = decode(read.body, content_type, src.encoding)
        if not out.page_title:
            out.page_title = html_title(text) or ""
        if read.document is not None:
            out.documents.append(read.document)
        return ListPage(url, text, content_type, page_base(text, read.result.final_url or url))


async def follow(reader: ListReader, url: str, seen_pages: set[str]) -> ListPage | None:
    """The next list page of a walk, or None with the reason the walk ends on the discovery: the page was seen
    before (a pager going round), ``max_pages`` are read, or the page could not be read."""
    out = reader.out
    if url in seen_pages:
        out.stopped_because = f"list page {url} repeats"
        return None
    if out.pages >= reader.source.max_pages:
        out.stopped_because = f"max_pages {reader.source.max_pages} reached"
        return None
    seen_pages.add(url)
    page = await reader.get(url)
    if page is None:
        out.stopped_because = f"list page {url} not read"
    return page


def with_param(url: str, name: str, value: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != name] + [(name, str(value))]
    return urlunsplit(parts._replace(query=urlencode(query)))


def feed_date(value: str | None) -> date | None:
    """A feed item's date (RFC 822 in RSS, RFC 3339 in Atom), in China time when the time says its offset: an
    item stamped ``Thu, 02 May 2024 16:30:00 GMT`` was published on 3 May in Beijing."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return stamp_date(value)
    return china_date(when)


def take_page(refs: Iterable[BulletinRef], window: Window, seen: set[str], out: Discovery) -> str | None:
    """Keep a list page's bulletins that fall in the window (each URL once over the walk); returns why the
    walk stops after this page (:func:`page_verdict`), or None to go on."""
    new = older = unseen = 0
    for ref in refs:
        if ref.url in seen:
            continue
        seen.add(ref.url)
        unseen += 1
        place = window.place(ref.published)
        if place == "older":
            older += 1
        elif place == "in":  # newer than the window: skipped, the walk goes on towards it
            new += 1
            out.refs.append(ref)
    return page_verdict(older, new, unseen)


def page_verdict(older: int, new: int, unseen: int) -> str | None:
    """Why a walk over list pages stops after this page, or None to go on: pages run newest first, so a page
    whose dated items are all older than the window ends it; a page adding nothing new is a site repeating
    its last page."""
    if older and not new:
        return "reached the window's start"
    if unseen == 0:
        return "holds nothing new"
    return None

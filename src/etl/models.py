"""Typed records passed between stages."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

EXTRACTOR_VERSION = "0.3.0"


@dataclass(frozen=True)
class Politeness:
    concurrency: int = 2  # requests in flight per host
    delay: float = 1.0  # minimum seconds between requests to one host


@dataclass(frozen=True)
class Tls:
    """How a source's HTTPS sites are trusted: bureau servers often send an incomplete certificate chain (a
    browser fetches the missing intermediate, Python does not), use a CA outside the public bundle, or speak
    only old TLS."""

    ca_file: str | None = None  # PEM certificates trusted for this source, besides the public CAs
    verify: bool = True  # false: any certificate is accepted (encrypted, not authenticated)
    legacy: bool = False  # old servers: legacy renegotiation, TLS 1.0/1.1, weaker ciphers


@dataclass(frozen=True)
class Source:
    """A bureau site or column as the registry (:mod:`etl.fetch.sources`) gives it. Here, not there, so that
    the re-parse workers can receive one without importing the fetch side (httpx and the kinds)."""

    id: str
    name: str
    kind: str
    list_url: str
    region: str | None = None  # issuing bureau's region; None for a newspaper covering many places
    title_selector: str | None = None
    date_selector: str | None = None
    body_selector: str | None = None
    encoding: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    since: date = date(2020, 1, 1)
    max_pages: int = 50
    obey_robots: bool = True
    follow_attachments: bool = True
    politeness: Politeness = field(default_factory=Politeness)
    tls: Tls = field(default_factory=Tls)
    options: tuple[tuple[str, Any], ...] = ()  # the kind's own fields, every one present (defaults filled in)

    def option(self, name: str) -> Any:
        for k, v in self.options:
            if k == name:
                return v
        raise KeyError(f"source {self.id!r} (kind {self.kind}) has no field {name!r}")


@dataclass(frozen=True)
class BulletinRef:
    """A bulletin found on a list page or feed, not yet fetched."""

    source_id: str
    url: str
    title: str = ""
    published: date | None = None
    # The article's HTML as the list gave it (a JSON API's body field, an RSS item's content:encoded): read
    # instead of fetching the article.
    inline_html: str | None = None


@dataclass(frozen=True)
class RawPage:
    """A fetched body as stored in the raw zone."""

    source_id: str
    url: str
    status: int
    content_hash: str
    fetched_at: datetime
    encoding: str
    headers: dict[str, str]
    size: int
    path: str  # relative path of the body inside the raw zone


@dataclass(frozen=True)
class Bulletin:
    """One article: a page, or one article of a newspaper page."""

    bulletin_id: str
    source_id: str
    url: str
    title: str
    published: date | None
    text: str
    issuer_region: str | None
    article_index: int = 0
    content_hash: str = ""
    fetched_at: datetime | None = None
    region_hint: str | None = None  # region of a newspaper article's headline


@dataclass(frozen=True)
class Fact:
    bulletin_id: str
    indicator: str
    region_code: str
    region_name: str
    value: float
    unit: str
    qualifier: str
    change: str  # "level" (a stock or total) or "increment" (新增)
    evidence: str
    span_start: int
    span_end: int
    value_high: float | None = None
    period: str | None = None
    # how the region was decided (etl.extract.region_resolution): clause | collective | sentence | headline |
    # issuer | title | self_reference | dateline | mentions; undecided | elsewhere for numbers left unplaced
    region_basis: str = ""
    extractor_version: str = EXTRACTOR_VERSION

    def as_dict(self) -> dict[str, Any]:
        # every field is a scalar: dataclasses.asdict's deep copy cost a tenth of a re-parse's CPU
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class PageIssue:
    """A page a run did not use: a failure (retried next run, kept in ``fetch_failure``) or a skip (robots.txt
    refused it). ``stage`` says where: discover (a list page or feed), fetch, reparse."""

    url: str
    stage: str
    reason: str
    status: str = ""  # the HTTP status, when one was received

    def line(self) -> str:
        return f"{self.url}: {self.reason}"


@dataclass
class SourceStats:
    """Reconciled counts of one source in one run: discovered = fetched + not_modified + skipped + failed."""

    source_id: str
    discovered: int = 0
    fetched: int = 0
    not_modified: int = 0
    skipped: int = 0
    failed: int = 0
    parsed: int = 0
    facts: int = 0
    quarantined: int = 0
    failures: list[PageIssue] = field(default_factory=list)
    skips: list[PageIssue] = field(default_factory=list)

    def reconciles(self) -> bool:
        return self.discovered == self.fetched + self.not_modified + self.skipped + self.failed

    def to_row(self) -> dict[str, Any]:
        """Plain values (a flow's return value, shown and stored by Prefect)."""
        return asdict(self)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SourceStats:
        issues = {k: [PageIssue(**i) for i in row.get(k, [])] for k in ("failures", "skips")}
        return cls(**{**row, **issues})

    @property
    def status(self) -> str:
        """``ok``; ``partial`` when some pages failed (named in ``failures``, retried next run); ``failed`` when
        discovery failed (a list page or feed not read, robots.txt unreachable, a list page with no items) or
        no page could be read at all."""
        if not self.failed:
            return "ok"
        if any(f.stage == "discover" for f in self.failures) or self.fetched + self.not_modified == 0:
            return "failed"
        return "partial"


@lru_cache(maxsize=1 << 16)
def url_key(url: str) -> str:
    """A page's identity within its source: path and query. Bureau sites move between http and https and
    between host names; the page is the same one (and the demo sites get new ports every run)."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def bulletin_id(source_id: str, url: str, article_index: int = 0) -> str:
    """Stable id of a bulletin: the same page (and article) keeps its id across runs and edits."""
    key = f"{source_id}\x1f{url_key(url)}\x1f{article_index}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    def contains(self, d: date | None) -> bool:
        return self.place(d) == "in"

    def place(self, d: date | None) -> str:
        """older | newer | in (an undated item counts as in: it is fetched and dated from its page)."""
        if d is not None and d < self.start:
            return "older"
        if d is not None and d > self.end:
            return "newer"
        return "in"


@dataclass
class BatchRows:
    """A batch's bulletins, facts and quarantine rows as columns (column name → values), built by
    ``etl.warehouse.rows``."""

    bulletins: dict[str, list]
    facts: dict[str, list]
    quarantine: dict[str, list]


@dataclass
class SourceBatch:
    source_id: str
    window: Window
    stats: SourceStats
    raw_pages: list[RawPage] = field(default_factory=list)
    bulletins: list[Bulletin] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)  # rows rejected before validation
    refs: list[BulletinRef] = field(default_factory=list)
    succeeded_urls: list[str] = field(default_factory=list)  # fetched or unchanged: clears earlier failures
    outcomes: dict[str, str] = field(default_factory=dict)  # url → fetched | not_modified | failed
    read_at: dict[str, datetime] = field(default_factory=dict)  # url → when the site answered it (200 or 304)
    newest: date | None = None  # newest publication date seen, for the cursor
    reparsed_urls: list[str] = field(default_factory=list)  # pages re-read from the raw zone (no fetch)
    documents: list[SiteDocument] = field(default_factory=list)  # list pages, feeds, robots.txt read (200)
    # url → why the version read cannot be parsed (no main text, undecodable): a challenge or error page served
    # with 200, a re-templated site. Such a version never replaces what the warehouse holds for the page.
    unreadable: dict[str, str] = field(default_factory=dict)
    # bulletins, facts and quarantine rows as columns, once etl.warehouse.rows.to_rows has replaced the objects
    rows: BatchRows | None = None

    def fail(self, issue: PageIssue) -> None:
        """Count a page the batch could not use as failed, named by ``issue`` (retried by the next run)."""
        self.stats.failed += 1
        self.stats.failures.append(issue)
        self.outcomes[issue.url] = "failed"

    def replaced_urls(self) -> list[str]:
        """Pages whose bulletins, facts and quarantine rows this batch replaces: those it read, but for the
        versions it could not parse (the page keeps the bulletins of the last version that could be)."""
        return [u for u in [p.url for p in self.raw_pages] + self.reparsed_urls if u not in self.unreadable]


@dataclass(frozen=True)
class FetchMemory:
    """What earlier runs left for a URL: validators for a conditional GET, and for list pages, feeds and
    robots.txt the stored body's hash (a 304 is answered from the raw zone)."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class SiteDocument:
    """A page a source is read through rather than a bulletin (a list page, a feed, robots.txt): stored in the
    raw zone with its validators, so that the next run asks for it conditionally."""

    source_id: str
    url: str
    role: str  # list | feed | robots
    content_hash: str
    etag: str | None
    last_modified: str | None
    fetched_at: datetime

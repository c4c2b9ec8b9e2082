"""One source batch from discovery to validated facts, as plain functions (the flow only wires them)."""

from __future__ import annotations

import asyncio
import html
import re
import time
from datetime import date, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

from etl.fetch.client import Fetcher, FetchResult, FetchSettings
from etl.fetch.discover import Discovery, discover
from etl.fetch.rawzone import RawZone
from etl.fetch.robots import Robots, is_unreachable
from etl.fetch.sources import Source
from etl.fetch.urls import base_from, join_url, redirected_away
from etl.models import (
    Bulletin,
    BulletinRef,
    FetchMemory,
    PageIssue,
    RawPage,
    SourceBatch,
    SourceStats,
    Window,
    content_hash,
    url_key,
)
from etl.orchestration.cancel import RunCancelled, cancellable
from etl.orchestration.pages import read_into
from etl.parse.html import MAX_CONTINUATIONS, ParsedPage


def window_for(source: Source, cursor: date | None, logical_date: date, lag_days: int) -> Window:
    """From the cursor minus a lag (bureaus revise recent pages), never before the source's ``since``."""
    start = source.since if cursor is None else max(source.since, cursor - timedelta(days=lag_days))
    return Window(start=start, end=logical_date)


def ingest_source(
    source: Source,
    window: Window,
    raw: RawZone,
    memory: dict[str, FetchMemory] | None = None,
    retry_urls: list[str] | None = None,
    settings: FetchSettings | None = None,
) -> SourceBatch:
    """Discover the window's bulletins, fetch them, store them raw, parse and extract."""
    return asyncio.run(_ingest(source, window, raw, memory or {}, retry_urls or [], settings, None))


def discover_source(source: Source, window: Window, settings: FetchSettings | None = None) -> Discovery:
    """Discovery alone (a backfill discovers a long window once and fetches it month by month)."""

    async def go() -> Discovery:
        async with Fetcher(settings, tls=source.tls) as fetcher:
            robots = Robots(fetcher, fetcher.settings.user_agent) if source.obey_robots else None
            return await discover(source, fetcher, window, robots)

    return asyncio.run(go())


def fetch_refs(
    source: Source,
    window: Window,
    refs: list[BulletinRef],
    raw: RawZone,
    memory: dict[str, FetchMemory] | None = None,
    settings: FetchSettings | None = None,
    follow: bool = True,
) -> SourceBatch:
    """Fetch, store, parse and extract already discovered bulletins; without ``follow``, only them (not their
    further pages or files: a probe asks as little of a site as it can)."""
    found = Discovery(refs=list(refs))
    return asyncio.run(_ingest(source, window, raw, memory or {}, [], settings, found, follow))


async def _ingest(
    source: Source,
    window: Window,
    raw: RawZone,
    memory: dict[str, FetchMemory],
    retry_urls: list[str],
    settings: FetchSettings | None,
    found: Discovery | None,
    follow: bool = True,
) -> SourceBatch:
    stats = SourceStats(source_id=source.id)
    batch = SourceBatch(source_id=source.id, window=window, stats=stats)
    async with Fetcher(settings, tls=source.tls) as fetcher:
        robots = (
            Robots(fetcher, fetcher.settings.user_agent, source.id, memory, raw)
            if source.obey_robots
            else None
        )
        if found is None:
            try:
                found = await cancellable(discover(source, fetcher, window, robots, memory, raw))
            except RunCancelled:
                raise
            except Exception as e:
                # a list page that broke something nothing foresaw: the source's discovery failed, named (the
                # cursor stays), and the run's other sources go on
                found = Discovery(
                    failures=[PageIssue(source.list_url, "discover", f"unexpected {type(e).__name__}: {e}")]
                )
            batch.documents.extend(found.documents)
        for s in found.skips:
            stats.skips.append(s)
            stats.discovered += 1
            stats.skipped += 1
            batch.outcomes[s.url] = "skipped"
        for f in found.failures:
            # A list page that failed is a known page not fetched: it counts as discovered and failed.
            batch.fail(f)
            stats.discovered += 1
        refs = list(found.refs)
        known = {url_key(r.url) for r in refs}
        # Pages that failed in an earlier run are tried again even if the list no longer shows them.
        refs += [BulletinRef(source.id, urljoin(source.list_url, k)) for k in retry_urls if k not in known]
        batch.refs = refs
        stats.discovered += len(refs)

        async def one(ref: BulletinRef) -> tuple[BulletinRef, FetchResult | str]:
            try:
                return await fetch_one(ref)
            except RunCancelled:
                raise
            except Exception as e:
                # whatever a page's fetch raised that nothing foresaw: that page fails, named, and is retried;
                # the source's other pages are still stored and loaded
                return ref, FetchResult(url=ref.url, status=0, error=f"unexpected {type(e).__name__}: {e}")

        async def fetch_one(ref: BulletinRef) -> tuple[BulletinRef, FetchResult | str]:
            if robots is not None:
                reason = await robots.check(
                    ref.url, source.allowed_hosts, source.politeness.concurrency, source.politeness.delay
                )
                if reason:
                    return ref, reason
            mem = memory.get(url_key(ref.url), FetchMemory())
            if ref.inline_html is not None:
                return ref, inline_page(ref, mem)
            res = await fetcher.get(
                ref.url,
                source.allowed_hosts,
                source.politeness.concurrency,
                source.politeness.delay,
                etag=mem.etag,
                last_modified=mem.last_modified,
            )
            return ref, res

        seen = {url_key(r.url) for r in refs}
        todo = refs
        # the pages the fetched ones lead to, fetched like them (robots, politeness, size cap): a long article's
        # further pages and the files articles attach, then the files those further pages attach
        rounds = FOLLOW_ROUNDS if follow else 0
        for done in range(rounds + 1):
            leads: list[BulletinRef] = []
            for ref, res in await _within_budget(todo, one, fetcher.settings):
                leads += _handle(source, ref, res, raw, batch)
            todo = [r for r in dict.fromkeys(leads) if url_key(r.url) not in seen]
            if not todo or done == rounds:
                break
            seen |= {url_key(r.url) for r in todo}
            batch.refs += todo
            stats.discovered += len(todo)
        if robots is not None:
            batch.documents.extend(robots.documents)
    return batch


# Rounds of pages reached from the listed ones: an article's further pages and files, then those pages' files.
FOLLOW_ROUNDS = 2
# Attachments followed per article: a page linking dozens of PDFs is an archive, not a bulletin's figures.
MAX_ATTACHMENTS = 5


def attachment_refs(
    source: Source, ref: BulletinRef, base: str, page: ParsedPage | None, article: Bulletin | None
) -> list[BulletinRef]:
    """The same-site PDF and Word files an article links to (resolved against ``base``, where the page was
    answered from), dated like the article and titled by their link."""
    if page is None or not page.attachments:
        return []
    out = []
    for href, text in page.attachments:
        url = join_url(base, href)
        if url is None or urlsplit(url).netloc.lower() not in source.allowed_hosts:
            continue
        title = (
            text
            if len(text) >= 4 and not text.lower().endswith((".pdf", ".docx"))
            else (article.title if article else "")
        )
        out.append(BulletinRef(source.id, url, title, article.published if article else ref.published))
    return out[:MAX_ATTACHMENTS]


def continuation_refs(
    source: Source, url: str, base: str, page: ParsedPage | None, article: Bulletin | None
) -> list[BulletinRef]:
    """The further pages of a long article answered from ``url`` (name.html → name_1.html, name_2.html, … in
    the same directory; its links resolved against ``base``), in order, titled and dated like it: each is read
    as its own page, so that the figures of page 2 are not lost and a re-parse reads each stored page alone.
    Links to other files' numbered pages (an archive, a list's pager) are not continuations."""
    if page is None or not page.continuations:
        return []
    own_url = urlsplit(url)
    folder, _, own = own_url.path.rpartition("/")
    stem, dot, ext = own.rpartition(".")
    if not dot or not stem:
        return []
    numbered = re.compile(rf"{re.escape(stem)}_(\d{{1,3}})\.{re.escape(ext)}", re.I)
    found: dict[int, str] = {}
    for href in page.continuations:
        target = join_url(base, href)
        if target is None:
            continue
        parts = urlsplit(target)
        t_folder, _, name = parts.path.rpartition("/")
        m = numbered.fullmatch(name)
        if m and parts.netloc == own_url.netloc and t_folder == folder and not parts.query:
            found.setdefault(int(m.group(1)), parts._replace(fragment="").geturl())
    title = article.title if article else ""
    published = article.published if article else None
    return [BulletinRef(source.id, found[n], title, published) for n in sorted(found)[:MAX_CONTINUATIONS]]


def inline_page(ref: BulletinRef, mem: FetchMemory) -> FetchResult:
    """The article as the list gave it, wrapped as the page it stands for (title and date from the list), so
    that it is stored, parsed and re-parsed like a fetched one; unchanged since the stored version, it is
    answered as a 304."""
    title = html.escape(ref.title)
    pub = f'<meta name="PubDate" content="{ref.published.isoformat()}">' if ref.published else ""
    page = (
        f'<html><head><meta charset="utf-8"><title>{title}</title>{pub}</head>'
        f"<body><h1>{title}</h1><article>{ref.inline_html}</article></body></html>"
    ).encode()
    status = 304 if mem.content_hash == content_hash(page) else 200
    return FetchResult(
        url=ref.url,
        status=status,
        body=page if status == 200 else None,
        headers={"content-type": "text/html; charset=utf-8", "x-etl-origin": "list"},
        final_url=ref.url,
    )


async def _within_budget(
    refs: list[BulletinRef], one: Any, settings: FetchSettings
) -> list[tuple[BulletinRef, FetchResult | str]]:
    """Fetch every ref, but only for as long as the source's budget (and what is left of the run's) allows: the
    pages still in flight then fail, named, and are retried next run, instead of holding the run."""
    budget = settings.source_budget
    if settings.run_deadline is not None:
        budget = min(budget, settings.run_deadline - time.time())
    tasks = [asyncio.ensure_future(one(r)) for r in refs]
    if not tasks:
        return []
    try:
        done, pending = await cancellable(asyncio.wait(tasks, timeout=max(0.0, budget)))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    why = f"budget exceeded: the source's pages took longer than {budget:.0f}s (run or source budget in [fetch])"
    return [
        t.result() if t in done else (r, FetchResult(url=r.url, status=0, error=why))
        for r, t in zip(refs, tasks, strict=True)
    ]


def _handle(
    source: Source, ref: BulletinRef, res: FetchResult | str, raw: RawZone, batch: SourceBatch
) -> list[BulletinRef]:
    """Record one fetch's outcome; a fetched page is stored, parsed and extracted. Returns the pages to follow
    from it: a long article's further pages, and the files it attaches (unless the source says not to)."""
    stats = batch.stats
    if isinstance(res, str) and is_unreachable(res):  # the host could not be reached: a failure, retried
        batch.fail(PageIssue(ref.url, "fetch", res))
        return []
    if isinstance(res, str):  # not fetched, for the reason given (robots.txt)
        stats.skipped += 1
        stats.skips.append(PageIssue(ref.url, "fetch", res))
        batch.outcomes[ref.url] = "skipped"
        return []
    if res.not_modified:
        stats.not_modified += 1
        batch.outcomes[ref.url] = "not_modified"
        batch.read_at[ref.url] = res.fetched_at
        batch.succeeded_urls.append(ref.url)
        return []
    if not res.ok:
        batch.fail(PageIssue(ref.url, "fetch", res.error or "", str(res.status)))
        return []
    if (away := redirected_away(ref.url, res.final_url, source.list_url)) is not None:
        # not the page: a failure (retried), and the page keeps what the warehouse holds for it
        batch.fail(PageIssue(ref.url, "fetch", away, str(res.status)))
        return []
    body = res.body or b""
    digest, rel = raw.put(body)  # stored before anything is parsed
    bulletins, encoding, page = read_into(source, ref, body, res.headers, digest, res.fetched_at, batch)
    if ref.url in batch.unreadable:
        # answered, but not read: a failure, retried next run, and the page keeps what it had; the version is
        # stored all the same (quarantined under its hash) so that a parser or selector fix reaches it
        batch.fail(PageIssue(ref.url, "parse", batch.unreadable[ref.url], str(res.status)))
    else:
        stats.fetched += 1
        batch.outcomes[ref.url] = "fetched"
        batch.read_at[ref.url] = res.fetched_at
        batch.succeeded_urls.append(ref.url)
    batch.raw_pages.append(
        RawPage(
            source_id=source.id,
            url=ref.url,
            status=res.status,
            content_hash=digest,
            fetched_at=res.fetched_at,
            encoding=encoding,
            headers=res.headers,
            size=len(body),
            path=rel,
        )
    )
    for b in bulletins:
        if b.published and (batch.newest is None or b.published > batch.newest):
            batch.newest = b.published
    article = bulletins[0] if bulletins else None
    # the page's links resolve where it was answered from, as in a browser: after a redirect (an old address
    # sent to the new one) and under its <base href>, not against the address it was listed under
    answered = res.final_url or ref.url
    base = base_from(answered, page.base_href) if page is not None else answered
    more = continuation_refs(source, answered, base, page, article)
    if source.follow_attachments:
        more += attachment_refs(source, ref, base, page, article)
    return more

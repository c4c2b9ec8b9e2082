"""Find bulletins on a source: list pages newest-first with pagination, or an RSS/Atom feed."""

from __future__ import annotations

import email.utils
import json
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from defusedxml import ElementTree
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from etl.fetch.charset import decode
from etl.fetch.client import Fetcher
from etl.fetch.robots import Robots, is_unreachable
from etl.fetch.sources import Source
from etl.models import BulletinRef, Window
from etl.reference.dates import parse_date


@dataclass
class Discovery:
    refs: list[BulletinRef] = field(default_factory=list)
    pages: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)  # list pages that failed
    skips: list[dict[str, str]] = field(default_factory=list)  # list pages not fetched, with the reason
    stopped_because: str = ""


async def discover(
    source: Source, fetcher: Fetcher, window: Window, robots: Robots | None = None
) -> Discovery:
    if source.kind == "rss":
        return await _discover_feed(source, fetcher, window, robots)
    if source.kind == "json_api":
        return await _discover_json(source, fetcher, window, robots)
    return await _discover_html_list(source, fetcher, window, robots)


async def _get_text(
    source: Source, fetcher: Fetcher, url: str, out: Discovery, robots: Robots | None = None
) -> str | None:
    if robots is not None:
        reason = await robots.check(
            url, source.allowed_hosts, source.politeness.concurrency, source.politeness.delay
        )
        if is_unreachable(reason):
            out.failures.append({"url": url, "status": "", "error": reason})
            return None
        if reason:
            out.skips.append({"url": url, "reason": reason})
            return None
    res = await fetcher.get(url, source.allowed_hosts, source.politeness.concurrency, source.politeness.delay)
    if not res.ok:
        out.failures.append(
            {"url": url, "status": str(res.status), "error": res.error or f"HTTP {res.status}"}
        )
        return None
    text, _ = decode(res.body or b"", res.headers.get("content-type"), source.encoding)
    return text


async def _discover_html_list(
    source: Source, fetcher: Fetcher, window: Window, robots: Robots | None = None
) -> Discovery:
    out = Discovery()
    url: str | None = source.list_url
    seen_pages: set[str] = set()
    seen_refs: set[str] = set()
    while url:
        if url in seen_pages:
            out.stopped_because = f"list page {url} repeats"
            break
        if out.pages >= source.max_pages:
            out.stopped_because = f"max_pages {source.max_pages} reached"
            break
        seen_pages.add(url)
        html = await _get_text(source, fetcher, url, out, robots)
        if html is None:
            out.stopped_because = f"list page {url} not read"
            break
        out.pages += 1
        tree = HTMLParser(html)
        items = tree.css(source.item_selector)
        new_on_page = older = unseen = 0
        for item in items:
            link = item.css_first(source.link_selector)
            href = link.attributes.get("href") if link is not None else None
            if not href:
                continue
            abs_url = urljoin(url, href)
            if abs_url in seen_refs:
                continue
            seen_refs.add(abs_url)
            unseen += 1
            when = None
            if source.item_date_selector:
                d = item.css_first(source.item_date_selector)
                when = parse_date(d.text(strip=True)) if d is not None else None
            if when is None:
                when = parse_date(item.text(separator=" ", strip=True))
            place = window.place(when)
            if place == "older":
                older += 1
                continue
            if place == "newer":
                continue  # newer than the window: keep walking towards it
            new_on_page += 1
            title = link.attributes.get("title") or link.text(strip=True)
            out.refs.append(BulletinRef(source.id, abs_url, title, when))
        if not items:
            # the first page, or a page the pager pointed to: items were expected (a broken or re-templated
            # page must not end discovery as if the list were over)
            out.stopped_because = f"list page {url} has no items matching {source.item_selector!r}"
            out.failures.append({"url": url, "status": "200", "error": out.stopped_because})
            break
        if older and not new_on_page:
            out.stopped_because = "reached the window's start"
            break
        if unseen == 0:
            out.stopped_because = f"list page {url} holds nothing new"  # a site repeating its last page
            break
        nxt = tree.css_first(source.next_selector) if source.next_selector else None
        href = nxt.attributes.get("href") if nxt is not None else None
        url = urljoin(url, href) if href else None
        if url is None:
            out.stopped_because = "last list page"
    return out


async def _discover_feed(
    source: Source, fetcher: Fetcher, window: Window, robots: Robots | None = None
) -> Discovery:
    out = Discovery()
    text = await _get_text(source, fetcher, source.list_url, out, robots)
    if text is None:
        out.stopped_because = "feed failed"
        return out
    out.pages = 1
    try:
        root = ElementTree.fromstring(text.encode("utf-8"))
    except Exception as e:  # defusedxml raises its own errors for entity tricks, ParseError for bad XML
        out.failures.append({"url": source.list_url, "status": "200", "error": f"feed not parseable: {e}"})
        out.stopped_because = "feed not parseable"
        return out
    atom = "{http://www.w3.org/2005/Atom}"
    entries = root.findall(".//item") or root.findall(f".//{atom}entry")
    for e in entries:
        link = e.findtext("link") or ""
        if not link:
            node = e.find(f"{atom}link")
            link = node.get("href", "") if node is not None else ""
        title = (e.findtext("title") or e.findtext(f"{atom}title") or "").strip()
        raw_date = e.findtext("pubDate") or e.findtext(f"{atom}updated") or e.findtext(f"{atom}published")
        when = _feed_date(raw_date)
        if not link.strip() or not window.contains(when):
            continue
        out.refs.append(BulletinRef(source.id, urljoin(source.list_url, link.strip()), title, when))
    out.stopped_because = "feed read"
    return out


async def _discover_json(
    source: Source, fetcher: Fetcher, window: Window, robots: Robots | None = None
) -> Discovery:
    """A JSON list API: items at ``items_path``; with ``page_param``, pages 1, 2, ... until one adds nothing."""
    out = Discovery()
    seen: set[str] = set()
    for page in range(1, source.max_pages + 1):
        url = (
            source.list_url
            if not source.page_param
            else _with_param(source.list_url, source.page_param, page)
        )
        text = await _get_text(source, fetcher, url, out, robots)
        if text is None:
            out.stopped_because = f"list {url} not read"
            break
        out.pages += 1
        try:
            items = _dig(json.loads(text), source.items_path)
        except (ValueError, KeyError, TypeError, IndexError) as e:
            out.failures.append(
                {"url": url, "status": "200", "error": f"JSON has no list at {source.items_path!r}: {e}"}
            )
            break
        if not isinstance(items, list):
            out.failures.append(
                {"url": url, "status": "200", "error": f"{source.items_path!r} is not a list"}
            )
            break
        new = older = unseen = 0
        for item in items:
            link = item.get(source.link_field) if isinstance(item, dict) else None
            if not isinstance(link, str) or not link:
                continue
            abs_url = urljoin(url, link)
            if abs_url in seen:
                continue
            seen.add(abs_url)
            unseen += 1
            when = parse_date(str(item.get(source.date_field, "")))
            place = window.place(when)
            older += place == "older"
            if place == "in":
                new += 1
                out.refs.append(BulletinRef(source.id, abs_url, str(item.get(source.title_field, "")), when))
        if not source.page_param or unseen == 0 or (older and not new):
            out.stopped_because = "reached the window's start" if older else "no new items"
            break
    return out


def _dig(data: object, path: str) -> object:
    for part in path.split(".") if path else []:
        data = data[int(part)] if isinstance(data, list) else data[part]  # type: ignore[index]
    return data


def _with_param(url: str, name: str, value: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != name] + [(name, str(value))]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _feed_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError):
        return parse_date(value)

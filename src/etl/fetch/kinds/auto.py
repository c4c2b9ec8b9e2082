"""``auto`` (the default): discovery from the list page's URL alone.

The first list page says what it is: a feed (RSS/Atom), a JSON list, a Hanweb column (its list in a datastore
script), or an HTML column page (TRS WCM, or any CMS with a 下一页 pager), whose bulletins are found as
:mod:`etl.fetch.kinds.links` describes. A page advertising a feed (``<link rel="alternate">``) is read through
the feed as well. When nothing on the page reads as a list of bulletins, that is a failure naming the page,
never an empty success: the site then needs the selectors of ``html_list``.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from etl.fetch.kinds import hanweb, json_api, links, rss
from etl.fetch.kinds.base import Discovery, Kind, ListPage, ListReader, follow, take_page
from etl.fetch.urls import join_url
from etl.models import BulletinRef, PageIssue, Window
from etl.reference.dates import epoch_date, parse_date
from etl.reference.notices import page_notice

if TYPE_CHECKING:
    from etl.fetch.sources import Source

_FEED_LINK = (
    'link[rel="alternate"][type="application/rss+xml"], link[rel="alternate"][type="application/atom+xml"]'
)
_PAGE_PARAMS = ("page", "pageno", "pagenum", "pageindex", "page_no", "pn", "currentpage", "current", "p")
_LINK_NAMES = ("url", "link", "href", "linkurl", "docurl", "docpuburl", "arturl", "detailurl", "pageurl")
_TITLE_NAMES = ("title", "doctitle", "name", "subject", "arttitle", "headline")
_BODY_NAMES = (
    "body_html",
    "bodyhtml",
    "content",
    "contenthtml",
    "content_html",
    "htmlcontent",
    "doccontent",
    "body",
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_DATE_NAME = re.compile(r"date|time|pub|day|created|modified|issued", re.I)


async def discover(source: Source, reader: ListReader, window: Window) -> Discovery:
    out = reader.out
    first = await reader.get(source.list_url)
    if first is None:
        out.stopped_because = f"list page {source.list_url} not read"
        return out
    text = first.text
    if rss.is_feed(text):
        out.family = "feed"
        out.pages = 1
        out.refs.extend(rss.read_feed(source, text, source.list_url, window, out, first.base))
        out.stopped_because = out.stopped_because or "feed read"
        return out
    if "json" in first.content_type or text.lstrip()[:1] in ("{", "["):
        return await _json(source, reader, window, first)
    feed = HTMLParser(text).css_first(_FEED_LINK)
    feed_refs: list[BulletinRef] = []
    href = feed.attributes.get("href") if feed is not None else None
    feed_url = join_url(first.base, href) if href else None
    if feed_url is not None:
        page = await reader.get(feed_url, role="feed")
        if page is not None and rss.is_feed(page.text):
            feed_refs = rss.read_feed(source, page.text, feed_url, window, out, page.base)
    if hanweb.is_hanweb(text):
        await _hanweb(source, reader, window, first)
    else:
        await _html(source, reader, window, first, require_list=not feed_refs)
    if feed_refs:
        # the feed's items carry their full text: they replace the same bulletins found on the list pages
        by_url = {r.url: r for r in feed_refs}
        out.refs = feed_refs + [r for r in out.refs if r.url not in by_url]
        out.family = f"feed+{out.family}" if out.family else "feed"
    return out


def _accept(
    source: Source, items: list[links.Item], window: Window, seen: set[str], out: Discovery
) -> str | None:
    return take_page((BulletinRef(source.id, i.url, i.title, i.published) for i in items), window, seen, out)


async def _html(
    source: Source, reader: ListReader, window: Window, first: ListPage, require_list: bool
) -> None:
    out = reader.out
    page: ListPage | None = first
    signature: str | None = None
    seen_pages: set[str] = {first.url}
    seen: set[str] = set()
    while page is not None:
        out.pages += 1
        found = links.best_list(links.candidates(page.text, page.base, source.allowed_hosts), signature)
        if found is None:
            if out.pages == 1 and not require_list:
                out.stopped_because = "no bulletin list on the page (the feed was read)"
                return
            if (notice := page_notice(page.text)) is not None:
                # a column moved or a site blocking us: the page says so, and the fix is not a selector
                why = (
                    f"list page {page.url} is the site's error, block or maintenance page: it says {notice!r}"
                )
            elif out.pages == 1:
                why = (
                    f'list page {page.url}: no run of dated same-site links found (set kind = "html_list" '
                    "with item_selector)"
                )
            else:
                why = f"list page {page.url} has none of the items found on the first page"
            out.failures.append(PageIssue(page.url, "discover", why, "200"))
            out.stopped_because = why
            return
        signature, items = found
        if not out.family:
            out.family = "trs" if links.trs_next(page.text, page.base) is not None else "list"
        verdict = _accept(source, items, window, seen, out)
        if verdict:
            out.stopped_because = verdict if "window" in verdict else f"list page {page.url} {verdict}"
            return
        nxt = links.next_page(page.text, page.base, source.allowed_hosts)
        if nxt is None:
            out.stopped_because = "last list page"
            return
        if out.family == "list":
            out.family = "pager"
        page = await follow(reader, nxt, seen_pages)


async def _hanweb(source: Source, reader: ListReader, window: Window, first: ListPage) -> None:
    out = reader.out
    out.family = "hanweb"
    out.pages = 1
    seen: set[str] = set()
    items = hanweb.records(first.text, first.base)
    if not items:
        out.failures.append(PageIssue(first.url, "discover", "Hanweb datastore without records", "200"))
        out.stopped_because = "Hanweb datastore without records"
        return
    verdict = _accept(source, items, window, seen, out)
    proxy = hanweb.proxy_url(first.text, first.base)
    total = hanweb.total(first.text)
    read = len(items)
    step = len(items)
    asked = {first.url}
    while verdict is None and proxy is not None and (total is None or read < total):
        page = await follow(reader, hanweb.proxy_page(proxy, read + 1, read + step, step), asked)
        if page is None:
            return
        out.pages += 1
        batch = hanweb.records(page.text, first.base)
        if not batch:
            break
        read += len(batch)
        verdict = _accept(source, batch, window, seen, out)
    out.stopped_because = verdict or "last records"


def _walk_lists(data: Any, path: str = "") -> list[tuple[str, list[dict[str, Any]]]]:
    found = []
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        found.append((path, data))
    if isinstance(data, dict):
        for k, v in data.items():
            found += _walk_lists(v, f"{path}.{k}" if path else str(k))
    return found


def _pick(keys: list[str], names: tuple[str, ...], ok: Any) -> str | None:
    for name in names:
        for k in keys:
            if k.lower() == name and ok(k):
                return k
    return None


def json_fields(data: Any) -> tuple[str, tuple[str, str, str, str | None]] | None:
    """(items path, (link, title, date, body) field names) of the JSON's bulletin list, or None: the list of
    objects whose items carry a same-site link and a date; the title is the named field or the field with
    the most Chinese text; a body is a field holding HTML."""
    best = None
    for path, items in _walk_lists(data):
        sample = items[:20]
        keys = list(dict.fromkeys(k for it in sample for k in it))

        def share(pred: Any, key: str, sample: list[dict[str, Any]] = sample) -> float:
            return sum(bool(pred(it.get(key))) for it in sample) / len(sample)

        def urlish(v: object) -> bool:
            return isinstance(v, str) and (
                v.startswith(("http://", "https://", "/", "./")) or v.endswith((".html", ".htm", ".shtml"))
            )

        def dateish(v: object) -> bool:
            return isinstance(v, str | int) and parse_date(str(v)) is not None

        def timestamp(v: object) -> bool:
            return epoch_date(v) is not None

        link = _pick(keys, _LINK_NAMES, lambda k: share(urlish, k) >= 0.5) or next(
            (k for k in keys if share(urlish, k) >= 0.8), None
        )
        # a number is a timestamp only under a name that says so: ids and counts are numbers too
        dated = [
            k
            for k in keys
            if k != link
            and (share(dateish, k) >= 0.5 or (_DATE_NAME.search(k) and share(timestamp, k) >= 0.5))
        ]
        if link is None or not dated:
            continue
        when = next((k for k in dated if _DATE_NAME.search(k)), dated[0])
        textual = [k for k in keys if k not in (link, when) and share(lambda v: isinstance(v, str), k) >= 0.5]
        title = _pick(textual, _TITLE_NAMES, lambda k: True) or max(
            textual,
            key=lambda k: sum(len(_CJK.findall(str(it.get(k, ""))[:80])) for it in sample),
            default=None,
        )
        if title is None:
            continue
        htmlish = [
            k for k in textual if k != title and share(lambda v: isinstance(v, str) and "<" in v, k) >= 0.5
        ]
        body = _pick(htmlish, _BODY_NAMES, lambda k: True)
        if best is None or len(items) > best[0]:
            best = (len(items), path, (link, title, when, body))
    return (best[1], best[2]) if best else None


async def _json(source: Source, reader: ListReader, window: Window, first: ListPage) -> Discovery:
    out = reader.out
    out.family = "json"
    try:
        fields = json_fields(json.loads(first.text))
    except ValueError as e:
        fields = None
        why = f"list {first.url}: not JSON: {e}"
    else:
        why = f'list {first.url}: no list of items with links and dates in the JSON (set kind = "json_api")'
    if fields is None:
        out.failures.append(PageIssue(first.url, "discover", why, "200"))
        out.stopped_because = why
        return out
    path, names = fields
    query = {k.lower(): k for k, _ in parse_qsl(urlsplit(source.list_url).query)}
    param = next((query[p] for p in _PAGE_PARAMS if p in query), None)
    reader.prefetched = {first.url: first}
    return await json_api.walk(source, reader, window, path, names, param)


KIND = Kind(
    "auto",
    "discovery from `list_url` alone: feeds, JSON lists, Hanweb columns, TRS WCM and 下一页 pagers",
    (),
    discover,
)

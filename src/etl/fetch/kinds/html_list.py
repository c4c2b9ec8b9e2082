"""``html_list``: list pages read with CSS selectors the registry gives (an override of automatic discovery
for a site whose markup it cannot read)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from etl.fetch.kinds.base import Discovery, Field, Kind, ListReader, follow, take_page
from etl.fetch.kinds.links import link_href
from etl.fetch.urls import join_url
from etl.models import BulletinRef, PageIssue, Window
from etl.reference.dates import parse_date

if TYPE_CHECKING:
    from etl.fetch.sources import Source

FIELDS = (
    Field("item_selector", str, "li", "one element per bulletin on a list page", selector=True),
    Field("link_selector", str, "a", "the bulletin's link inside an item", selector=True),
    Field(
        "item_date_selector",
        str,
        None,
        "the item's date inside an item (default: the first date in the item's text)",
        selector=True,
    ),
    Field("next_selector", str, None, "the next list page's link (default: no pagination)", selector=True),
)


async def discover(source: Source, reader: ListReader, window: Window) -> Discovery:
    out = reader.out
    item_selector = source.option("item_selector")
    url: str | None = source.list_url
    seen_pages: set[str] = set()
    seen_refs: set[str] = set()
    while url:
        page = await follow(reader, url, seen_pages)
        if page is None:
            break
        out.pages += 1
        tree = HTMLParser(page.text)
        items = tree.css(item_selector)
        verdict = take_page(
            (ref for item in items if (ref := _ref(source, page.base, item))), window, seen_refs, out
        )
        if not items:
            # the first page, or a page the pager pointed to: items were expected (a broken or re-templated
            # page must not end discovery as if the list were over)
            out.stopped_because = f"list page {url} has no items matching {item_selector!r}"
            out.failures.append(PageIssue(url, "discover", out.stopped_because, "200"))
            break
        if verdict:
            out.stopped_because = verdict if "window" in verdict else f"list page {url} {verdict}"
            break
        nxt = tree.css_first(source.option("next_selector")) if source.option("next_selector") else None
        href = nxt.attributes.get("href") if nxt is not None else None
        url = join_url(page.base, href) if href else None
        if url is None:
            out.stopped_because = "last list page"
    return out


def _ref(source: Source, page_url: str, item: Node) -> BulletinRef | None:
    link = item.css_first(source.option("link_selector"))
    href = link_href(link) if link is not None else ""  # where a click lands
    if link is None or not href:
        return None
    when = None
    if source.option("item_date_selector"):
        d = item.css_first(source.option("item_date_selector"))
        when = parse_date(d.text(strip=True)) if d is not None else None
    if when is None:
        when = parse_date(item.text(separator=" ", strip=True))
    title = link.attributes.get("title") or link.text(strip=True)
    target = join_url(page_url, href)
    return BulletinRef(source.id, target, title, when) if target is not None else None


KIND = Kind(
    "html_list",
    "HTML list pages read with the selectors given; pages followed through `next_selector`",
    FIELDS,
    discover,
)

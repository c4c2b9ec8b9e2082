"""``rss``: an RSS 2.0 or Atom feed. An item's full text (``content:encoded``, Atom ``content``) is read from the
feed instead of fetching the article."""

from __future__ import annotations

from typing import TYPE_CHECKING

from defusedxml import ElementTree

from etl.fetch.kinds.base import Discovery, Kind, ListReader, feed_date
from etl.fetch.urls import join_url
from etl.models import BulletinRef, PageIssue, Window

if TYPE_CHECKING:
    from etl.fetch.sources import Source

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


def is_feed(text: str) -> bool:
    head = text.lstrip()[:512].lower()
    return (head.startswith("<?xml") and ("<rss" in head or "<feed" in head)) or head.startswith(
        ("<rss", "<feed")
    )


def read_feed(
    source: Source, text: str, url: str, window: Window, out: Discovery, base: str | None = None
) -> list[BulletinRef]:
    """The window's items of the feed at ``url`` (its relative links resolved against ``base``, where it was
    answered from); a feed that cannot be parsed is a failure on ``out``."""
    try:
        root = ElementTree.fromstring(text.encode("utf-8"))
    except Exception as e:  # defusedxml raises its own errors for entity tricks, ParseError for bad XML
        out.failures.append(PageIssue(url, "discover", f"feed not parseable: {e}", "200"))
        out.stopped_because = "feed not parseable"
        return []
    refs = []
    for e in root.findall(".//item") or root.findall(f".//{ATOM}entry"):
        link = e.findtext("link") or ""
        if not link:
            node = e.find(f"{ATOM}link")
            link = node.get("href", "") if node is not None else ""
        title = (e.findtext("title") or e.findtext(f"{ATOM}title") or "").strip()
        raw_date = e.findtext("pubDate") or e.findtext(f"{ATOM}updated") or e.findtext(f"{ATOM}published")
        when = feed_date(raw_date)
        if not link.strip() or not window.contains(when):
            continue
        # content:encoded (Atom: content) is the article itself, description/summary only a teaser
        body = (e.findtext(CONTENT) or e.findtext(f"{ATOM}content") or "").strip()
        inline = body or None
        target = join_url(base or url, link)
        if target is not None:
            refs.append(BulletinRef(source.id, target, title, when, inline))
    return refs


async def discover(source: Source, reader: ListReader, window: Window) -> Discovery:
    out = reader.out
    page = await reader.get(source.list_url, role="feed")
    if page is None:
        out.stopped_because = "feed failed"
        return out
    out.pages = 1
    out.refs.extend(read_feed(source, page.text, source.list_url, window, out, page.base))
    out.stopped_because = out.stopped_because or "feed read"
    return out


KIND = Kind("rss", "an RSS 2.0 or Atom feed at `list_url`", (), discover)

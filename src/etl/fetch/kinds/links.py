"""Reading a list page without selectors: which links are its bulletins, their dates, and its next page.

A careful reader of any bureau's column page sees the same things: the bulletins are a run of same-shaped
items (``li``, table rows) each holding one link with a title-like text and a date beside it (or in its URL:
TRS ``t20240603_…``, Hanweb ``/art/2024/6/3/``, ``/202406/``); navigation, sidebars and footers are short
links without dates; the next page is the link reading 下一页 (or a TRS ``createPageHTML`` script when there is
no link at all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from etl.fetch.pager import trs_pager
from etl.fetch.urls import join_url
from etl.reference.dates import parse_date

# The smallest title a bulletin link carries; navigation entries (首页, 政务公开, 机构职能) are shorter.
MIN_TITLE_CHARS = 6
_ITEM_TAGS = {"li", "tr", "dd", "dt", "article"}
_INLINE_CONTAINERS = {"div", "p", "span", "h2", "h3", "h4", "h5", "td", "em", "strong"}
_CHROME = re.compile(r"(^|[-_ ])(nav|menu|footer|header|breadcrumb|crumb|topbar|banner)([-_ ]|$)", re.I)
_CHROME_TAGS = {"nav", "header", "footer"}
_NOT_ARTICLE = re.compile(r"\.(pdf|docx?|xlsx?|zip|rar|jpe?g|png|gif|mp4|wps)$", re.I)
_NEXT_TEXT = {
    "下一页",
    "下页",
    "后页",
    "后一页",
    "下一頁",
    "next",
    "next page",
    "›",
    "»",
    ">",
    ">>",
    "下一页>",
    "下一页>>",
}

_URL_DATES = (
    re.compile(r"/t(20\d{2})(\d{2})(\d{2})_\d+"),  # TRS WCM: ./202406/t20240603_1234567.html
    re.compile(r"/art/(20\d{2})/(\d{1,2})/(\d{1,2})/"),  # Hanweb: /art/2024/6/3/art_12_34.html
    re.compile(r"/(20\d{2})[-/_]?(\d{2})[-/_]?(\d{2})/"),  # /2024/06/03/, /20240603/
    re.compile(r"[/_-](20\d{2})(\d{2})(\d{2})[_-]?\d*\.s?html?$"),  # /20240603_12.html, /20240603123.html
)
_URL_MONTH = re.compile(
    r"/(20\d{2})(?:[-/_]?)(0[1-9]|1[0-2])/"
)  # /202406/: a dated archive, the day elsewhere


@dataclass(frozen=True)
class Item:
    url: str
    title: str
    published: date | None


def url_date(url: str) -> date | None:
    path = urlsplit(url).path
    for pattern in _URL_DATES:
        m = pattern.search(path)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
    return None


def article_like(url: str) -> bool:
    """A URL shaped like an article of a dated archive (the list page's own links to columns are not)."""
    path = urlsplit(url).path
    return url_date(url) is not None or bool(_URL_MONTH.search(path))


def _in_chrome(node: Node) -> bool:
    n: Node | None = node
    depth = 0
    while n is not None and depth < 12:
        if n.tag in _CHROME_TAGS:
            return True
        attrs = n.attributes
        if _CHROME.search(f"{attrs.get('class') or ''} {attrs.get('id') or ''}"):
            return True
        n = n.parent
        depth += 1
    return False


def _item_of(anchor: Node) -> Node:
    n: Node | None = anchor.parent
    for _ in range(4):
        if n is None:
            break
        if n.tag in _ITEM_TAGS:
            return n
        n = n.parent
    parent = anchor.parent
    return parent if parent is not None and parent.tag in _INLINE_CONTAINERS else anchor


# A page address quoted in a link's script (javascript:openArticle('/a/t1.html'), onclick="window.open('…')"):
# where a reader who clicks lands. Only a path or same-scheme URL ending like a page, so that a script's other
# strings (an id, a target name) are never taken for one.
_SCRIPT_TARGET = re.compile(
    r"""["']((?:https?://[^"'\s]+|\.{0,2}/[^"'\s]*)\.(?:s?html?|jsp|aspx?|php)(?:\?[^"'\s]*)?)["']""", re.I
)


def link_href(a: Node) -> str:
    """Where a click on the link ``a`` lands: its ``href``, or for a script link (``javascript:…``, ``#`` or no
    href, with an ``onclick``) the one page address its script quotes; "" when there is none or more than one
    (which of them the script opens is not for us to guess)."""
    href = (a.attributes.get("href") or "").strip()
    if href and not href.startswith(("#", "javascript:")):
        return href
    found = {m.group(1) for m in _SCRIPT_TARGET.finditer(f"{href} {a.attributes.get('onclick') or ''}")}
    return found.pop() if len(found) == 1 else ""


def _signature(item: Node) -> str:
    """Where an item sits: its tag under its parents' tags and classes; the items of one list share it."""
    parts = [item.tag or ""]
    n = item.parent
    for _ in range(3):
        if n is None:
            break
        cls = (n.attributes.get("class") or "").split()
        ident = n.attributes.get("id") or ""
        parts.append(f"{n.tag}{'#' + ident if ident else ''}{'.' + cls[0] if cls else ''}")
        n = n.parent
    return "<".join(parts)


def _same_site(url: str, allowed_hosts: tuple[str, ...]) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.netloc.lower() in allowed_hosts


def candidates(html: str, page_url: str, allowed_hosts: tuple[str, ...]) -> dict[str, list[Item]]:
    """Title-like same-site links outside the page's chrome, grouped by where their item sits."""
    tree = HTMLParser(html)
    groups: dict[str, list[Item]] = {}
    seen: set[tuple[str, str]] = set()  # per group: a sidebar repeating the list's links does not take them
    page = page_url.split("#", 1)[0]
    for a in tree.css("a[href], a[onclick]"):
        href = link_href(a)
        if not href or href.startswith(("mailto:", "tel:")):
            continue
        joined = join_url(page_url, href)
        if joined is None:
            continue
        url = joined.split("#", 1)[0]
        if url == page or not _same_site(url, allowed_hosts) or _NOT_ARTICLE.search(url):
            continue
        title = (a.attributes.get("title") or a.text(strip=True) or "").strip()
        if len(title) < MIN_TITLE_CHARS or _in_chrome(a):
            continue
        item = _item_of(a)
        sig = _signature(item)
        if (sig, url) in seen:
            continue
        seen.add((sig, url))
        rest = item.text(separator=" ", strip=True).replace(a.text(separator=" ", strip=True), " ", 1)
        when = parse_date(rest) or url_date(url)
        groups.setdefault(sig, []).append(Item(url, title, when))
    return groups


def best_list(groups: dict[str, list[Item]], signature: str | None = None) -> tuple[str, list[Item]] | None:
    """The bulletin list among the groups: the one with the most dated items (a sidebar of latest news is
    shorter than the column it samples), then the larger; with no date anywhere, the largest run of at
    least three article-shaped links. ``signature`` (found on the first page) picks the same list on later
    pages."""
    if signature is not None:
        return (signature, groups[signature]) if signature in groups else None
    scored = [
        (sum(i.published is not None for i in items), len(items), sig, items) for sig, items in groups.items()
    ]
    dated = [s for s in scored if s[0] >= 1 and (s[1] >= 2 or s[0] == s[1])]
    if dated:
        _, _, sig, items = max(dated, key=lambda s: (s[0], s[1]))
        return sig, items
    undated = [s for s in scored if s[1] >= 3 and sum(article_like(i.url) for i in s[3]) >= 3]
    if undated:
        _, _, sig, items = max(undated, key=lambda s: s[1])
        return sig, items
    return None


def next_page(html: str, page_url: str, allowed_hosts: tuple[str, ...]) -> str | None:
    """The next list page: a TRS ``createPageHTML`` script, else ``rel=next``, else a link reading 下一页."""
    trs = trs_next(html, page_url)
    if trs is not None:
        return trs or None
    tree = HTMLParser(html)
    rel = tree.css_first('link[rel="next"], a[rel="next"]')
    candidates_ = [rel] if rel is not None else []
    candidates_ += [a for a in tree.css("a[href]") if a.text(strip=True).lower() in _NEXT_TEXT]
    for a in candidates_:
        href = (a.attributes.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:")):
            continue
        url = join_url(page_url, href)
        if (
            url is not None
            and _same_site(url, allowed_hosts)
            and url.split("#", 1)[0] != page_url.split("#", 1)[0]
        ):
            return url
    return None


def trs_next(html: str, page_url: str) -> str | None:
    """TRS WCM pages ``index.html``, ``index_1.html``, … with the page count only in a ``createPageHTML(count,
    current, "index", "html")`` call. ``None`` when the page has no such call, ``""`` on the last page."""
    pager = trs_pager(html)
    if pager is None:
        return None
    if pager.current + 1 >= pager.count:
        return ""
    return urljoin(page_url, pager.page(pager.current + 1))

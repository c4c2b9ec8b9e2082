"""Hanweb (大汉) column pages: ``/col/colNNNN/index.html`` holds its list inside ``<script type="text/xml">
<datastore><recordset><record><![CDATA[<li>…</li>]]></record>…``, not in the page's markup, and the rest of the
list through its data proxy (``/module/web/jpage/dataproxy.jsp?…&startrecord=46&endrecord=90``), whose
address is the ``<nextgroup>`` of the datastore."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from etl.fetch.kinds.links import Item, url_date
from etl.fetch.urls import join_url
from etl.reference.dates import parse_date

_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>", re.S | re.I)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)|totalRecord\s*[:=]\s*['\"]?(\d+)", re.I)
_PROXY_HREF = re.compile(r"""href\s*=\s*["']([^"']*dataproxy[^"']*)["']""", re.I)


def is_hanweb(html: str) -> bool:
    return "<datastore" in html.lower() and _RECORD.search(html) is not None


def records(xml: str, page_url: str) -> list[Item]:
    """The bulletins of a datastore (a column page's script, or a data-proxy answer)."""
    out = []
    for fragment in _RECORD.findall(xml):
        tree = HTMLParser(fragment)
        a = tree.css_first("a[href]")
        if a is None:
            continue
        url = join_url(page_url, a.attributes.get("href") or "")
        if url is None:
            continue
        title = (a.attributes.get("title") or a.text(strip=True) or "").strip()
        rest = (tree.body.text(separator=" ", strip=True) if tree.body else "").replace(
            a.text(strip=True), " ", 1
        )
        out.append(Item(url, title, parse_date(rest) or url_date(url)))
    return out


def total(html: str) -> int | None:
    m = _TOTAL.search(html)
    return int(m.group(1) or m.group(2)) if m else None


def proxy_url(html: str, page_url: str) -> str | None:
    """The data proxy's address, from the datastore's ``<nextgroup>`` link."""
    m = _NEXTGROUP.search(html)
    if m is None:
        return None
    href = _PROXY_HREF.search(m.group(1))
    return join_url(page_url, href.group(1).replace("&amp;", "&")) if href else None


def proxy_page(proxy: str, start: int, end: int, per_page: int) -> str:
    """The proxy's address for records ``start``..``end`` (1-based, inclusive)."""
    parts = urlsplit(proxy)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("startrecord", "endrecord", "perpage")]
    query += [("startrecord", str(start)), ("endrecord", str(end)), ("perpage", str(per_page))]
    return urlunsplit(parts._replace(query=urlencode(query)))

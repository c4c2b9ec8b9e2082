"""Links read off pages (list items, pagers, feeds, attachments) as URLs a client can request."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

from etl.models import url_key


def url_problem(url: str) -> str | None:
    """Why no client can request ``url`` (a malformed host, a port that is not a number in 0-65535), or None."""
    try:
        _ = urlsplit(url).port  # the port is parsed, and checked, only when asked for
    except ValueError as e:
        return str(e)
    return None


def join_url(base: str, href: str) -> str | None:
    """``href`` resolved against ``base``; None when the result is no URL a client could request (a malformed
    host or port: ``http://[::1/x``, ``http://host:99999/``): a browser cannot follow such a link either, and
    one of them on a list page must not take the whole source down."""
    try:
        url = urljoin(base, href.strip())
    except ValueError:
        return None
    return None if url_problem(url) else url


# A document's <base href>, looked for in its head only: a feed or JSON list has no head, and a <base> in a body
# quoted as text (an article about HTML) is not the page's.
_HEAD_END = re.compile(r"</head\s*>|<body[\s>]", re.IGNORECASE)
_BASE_HREF = re.compile(r"""<base\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def base_href(text: str) -> str:
    """A page's ``<base href>`` as written (in its head), or ""."""
    head = _HEAD_END.search(text, 0, 200_000)
    m = _BASE_HREF.search(text, 0, head.start()) if head else None
    return next((g for g in m.groups() if g is not None), "") if m else ""


def page_base(text: str, url: str) -> str:
    """The address the relative links of the page answered at ``url`` (the final one, after redirects) resolve
    against, as a browser resolves them: its ``<base href>`` when it has a usable one, else ``url``."""
    return base_from(url, base_href(text))


def base_from(url: str, base_href: str) -> str:
    """``base_href`` (a page's ``<base href>``, as written) resolved against the page's address ``url``; ``url``
    itself when there is none or it is no http(s) address (``javascript:``, a malformed host)."""
    href = html.unescape(base_href).strip()
    if not href:
        return url
    joined = join_url(url, href)
    if joined is None or urlsplit(joined).scheme not in ("http", "https"):
        return url
    return joined


# The paths a site's home page answers at.
_HOME = re.compile(r"/(?:(?:index|default|home|main)\.(?:s?html?|jsp|php|aspx?))?", re.IGNORECASE)


def redirected_away(requested: str, final: str, list_url: str) -> str | None:
    """Why the page a redirect ended on is not the one asked for, or None. A removed or moved article is often
    sent to the site's home page or to its column page: read as the article, their headlines (other places'
    figures) would replace its facts."""
    if not final or final == requested:
        return None
    try:
        home, asked_home = (_HOME.fullmatch(urlsplit(u).path) is not None for u in (final, requested))
        listed, asked_list = (url_key(u) == url_key(list_url) for u in (final, requested))
    except ValueError:
        return None
    if home and not asked_home:
        return f"redirected to the site's home page {final}: not the page asked for (removed or moved?)"
    if listed and not asked_list:
        return f"redirected to the source's list page {final}: not the page asked for (removed or moved?)"
    return None

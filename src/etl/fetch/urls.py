"""Links read off pages (list items, pagers, feeds, attachments) as URLs a client can request."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit


def join_url(base: str, href: str) -> str | None:
    """``href`` resolved against ``base``; None when the result is no URL a client could request (a malformed
    host or port: ``http://[::1/x``, ``http://host:99999/``): a browser cannot follow such a link either, and
    one of them on a list page must not take the whole source down."""
    try:
        url = urljoin(base, href.strip())
        _ = urlsplit(url).port  # a port that is not a number in 0-65535 raises here
    except ValueError:
        return None
    return url

"""Pages a site answers with 200 that are not the page asked for: its "page not found" page, a web application
firewall's block page, a browser check, a maintenance notice. Read as the bulletin, one would replace its facts
by none (or by the headlines around the notice) until the next change of the page; refused, the page fails,
is retried, and keeps what the warehouse holds for it. What counts is what such a page says of itself
(:mod:`etl.reference.notices`), and only on a page too short to be a bulletin's text."""

from __future__ import annotations

from etl.parse.html import ParsedPage, ParseError
from etl.reference.notices import error_notice


class ErrorPage(ParseError):
    """A page that is the site's error, block or challenge page: the check is ``error_page``."""


def refuse_error_page(page: ParsedPage) -> ParsedPage:
    """``page``, unless it is an error, block or challenge page (:class:`ErrorPage`, naming what it says)."""
    notice = error_notice(page.title, page.text)
    if notice is not None:
        raise error_page(notice)
    return page


def error_page(notice: str) -> ErrorPage:
    return ErrorPage(f"the site's error, block or challenge page, not a bulletin: it says {notice!r}")

"""One way from a stored body to a parsed page, chosen by its content type: HTML (selectors or the CMS
defaults), plain text (the first line as title), PDF (text per page), Word (.docx). Used by the nightly run, the
re-parse and ``etl extract`` alike, so that a page reads the same whichever of them reads it."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from etl.fetch.charset import decode, garbled
from etl.parse.docx import DOCX_TYPE, is_docx, read_docx
from etl.parse.errorpage import error_page, refuse_error_page
from etl.parse.html import ParsedPage, ParseError, parse_html, text_title
from etl.reference.dates import parse_date
from etl.reference.notices import title_notice


class Undecodable(ParseError):
    """The body's characters cannot be trusted: the check is ``decode``, not ``main_text``."""


@dataclass(frozen=True)
class Selectors:
    title: str | None = None
    date: str | None = None
    body: str | None = None


_HTML_HEADS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta")


def media_type(body: bytes, content_type: str | None, name: str = "") -> str:
    """html | text | pdf | docx | binary, from the content type, else the file name, else the body's first bytes."""
    ct = (content_type or "").split(";", 1)[0].strip().lower()
    if ct == "application/pdf" or body[:5] == b"%PDF-":
        return "pdf"
    if ct == DOCX_TYPE or is_docx(body):
        return "docx"
    if ct in ("text/html", "application/xhtml+xml"):
        return "html"
    # a server that does not know .shtml or .jsp calls its pages text/plain or octet-stream: a body that opens as
    # a web page is one (read as text, its markup would reach the extractor; refused, its bulletin is lost)
    head = body[:512].removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if head.startswith(_HTML_HEADS):
        return "html"
    if ct == "application/octet-stream":
        return "binary"
    if ct == "text/plain":
        return "text"
    lower = name.lower()
    if lower.endswith((".html", ".htm", ".shtml")):
        return "html"
    return "text"


def read_document(
    body: bytes,
    content_type: str | None = None,
    encoding: str | None = None,
    selectors: Selectors = Selectors(),
    name: str = "",
) -> tuple[ParsedPage, str]:
    """The parsed page and the encoding it was decoded with; :class:`ParseError` when it cannot be read."""
    kind = media_type(body, content_type, name)
    if kind == "binary":
        raise ParseError(f"a binary file ({content_type}), not a page, a PDF or a Word document")
    if kind == "pdf":
        from etl.parse.pdf import read_pdf

        return read_pdf(body), "binary"
    if kind == "docx":
        return read_docx(body), "binary"
    text, used = decode(body, content_type, encoding)
    try:
        # still mojibake once decode has tried the other encodings (mixed encodings, a wrong source charset):
        # its numbers and places cannot be trusted, so it is quarantined rather than read
        if garbled(text):
            bad = text.count("\ufffd")
            fix = (
                f"the source's encoding {encoding!r} does not read it"
                if encoding
                else "neither UTF-8 nor GB18030 reads it whole: set the source's encoding"
            )
            raise Undecodable(
                f"{bad} of {len(text)} characters could not be decoded as {used} (charset wrong or mixed); {fix}"
            )
        if kind == "html":
            try:
                page = parse_html(text, selectors.title, selectors.date, selectors.body)
            except ParseError as e:
                notice = title_notice(text)  # what an error page with no text to read says of itself
                raise e if notice is None else error_page(notice) from e
            return refuse_error_page(page), used
    except ParseError as e:
        e.encoding = used  # type: ignore[attr-defined]  # the raw page still records how it decodes
        raise
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return ParsedPage(title=text_title(text), published=parse_date(first[:40]), text=text), used

"""HTML (or plain text) → title, date and main text; a newspaper page → one bulletin per article.

Main text comes from the source's body selector, then the usual government-template containers, then the
densest text block. Navigation, sidebars and footers are dropped before any fallback so their headlines (often
numbers of other regions) never reach the extractor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from etl.fetch.pager import trs_pager
from etl.fetch.urls import base_href
from etl.models import Bulletin, bulletin_id
from etl.parse.articles import split_articles
from etl.reference.dates import fold_date_chars, parse_date, stamp_date
from etl.reference.regions import load_gazetteer

TEMPLATE_BODY_SELECTORS = (
    ".TRS_Editor",
    "#zoom",
    ".zoom",
    "#Zoom",
    ".article-content",
    ".art_con",
    ".content-text",
    "#content",
    ".content",
    "article",
    ".article",
    ".main-text",
    ".news_content",
    ".wz_content",
)
_NOISE = "nav, header, footer, aside, script, style, noscript, form, iframe, .sidebar, .nav, .footer, .header, .breadcrumb, .share, .related, .pager, .pagination"
# Text a reader never sees (hidden, display:none, visibility:hidden, aria-hidden): spam blocks and keyword stuffing
# on reposting sites hide numbers of other places there.
_HIDDEN = "[hidden], [aria-hidden=true], [style*='display:none'], [style*='display: none'], [style*='visibility:hidden'], [style*='visibility: hidden']"
_BLOCK_TAG = re.compile(
    r"<(?:/?(?:p|div|li|tr|td|th|h[1-6]|section|article|table|ul|ol|dd|dt|blockquote|pre)\b[^>]*|br\s*/?)>",
    re.IGNORECASE,
)
# A template container holding less than this is a stub (an empty "#content"), not the article.
_MIN_BODY_CHARS = 8
_ATTACHMENT_LINK = re.compile(r"\.(?:pdf|docx)(?:$|[?#])", re.I)
# The date line of an article page: 发布时间：2024-06-03 / 发布日期：2024年6月3日 / 日期：…
_PUBLISHED_LABEL = re.compile(
    r"(?:发布|发表|成文|印发)?(?:时间|日期)\s*[:：]\s*((?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})"
)


@dataclass(frozen=True)
class ParsedPage:
    title: str
    published: date | None
    text: str
    # (href, link text) of the PDF and .docx files the page links to
    attachments: tuple[tuple[str, str], ...] = ()
    page_starts: tuple[int, ...] = ()  # a PDF's text: where each of its pages starts
    # links to further pages of a long article (name_1.html, name_2.html, …), as written: the fetcher keeps
    # those named after the page's own file
    continuations: tuple[str, ...] = ()
    base_href: str = ""  # the page's <base href> as written: its relative links resolve against it


class ParseError(ValueError):
    pass


class NothingToRead(ParseError):
    """A whole document with no text this parser can use (a scanned or encrypted PDF): quarantined, not
    retried, since fetching it again brings the same file. Other parse errors (no main text in a page, which
    is what a site's challenge or error page answered with 200 gives) fail the page and are retried."""


_NOT_A_TITLE = re.compile(
    r"记者|記者|来源|來源|报道|報道|发布|發布|日期|编辑|編輯|通讯员|\d{4}[-年./]\d{1,2}"
)


def text_title(text: str) -> str:
    """The headline of a plain-text bulletin: its first line when that reads as one (short, no sentence end,
    not a byline or a date line); "" otherwise."""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if len(line) <= 40 and line[-1] not in "。！？.!?；;，,、" and not _NOT_A_TITLE.search(line):
            return line
        return ""
    return ""


def node_text(node: Node) -> str:
    """Text of a node with block elements on their own lines and inline elements kept inline."""
    html = _BLOCK_TAG.sub("\n", node.html or "")
    text = HTMLParser(f"<div>{html}</div>").body
    raw = text.text(separator="") if text is not None else ""
    lines = (ln.strip() for ln in raw.splitlines())
    return "\n".join(ln for ln in lines if ln)


def parse_html(
    html: str,
    title_selector: str | None = None,
    date_selector: str | None = None,
    body_selector: str | None = None,
) -> ParsedPage:
    tree = HTMLParser(html)
    # Chinese government CMSs (TRS, Hanweb, …) say what the article is in <meta>: its title without the site
    # name that <title> carries, and its publication date.
    title = (
        _first_text(tree, title_selector)
        or _meta(tree, 'meta[name="ArticleTitle"], meta[name="articletitle"]')
        or _first_text(tree, "h1")
        or _first_text(tree, "title")
        or ""
    )
    published = parse_date(_first_text(tree, date_selector)) if date_selector else None
    if published is None:
        published = stamp_date(
            _meta(tree, 'meta[name="PubDate"], meta[name="pubdate"], meta[property="article:published_time"]')
        )
    if published is None:
        m = _PUBLISHED_LABEL.search(fold_date_chars(tree.body.text(separator=" ")) if tree.body else "")
        published = parse_date(m.group(1)) if m else None
    continuations = _continuations(html, tree)  # pagers are noise, and go next
    for node in tree.css(_NOISE):
        node.decompose()
    for node in tree.css(_HIDDEN):
        node.decompose()
    # 附件 links (statistical bulletins, work reports as PDF) outside the page's chrome
    attachments = tuple(
        dict.fromkeys(
            (href, a.text(strip=True))
            for a in tree.css("a[href]")
            if (href := (a.attributes.get("href") or "").strip()) and _ATTACHMENT_LINK.search(href)
        )
    )
    text = None
    for sel in ((body_selector,) if body_selector else ()) + TEMPLATE_BODY_SELECTORS:
        body = tree.css_first(sel)
        if body is not None and len(candidate := node_text(body)) >= _MIN_BODY_CHARS:
            text = candidate
            break
    if text is None:
        body = _densest_block(tree)
        if body is None:
            raise ParseError(
                "no main text found (no body selector matched and no text block of 20+ characters)"
            )
        text = node_text(body)
    if published is None:
        published = parse_date(_first_text(tree, ".info, .date, .time, .pubtime, .source"))
    return ParsedPage(
        title=title.strip(),
        published=published,
        text=text,
        attachments=attachments,
        continuations=continuations,
        base_href=base_href(html),  # read as the fetcher reads a list page's
    )


# a numbered page of a file: t20240501_123_2.html is page 3 of t20240501_123.html (TRS and most CMSs)
_NUMBERED_PAGE = re.compile(r"_\d{1,3}\.(?:s?html?)(?:$|[?#])", re.I)


def _continuations(html: str, tree: HTMLParser) -> tuple[str, ...]:
    """The further pages of an article as its first page names them: a TRS ``createPageHTML`` call on page 0,
    else its links to numbered pages (a pager). A later page names none: it is reached from the first."""
    pager = trs_pager(html)
    if pager is not None:
        if pager.current != 0:
            return ()
        return tuple(pager.page(i) for i in range(1, min(pager.count, MAX_CONTINUATIONS + 1)))
    links = ((a.attributes.get("href") or "").strip() for a in tree.css("a[href]"))
    return tuple(dict.fromkeys(h for h in links if _NUMBERED_PAGE.search(h)))


# pages of one article followed at most: a longer run of numbered links is an archive, not an article
MAX_CONTINUATIONS = 20


def _meta(tree: HTMLParser, selector: str) -> str | None:
    node = tree.css_first(selector)
    value = (node.attributes.get("content") or "").strip() if node is not None else ""
    return value or None


def _first_text(tree: HTMLParser, selector: str | None) -> str | None:
    if not selector:
        return None
    node = tree.css_first(selector)
    return node.text(separator="", strip=True) if node is not None else None


def _densest_block(tree: HTMLParser) -> Node | None:
    """The element whose direct paragraphs hold the most text: the article, not the page around it."""
    best, best_len = None, 0
    for node in tree.css("div, td, section, article, main, body"):
        direct = sum(len(p.text(strip=True) or "") for p in node.iter() if p.tag in ("p", "-text", "br"))
        if direct > best_len:
            best, best_len = node, direct
    return best if best_len >= 20 else None


def to_bulletins(
    source_id: str,
    url: str,
    page: ParsedPage,
    issuer_region: str | None,
    published: date | None = None,
    list_title: str = "",
    content_hash: str = "",
    fetched_at=None,
) -> list[Bulletin]:
    """One bulletin per article: a newspaper page with several headlined articles yields several."""
    gaz = load_gazetteer()
    spans = split_articles(page.text, gaz)
    when = published or page.published
    title = page.title or list_title
    if len(spans) <= 1:
        return [
            Bulletin(
                bulletin_id=bulletin_id(source_id, url, 0),
                source_id=source_id,
                url=url,
                title=title,
                published=when,
                text=page.text,
                issuer_region=issuer_region,
                content_hash=content_hash,
                fetched_at=fetched_at,
                region_hint=spans[0].region if spans else None,
            )
        ]
    out = []
    for i, s in enumerate(spans):
        out.append(
            Bulletin(
                bulletin_id=bulletin_id(source_id, url, i),
                source_id=source_id,
                url=url,
                title=s.headline.rstrip("：:") or title,
                published=when,
                text=page.text[s.start : s.end].strip("\n"),
                issuer_region=issuer_region,
                article_index=i,
                content_hash=content_hash,
                fetched_at=fetched_at,
                region_hint=s.region,
            )
        )
    return out

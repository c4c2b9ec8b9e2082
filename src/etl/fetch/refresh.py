"""Redirects a page makes by itself: ``<meta http-equiv="refresh" content="0; url=...">``, and a stub page whose
only content is a script sending the reader on (``location.href = "..."``). Bureau sites use both where a server
would send a 301: an article moved to a new CMS, a list page left at its old address, a repost that points to
the original. Taken as the page, the stub has no text: the article is never read, and the failure repeats every
night.

What is followed is what a reader's browser follows at once: a meta refresh with a URL and a delay of at most
MAX_DELAY seconds (a longer one is a page that reloads itself, e.g. a news portal every few minutes), outside
``<noscript>``; a script only on a page with (almost) no visible text, and only when every such assignment names
the same target (a stub that picks a mobile or a desktop page is not followed).
"""

from __future__ import annotations

import html
import re

MAX_DELAY = 10.0
# a stub says at most a sentence ("页面正在跳转，请稍候……"); an article says more
STUB_TEXT_CHARS = 60
# redirect stubs are small; the head of a large page is enough to find its meta refresh
HEAD_BYTES = 16_384
HTML_TYPES = ("text/html", "application/xhtml")

_NOSCRIPT = re.compile(rb"<noscript\b.*?</noscript\s*>", re.I | re.S)
_META = re.compile(rb"<meta\b[^>]*>", re.I)
_EQUIV = re.compile(rb"""http-equiv\s*=\s*["']?\s*refresh\b""", re.I)
_CONTENT = re.compile(rb"""\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
# the delay comes first (HTML's "shared declarative refresh steps"); without one the tag is ignored
_REFRESH = re.compile(rb"""^\s*(\d+(?:\.\d*)?|\.\d+)\s*[;,]?\s*(?:url\s*=\s*)?(.*)$""", re.I | re.S)
_SCRIPT = re.compile(rb"<script\b[^>]*>(.*?)</script\s*>", re.I | re.S)
_STYLE = re.compile(rb"<style\b.*?</style\s*>", re.I | re.S)
_TAG = re.compile(rb"<[^>]*>")
_JS_TARGET = re.compile(
    rb"""(?:\blocation(?:\.href)?\s*=\s*|\blocation\.(?:replace|assign)\(\s*)(["'])([^"'\s]+)\1""", re.I
)


def client_redirect(body: bytes | None, content_type: str) -> str | None:
    """The URL (as written, maybe relative) that ``body`` sends its reader to at once, or None."""
    if not body or not content_type.split(";", 1)[0].strip().lower().startswith(HTML_TYPES):
        return None
    head = _NOSCRIPT.sub(b"", body[:HEAD_BYTES])
    for tag in _META.findall(head):
        if _EQUIV.search(tag) and (target := _meta_target(tag)) is not None:
            return target
    if len(body) > HEAD_BYTES:
        return None
    return _script_target(body)


def _meta_target(tag: bytes) -> str | None:
    content = _CONTENT.search(tag)
    if content is None:
        return None
    value = next(g for g in content.groups() if g is not None)
    m = _REFRESH.match(value)
    if m is None:
        return None
    delay, url = m.group(1), m.group(2).strip().strip(b"'\"").strip()
    if not url or float(delay) > MAX_DELAY:
        return None
    text = _text(url)
    return html.unescape(text) if text is not None else None  # an attribute: &amp; is &


def _script_target(body: bytes) -> str | None:
    scripts = _SCRIPT.findall(body)
    if not scripts:
        return None
    visible = _TAG.sub(b"", _STYLE.sub(b"", _SCRIPT.sub(b"", body)))
    if len(re.sub(rb"\s|&nbsp;", b"", visible).decode("utf-8", "replace")) > STUB_TEXT_CHARS:
        return None
    targets = {m.group(2) for s in scripts for m in _JS_TARGET.finditer(s)}
    if len(targets) != 1:
        return None
    return _text(targets.pop())


def _text(url: bytes) -> str | None:
    """The URL as text: ASCII as sites write it, else UTF-8 or GB18030 (a path with Chinese in it)."""
    for encoding in ("ascii", "utf-8", "gb18030"):
        try:
            return url.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None

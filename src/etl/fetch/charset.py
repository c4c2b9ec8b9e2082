"""Decode fetched bodies: charset from the header, then ``<meta>``, then detection.

httpx's ``Response.text`` decodes a GBK page without a charset header as UTF-8 (garbage) and ``gb2312``
strictly (replacement characters for 喆/堃/镕), so bodies are decoded here from bytes. GB2312 and GBK are
decoded as their superset GB18030.
"""

from __future__ import annotations

import codecs
import re

import chardet

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-]+)["']""", re.IGNORECASE)
_HEADER = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9_\-]+)", re.IGNORECASE)
# GB2312 and GBK read as GB18030, their superset; HZ (hz-gb-2312) is not one of them: a 7-bit encoding
# (~{...~}), decoded by its own codec
_SUPERSET = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
}


def canonical(name: str | None) -> str | None:
    """Python codec name for a declared charset, widening GB2312/GBK to GB18030; None if unknown."""
    if not name:
        return None
    name = name.strip().lower()
    name = _SUPERSET.get(name, name)
    try:
        return codecs.lookup(name).name if name not in ("gb18030",) else "gb18030"
    except LookupError:
        return None


def sniff(body: bytes, content_type: str | None = None, hint: str | None = None) -> tuple[str, str]:
    """(encoding, how it was found): header → meta/XML declaration → source hint → BOM/UTF-8 → detection."""
    if content_type:
        m = _HEADER.search(content_type)
        enc = canonical(m.group(1)) if m else None
        if enc:
            return enc, "header"
    head = body[:4096]
    m = _META.search(head) or _XML_DECL.search(head)
    enc = canonical(m.group(1).decode("ascii", "ignore")) if m else None
    if enc:
        return enc, "meta"
    enc = canonical(hint)
    if enc:
        return enc, "hint"
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "bom"
    try:
        body.decode("utf-8")
        return "utf-8", "utf-8"
    except UnicodeDecodeError:
        pass
    guess = chardet.detect(body[:65536]).get("encoding")
    return canonical(guess) or "gb18030", "detected"


def decode(body: bytes, content_type: str | None = None, hint: str | None = None) -> tuple[str, str]:
    """Decoded text and the encoding used. Undecodable bytes become U+FFFD rather than failing the page."""
    enc, _ = sniff(body, content_type, hint)
    return body.decode(enc, errors="replace"), enc

"""Decode fetched bodies: the source's own charset if it names one, else the header, then ``<meta>``, then
detection; a declaration the bytes contradict is corrected when another charset reads them cleanly.

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
# What detection may choose: Chinese pages are GB (GB2312/GBK/GB18030), Big5 (traditional-character copies),
# HZ or Unicode.
_CHINESE = frozenset(
    {"gb18030", "big5", "big5hkscs", "cp950", "hz", "utf-8", "utf-16", "utf-16-le", "utf-16-be"}
)
# GB2312 and GBK, by every label pages give them (the WHATWG Encoding Standard's for GBK, and the spellings of
# hand-written templates), read as GB18030, their superset: a page declaring gb2312 uses GBK's characters
# (喆, 堃, 镕) all the same. HZ (hz-gb-2312) is not one of them: a 7-bit encoding (~{...~}), with its own codec.
_GB_LABELS = frozenset(
    {
        "chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312", "gb_2312-80", "gb-2312", "gb2312-80",
        "gbk", "iso-ir-58", "x-gbk", "cp936", "ms936", "windows-936", "euc-cn", "x-euc-cn", "euccn",
    }
)  # fmt: skip
# codecs Python would otherwise pick for a GB label: each narrower than GB18030
_GB_CODECS = frozenset({"gb2312", "gbk", "gb18030"})


def canonical(name: str | None) -> str | None:
    """Python codec name for a declared charset, widening GB2312/GBK to GB18030; None if unknown."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if name in _GB_LABELS:
        return "gb18030"
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return "gb18030" if codec in _GB_CODECS else codec


def sniff(body: bytes, content_type: str | None = None, hint: str | None = None) -> tuple[str, str]:
    """(encoding, how it was found): the source's charset (``hint``: the operator's word for a site whose
    declarations lie) → header → meta/XML declaration → BOM/UTF-8 → detection."""
    enc = canonical(hint)
    if enc:
        return enc, "hint"
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
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "bom"
    try:
        body.decode("utf-8")
        return "utf-8", "utf-8"
    except UnicodeDecodeError:
        pass
    guess = canonical(chardet.detect(body[:65536]).get("encoding"))
    # a guess outside the encodings Chinese pages are written in is the detector misled by bytes it cannot
    # place (mixed encodings): a single-byte codec would read them all into Cyrillic or Latin-1 letters, with
    # nothing undecodable to say the text is garbage; GB18030 leaves the bytes it cannot read undecodable
    return (guess if guess in _CHINESE else "gb18030"), "detected"


# A decoding with more undecodable characters than this share is mojibake: the charset is wrong (a server's
# default header over a GBK page) or the page mixes encodings.
MAX_REPLACEMENT_SHARE = 0.01
MIN_REPLACEMENTS = 20
# what a declaration is checked against: the two encodings Chinese pages are written in
_ALTERNATIVES = ("utf-8", "gb18030")
# Bytes that read as UTF-8 with this many non-ASCII characters are UTF-8, whatever the page declares: GBK or Big5
# text is not valid UTF-8 past a few characters, and read as GB18030 UTF-8 text garbles with as few as one
# undecodable character in seventy, too few to be noticed.
_UTF8_EVIDENCE = 8


def garbled(text: str) -> bool:
    bad = text.count("\ufffd")
    return bad >= MIN_REPLACEMENTS and bad > MAX_REPLACEMENT_SHARE * len(text)


def _utf8_text(body: bytes) -> str | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if sum(c > "\x7f" for c in text) >= _UTF8_EVIDENCE else None


def decode(body: bytes, content_type: str | None = None, hint: str | None = None) -> tuple[str, str]:
    """Decoded text and the encoding used. Undecodable bytes become U+FFFD rather than failing the page.
    A declared (or detected) charset the bytes contradict gives way, as a careful reader would see the page the
    site meant: to UTF-8 when the body is UTF-8 text, else, when the declaration leaves characters undecodable,
    to UTF-8 or GB18030 if one of them reads every byte. A page neither reads whole (mixed encodings) keeps its
    declaration and its undecodable characters, for the caller to refuse (:func:`garbled`). The source's own
    charset is never second-guessed."""
    enc, how = sniff(body, content_type, hint)
    if how == "hint":
        return body.decode(enc, errors="replace"), enc
    if enc not in ("utf-8", "utf-8-sig") and (utf8 := _utf8_text(body)) is not None:
        return utf8, "utf-8"
    text = body.decode(enc, errors="replace")
    if text.count("\ufffd") < 2:  # a stray byte is a damaged page, not a wrong charset
        return text, enc
    for other in _ALTERNATIVES:
        if other == enc:
            continue
        try:
            return body.decode(other), other
        except UnicodeDecodeError:
            continue
    return text, enc

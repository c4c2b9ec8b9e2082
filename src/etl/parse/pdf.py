"""PDF bodies (bulletins' attachments: 统计公报, 工作总结) as text, page by page, with where each page starts so
that a fact's evidence can name its page."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from etl.parse.html import NothingToRead, ParsedPage, ParseError, text_title

# pypdf logs every odd object of a malformed file as a warning; a page that yields no text is reported once
logging.getLogger("pypdf").setLevel(logging.ERROR)


def read_pdf(body: bytes) -> ParsedPage:
    try:
        reader = PdfReader(io.BytesIO(body))
        if reader.is_encrypted and reader.decrypt("") == 0:
            raise NothingToRead("PDF is encrypted")
        texts = [(page.extract_text() or "").strip() for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except NothingToRead:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise ParseError(f"PDF not readable: {type(e).__name__}: {e}") from e
    starts = []
    parts = []
    offset = 0
    for t in texts:
        starts.append(offset)
        parts.append(t)
        offset += len(t) + 2  # the "\n\n" joining pages
    text = "\n\n".join(parts)
    if len(text.strip()) < 8:
        raise NothingToRead("PDF has no text layer (a scan): nothing to read without OCR")
    title = meta_title.strip() if 4 <= len(meta_title.strip()) <= 60 else text_title(text)
    return ParsedPage(title=title, published=None, text=text, page_starts=tuple(starts))

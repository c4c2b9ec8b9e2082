"""Word (.docx) bodies, bulletins' other attachment format (工作总结, 统计公报 as Word files), as text: one line
per paragraph and per table cell, in document order. Read with the standard library's
zipfile and defusedxml: a .docx is a zip of XML parts, untrusted like any download."""

from __future__ import annotations

import io
import zipfile

from defusedxml import ElementTree

from etl.parse.html import NothingToRead, ParsedPage, ParseError, text_title

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# what a part may expand to: a zip of a few MB can hold gigabytes of XML (a zip bomb)
MAX_PART_BYTES = 64 * 1024 * 1024
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"


def is_docx(body: bytes) -> bool:
    """A zip whose first parts name a Word document (their names are stored uncompressed)."""
    return body[:4] == b"PK\x03\x04" and b"word/" in body[:65536]


def read_docx(body: bytes) -> ParsedPage:
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            document = ElementTree.fromstring(_part(z, "word/document.xml"))
            core = _part(z, "docProps/core.xml", required=False)
            title_node = ElementTree.fromstring(core).find(_DC_TITLE) if core else None
    except (zipfile.BadZipFile, ElementTree.ParseError, ValueError, KeyError, EOFError) as e:
        # ValueError covers defusedxml's refusals (EntitiesForbidden, DTDForbidden)
        raise ParseError(f"Word document not readable: {type(e).__name__}: {e}") from e
    body_node = document.find(f"{_W}body")
    lines = [line for line in _lines(body_node if body_node is not None else document) if line.strip()]
    text = "\n".join(lines)
    if len(text.strip()) < 8:
        raise NothingToRead("Word document has no text (images only?)")
    meta_title = (title_node.text or "").strip() if title_node is not None else ""
    title = meta_title if 4 <= len(meta_title) <= 60 else text_title(text)
    return ParsedPage(title=title, published=None, text=text)


def _part(z: zipfile.ZipFile, name: str, required: bool = True) -> bytes | None:
    try:
        info = z.getinfo(name)
    except KeyError:
        if required:
            raise ParseError(f"not a Word document: no {name} in the file") from None
        return None
    if info.file_size > MAX_PART_BYTES:
        raise ParseError(f"Word document's {name} expands to {info.file_size} bytes (limit {MAX_PART_BYTES})")
    return z.read(info)


def _lines(node) -> list[str]:
    """Paragraphs and table cells under ``node``, in order (a table in a table cell is read as its cell)."""
    out: list[str] = []
    for child in node:
        if child.tag == f"{_W}p":
            out.append(_paragraph(child))
        elif child.tag == f"{_W}tbl":
            # a cell per line, as the HTML parser reads a table: a row's cells joined would read as one
            # clause and run on into the next line
            for row in child.iter(f"{_W}tr"):
                out += [
                    " ".join(_paragraph(p) for p in tc.iter(f"{_W}p")).strip()
                    for tc in row.findall(f"{_W}tc")
                ]
        elif child.tag == f"{_W}sdt":  # a content control wraps paragraphs or tables
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                out += _lines(content)
    return out


def _paragraph(p) -> str:
    parts = []
    for node in p.iter():
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        elif node.tag == f"{_W}tab":
            parts.append("\t")
        elif node.tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
    return "".join(parts)

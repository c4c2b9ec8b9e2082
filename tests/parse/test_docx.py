"""Word attachments read as text: paragraphs and table rows in order, a title, and every unreadable file a
parse error naming why."""

from __future__ import annotations

import io
import zipfile

import pytest

from etl.extract.facts import extract_text
from etl.parse.document import media_type, read_document
from etl.parse.html import NothingToRead, ParseError
from tests.docxmaker import make_docx

REPORT = make_docx(
    [
        "2024年全区社会工作发展情况报告",
        "一、基本情况",
        "截至年底，全区建成街道社工站18个，持证社会工作者达到260人。",
        [["项目", "数量"], ["社会工作服务机构", "9家"]],
        "二、下一步打算\n力争明年新增社工站5个。",
    ],
    title="全区社会工作发展情况报告",
)


def test_paragraphs_and_table_cells_are_lines_in_document_order():
    page, encoding = read_document(REPORT, "application/octet-stream", name="report.docx")
    assert encoding == "binary" and page.title == "全区社会工作发展情况报告"
    assert page.text.splitlines() == [
        "2024年全区社会工作发展情况报告",
        "一、基本情况",
        "截至年底，全区建成街道社工站18个，持证社会工作者达到260人。",
        "项目",
        "数量",
        "社会工作服务机构",
        "9家",
        "二、下一步打算",
        "力争明年新增社工站5个。",
    ]
    facts = {(f.indicator, f.value) for f in extract_text(page.text, issuer_region="330106")}
    assert ("social_work_stations", 18.0) in facts and ("certified_social_workers", 260.0) in facts
    assert ("social_work_stations", 5.0) not in facts  # a plan stays a plan in a Word file too


def test_found_by_its_bytes_whatever_the_server_calls_it():
    for ctype in (None, "application/octet-stream", "application/zip", "text/html"):
        assert media_type(REPORT, ctype) == "docx"
    assert media_type(REPORT, None, "a.docx") == "docx"


def test_without_a_core_title_the_first_line_is_the_title():
    page, _ = read_document(make_docx(["关于社工站建设的通报", "全区建成社工站18个。"]))
    assert page.title == "关于社工站建设的通报"


def _zip(parts: dict[str, bytes], compress=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


def test_unreadable_files_are_parse_errors_naming_why():
    with pytest.raises(NothingToRead, match="no text"):
        read_document(make_docx([""]))
    with pytest.raises(ParseError, match="Word document not readable"):
        read_document(REPORT[:200], "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    with pytest.raises(ParseError, match=r"no word/document\.xml"):
        read_document(_zip({"word/other.xml": b"<x/>"}))
    # a part that expands far past what a bulletin holds (a zip bomb) is refused before it is read
    bomb = _zip({"word/document.xml": b"<a>" + b" " * (65 * 1024 * 1024) + b"</a>"})
    assert len(bomb) < 200_000
    with pytest.raises(ParseError, match="expands to"):
        read_document(bomb)
    entities = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>'
    with pytest.raises(ParseError, match="EntitiesForbidden"):
        read_document(_zip({"word/document.xml": entities}))

"""PDF attachments of an article: fetched on the same site (politely, size-capped), read page by page, their
facts carrying the page in the evidence; other hosts' files and scans without text are never read as facts."""

from __future__ import annotations

from datetime import date
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest

from etl.fetch.client import FetchSettings
from etl.fetch.rawzone import RawZone
from etl.fetch.sources import parse_source
from etl.models import Window
from etl.orchestration.ingest import ingest_source
from etl.parse.document import read_document
from etl.parse.html import ParseError
from tests.docxmaker import make_docx
from tests.localsite import LocalSite
from tests.pdfmaker import make_pdf

REPORT = make_pdf(
    [
        ["2024年社会工作发展统计公报", "一、基本情况", "全市共有社会工作服务机构35家。"],
        ["二、站点建设", "截至年底，全市建成乡镇（街道）社工站120个。"],
    ]
)
STATIONS = make_docx(
    [
        "社区志愿服务站点建设情况",
        [["站点", "数量"], ["社区志愿服务站", "46个"]],
        "全市共有注册志愿者4.1万人。",
    ]
)
LIST = """<html><body><ul class="list"><li><a href="/a/1.html">关于全市社会工作发展情况的通报</a>
<span>2024-06-03</span></li><li><a href="/a/2.html">关于社区志愿服务工作的情况通报</a><span>2024-06-01</span></li>
</ul></body></html>"""
ARTICLE = """<html><head><meta name="PubDate" content="2024-06-03"></head><body><h1>关于全市社会工作发展情况的通报</h1>
<div class="TRS_Editor"><p>现将本年度社会工作发展统计公报印发给你们，请结合实际抓好落实。</p>
<p>附件：<a href="/files/report.pdf">2024年社会工作发展统计公报</a>
<a href="/files/scan.pdf">扫描件</a> <a href="http://elsewhere.example/x.pdf">外站文件</a>
<a href="/files/stations.docx">stations.docx</a></p></div></body></html>"""
ARTICLE2 = """<html><body><h1>关于社区志愿服务工作的情况通报</h1><div class="TRS_Editor"><p>全市注册志愿者达到
3.2万人，本月共开展志愿服务活动一百余场。</p></div></body></html>"""


class Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        Handler.requests.append(self.path)
        pages = {
            "/list.html": (LIST.encode(), "text/html; charset=utf-8"),
            "/a/1.html": (ARTICLE.encode(), "text/html; charset=utf-8"),
            "/a/2.html": (ARTICLE2.encode(), "text/html; charset=utf-8"),
            "/files/report.pdf": (REPORT, "application/pdf"),
            "/files/scan.pdf": (make_pdf([[""]]), "application/pdf"),
            # Word files are often served as octet-stream: recognised by their bytes
            "/files/stations.docx": (STATIONS, "application/octet-stream"),
        }
        if self.path not in pages:
            self.send_response(404)
            self.end_headers()
            return
        body, ctype = pages[self.path]
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site():
    Handler.requests = []
    with LocalSite(Handler) as s:
        yield s


def source(site, **extra):
    return parse_source(
        {
            "id": "att",
            "name": "示例市民政局",
            "region": "340300",
            "list_url": site.base + "/list.html",
            "obey_robots": False,
            "politeness": {"concurrency": 2, "delay": 0.0},
            **extra,
        },
        "test",
    )


def test_an_articles_pdf_is_read_and_its_facts_name_their_page(site, tmp_path):
    batch = ingest_source(
        source(site),
        Window(date(2024, 1, 1), date(2024, 12, 31)),
        RawZone(tmp_path),
        {},
        [],
        FetchSettings(timeout=2, retries=0),
    )
    assert "http://elsewhere.example/x.pdf" not in Handler.requests  # another host's file is never fetched
    assert sorted(p for p in Handler.requests if p.startswith("/files/")) == [
        "/files/report.pdf",
        "/files/scan.pdf",
        "/files/stations.docx",
    ]
    pdf = [b for b in batch.bulletins if b.url.endswith("report.pdf")]
    assert [(b.title, b.published) for b in pdf] == [("2024年社会工作发展统计公报", date(2024, 6, 3))]
    facts = {(f.indicator, f.value, f.evidence) for f in batch.facts if f.bulletin_id == pdf[0].bulletin_id}
    assert facts == {
        ("social_work_orgs", 35.0, "全市共有社会工作服务机构35家 [PDF p.1]"),
        ("social_work_stations", 120.0, "全市建成乡镇（街道）社工站120个 [PDF p.2]"),
    }
    # the scan has no text layer: quarantined with the reason, not dropped, not guessed
    scan = [q for q in batch.quarantine if q["row"].get("url", "").endswith("scan.pdf")]
    assert [q["check"] for q in scan] == ["main_text"] and "no text layer" in scan[0]["reason"]
    # the Word file, titled by its own first line (its link text is only its file name), dated like the article
    docx = [b for b in batch.bulletins if b.url.endswith("stations.docx")]
    assert [(b.title, b.published) for b in docx] == [("社区志愿服务站点建设情况", date(2024, 6, 3))]
    facts = {(f.indicator, f.value, f.evidence) for f in batch.facts if f.bulletin_id == docx[0].bulletin_id}
    assert facts == {("volunteers", 41000.0, "全市共有注册志愿者4.1万人")}
    # a scan is read again as the same scan: not a failure to retry every night
    assert batch.stats.discovered == 5 and batch.stats.fetched == 5 and batch.stats.failed == 0
    assert {p.url.rsplit("/", 1)[1] for p in batch.raw_pages} == {
        "1.html",
        "2.html",
        "report.pdf",
        "scan.pdf",
        "stations.docx",
    }


def test_attachments_can_be_switched_off(site, tmp_path):
    batch = ingest_source(
        source(site, follow_attachments=False),
        Window(date(2024, 1, 1), date(2024, 12, 31)),
        RawZone(tmp_path),
        {},
        [],
        FetchSettings(timeout=2, retries=0),
    )
    assert not any(p.startswith("/files/") for p in Handler.requests)
    assert len(batch.bulletins) == 2


def test_a_broken_pdf_is_a_parse_error_naming_the_reason():
    with pytest.raises(ParseError, match="PDF not readable"):
        read_document(b"%PDF-1.7\nnot really a pdf", "application/pdf")
    page, _ = read_document(REPORT, "application/octet-stream", name="x.pdf")
    assert page.page_starts == (0, page.text.index("二、站点建设"))

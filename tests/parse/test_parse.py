from datetime import date

import pytest

from etl.fetch.charset import decode, sniff
from etl.parse.html import ParseError, parse_html, to_bulletins
from etl.reference.dates import parse_date

PAGE = """<html><head><title>标题 - 某市民政局</title></head><body>
<div class="header"><ul class="nav"><li>首页</li></ul></div>
<div class="article"><h1>某市社工站建设情况</h1><div class="info">发布时间：2024-06-03</div>
<div class="TRS_Editor"><p>全市建成社工站<strong>56</strong>个。</p><p>投入资金300万元。</p></div></div>
<div class="sidebar"><ul><li>南京市建成社工站100个</li></ul></div>
<div class="footer">版权所有</div></body></html>"""


def test_template_page_title_date_body_without_sidebar():
    p = parse_html(PAGE, ".article h1", ".article .info", ".TRS_Editor")
    assert p.title == "某市社工站建设情况"
    assert p.published == date(2024, 6, 3)
    assert p.text == "全市建成社工站56个。\n投入资金300万元。"
    assert "南京" not in p.text


def test_fallback_without_selectors_drops_sidebar():
    p = parse_html(PAGE.replace("TRS_Editor", "x-body"))
    assert "56" in p.text and "南京" not in p.text


def test_page_without_text_is_a_parse_error():
    with pytest.raises(ParseError, match="no main text"):
        parse_html("<html><body><div></div></body></html>")


def test_dates():
    assert parse_date("发布时间：2023年5月8日") == date(2023, 5, 8)
    assert parse_date("2024/12/31 10:00") == date(2024, 12, 31)
    assert parse_date("no date") is None


def test_gbk_without_charset_is_detected_and_gb2312_widened():
    text = "阜阳市乡镇（街道）社工站建设取得阶段性进展，全市已建成社工站142个。喆堃"
    body = text.encode("gb18030")
    assert decode(body, "text/html")[0] == text
    # a page declaring gb2312 that uses GBK-only characters still decodes
    assert decode(body, "text/html; charset=gb2312") == (text, "gb18030")
    assert sniff("你好".encode(), None)[0] == "utf-8"


TEXT = "全市已建成乡镇（街道）社工站142个，持证社会工作者达到三千六百人，服务困难群众十二万人次。" * 3


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        # a server's default header over a GBK page; a template's GBK meta copied onto a UTF-8 page
        (TEXT.encode("gbk"), "text/html; charset=utf-8", "gb18030"),
        (f"<meta charset='gb2312'>{TEXT}".encode(), "text/html", "utf-8"),
        (TEXT.encode(), "text/html; charset=GBK", "utf-8"),
    ],
)
def test_a_declaration_the_bytes_contradict_gives_way_to_the_charset_that_reads_them(
    body, content_type, expected
):
    text, used = decode(body, content_type)
    assert used == expected and TEXT in text and "\ufffd" not in text


def test_a_declaration_is_kept_where_a_few_bytes_are_bad_or_no_charset_reads_the_page():
    # stray bytes in a UTF-8 page that no other charset reads whole: a damaged page, not a wrong charset
    for stray in (b"\xff", b"\xff\xfe"):
        text, used = decode(TEXT.encode() + stray + TEXT.encode(), "text/html; charset=utf-8")
        assert used == "utf-8" and text.count("\ufffd") == len(stray)
    # a few Chinese characters are no evidence against a declaration
    assert decode("社工站".encode(), "text/html; charset=gbk")[1] == "gb18030"
    # UTF-8 with a GBK passage: read as declared, the passage undecodable (the page is refused: garbled)
    text, used = decode(TEXT.encode() + TEXT.encode("gbk"), "text/html; charset=utf-8")
    assert used == "utf-8" and text.startswith(TEXT) and text.count("\ufffd") >= 20


def test_detection_keeps_to_the_encodings_chinese_pages_are_written_in():
    # half UTF-8, half GBK, no declaration: the detector guesses Cyrillic cp855, which would read every byte
    # as a letter; GB18030 reads the GBK half (once past the seam)
    text, used = decode(TEXT.encode() + TEXT.encode("gbk"), "text/html")
    assert used == "gb18030" and text.endswith("服务困难群众十二万人次。")


def test_big5_is_detected():
    text = "臺北市志願服務人數達到三千人，社會工作者五百人。" * 5
    assert decode(text.encode("big5"), "text/html") == (text, "big5")


def test_hz_is_decoded_as_hz_not_as_gbk():
    text = "全市已建成社工站142个。"
    assert decode(text.encode("hz"), "text/html; charset=HZ-GB-2312") == (text, "hz")


def test_newspaper_page_becomes_one_bulletin_per_article():
    page = parse_html(
        "<html><body><div class='page-content'><h2>浙江湖州：</h2><p>湖州的报道正文足够长，建成社工站72个。</p>"
        "<p>（据湖州市民政局）</p><h2>湖南浏阳：</h2><p>浏阳的报道正文也足够长，社工站32个。</p>"
        "<p>（据浏阳市民政局）</p></div></body></html>",
        body_selector=".page-content",
    )
    bs = to_bulletins("weekly", "http://x/a.html", page, None, date(2024, 5, 20))
    assert [(b.article_index, b.region_hint, b.title) for b in bs] == [
        (0, "330500", "浙江湖州"),
        (1, "430181", "湖南浏阳"),
    ]
    assert len({b.bulletin_id for b in bs}) == 2


def test_hidden_text_is_dropped_before_the_main_text_is_read():
    from etl.parse.html import parse_html

    html = (
        "<html><body><div id='zoom'><p>连云港市建成社工站101个。</p>"
        "<p style='display:none'>南京市建成社工站999个。</p><span hidden>苏州市投入资金8亿元。</span>"
        "<div aria-hidden='true'>无锡市志愿者50万名。</div>"
        "<p style='visibility: hidden'>常州市社工机构300家。</p></div></body></html>"
    )
    text = parse_html(html).text
    assert "连云港市建成社工站101个" in text
    assert not any(w in text for w in ("南京", "苏州", "无锡", "常州"))


@pytest.mark.parametrize(
    "label", ["euc-cn", "GB_2312", "gb-2312", "windows-936", "ms936", "x-euc-cn", "csgb2312"]
)
def test_every_label_of_gb2312_and_gbk_reads_as_gb18030(label):
    text = "王喆、李堃两位社工服务群众三千人次。" * 3  # 喆 and 堃 are GBK's, not GB2312's
    assert decode(text.encode("gb18030"), f"text/html; charset={label}") == (text, "gb18030")


@pytest.mark.parametrize(
    "ctype", ["text/plain", "text/plain; charset=utf-8", "application/octet-stream", None]
)
def test_a_page_served_under_the_wrong_type_is_read_as_the_page_it_is(ctype):
    from etl.parse.document import read_document

    html = (
        "\ufeff<!DOCTYPE html><html><head><title>简报</title></head><body><div class='nav'>首页 邻市社工站99个</div>"
        "<div class='TRS_Editor'><p>示例县已建成社工站9个。</p></div></body></html>"
    )
    page, _ = read_document(html.encode(), ctype, name="t20240503_1.shtml")
    assert page.text == "示例县已建成社工站9个。"  # not the markup, not the navigation


def test_plain_text_and_binary_stay_what_they_are():
    from etl.parse.document import media_type

    assert media_type("全市建成社工站9个。<b>注</b>".encode(), "text/plain") == "text"
    assert media_type(b"\x00\x01GIF89a", "application/octet-stream") == "binary"

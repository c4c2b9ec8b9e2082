"""What makes a short page a site's error, block or challenge page, and what does not: a bulletin that happens to
use the same words, or is short, is read."""

from __future__ import annotations

import pytest

from etl.parse.document import read_document
from etl.parse.errorpage import ErrorPage
from etl.reference.notices import error_notice, page_notice, title_notice


@pytest.mark.parametrize(
    ("title", "text", "says"),
    [
        ("提示信息", "抱歉，您要访问的页面不存在！\n返回首页", "您要访问的页面不存在"),
        ("示例市民政局", "该信息已被删除或已过期。", "该信息已被删除"),
        ("错误", "页面未找到，请检查网址是否正确。", "页面未找到"),
        ("安全提示", "您的访问已被拦截，如有疑问请联系网站管理员。", "访问已被拦截"),
        ("", "本站已启用创宇盾防护，请稍后再试。", "创宇盾"),
        ("请稍候", "请开启浏览器的JavaScript后刷新页面。", "请开启浏览器的JavaScript"),
        ("", "正在进行安全验证，请稍候……", "正在进行安全验证"),
        ("系统公告", "系统维护中，暂停服务至明日上午。", "系统维护中"),
        ("502 Bad Gateway", "502 Bad Gateway\nnginx", "502 Bad Gateway"),
        ("403", "", "403"),
        ("", "Service Temporarily Unavailable", "Service Temporarily Unavailable"),
    ],
)
def test_what_an_error_page_says_of_itself(title, text, says):
    assert error_notice(title, text) == says


@pytest.mark.parametrize(
    ("title", "text"),
    [
        # the words in another sense, in short bulletins
        ("示例县开展社会救助专项检查", "经核查，全县不存在漏报错报问题，403户困难家庭全部纳入保障。"),
        ("示例区社工站运行情况", "全区社工站信息系统维护工作由专人负责，已建成社工站12个。"),
        ("示例市志愿服务简报", "志愿者404人参与，活动未找到合适场地的问题已解决。"),
        # a notice quoted in a bulletin long enough to be one
        (
            "示例市政务公开工作通报",
            "各单位要避免出现“您访问的页面不存在”等情况。" + "全市政务公开工作稳步推进。" * 30,
        ),
    ],
)
def test_bulletins_that_use_the_same_words_are_read(title, text):
    assert error_notice(title, text) is None


def test_a_stock_error_page_with_no_text_is_named_by_its_title():
    html = "<html><head><title>404 Not Found</title></head><body><h1>404</h1></body></html>"
    assert title_notice(html) == "404 Not Found"
    with pytest.raises(ErrorPage, match="'404 Not Found'"):
        read_document(html.encode(), "text/html; charset=utf-8")


def test_a_bulletin_is_read_whatever_its_length():
    html = (
        "<html><head><title>示例县社工站简报</title></head><body><div class='TRS_Editor'>"
        "<p>示例县已建成社工站9个。</p></div></body></html>"
    )
    page, _ = read_document(html.encode(), "text/html; charset=utf-8")
    assert page.text == "示例县已建成社工站9个。"


def test_a_list_page_is_no_notice_however_its_titles_read():
    items = "".join(
        f"<li><a href='/a/{i}.html'>关于第{i}批社会工作服务项目的公示</a> 2024-05-0{i % 9 + 1}</li>"
        for i in range(20)
    )
    html = f"<html><head><title>通知公告</title></head><body><p>页面不存在的链接请反馈</p><ul>{items}</ul></body></html>"
    assert page_notice(html) is None
    assert (
        page_notice("<html><head><title>404 Not Found</title></head><body><h1>404</h1></body></html>")
        == "404 Not Found"
    )

"""Redirects a page makes by itself: which are followed (what a browser follows at once) and which are the page."""

from __future__ import annotations

import pytest

from etl.fetch.refresh import client_redirect

HTML = "text/html; charset=utf-8"


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ("<meta http-equiv='refresh' content='0; url=/a/b.html'>", "/a/b.html"),
        ('<META HTTP-EQUIV="Refresh" CONTENT="3;URL=\'http://x.gov.cn/c.html\'">', "http://x.gov.cn/c.html"),
        ("<meta content='0;url=/q?x=1&amp;y=2' http-equiv='refresh'>", "/q?x=1&y=2"),
        ("<meta http-equiv=refresh content=0;url=/plain.html>", "/plain.html"),
        ("<meta http-equiv='refresh' content='.5, /half.html'>", "/half.html"),
        ("<html><body><script>window.location.href='/moved.html';</script></body></html>", "/moved.html"),
        ('<script type="text/javascript">location.replace("/r.html")</script><p>正在跳转</p>', "/r.html"),
        ("<script>self.location = '/s.html'</script>", "/s.html"),
    ],
)
def test_a_page_that_sends_its_reader_on_names_where(body, target):
    assert client_redirect(body.encode(), HTML) == target


def test_a_path_in_chinese_is_read_in_the_page_s_encoding():
    body = "<meta http-equiv='refresh' content='0;url=/新闻/一.html'>"
    assert client_redirect(body.encode("gb18030"), "text/html") == "/新闻/一.html"
    assert client_redirect(body.encode("utf-8"), "text/html") == "/新闻/一.html"


@pytest.mark.parametrize(
    "body",
    [
        # reloads itself: the page is the page
        "<meta http-equiv='refresh' content='300'><p>正文</p>",
        # a long delay: a page a reader reads before it moves on
        "<meta http-equiv='refresh' content='60; url=/'><p>正文</p>",
        # no delay first: not a refresh HTML follows
        "<meta http-equiv='refresh' content='url=/x.html'>",
        # another meta, or none
        "<meta name='description' content='0; url=/x.html'>",
        # for browsers without scripts only
        "<noscript><meta http-equiv='refresh' content='0;url=/nojs.html'></noscript><p>正文</p>",
        # a script on an article: the text is the page
        "<script>location.href='/elsewhere.html'</script>"
        + "<p>"
        + "全市建成社工站二十一个，覆盖所有乡镇街道。" * 6
        + "</p>",
        # two targets (mobile or desktop): not one place to go
        "<script>if (m) { location.href='/m.html' } else { location.href='/d.html' }</script>",
        # a script that reloads (a bot wall's cookie dance)
        "<script>document.cookie='v=1'; location.reload();</script>",
    ],
)
def test_what_is_not_a_redirect(body):
    assert client_redirect(body.encode(), HTML) is None


def test_only_html_redirects():
    body = b"<meta http-equiv='refresh' content='0;url=/x.html'>"
    assert client_redirect(body, "application/json") is None
    assert client_redirect(body, "text/plain") is None
    assert client_redirect(body, "application/xhtml+xml") == "/x.html"
    assert client_redirect(None, HTML) is None

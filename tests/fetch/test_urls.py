from __future__ import annotations

import pytest

from etl.fetch.urls import join_url, redirected_away


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/a/1.html", "http://mzj.example.gov.cn/a/1.html"),
        ("  2.html ", "http://mzj.example.gov.cn/list/2.html"),
        ("https://other.example/x", "https://other.example/x"),
        ("http://[broken/x.html", None),  # a malformed IPv6 host
        ("http://mzj.example.gov.cn:99999/x", None),  # a port outside 0-65535
        ("http://mzj.example.gov.cn:8o/x", None),  # a port that is no number
    ],
)
def test_join_url_resolves_links_and_refuses_what_no_client_can_request(href, expected):
    assert join_url("http://mzj.example.gov.cn/list/index.html", href) == expected


LIST = "http://mzj.example.gov.cn/col/gzdt/index.html"


@pytest.mark.parametrize(
    ("requested", "final", "why"),
    [
        ("http://mzj.example.gov.cn/art/1.html", "http://mzj.example.gov.cn/art/1.html", None),
        ("http://mzj.example.gov.cn/art/1.html", "https://mzj.example.gov.cn/art/1.html", None),  # https
        ("http://mzj.example.gov.cn/art/1.html", "http://mzj.example.gov.cn/art/2024/1.html", None),  # moved
        ("http://mzj.example.gov.cn/art/1.html", "http://mzj.example.gov.cn/", "home page"),
        ("http://mzj.example.gov.cn/art/1.html", "http://mzj.example.gov.cn/index.shtml", "home page"),
        ("http://mzj.example.gov.cn/art/1.html", "http://mzj.example.gov.cn/Default.aspx", "home page"),
        ("http://mzj.example.gov.cn/art/1.html", LIST, "list page"),
        (
            "http://mzj.example.gov.cn/",
            "http://mzj.example.gov.cn/index.html",
            None,
        ),  # asked for the home page
        ("http://mzj.example.gov.cn/art/1.html", "", None),
    ],
)
def test_a_redirect_to_the_home_or_list_page_is_not_the_page(requested, final, why):
    got = redirected_away(requested, final, LIST)
    assert (got is None) if why is None else (why in got and final in got)

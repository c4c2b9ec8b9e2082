from __future__ import annotations

import pytest

from etl.fetch.urls import join_url


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

"""Dates as bulletins and their sites write them."""

from __future__ import annotations

from datetime import date

import pytest

from etl.parse.html import parse_html
from etl.reference.dates import epoch_date, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-03", date(2024, 5, 3)),
        ("[2024.5.3]", date(2024, 5, 3)),
        ("发布时间：2024年05月03日 星期五", date(2024, 5, 3)),
        # full-width digits and separators, a typographic hyphen
        ("２０２４－０５－０３", date(2024, 5, 3)),
        ("２０２４年５月３日", date(2024, 5, 3)),
        ("日期：2024‐05‐03", date(2024, 5, 3)),
        # Chinese numerals, as official documents date themselves (○ typed for 〇 too)
        ("二〇二四年五月三日", date(2024, 5, 3)),
        ("二○二三年十二月三十一日", date(2023, 12, 31)),
        ("一九九八年十月二十日", date(1998, 10, 20)),
        ("二〇二四年十一月十日", date(2024, 11, 10)),
        # the first date in the text, whichever way it is written; an impossible one is passed over
        ("二〇二四年五月三日印发，2023-01-02修订", date(2024, 5, 3)),
        ("二〇二四年二月三十日 2024-01-01", date(2024, 1, 1)),
        # not dates
        ("〇〇〇一年一月一日", None),
        ("全市建成社工站142个", None),
        ("20240503", None),
        ("05-03", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_a_full_width_date_line_dates_the_page():
    page = parse_html(
        "<html><body><h1>简报</h1><p class='x'>发布日期：２０２４－０５－０３</p>"
        "<div class='TRS_Editor'><p>全市建成社工站12个，运行良好。</p></div></body></html>"
    )
    assert page.published == date(2024, 5, 3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1714665600, date(2024, 5, 3)),  # 2024-05-03 00:00 in Beijing, 05-02 16:00 UTC
        (1714665600000, date(2024, 5, 3)),
        ("1714665600000", date(2024, 5, 3)),
        (1714665599, date(2024, 5, 2)),
        (1000, None),
        (True, None),
        ("2024-05-03", None),
        (9_999_999_999_999, None),
    ],
)
def test_epoch_date(value, expected):
    assert epoch_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Thu, 02 May 2024 16:30:00 GMT", date(2024, 5, 3)),  # 00:30 on 3 May in Beijing
        ("Fri, 03 May 2024 08:00:00 +0800", date(2024, 5, 3)),
        ("2024-05-02T16:30:00Z", date(2024, 5, 3)),
        ("2024-05-03T23:30:00+08:00", date(2024, 5, 3)),
        ("2024-05-03 10:00:00", date(2024, 5, 3)),
        ("2024年5月3日", date(2024, 5, 3)),
        ("soon", None),
    ],
)
def test_a_feed_item_is_dated_in_china_time(value, expected):
    from etl.fetch.kinds.base import feed_date

    assert feed_date(value) == expected


def test_a_page_s_published_time_is_its_date_in_china():
    page = parse_html(
        "<html><head><meta property='article:published_time' content='2024-05-02T16:30:00Z'></head><body>"
        "<div class='TRS_Editor'><p>全市建成社工站12个，运行良好。</p></div></body></html>"
    )
    assert page.published == date(2024, 5, 3)

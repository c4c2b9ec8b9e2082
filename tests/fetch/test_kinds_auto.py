"""Automatic discovery (kind ``auto``, the default) on local sites of each CMS family: an entry with only id,
name, region and list_url finds every bulletin, with the titles and dates a hand-configured entry finds."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from etl.fetch.client import Fetcher, FetchSettings
from etl.fetch.discover import discover
from etl.fetch.kinds import hanweb, links
from etl.fetch.sources import parse_source
from etl.models import Window
from tests.cmssites import FAMILIES, HAND, LIST_PATHS, CmsSites, posts

SETTINGS = FetchSettings(timeout=2, backoff=0.01, retries=1)
WINDOW = Window(date(2024, 1, 1), date(2024, 12, 31))


@pytest.fixture(scope="module")
def site():
    with CmsSites() as s:
        yield s


def entry(site: CmsSites, family: str, **extra) -> dict:
    city, code = FAMILIES[family]
    e = {"id": family, "name": f"{city}民政局", "region": code, "list_url": site.base + LIST_PATHS[family]}
    e.update({k: site.base + v if k == "list_url" else v for k, v in extra.items()})
    e["politeness"] = {"concurrency": 4, "delay": 0.0}
    return e


def run(src, window=WINDOW):
    async def go():
        async with Fetcher(SETTINGS) as f:
            return await discover(src, f, window)

    return asyncio.run(go())


def truth(site: CmsSites, family: str) -> list[tuple[str, str, date]]:
    return [(site.base + p.path, p.title, p.published) for p in posts(family)]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_an_entry_with_only_a_list_url_finds_every_bulletin_with_title_and_date(site, family):
    src = parse_source(entry(site, family), "test")
    assert src.kind == "auto"
    found = run(src)
    assert found.failures == []
    assert [(r.url, r.title, r.published) for r in found.refs] == truth(site, family)


@pytest.mark.parametrize("family", sorted(HAND))
def test_auto_finds_what_the_hand_configured_entry_finds_with_equal_titles_and_dates(site, family):
    hand = run(parse_source(entry(site, family, **HAND[family]), "test"))
    auto = run(parse_source(entry(site, family), "test"))
    assert hand.refs, "the hand-configured entry finds something"
    by_url = {r.url: (r.title, r.published) for r in auto.refs}
    assert {r.url: (r.title, r.published) for r in hand.refs}.items() <= by_url.items()


def test_what_auto_recognised_is_recorded(site):
    fams = {f: run(parse_source(entry(site, f), "test")).family for f in FAMILIES}
    assert fams == {"trs": "trs", "hanweb": "hanweb", "pager": "pager", "rss": "feed", "json": "json"}


def test_the_walk_stops_at_the_window_start(site):
    # the 7 bulletins run back 9 days apart from 2024-06-28; a window from 06-10 holds 3 of them
    found = run(parse_source(entry(site, "trs"), "test"), Window(date(2024, 6, 10), date(2024, 12, 31)))
    assert [r.published for r in found.refs] == [date(2024, 6, 28), date(2024, 6, 19), date(2024, 6, 10)]
    assert found.stopped_because == "reached the window's start"
    assert found.pages == 2


def test_inline_bodies_come_from_the_feed_and_the_json_list(site):
    rss = run(parse_source(entry(site, "rss"), "test"))
    assert [r.inline_html is not None for r in rss.refs] == [n % 2 == 0 for n in range(7)]
    api = run(parse_source(entry(site, "json"), "test"))
    assert all(r.inline_html and "社工站" in r.inline_html for r in api.refs)


def test_a_page_without_a_dated_list_is_a_named_failure_not_an_empty_success(site):
    src = parse_source({**entry(site, "trs"), "list_url": site.base + "/feed/index.html"}, "test")
    # the landing page advertises a feed; without it nothing on the page reads as a list
    found = run(src)
    assert found.refs and found.family == "feed"
    bare = parse_source(
        {**entry(site, "trs"), "list_url": site.base + "/trs/202406/t20240628_1000.html"}, "t"
    )
    found = run(bare)
    assert found.refs == []
    assert len(found.failures) == 1 and "no run of dated same-site links" in found.failures[0].reason


def test_link_reading_rules_on_markup_of_our_own():
    page = """<html><body><div class="nav"><a href="/a/">政务公开栏目</a></div>
    <ul class="side"><li><a href="/2024/0601/x1.html">侧栏里的一条很长的标题</a></li></ul>
    <ul class="main"><li><a href="/p/1.html">第一条公告的标题文字</a> 2024-05-03</li>
    <li><a href="/p/2.html">第二条公告的标题文字</a> 2024-05-01</li>
    <li><a href="/p/3.html">短</a> 2024-04-30</li></ul>
    <a href="list_2.html">下一页</a></body></html>"""
    groups = links.candidates(page, "http://h/p/list.html", ("h",))
    _sig, items = links.best_list(groups)
    assert [(i.url, i.published) for i in items] == [
        ("http://h/p/1.html", date(2024, 5, 3)),
        ("http://h/p/2.html", date(2024, 5, 1)),
    ]
    assert links.next_page(page, "http://h/p/list.html", ("h",)) == "http://h/p/list_2.html"
    assert links.url_date("http://h/c/202406/t20240603_1234567.html") == date(2024, 6, 3)
    assert links.url_date("http://h/art/2024/6/3/art_12_34.html") == date(2024, 6, 3)


@pytest.mark.parametrize(
    ("script", "page", "expected"),
    [
        ('createPageHTML(5, 0, "index", "html");', "http://h/c/index.html", "http://h/c/index_1.html"),
        (
            "createPageHTML('pg', 5, 3, 'index', 'shtml', 90);",
            "http://h/c/index_3.shtml",
            "http://h/c/index_4.shtml",
        ),
        ('var countPage = 2; createPageHTML(countPage, 1, "index", "html");', "http://h/c/index_1.html", ""),
        ("no pager here", "http://h/c/index.html", None),
    ],
)
def test_trs_pages_are_counted_from_the_script(script, page, expected):
    assert links.trs_next(f"<script>{script}</script>", page) == expected


def test_hanweb_proxy_pages_ask_for_the_next_records():
    page = '<datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&amp;columnid=9"></a>]]>'
    proxy = hanweb.proxy_url(page, "http://h/col/col9/index.html")
    assert proxy == "http://h/module/web/jpage/dataproxy.jsp?page=1&columnid=9"
    assert hanweb.proxy_page(proxy, 46, 90, 15).endswith("columnid=9&startrecord=46&endrecord=90&perpage=15")


def test_a_json_list_dated_by_millisecond_timestamps_is_read_in_china_time(site):
    src = parse_source(entry(site, "json") | {"list_url": site.base + "/api/epoch?page=1"}, "test")
    found = run(src)
    assert found.failures == [] and found.family == "json"
    # dated by publishTime (00:30 in Beijing: the day before in UTC), not by the id, a number in range too
    assert [(r.url, r.title, r.published) for r in found.refs] == truth(site, "json")

"""A second run over unchanged sites asks for everything conditionally (articles, list pages, feeds, data-proxy
pages, robots.txt) and reads 304s of list pages from the raw zone; articles a list or feed carries in full are
read from it, not fetched."""

from __future__ import annotations

from datetime import date

import pytest

from etl.fetch.client import FetchSettings
from etl.fetch.rawzone import RawZone
from etl.fetch.sources import parse_source
from etl.orchestration.ingest import ingest_source, window_for
from etl.warehouse.database import connect, migrate
from etl.warehouse.load import load_batch
from etl.warehouse.state import read_state
from tests.cmssites import FAMILIES, LIST_PATHS, CmsSites, posts

SETTINGS = FetchSettings(timeout=2, backoff=0.01, retries=1)


@pytest.fixture
def site():
    with CmsSites() as s:
        yield s


def sources(site):
    return [
        parse_source(
            {
                "id": f,
                "name": f"{FAMILIES[f][0]}民政局",
                "region": FAMILIES[f][1],
                "list_url": site.base + LIST_PATHS[f],
                "since": "2024-01-01",
                "politeness": {"concurrency": 4, "delay": 0.0},
            },
            "test",
        )
        for f in sorted(FAMILIES)
    ]


def nightly(con, srcs, raw):
    state = read_state(con, [s.id for s in srcs])
    out = {}
    for s in srcs:
        window = window_for(s, state.cursors.get(s.id), date(2024, 7, 1), 30)
        batch = ingest_source(s, window, raw, state.memory.get(s.id, {}), [], SETTINGS)
        out[s.id] = load_batch(con, batch, "run")
    return out


def test_a_second_run_over_unchanged_sites_is_all_304(site, tmp_path):
    con = connect(tmp_path / "w.duckdb")
    migrate(con)
    raw = RawZone(tmp_path / "raw")
    srcs = sources(site)
    first = nightly(con, srcs, raw)
    assert {k: (v.fetched, v.failed) for k, v in first.items()} == {f: (7, 0) for f in FAMILIES}
    counts = (
        con.execute("select count(*) from bulletin").fetchone(),
        con.execute("select count(*) from fact").fetchone(),
    )
    # inline articles (every JSON item, every other feed item) were never requested
    asked = {p for p, _ in site.requests}
    inline = {p.path for p in posts("json")} | {p.path for p in posts("rss") if p.n % 2 == 0}
    assert asked.isdisjoint(inline)
    assert {p.path for p in posts("rss") if p.n % 2} <= asked

    before = len(site.requests)
    second = nightly(con, srcs, raw)
    again = site.requests[before:]
    assert again and [r for r in again if r[1] != 304] == []
    lists = {p for p, _ in again if not p.endswith(".html") or "index" in p or "list" in p}
    assert {
        "/robots.txt",
        "/trs/index.html",
        "/col/col1234/index.html",
        "/feed/rss.xml",
        "/api/list?page=1",
    } <= lists
    # the same warehouse: nothing re-read or double-counted; inline articles are unchanged, so not re-parsed
    assert (
        con.execute("select count(*) from bulletin").fetchone(),
        con.execute("select count(*) from fact").fetchone(),
    ) == counts
    assert all(v.fetched == 0 and v.failed == 0 and v.not_modified == 4 for v in second.values())


def test_a_304_whose_stored_body_is_gone_is_asked_again_unconditionally(site, tmp_path):
    con = connect(tmp_path / "w.duckdb")
    migrate(con)
    raw = RawZone(tmp_path / "raw")
    srcs = [s for s in sources(site) if s.id == "pager"]
    nightly(con, srcs, raw)
    (h,) = con.execute("select content_hash from site_document where url like '%/news/list.html'").fetchone()
    path = tmp_path / "raw" / raw.relpath(h)
    path.chmod(0o644)
    path.unlink()
    before = len(site.requests)
    second = nightly(con, srcs, raw)
    again = dict(site.requests[before:])
    assert again["/news/list.html"] == 200  # no validators sent without the body to answer a 304 from
    assert second["pager"].failed == 0 and second["pager"].discovered == 4

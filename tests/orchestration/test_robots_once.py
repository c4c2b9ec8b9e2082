"""robots.txt is fetched once per host per run, however many sources (or backfill partitions) of that host run
in parallel threads; a new run asks again (conditionally)."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from etl.fetch.rawzone import RawZone
from etl.models import Window
from etl.orchestration.ingest import ingest_source
from tests.cmssites import CmsSites
from tests.orchestration.test_conditional_lists import SETTINGS, sources


def run_all(srcs, raw, run_key):
    settings = dataclasses.replace(SETTINGS, run_key=run_key)
    window = Window(date(2024, 1, 1), date(2024, 12, 31))
    with ThreadPoolExecutor(max_workers=5) as pool:
        return list(pool.map(lambda s: ingest_source(s, window, raw, {}, [], settings), srcs))


def test_five_sources_on_one_host_ask_for_robots_once_per_run(tmp_path):
    raw = RawZone(tmp_path / "raw")
    with CmsSites() as site:
        srcs = sources(site)
        batches = run_all(srcs, raw, "run-1")
        assert [p for p, _ in site.requests].count("/robots.txt") == 1
        assert all(b.stats.failed == 0 and b.stats.fetched == 7 for b in batches)
        # the owner's batch records the document once, for the loader
        assert sum(d.role == "robots" for b in batches for d in b.documents) == 1
        run_all(srcs, raw, "run-2")
        assert [p for p, _ in site.requests].count("/robots.txt") == 2


def test_without_a_run_key_each_batch_asks(tmp_path):
    raw = RawZone(tmp_path / "raw")
    with CmsSites() as site:
        run_all(sources(site)[:2], raw, None)
        assert [p for p, _ in site.requests].count("/robots.txt") == 2

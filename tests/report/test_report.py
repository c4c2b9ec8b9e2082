"""The HTML report: content from known rows, and the demo warehouse's report rendered in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from etl.report.html import build_report
from etl.warehouse.database import connect, open_warehouse
from etl.warehouse.load import load_batch
from tests.helpers import batch, bulletin, fact


def known_warehouse(db: Path) -> None:
    old = bulletin("s", "/old.html", date(2023, 5, 1))
    new = bulletin("s", "/new.html", date(2024, 5, 1))
    with open_warehouse(db) as con:
        load_batch(
            con,
            batch(
                "s",
                [old, new],
                [
                    fact(old, "social_work_stations", "341200", 142, "station"),
                    fact(new, "social_work_stations", "341200", 167, "station"),
                    fact(new, "social_work_stations", "320700", 94, "station", span=3),
                    fact(new, "social_workers", "320700", 400, "person", "more_than", span=6),
                    fact(new, "funding", "320722", 3_450_000, "cny", span=9),
                ],
            ),
            "r",
        )


def test_report_content_from_known_rows(tmp_path):
    db = tmp_path / "w.duckdb"
    known_warehouse(db)
    con = connect(db, read_only=True)
    try:
        res = build_report(con, tmp_path / "out")
        mart_rows = con.execute("select count(*) from mart_region_scorecard").fetchone()[0]
    finally:
        con.close()
    page = res.path.read_text(encoding="utf-8")
    tree = LexborHTMLParser(page)
    assert "<script src" not in page and "<link" not in page and "http://cdn" not in page  # nothing fetched
    assert len(tree.css("#scorecard-table tbody tr")) == mart_rows == 3
    fuyang = tree.css_first("#scorecard-table tr[data-region='341200']")
    assert (
        "167" in fuyang.text() and fuyang.css_first("a").attributes["href"] == "http://bureau.test/new.html"
    )
    assert "≥400" in tree.css_first("#scorecard-table tr[data-region='320700']").text()  # qualifier shown
    bars = tree.css("svg.bar-chart")
    assert {b.attributes["data-indicator"] for b in bars} == {
        "social_work_stations",
        "social_workers",
        "funding",
    }
    stations = tree.css_first("svg.bar-chart[data-indicator='social_work_stations'][data-level='prefecture']")
    # sorted, largest first; each bar says its unit and the date the value stands for
    assert [t.text() for t in stations.css("text")][:2] == ["阜阳市", "167个（2024-05-01）"]
    assert len(tree.css("svg.trend-chart")) == 1  # only 阜阳's stations have two points
    trend = tree.css_first("svg.trend-chart")
    assert len(trend.css("g.axis")) == 2 and trend.css_first("g.y-axis text").text() == "167个"
    # level names in Chinese, money as a reader writes it
    assert "县级" in tree.css_first("#scorecard-table tr[data-region='320722']").text()
    assert "345万元" in tree.css_first("#scorecard-table tr[data-region='320722']").text()
    assert tree.css_first("#quarantine").text() == "隔离区"
    assert res.bytes == len(page.encode("utf-8"))
    # the map: no province reports anything, so the default is the indicator most prefectures report, stations
    assert res.maps == 1 and tree.css_first("h2#maps").text() == "地图：社工站数量"
    filled = {p.attributes["data-code"]: p for p in tree.css("#map-prefecture path.has-value")}
    assert set(filled) == {"341200", "320700"}
    assert (
        filled["341200"].attributes["fill"] == "#08519c" and filled["320700"].attributes["fill"] == "#c6dbef"
    )
    assert filled["341200"].css_first("title").text() == "阜阳市：167个（2024-05-01）"
    assert "2024-05-01" in tree.css_first("#map-prefecture figcaption").text()


def test_report_map_for_a_chosen_indicator_and_a_one_line_error_for_an_unknown_one(tmp_path, capsys):
    from etl.cli import main

    db = tmp_path / "w.duckdb"
    known_warehouse(db)
    assert (
        main(["report", "--db", str(db), "--out", str(tmp_path / "a.html"), "--map", "社会工作者人数"]) == 0
    )
    tree = LexborHTMLParser((tmp_path / "a.html").read_text(encoding="utf-8"))
    assert [p.attributes["data-code"] for p in tree.css("#map-prefecture path.has-value")] == ["320700"]
    assert "1 maps" in capsys.readouterr().out
    assert main(["report", "--db", str(db), "--out", str(tmp_path / "b.html"), "--map", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("etl report: --map 'nope' is not an indicator")
    assert not (tmp_path / "b.html").exists()


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


# skipped on a developer's machine without chromium, never under CI=true (.ci/run sets it and installs chromium)
needs_chromium = pytest.mark.skipif(
    _chromium() is None and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (.ci/run installs it)",
)


@needs_chromium
def test_etl_report_out_may_name_an_existing_html_file(tmp_path, capsys):
    from etl.cli import main

    db = tmp_path / "w.duckdb"
    known_warehouse(db)
    target = tmp_path / "existing.html"
    target.write_text("old", encoding="utf-8")
    assert main(["report", "--db", str(db), "--out", str(target)]) == 0
    assert "scorecard-table" in target.read_text(encoding="utf-8")
    assert main(["report", "--db", str(db), "--out", str(tmp_path / "dir")]) == 0
    assert (tmp_path / "dir" / "index.html").is_file()
    assert str(target) in capsys.readouterr().out


@needs_chromium
def test_demo_report_in_headless_chromium(tmp_path, demo_sources, prefect_harness, fast_flow_end):
    from etl.cli import load_flow_module

    browser = _chromium()
    assert browser, "CI must provide Debian's chromium"
    cjk_fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    assert cjk_fonts.strip(), "no CJK font installed: Chinese would render as tofu boxes"

    db = tmp_path / "w.duckdb"
    load_flow_module("nightly").nightly(registry=str(demo_sources), db=str(db), lock_timeout=30)
    report = db.parent / "report" / "index.html"  # written by the nightly run itself
    assert report.exists()
    con = connect(db, read_only=True)
    try:
        regions = con.execute("select count(*) from mart_region_scorecard").fetchone()[0]
    finally:
        con.close()

    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    tree = LexborHTMLParser(dom)
    assert len(tree.css("#scorecard-table tbody tr")) == regions >= 9
    assert len(tree.css("svg.bar-chart rect.bar")) > 20 and len(tree.css("svg.trend-chart")) >= 3
    assert "167" in tree.css_first("#scorecard-table tr[data-region='341200']").text()
    assert "345万元" in tree.css_first("#scorecard-table tr[data-region='320722']").text()
    labels = [x.text() for x in tree.css("svg.bar-chart text.bar-label")]
    assert labels and all(re.search(r"（\d{4}-\d{2}-\d{2}）$", x) for x in labels)  # every bar dated
    assert all(len(c.css("g.axis")) == 2 for c in tree.css("svg.trend-chart"))  # every trend has its axes
    assert len(tree.css("svg.choropleth")) >= 1 and tree.css("svg.choropleth path.has-value")

    # what Chromium laid out, not only what the DOM holds: a copy of the page measures itself
    probe = tmp_path / "probe.html"
    probe.write_text(
        report.read_text(encoding="utf-8").replace("</body>", _LAYOUT_PROBE + "</body>"), "utf-8"
    )
    dom = subprocess.run(
        [browser, *flags, "--window-size=1400,2400", "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    layout = json.loads(LexborHTMLParser(dom).css_first("body").attributes["data-layout"])
    assert layout["map"][0] > 300 and layout["map"][1] > 200  # the map is drawn at a readable size
    assert layout["filled"] >= 1 and layout["visible"] == layout["filled"]  # every coloured region shows
    assert layout["fill"].startswith("rgb(") and layout["fill"] != "rgb(240, 241, 243)"  # coloured, not grey
    assert layout["inset"][0] > 40 and layout["inset"][1] > 40  # the South China Sea inset
    assert layout["axis"][0] > 20 and layout["axis"][1] > 20  # a trend chart's axis

    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, *flags, "--window-size=1400,2400", f"--screenshot={shot}", report.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    keep = os.environ.get("ETL_ARTIFACTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report.png")


_LAYOUT_PROBE = """<script>(function(){
function size(el){if(!el) return [0,0]; var r=el.getBoundingClientRect(); return [r.width, r.height];}
var filled=document.querySelectorAll('svg.choropleth path.has-value'), visible=0;
filled.forEach(function(p){var s=size(p); if(s[0]>1&&s[1]>1) visible++;});
document.body.setAttribute('data-layout', JSON.stringify({
  map: size(document.querySelector('svg.choropleth')), filled: filled.length, visible: visible,
  fill: filled.length ? getComputedStyle(filled[0]).fill : '',
  inset: size(document.querySelector('svg.choropleth svg.inset')),
  axis: size(document.querySelector('svg.trend-chart g.y-axis'))}));
})();</script>"""


def test_a_progress_line_per_finished_source_with_eta():
    from etl.models import SourceStats
    from etl.report.summary import source_progress

    s = SourceStats(source_id="a", discovered=5, fetched=3, not_modified=1, failed=1, facts=7)
    assert (
        source_progress(2, 8, s, 10.0)
        == "[2/8] a partial: 3 fetched, 1 unchanged, 7 facts, 1 failed; ETA 0m30s"
    )
    assert source_progress(8, 8, s, 10.0).endswith("; done")


def test_a_reparse_progress_line_counts_pages_against_the_planned_total():
    from etl.report.summary import reparse_progress

    assert (
        reparse_progress(120_000, 1_000_000, 710_400, 60.0)
        == "[120,000/1,000,000 pages, 12%] 710,400 facts, 2,000 pages/s; ETA 7m20s"
    )
    assert reparse_progress(5, 5, 9, 2.0) == "[5/5 pages, 100%] 9 facts, 2 pages/s; done"
    assert reparse_progress(0, 0, 0, 0.0) == "[0/0 pages, -] 0 facts, -; done"

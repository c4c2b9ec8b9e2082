"""The map outlines shipped with the report, and the classes a choropleth colours by."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from etl.reference.regions import load_gazetteer
from etl.report.choropleth import NO_DATA, PALETTE, MapValue, boundaries, choropleth, class_of, classes


def _points(d: str) -> list[tuple[int, int]]:
    out = []
    for part in d.split("M")[1:]:
        nums = [int(n) for n in re.findall(r"-?\d+", part)]
        x, y = nums[0], nums[1]
        out.append((x, y))
        for i in range(2, len(nums), 2):
            x, y = x + nums[i], y + nums[i + 1]
            out.append((x, y))
    return out


def test_outlines_cover_every_province_with_codes_of_the_gazetteer():
    b = boundaries()
    g = load_gazetteer()
    provinces = {c for c, r in b.regions.items() if r["level"] == "province"}
    # 31 provincial units of the mainland, Taiwan, Hong Kong and Macao
    assert len(provinces) == 34 and {"110000", "650000", "710000", "810000", "820000"} <= provinces
    prefectures = [c for c, r in b.regions.items() if r["level"] == "prefecture"]
    assert len(prefectures) > 330 and "341200" in prefectures  # 阜阳市
    for code, r in b.regions.items():
        assert code in g.by_code, code
        assert re.fullmatch(r"(M-?\d+ ?-?\d+(l-?\d+ ?-?\d+)+z)+", r["d"]), code


def test_the_main_view_frames_the_mainland_and_the_inset_the_south_china_sea():
    b = boundaries()
    mx, my, mw, mh = b.main_view
    heilongjiang = _points(b.regions["230000"]["d"])
    xinjiang = _points(b.regions["650000"]["d"])
    for x, y in heilongjiang + xinjiang:
        assert mx <= x <= mx + mw and my <= y <= my + mh
    ix, iy, iw, ih = b.inset_view
    sea = _points(b.maritime)
    inside = [p for p in sea if ix <= p[0] <= ix + iw and iy <= p[1] <= iy + ih]
    assert len(sea) > 10 and len(inside) / len(sea) > 0.9
    # the maritime line runs far south of the main view: that is what the inset is for
    assert max(y for _, y in sea) > my + mh


def test_quantile_classes():
    assert classes([5, 1, 3]) == [1, 3, 5]  # fewer distinct values than classes: one class each
    bounds = classes(list(range(1, 101)))
    assert bounds == [20, 40, 60, 80, 100]
    assert [class_of(v, bounds) for v in (1, 20, 21, 100)] == [0, 0, 1, 4]


def test_a_map_fills_the_regions_with_values_and_greys_the_others():
    values = [
        MapValue("340000", "安徽省", 1200.0, "1,200个", "2025-06-30"),
        MapValue("320000", "江苏省", 300.0, "300个", "2024-12-31"),
    ]
    svg = choropleth("m", "社工站", values, "province", lambda v: f"{v:,.0f}个")
    tree = LexborHTMLParser(svg)
    land = tree.css("svg.choropleth g#m-land path")
    assert len(land) == 34
    fills = {p.attributes["data-code"]: p.attributes["fill"] for p in land}
    assert fills["340000"] == PALETTE[-1] and fills["320000"] == PALETTE[0]
    assert fills["650000"] == NO_DATA
    anhui = tree.css_first("path[data-code='340000'] title").text()
    assert anhui == "安徽省：1,200个（2025-06-30）"
    assert tree.css_first("svg.inset use").attributes["href"] == "#m-land"
    assert tree.css_first("svg.inset path.maritime") is not None
    legend = [k.text() for k in tree.css(".legend .key")]
    assert legend == ["≤ 300个", "300个 – 1,200个", "无数据"]


def test_a_prefecture_map_draws_province_lines_over_the_prefectures():
    values = [MapValue("341200", "阜阳市", 167.0, "167个", "2024-05-01")]
    tree = LexborHTMLParser(choropleth("p", "社工站", values, "prefecture", str))
    filled = tree.css("path.has-value")
    assert [p.attributes["data-code"] for p in filled] == ["341200"]
    assert len(tree.css("g.province-lines path")) == 34

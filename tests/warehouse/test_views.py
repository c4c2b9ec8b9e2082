"""Each view against a temporary DuckDB holding known rows."""

from datetime import date

import pytest

from etl.warehouse.database import open_warehouse
from etl.warehouse.load import load_batch
from tests.helpers import batch, bulletin, fact


@pytest.fixture
def con(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as c:
        yield c


def test_stg_fact_counts_a_repeated_figure_once(con):
    b = bulletin("s", "/a.html", date(2024, 1, 5))
    load_batch(
        con,
        batch(
            "s",
            [b],
            [
                fact(b, "social_work_stations", "320722", 19, "station", span=3),
                fact(b, "social_work_stations", "320722", 19, "station", span=90),
            ],
        ),
        "r",
    )
    assert con.execute("select count(*), min(span_start) from stg_fact").fetchone() == (1, 3)


def test_latest_later_publication_wins_then_larger_same_day(con):
    old = bulletin("s", "/old.html", date(2023, 5, 1))
    new = bulletin("s", "/new.html", date(2024, 5, 1))
    same = bulletin("s", "/same.html", date(2024, 5, 1))
    load_batch(
        con,
        batch(
            "s",
            [old, new, same],
            [
                fact(old, "social_work_stations", "341200", 300, "station"),
                fact(new, "social_work_stations", "341200", 160, "station"),
                fact(same, "social_work_stations", "341200", 167, "station", "more_than"),
                fact(new, "social_workers", "341200", 50, "person", change="increment"),
            ],
        ),
        "r",
    )
    rows = con.execute(
        "select region_code, region_name, indicator, value, qualifier, as_of, source_url, observations "
        "from mart_region_indicator_latest order by indicator"
    ).fetchall()
    assert rows == [
        (
            "341200",
            "阜阳市",
            "social_work_stations",
            167.0,
            "more_than",
            date(2024, 5, 1),
            "http://bureau.test/same.html",
            3,
        )
    ]


def test_scorecard_one_row_per_region_with_ratios(con):
    b = bulletin("s", "/a.html", date(2024, 1, 5))
    load_batch(
        con,
        batch(
            "s",
            [b],
            [
                fact(b, "social_work_stations", "320722", 20, "station"),
                fact(b, "funding", "320722", 3_000_000, "cny"),
                fact(b, "social_workers", "320722", 40, "person"),
                fact(b, "people_served", "320722", 10_000, "person_time"),
                fact(b, "volunteers", "320722", 100, "person"),
                fact(b, "social_work_stations", "341200", 167, "station"),
            ],
        ),
        "r",
    )
    rows = con.execute(
        "select region_code, social_work_stations, funding, funding_per_station, social_workers_per_station, "
        "people_served_per_social_worker, volunteers_per_social_worker from mart_region_scorecard "
        "order by region_code"
    ).fetchall()
    assert rows == [
        ("320722", 20.0, 3_000_000.0, 150_000.0, 2.0, 250.0, 2.5),
        ("341200", 167.0, None, None, None, None, None),
    ]


def load_rows(con, rows):
    """rows: (path, date, indicator, region, value, unit[, change])"""
    by_path = {}
    facts = []
    for path, day, ind, region, value, unit, *rest in rows:
        b = by_path.setdefault(path, bulletin("s", path, day))
        facts.append(fact(b, ind, region, value, unit, span=len(facts), change=rest[0] if rest else "level"))
    load_batch(con, batch("s", list(by_path.values()), facts), "r")


def test_ranking_by_level_with_percentile_and_share(con):
    load_rows(
        con,
        [
            ("/a", date(2024, 1, 1), "social_work_stations", "341200", 150, "station"),  # 阜阳市
            ("/a", date(2024, 1, 1), "social_work_stations", "340100", 250, "station"),  # 合肥市
            ("/a", date(2024, 1, 1), "social_work_stations", "340200", 100, "station"),  # 芜湖市
            ("/a", date(2024, 1, 1), "social_work_stations", "340000", 1500, "station"),  # 安徽省
            ("/a", date(2024, 1, 1), "station_coverage_rate", "341200", 90, "percent"),
            ("/a", date(2024, 1, 1), "station_coverage_rate", "340100", 100, "percent"),
        ],
    )
    rows = con.execute(
        "select indicator, region_level, rank, regions_ranked, region_code, percentile, share_of_total "
        "from mart_indicator_ranking order by indicator, region_level, rank"
    ).fetchall()
    assert rows == [
        ("social_work_stations", "prefecture", 1, 3, "340100", 1.0, 0.5),
        ("social_work_stations", "prefecture", 2, 3, "341200", 0.5, 0.3),
        ("social_work_stations", "prefecture", 3, 3, "340200", 0.0, 0.2),
        ("social_work_stations", "province", 1, 1, "340000", None, 1.0),
        ("station_coverage_rate", "prefecture", 1, 2, "340100", 1.0, None),  # a rate has no share of a total
        ("station_coverage_rate", "prefecture", 2, 2, "341200", 0.0, None),
    ]


def test_trend_series_with_change_and_growth(con):
    load_rows(
        con,
        [
            ("/a", date(2023, 5, 1), "social_work_stations", "341200", 100, "station"),
            ("/b", date(2024, 5, 1), "social_work_stations", "341200", 150, "station"),
            (
                "/c",
                date(2024, 5, 1),
                "social_work_stations",
                "341200",
                140,
                "station",
            ),  # same day: the larger counts
            ("/d", date(2025, 5, 1), "social_work_stations", "341200", 120, "station"),
            (
                "/d",
                date(2025, 5, 1),
                "social_work_stations",
                "341200",
                7,
                "station",
                "increment",
            ),  # not a level
        ],
    )
    rows = con.execute(
        "select observation, as_of, value, previous_value, change, growth from mart_indicator_trend order by 1"
    ).fetchall()
    assert rows == [
        (1, date(2023, 5, 1), 100.0, None, None, None),
        (2, date(2024, 5, 1), 150.0, 100.0, 50.0, 0.5),
        (3, date(2025, 5, 1), 120.0, 150.0, -30.0, -0.2),
    ]


def test_province_rollup_never_counts_a_county_and_its_prefecture_twice(con):
    # 宁夏 has 5 prefectures: 银川 6401, 石嘴山 6402, 吴忠 6403, 固原 6404, 中卫 6405 (3 counties: 640502, 640521, 640522)
    rows = [
        ("/a", date(2024, 1, 1), "social_work_stations", code, v, "station")
        for code, v in [("640100", 50), ("640200", 20), ("640300", 30), ("640400", 40)]
    ]
    rows += [
        ("/a", date(2024, 1, 1), "social_work_stations", code, v, "station")
        for code, v in [("640502", 5), ("640521", 12), ("640522", 8)]  # every county of 中卫, not 中卫 itself
    ]
    rows += [("/a", date(2024, 1, 1), "social_work_stations", "640100", 50, "station")]
    rows += [
        ("/a", date(2024, 1, 1), "social_work_stations", "640104", 9, "station")
    ]  # a county of 银川: not added
    rows += [("/a", date(2024, 1, 1), "station_coverage_rate", "640100", 90, "percent")]  # never summed
    # 山西: only two prefectures report, and the province itself
    rows += [
        ("/b", date(2024, 1, 1), "social_work_stations", "140100", 80, "station"),
        ("/b", date(2024, 1, 1), "social_work_stations", "140200", 60, "station"),
        ("/b", date(2024, 1, 1), "social_work_stations", "140000", 1200, "station"),
    ]
    # 河北: two prefectures, no province figure
    rows += [
        ("/c", date(2024, 1, 1), "social_work_stations", "130100", 200, "station"),
        ("/c", date(2024, 1, 1), "social_work_stations", "130200", 150, "station"),
    ]
    load_rows(con, rows)
    got = {
        r[0]: r[1:]
        for r in con.execute(
            "select province_code, indicator, value, basis, units_reported, units_total, units_from_county_sums, "
            "partial_sum from mart_province_rollup"
        ).fetchall()
    }
    assert got["640000"] == ("social_work_stations", 165.0, "units", 5, 5, 1, 165.0)
    assert got["140000"][:3] == ("social_work_stations", 1200.0, "province_reported")
    assert got["130000"][:3] == ("social_work_stations", None, "incomplete")
    assert got["130000"][6] == 350.0
    assert "station_coverage_rate" not in {
        r[0] for r in con.execute("select indicator from mart_province_rollup").fetchall()
    }


def test_source_freshness(con):
    load_rows(
        con,
        [
            ("/a", date(2024, 3, 1), "social_work_stations", "341200", 1, "station"),
            ("/b", date(2024, 6, 1), "social_work_stations", "341200", 2, "station"),
        ],
    )
    row = con.execute(
        "select source_id, latest_bulletin, bulletins, days_since_latest_bulletin, pages_waiting_retry "
        "from mart_source_freshness"
    ).fetchone()
    assert row == ("s", date(2024, 6, 1), 2, (date.today() - date(2024, 6, 1)).days, 0)


def test_trend_point_is_the_same_whatever_the_load_order(tmp_path):
    # two sources report the same value the same day with different qualifiers: the point's qualifier and
    # source come from one fact, chosen by (value, fact_id), so every reload gives the same row
    results = set()
    for order in ((0, 1), (1, 0), (0, 1), (1, 0)):
        with open_warehouse(tmp_path / f"w{len(results)}{order}.duckdb") as c:
            for i in order:
                src = f"s{i}"
                b = bulletin(src, f"/{src}.html", date(2024, 5, 1))
                q = ("exact", "about")[i]
                load_batch(c, batch(src, [b], [fact(b, "social_workers", "341200", 500, "person", q)]), "r")
            results.add(c.execute("select qualifier, source_url from mart_indicator_trend").fetchone())
    assert len(results) == 1


def test_the_scorecard_has_a_column_for_every_indicator_and_display_data_covers_them(con):
    from etl.extract.lexicon import indicator_specs
    from etl.reference.indicators import indicator_display, non_additive

    cols = {r[0] for r in con.execute("describe mart_region_scorecard").fetchall()}
    assert set(indicator_specs()) <= cols
    assert list(indicator_display()) == list(indicator_specs())
    assert non_additive() == {"station_coverage_rate"}
    additive = dict(con.execute("select code, additive from dim_indicator").fetchall())
    assert additive == {c: c not in non_additive() for c in indicator_specs()}

"""Each view against a temporary DuckDB holding known rows."""

from datetime import date

import pytest

from etl.load import load_batch
from etl.warehouse import open_warehouse

from .helpers import batch, bulletin, fact


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

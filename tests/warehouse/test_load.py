from datetime import date, timedelta

import pytest

from etl.warehouse.database import open_warehouse, table_counts
from etl.warehouse.load import load_batch
from tests.helpers import batch, bulletin, fact


@pytest.fixture
def con(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as c:
        yield c


def sample():
    b1 = bulletin("s", "/a.html", date(2024, 3, 1))
    b2 = bulletin("s", "/b.html", date(2024, 4, 1))
    facts = [
        fact(b1, "social_work_stations", "341200", 150, "station"),
        fact(b1, "funding", "341200", 1_300_000, "cny", "more_than", span=10),
        fact(b2, "social_work_stations", "341200", 167, "station"),
    ]
    return [b1, b2], facts


def test_loading_twice_changes_nothing(con):
    bs, fs = sample()
    load_batch(con, batch("s", bs, fs), "run1")
    first = table_counts(con)
    load_batch(con, batch("s", bs, fs), "run2")
    assert table_counts(con) == first
    assert first["fact"] == 3 and first["bulletin"] == 2
    assert con.execute("select load_count from load_audit order by partition").fetchall() == [(2,), (2,)]


def test_a_reload_replaces_facts_that_disappeared(con):
    bs, fs = sample()
    load_batch(con, batch("s", bs, fs), "run1")
    load_batch(con, batch("s", bs[:1], fs[:1]), "run2")  # page a now states only the stations
    rows = con.execute("select bulletin_id, indicator, value from fact order by value").fetchall()
    assert [(r[1], r[2]) for r in rows] == [("social_work_stations", 150), ("social_work_stations", 167)]


def test_bad_rows_go_to_quarantine_and_the_rest_loads(con):
    bs, fs = sample()
    bad = [
        fact(bs[0], "station_coverage_rate", "341200", 150, "percent", span=20),
        fact(bs[0], "social_workers", "999999", 10, "person", span=30),
        fact(bs[0], "social_workers", "341200", 10.5, "person", span=40),
    ]
    stats = load_batch(con, batch("s", bs, fs + bad), "run1")
    assert stats.facts == 3 and stats.quarantined == 3
    checks = sorted(r[0] for r in con.execute("select check_name from quarantine").fetchall())
    assert checks == [
        "a count that is not a whole number",
        "a percentage above 100; a value not finite or above the indicator's plausible maximum (lexicon max_value)",
        "region_code: region code not in the gazetteer",
    ]
    assert all(r[0] == "run1" for r in con.execute("select run_id from quarantine").fetchall())
    # reloading the same batch does not pile up quarantine rows
    load_batch(con, batch("s", bs, fs + bad), "run2")
    assert table_counts(con)["quarantine"] == 3


def test_a_bulletin_from_the_future_is_quarantined_with_its_facts(con):
    b = bulletin("s", "/future.html", date.today() + timedelta(days=30))
    stats = load_batch(con, batch("s", [b], [fact(b, "social_work_stations", "341200", 5, "station")]), "r")
    assert stats.facts == 0 and stats.quarantined == 2
    layers = sorted(r[0] for r in con.execute("select layer from quarantine").fetchall())
    assert layers == ["bulletin", "fact"]
    assert table_counts(con)["bulletin"] == 0


def test_cursor_moves_only_forward(con):
    bs, fs = sample()
    load_batch(con, batch("s", bs, fs), "r1")
    old = batch("s", bs[:1], fs[:1])
    old.newest = date(2024, 3, 1)
    load_batch(con, old, "r2")
    new = batch("s", bs, fs)
    new.newest = date(2024, 4, 1)
    load_batch(con, new, "r3")
    load_batch(con, old, "r4")
    assert con.execute("select cursor_date from source_state").fetchone()[0] == date(2024, 4, 1)


def test_a_batch_sent_as_columns_loads_exactly_as_its_objects(tmp_path):
    """What a re-parse worker sends (rows.to_rows) gives the warehouse the same rows as the batch itself,
    quarantine included (a bad fact, and a page rejected before validation)."""
    import pickle

    from etl.warehouse.rows import to_rows

    def make():
        bs, fs = sample()
        bad = fact(bs[0], "social_workers", "999999", 10, "person", span=30)
        b = batch("s", bs, [*fs, bad])
        b.quarantine.append(
            {
                "layer": "parse",
                "record_key": "/c.html",
                "check": "main_text",
                "reason": "/c.html: no main text",
            }
        )
        return b

    tables = {}
    for name, columns in (("objects", False), ("columns", True)):
        b = make()
        if columns:
            to_rows(b)
            assert b.bulletins == b.facts == b.quarantine == [] and len(b.rows.facts["fact_id"]) == 4
            b = pickle.loads(pickle.dumps(b))  # as it crosses the process boundary
        with open_warehouse(tmp_path / f"{name}.duckdb") as con:
            stats = load_batch(con, b, "run1")
            assert (stats.facts, stats.quarantined) == (3, 2)
            tables[name] = {
                t: con.execute(f"select * exclude ({ts}) from {t} order by all").fetchall()
                for t, ts in (("bulletin", "run_id"), ("fact", "run_id"), ("quarantine", "quarantined_at"))
            }
    assert tables["columns"] == tables["objects"]
    assert [r[1:5] for r in tables["objects"]["quarantine"]] == [
        ("fact", "s", tables["objects"]["bulletin"][0][0], "region_code: region code not in the gazetteer"),
        ("parse", "s", "/c.html", "main_text"),
    ]


def test_objects_added_after_the_columns_were_taken_are_refused_not_lost(con):
    from etl.warehouse.rows import to_rows

    bs, fs = sample()
    b = batch("s", bs, fs)
    to_rows(b)
    b.facts.append(fs[0])
    with pytest.raises(ValueError, match="added after its rows were taken"):
        load_batch(con, b, "run1")
    assert table_counts(con)["fact"] == 0

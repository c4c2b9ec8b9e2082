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


def _two_sources(night: int):
    """Batches of sources s and t as night ``night`` saw them: s's page a changes its figures on night 2 (its
    page b is not read again), t's page y fails on night 1 and loads on night 2; each has a bad fact and a page rejected before validation.
    Both sites use the same paths, as two bureaus on one CMS do: only the source tells their rows apart."""
    from etl.models import PageIssue

    out = []
    for src in ("s", "t"):
        a = bulletin(src, "/a.html", date(2024, 3, 1))
        b = bulletin(src, "/b.html", date(2024, 4, 2))
        facts = [
            fact(a, "social_work_stations", "341200", 150 + night, "station"),
            fact(b, "funding", "341200", 1_300_000, "cny", "more_than", span=10),
            fact(b, "social_workers", "999999", 10, "person", span=30),  # not in the gazetteer
        ]
        pages = [a, b]
        if src == "s" and night == 2:  # s's page b is not read again: its rows must stay as they were
            pages, facts = [a], facts[:1]
        if src == "t" and night == 2:
            pages.append(y := bulletin(src, "/y.html", date(2024, 4, 9)))
            facts.append(fact(y, "volunteers", "341200", 4_000, "person"))
            pages.append(bulletin(src, "/w.html", date(2024, 4, 10)))  # read fine, no figure
        one = batch(src, pages, facts)
        one.newest = max(p.published for p in pages)
        one.quarantine.append({"layer": "parse", "record_key": "/c.html", "check": "main_text",
                               "reason": "/c.html: no main text"})  # fmt: skip
        if src == "s" and night == 1:  # s's pages y and w, never read again, share their paths with t's
            one.quarantine.append({"layer": "parse", "record_key": "/y.html", "check": "main_text",
                                   "reason": "/y.html: no main text"})  # fmt: skip
            one.stats.failures.append(PageIssue("http://bureau.test/w.html", "fetch", "HTTP 503", "503"))
            one.stats.failed += 1
            one.outcomes["http://bureau.test/w.html"] = "failed"
        if src == "t" and night == 1:
            one.stats.failures.append(PageIssue("http://bureau.test/y.html", "fetch", "HTTP 503", "503"))
            one.stats.failed += 1
            one.outcomes["http://bureau.test/y.html"] = "failed"
        out.append(one)
    return out


def _tables(con) -> dict[str, list]:
    """Every table's rows, without the columns a clock or a run id fills in."""
    out = {}
    for (table,) in con.execute(
        "select table_name from duckdb_tables() where not temporary order by 1"
    ).fetchall():
        cols = [
            c
            for c, t in con.execute(
                "select column_name, data_type from duckdb_columns() where table_name = ? order by column_index",
                [table],
            ).fetchall()
            if not t.startswith("TIMESTAMP") and not c.endswith("run_id")
        ]
        out[table] = con.execute(f"select {', '.join(cols)} from {table} order by all").fetchall()
    return out


def test_batches_loaded_in_one_transaction_leave_what_they_leave_one_by_one(tmp_path):
    """A re-parse loads the batches of many small sources together; every table must come out as if each had
    been loaded alone: replaced facts, quarantine, failures kept and cleared, ledger, audit, cursors."""
    from etl.warehouse.load import load_batches

    results = {}
    for mode in ("alone", "together"):
        with open_warehouse(tmp_path / f"{mode}.duckdb") as con:
            for night in (1, 2):
                batches = _two_sources(night)
                if mode == "alone":
                    stats = [load_batch(con, b, f"run{night}") for b in batches]
                else:
                    stats = load_batches(con, batches, f"run{night}")
                assert [(s.source_id, s.facts, s.quarantined) for s in stats] == [
                    ("s", 2 if night == 1 else 1, 3 if night == 1 else 1),
                    ("t", 2 if night == 1 else 3, 2),
                ]
            results[mode] = _tables(con)
    together = results["together"]
    assert together == results["alone"]
    # what the comparison covers: both sources' rows in each table, night 2's figures, t's failure cleared
    assert sorted(r[0] for r in together["source_state"]) == ["s", "t"]
    facts = {(r[2], r[3], r[5]) for r in together["fact"]}
    assert ("s", "social_work_stations", 152.0) in facts and ("s", "social_work_stations", 151.0) not in facts
    assert ("t", "volunteers", 4000.0) in facts and len(together["fact"]) == 5
    # s's failed page w stays failed though t read its own w: failures are cleared per source
    assert [(r[0], r[2]) for r in together["fetch_failure"]] == [("s", "/w.html")]
    assert len(together["quarantine"]) == 5
    # (source, partition, pages fetched, failed): undated partitions hold the failed pages no page dates (s's w,
    # still failed) or held them (t's y, now in April) and keep the parse rejects
    assert {(r[0], r[1], r[3], r[6]) for r in together["load_audit"]} == {
        ("s", "2024-03", 1, 0), ("s", "2024-04", 1, 0), ("s", "undated", 0, 1),
        ("t", "2024-03", 1, 0), ("t", "2024-04", 3, 0), ("t", "undated", 0, 0),
    }  # fmt: skip


def test_one_transaction_loads_all_of_its_batches_or_none(con):
    from etl.warehouse.load import load_batches
    from etl.warehouse.rows import to_rows

    good, broken = _two_sources(1)
    to_rows(broken)
    broken.facts.append(
        fact(bulletin("t", "/t/z.html", date(2024, 5, 1)), "volunteers", "341200", 1, "person")
    )
    with pytest.raises(ValueError, match="batch of t: objects added after its rows were taken"):
        load_batches(con, [good, broken], "run1")
    assert table_counts(con)["fact"] == table_counts(con)["bulletin"] == 0
    with pytest.raises(ValueError, match="one batch per source"):
        load_batches(con, [good, _two_sources(2)[0]], "run1")


def test_the_state_of_many_sources_is_read_at_once_and_kept_apart(con):
    from etl.warehouse.state import read_state

    for b in _two_sources(1):
        load_batch(con, b, "run1")
    st = read_state(con, ["s", "t", "never-loaded"])
    assert st.retry_urls == {"s": ["/w.html"], "t": ["/y.html"], "never-loaded": []}
    assert st.cursors == {"s": date(2024, 4, 2), "t": date(2024, 4, 2), "never-loaded": None}
    assert {s: sorted(m) for s, m in st.memory.items()} == {
        "s": ["/a.html", "/b.html"],
        "t": ["/a.html", "/b.html"],
        "never-loaded": [],
    }
    assert st.memory["t"]["/a.html"].etag == '"h/a.html"'

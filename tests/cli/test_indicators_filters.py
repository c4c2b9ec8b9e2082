"""Every `etl indicators` view × filter combination either prints rows (exit 0) or says in one line why not
(exit 2), never a traceback; names resolve to codes; ambiguous names are answered with the candidates."""

from __future__ import annotations

import itertools

import pytest

from etl.cli import main
from etl.warehouse.sqlfiles import mart_names
from tests.cli.test_cli import _small_warehouse

FILTERS = {
    "--indicator": ["social_work_stations", "资金投入", "社工站", "nope", "社会"],
    "--region": ["320722", "东海县", "东海", "999999", "朝阳区", "没有这个地方"],
    "--level": ["county"],
    "--province": ["320000", "江苏省", "江苏", "东海县", "xyz"],
}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return _small_warehouse(tmp_path_factory.mktemp("w"))


def cases():
    for view in mart_names():
        for name, values in FILTERS.items():
            for v in values:
                yield view, [name, v]
        for (a, av), (b, bv) in itertools.combinations([(k, v[0]) for k, v in FILTERS.items()], 2):
            yield view, [a, av, b, bv]


@pytest.mark.parametrize(
    ("view", "filters"), list(cases()), ids=lambda x: x if isinstance(x, str) else " ".join(x)
)
def test_each_combination_prints_rows_or_one_line(db, capsys, view, filters):
    code = main(["indicators", "--db", str(db), "--view", view, "--format", "csv", *filters])
    out, err = capsys.readouterr()
    assert code in (0, 2)
    if code == 2:
        assert out == "" and err.count("\n") == 1 and err.startswith("etl indicators: ")
    else:
        assert out.splitlines()[0].count(",") >= 1  # a header at least
        assert err == "" or (err.count("\n") == 1 and "has no rows" in err)


def test_names_resolve_and_mistakes_name_the_alternatives(db, capsys):
    assert main(["indicators", "--db", str(db), "--region", "东海", "--format", "csv"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert {r.split(",")[0] for r in rows} == {"320722"}
    assert main(["indicators", "--db", str(db), "--region", "朝阳区"]) == 2
    err = capsys.readouterr().err
    assert "names 2 regions" in err and "110105" in err and "220104" in err
    assert main(["indicators", "--db", str(db), "--indicator", "社会"]) == 2
    assert "fits several indicators" in capsys.readouterr().err
    assert main(["indicators", "--db", str(db), "--view", "mart_source_freshness", "--region", "东海县"]) == 2
    assert "does not apply to mart_source_freshness (it takes no filters)" in capsys.readouterr().err
    assert main(["indicators", "--db", str(db), "--province", "东海县"]) == 2
    assert "is not a province" in capsys.readouterr().err


def test_list_names_every_indicator_and_view(capsys):
    assert main(["indicators", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(v in out for v in mart_names())
    assert "funding" in out and "资金投入" in out

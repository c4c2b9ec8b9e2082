"""The reader's fingerprint: it changes when anything that decides a stored page's rows changes (the page path's
code, the lexicon, the gazetteer, validation, a source's selectors or region), and not otherwise; and it covers
every module a re-parse worker imports."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from etl.fetch.sources import parse_source
from etl.orchestration.reader import PACKAGE, code_fingerprint, reader_files, reader_of

# Modules a worker imports that do not decide what a page gives: package markers, the month a page is booked
# under, SQL placeholders.
NOT_READING = {
    "__init__.py",
    "fetch/__init__.py",
    "orchestration/__init__.py",
    "warehouse/__init__.py",
    "data/__init__.py",
    "orchestration/backfill.py",
    "warehouse/sqlparams.py",
}


@pytest.fixture
def package(tmp_path) -> Path:
    """A copy of the installed package to edit."""
    root = tmp_path / "etl"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _source(**fields):
    return parse_source(
        {"id": "s", "name": "s", "list_url": "http://x.gov.cn/l.html", "region": "320700", **fields}, "test"
    )


@pytest.mark.parametrize(
    ("path", "edit"),
    [
        ("data/lexicon.toml", "\n# a rule more\n"),
        ("data/regions.csv", "999999,测试县,county,320700,320000,县\n"),
        ("parse/html.py", "\n# parse differently\n"),
        ("extract/numbers.py", "\n# read numbers differently\n"),
        ("warehouse/validate.py", "\n# check differently\n"),
    ],
)
def test_an_edit_to_the_reader_changes_the_fingerprint(package, path, edit):
    before = code_fingerprint(package)
    with (package / path).open("a", encoding="utf-8") as f:
        f.write(edit)
    code_fingerprint.cache_clear()
    assert code_fingerprint(package) != before
    assert reader_of(_source(), package) != reader_of(_source(), PACKAGE)


def test_an_edit_elsewhere_leaves_it(package):
    before = code_fingerprint(package)
    for path in ("report/html.py", "cli.py", "fetch/client.py", "orchestration/backfill.py"):
        with (package / path).open("a", encoding="utf-8") as f:
            f.write("\n# nothing a page gives\n")
    (package / "data/boundaries.NOTICE").write_text("changed", encoding="utf-8")
    code_fingerprint.cache_clear()
    assert code_fingerprint(package) == before == code_fingerprint(PACKAGE)


def test_a_sources_reading_settings_are_its_reader_and_its_politeness_is_not():
    base = reader_of(_source())
    assert reader_of(_source()) == base  # the same every time
    for changed in (
        _source(body_selector=".article"),
        _source(title_selector="h2"),
        _source(date_selector=".date"),
        _source(encoding="gb18030"),
        _source(region="320703"),
    ):
        assert reader_of(changed) != base
    assert (
        reader_of(replace(_source(), max_pages=3, politeness=_source(politeness={"delay": 5}).politeness))
        == base
    )
    assert len(base) == 12 and int(base, 16) >= 0


def test_the_fingerprint_covers_every_module_a_reparse_worker_imports():
    """A module added to the page path and left out of the fingerprint would let its changes go unread."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, etl.orchestration.reparse_worker\n"
            "for m in sorted(sys.modules):\n"
            "    f = getattr(sys.modules[m], '__file__', None)\n"
            "    if m.split('.')[0] == 'etl' and f: print(f)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {Path(f).resolve().relative_to(PACKAGE).as_posix() for f in out.stdout.split()}
    covered = {p.relative_to(PACKAGE).as_posix() for p in reader_files()}
    assert len(imported) > 20
    assert imported - covered - NOT_READING == set()
    assert {"data/lexicon.toml", "data/regions.csv", "warehouse/load.py"} <= covered

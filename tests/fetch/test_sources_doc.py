"""docs/sources.md documents every registry field the code reads, of every kind, and the [fetch] table; the
example registry has an entry of every kind and reads back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from etl.fetch.kinds import KINDS
from etl.fetch.sources import _FETCH_FIELDS, COMMON_FIELDS, load_fetch_config, load_sources
from etl.warehouse.config import load_warehouse_config

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")


def _table_fields(section: str) -> set[str]:
    """Field names in the first column of the tables under a heading."""
    start = DOC.index(section)
    nxt = DOC.find("\n#", start + len(section))
    body = DOC[start : nxt if nxt > 0 else None]
    return set(re.findall(r"^\| `([a-z_]+)` \|", body, flags=re.M))


def test_every_common_field_is_in_its_table():
    assert _table_fields("## Fields every source has") == {f.name for f in COMMON_FIELDS}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_and_its_fields_are_documented(kind):
    assert f"### `{kind}`" in DOC
    fields = {f.name for f in KINDS[kind].fields}
    if fields:
        assert _table_fields(f"### `{kind}`") == fields


def test_the_fetch_table_is_documented():
    assert _table_fields("## The `[fetch]` table") == set(_FETCH_FIELDS)


def test_the_warehouse_table_is_documented():
    from etl.warehouse.config import _FIELDS

    assert _table_fields("## The `[warehouse]` table") == set(_FIELDS)


def test_the_example_registry_has_every_kind_and_reads_back(tmp_path):
    reg = tmp_path / "example.toml"
    reg.write_text((ROOT / "sources" / "example.toml.disabled").read_text(encoding="utf-8"), encoding="utf-8")
    srcs = load_sources(reg)
    assert {s.kind for s in srcs} == set(KINDS)
    assert load_fetch_config(reg).contact_url == "mailto:data-team@example.org"
    assert load_warehouse_config(reg).memory_limit == "2GB"
    written = set(re.findall(r"^([a-z_]+) =", reg.read_text(encoding="utf-8"), flags=re.M))
    kind_fields = {f.name for k in KINDS.values() for f in k.fields}
    assert {f.name for f in COMMON_FIELDS} | kind_fields <= written | {"politeness"}

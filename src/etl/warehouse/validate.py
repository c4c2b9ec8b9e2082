"""Contracts between stages, as pandera schemas. Validation is lazy: every failing row is reported with the
check it failed and goes to quarantine; the other rows go on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from etl.extract.lexicon import indicator_specs, load_lexicon
from etl.extract.region_resolution import PLACED_BASES
from etl.reference.regions import load_gazetteer
from etl.warehouse.rows import QUARANTINE_COLUMNS as QUARANTINE_ROW_COLUMNS
from etl.warehouse.rows import quarantine_columns

QUALIFIERS = ["exact", "more_than", "about", "less_than"]
CHANGES = ["level", "increment"]
WHOLE_UNITS = {"station", "org", "person", "project", "event", "person_time"}


def _not_future(s: pd.Series) -> pd.Series:
    limit = date.today() + timedelta(days=1)
    return s.isna() | s.map(lambda d: d is None or d <= limit)


@cache
def fact_schema() -> pa.DataFrameSchema:
    """Built once per process: pandera deep-copies every column when a schema is built (~25 ms each time)."""
    codes = list(indicator_specs())
    regions = list(load_gazetteer().by_code)
    return pa.DataFrameSchema(
        {
            "bulletin_id": pa.Column(str, pa.Check.str_length(min_value=1)),
            "indicator": pa.Column(str, pa.Check.isin(codes, error="unknown indicator code")),
            "region_code": pa.Column(str, pa.Check.isin(regions, error="region code not in the gazetteer")),
            "value": pa.Column(float, pa.Check.ge(0, error="negative value")),
            "unit": pa.Column(str),
            "qualifier": pa.Column(str, pa.Check.isin(QUALIFIERS, error="unknown qualifier")),
            "change": pa.Column(str, pa.Check.isin(CHANGES, error="unknown change kind")),
            "evidence": pa.Column(str, pa.Check.str_length(min_value=1)),
            "region_basis": pa.Column(
                str, pa.Check.isin(list(PLACED_BASES), error="region basis missing or unknown")
            ),
        },
        checks=[
            pa.Check(
                lambda df: np.isfinite(df["value"]) & (df["value"] <= df["indicator"].map(_max_value)),
                name="value_plausible",
                error="a value not finite or above the indicator's plausible maximum (lexicon max_value)",
            ),
            pa.Check(
                lambda df: (df["unit"] != "percent") | (df["value"] <= 100),
                name="percent_at_most_100",
                error="a percentage above 100",
            ),
            pa.Check(
                lambda df: ~df["unit"].isin(WHOLE_UNITS) | (df["value"] % 1 == 0),
                name="count_is_whole",
                error="a count that is not a whole number",
            ),
            pa.Check(
                lambda df: (
                    df["unit"]
                    == df["indicator"].map(
                        lambda c: indicator_specs()[c].unit if c in indicator_specs() else None
                    )
                ),
                name="unit_matches_indicator",
                error="unit differs from the indicator's base unit",
            ),
        ],
        unique=["bulletin_id", "indicator", "region_code", "value", "span_start"],
        strict=False,
        coerce=False,
    )


def _max_value(code: str) -> float:
    rule = load_lexicon().rules.get(code)
    return rule.max_value if rule else float("inf")


def region_schema(codes: set[str]) -> pa.DataFrameSchema:
    """dim_region rows: 6-digit unique codes, a known level, a parent that exists (but for the country)."""
    return pa.DataFrameSchema(
        {
            "code": pa.Column(str, pa.Check.str_matches(r"^\d{6}$", error="not a 6-digit code"), unique=True),
            "name": pa.Column(str, pa.Check.str_length(min_value=1)),
            "level": pa.Column(
                str, pa.Check.isin(["country", "province", "prefecture", "county"], error="unknown level")
            ),
            "parent_code": pa.Column(nullable=True),
        },
        checks=[
            pa.Check(
                lambda df: (df["level"] == "country") | df["parent_code"].isin(codes),
                name="parent_exists",
                error="parent code not in the gazetteer",
            ),
        ],
        strict=False,
    )


@cache
def bulletin_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "bulletin_id": pa.Column(str, pa.Check.str_length(min_value=1), unique=True),
            "source_id": pa.Column(str, pa.Check.str_length(min_value=1)),
            "url": pa.Column(str, pa.Check.str_matches(r"^https?://")),
            "published": pa.Column(
                object,
                pa.Check(_not_future, name="not_in_future", error="publication date in the future"),
                nullable=True,
            ),
            "text": pa.Column(str, pa.Check.str_length(min_value=1)),
        },
        strict=False,
    )


QUARANTINE_COLUMNS = [
    "run_id",
    "layer",
    "source_id",
    "record_key",
    "check_name",
    "reason",
    "row_json",
    "quarantined_at",
]


def quarantine_frame(rows: list[dict[str, Any]], run_id: str | None, now: datetime) -> pd.DataFrame:
    """Quarantine table rows from rejects (``layer``, ``record_key``, ``check``, ``reason``, ``row``, and
    optionally ``source_id``)."""
    return quarantine_columns_frame(quarantine_columns(rows), run_id, now)


def quarantine_columns_frame(columns: dict[str, list], run_id: str | None, now: datetime) -> pd.DataFrame:
    """Quarantine table rows from :func:`etl.warehouse.rows.quarantine_columns`, in the table's order."""
    df = pd.DataFrame(columns, columns=QUARANTINE_ROW_COLUMNS)
    df["run_id"] = run_id
    df["quarantined_at"] = now
    return df[QUARANTINE_COLUMNS]


@dataclass
class Validated:
    valid: pd.DataFrame
    rejected: list[dict[str, Any]]  # quarantine rows: layer, record_key, check, reason, row


def validate(df: pd.DataFrame, schema: pa.DataFrameSchema, layer: str, key_column: str) -> Validated:
    """Split ``df`` into rows that pass ``schema`` and quarantine rows naming each failed check."""
    if df.empty:
        return Validated(df, [])
    try:
        schema.validate(df, lazy=True)
        return Validated(df, [])
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    bad: dict[Any, list[str]] = {}
    for _, case in cases.iterrows():
        idx = case.get("index")
        check = str(case.get("check"))
        column = case.get("column")
        # A DataFrame-wide check is reported once per column; name it once.
        frame_level = case.get("schema_context") == "DataFrameSchema"
        label = check if frame_level or not isinstance(column, str) else f"{column}: {check}"
        if idx is None or (isinstance(idx, float) and pd.isna(idx)):
            # A schema-level failure (a missing column, a wrong dtype) condemns every row.
            for i in df.index:
                bad.setdefault(i, []).append(label)
            continue
        bad.setdefault(idx, []).append(label)
    rejected = []
    for idx, checks in bad.items():
        if idx not in df.index:
            continue
        row = df.loc[idx].to_dict()
        rejected.append(
            {
                "layer": layer,
                "record_key": str(row.get(key_column)),
                "source_id": row.get("source_id"),
                "check": "; ".join(sorted(set(checks))),
                "reason": f"{layer} row {row.get(key_column)} failed: " + "; ".join(sorted(set(checks))),
                "row": json.loads(json.dumps(row, default=str, ensure_ascii=False)),
            }
        )
    valid = df.drop(index=[i for i in bad if i in df.index])
    return Validated(valid, rejected)
